#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs every cohbuf selftest binary in a directory, one after the other,
# streaming their TAP output. Meant for the test guest, as root, with the
# cohbuf module loaded.
#
#   run_tests.sh [<dir with the binaries>]   (default: ../build/selftests)
#
# Exits 0 only if every binary exited 0 after printing a "# Totals:" line
# with no failures and no errors.
# A binary that dies without that line (crash, kill, hang cut short) is a
# failure, reported on a line starting with "# cohbuf-selftests: FAIL".

dir=${1:-$(dirname "$0")/../build/selftests}
# The functional tests, then the reliability suite (regressions, fault
# injection, races, fuzzing, memory pressure, kill -9). cohbuf_kill and
# cohbuf_lifetime unload and reload the modules: they come last.
# cohbuf_kmemleak (a no-op without kmemleak) runs first, to clear what boot
# left, then before the unloads, and at the very end. COHBUF_STRESS=full in
# the environment gives the reliability tests their full counts (make
# check-debug).
ORDER="cohbuf_kmemleak cohbuf_alloc cohbuf_errors cohbuf_mmap cohbuf_share cohbuf_dmabuf cohbuf_importer cohbuf_lib cohbuf_cli cohbuf_regress cohbuf_fault cohbuf_race cohbuf_fuzz cohbuf_pressure cohbuf_kmemleak cohbuf_kill cohbuf_lifetime cohbuf_kmemleak"
HELPERS="cohbuf_peer"

if [ ! -d "$dir" ]; then
	echo "# cohbuf-selftests: FAIL: no such directory: $dir"
	exit 1
fi

# The known tests in order, then any other test binary found there.
tests=$ORDER
for path in "$dir"/cohbuf_*; do
	if [ ! -f "$path" ] || [ ! -x "$path" ]; then continue; fi
	name=$(basename "$path")
	case " $ORDER $HELPERS " in *" $name "*) continue ;; esac
	tests="$tests $name"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cohbuf-selftests.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

failed=""
for name in $tests; do
	bin=$dir/$name
	echo "# cohbuf-selftests: running $name"
	if [ ! -x "$bin" ]; then
		echo "# cohbuf-selftests: FAIL: $name: $bin is missing or not executable"
		failed="$failed $name"
		continue
	fi
	rm -f "$tmp/rc"
	{ "$bin" 2>&1; echo $? > "$tmp/rc"; } | tee "$tmp/log"
	rc=$(cat "$tmp/rc" 2>/dev/null || echo 255)
	if ! grep -q '^# Totals:' "$tmp/log"; then
		if [ "$rc" -gt 128 ]; then
			how="killed by signal $((rc - 128))"
		else
			how="exit status $rc"
		fi
		echo "# cohbuf-selftests: FAIL: $name died without printing its '# Totals:' line ($how)"
		failed="$failed $name"
	elif grep '^# Totals:' "$tmp/log" | grep -qv ' fail:0 .* error:0'; then
		echo "# cohbuf-selftests: FAIL: $name: $(grep '^# Totals:' "$tmp/log" | tail -n 1)"
		failed="$failed $name"
	elif [ "$rc" -ne 0 ]; then
		echo "# cohbuf-selftests: FAIL: $name exit status $rc"
		failed="$failed $name"
	else
		echo "# cohbuf-selftests: ok: $name"
	fi
done

if [ -n "$failed" ]; then
	echo "# cohbuf-selftests: FAILED:$failed"
	exit 1
fi
echo "# cohbuf-selftests: all passed"
exit 0
