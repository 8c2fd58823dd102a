#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs the cohbuf selftests that tests.list (next to this script) names,
# in its order, from a directory of built binaries, streaming their TAP
# output. Meant for the test guest, as root, with the cohbuf module loaded.
#
#   run_tests.sh [<dir with the binaries>]   (default: ../build/selftests)
#
# Exits 0 only if every binary exited 0 after printing a "# Totals:" line
# with no failures and no errors.
# A binary that dies without that line (crash, kill, hang cut short) is a
# failure, reported on a line starting with "# cohbuf-selftests: FAIL", and
# so is a missing one, unless tests.list marks it "installed" (make check
# builds it from the installed tree): that one runs only when it is there.
# The lines marked "boot" need a guest of their own: they are left out.

here=$(dirname "$0")
dir=${1:-$here/../build/selftests}
list=$here/tests.list

if [ ! -d "$dir" ]; then
	echo "# cohbuf-selftests: FAIL: no such directory: $dir"
	exit 1
fi
if [ ! -r "$list" ]; then
	echo "# cohbuf-selftests: FAIL: cannot read $list"
	exit 1
fi

# "name", "name:installed" or "name:boot", one a word, without the comments.
tests=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
	-e '/^$/d' -e 's/^\([^[:space:]]*[[:space:]][[:space:]]*boot\)[[:space:]].*/\1/' \
	-e 's/[[:space:]][[:space:]]*/:/' "$list")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cohbuf-selftests.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

failed=""
for entry in $tests; do
	name=${entry%%:*}
	bin=$dir/$name
	if [ "$entry" = "$name:boot" ]; then
		echo "# cohbuf-selftests: not run here: $name (in a guest booted for it, by make check)"
		continue
	fi
	if [ ! -x "$bin" ] && [ "$entry" = "$name:installed" ]; then
		echo "# cohbuf-selftests: not run: $name (make check builds it from the installed tree)"
		continue
	fi
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
