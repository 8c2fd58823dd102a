#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cohbuf_kmemleak: on a kernel with kmemleak (the debug kernel), have it
# scan now, and fail on every leak whose backtrace holds a cohbuf function
# (cohbuf or cohbuf_importer), or an address that no longer resolves to a
# symbol: code of a module unloaded since, and only ours are ever unloaded.
# Other suspects (the kernel's own, from boot) are counted, not failed.
# Every report is then cleared, so the next run sees only new ones:
# selftests/run_tests.sh runs this first (clearing what boot left), before
# the tests that unload the modules, and last.
#
# Prints KTAP with a "# Totals:" line, like the kselftest harness.
set -u

KMEMLEAK=/sys/kernel/debug/kmemleak

totals() {
	echo "# Totals: pass:$1 fail:$2 xfail:0 xpass:0 skip:$3 error:0"
}

echo "TAP version 13"
echo "1..1"
if [ ! -e "$KMEMLEAK" ]; then
	echo "ok 1 kmemleak # SKIP no $KMEMLEAK (not the debug kernel)"
	totals 0 0 1
	exit 0
fi

start=$SECONDS
# An object is reported once it is older than 5 s and unreferenced: wait,
# then scan twice, so that pointers in flight during one scan do not hide
# or fake a leak.
sleep 6
if ! echo scan >"$KMEMLEAK" || ! echo scan >"$KMEMLEAK"; then
	echo "not ok 1 kmemleak # cannot trigger a scan (kmemleak disabled?)"
	totals 0 1 0
	exit 1
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
cat "$KMEMLEAK" >"$report"

# Split the report into records; a record is ours when a backtrace line
# names a cohbuf function or module, or is a bare address.
ours=$(awk '
	/^unreferenced object/ { if (rec != "" && mine) n++; rec = $0; mine = 0; bt = 0; next }
	/^  backtrace/ { bt = 1 }
	bt && (/cohbuf/ || /^ +0x[0-9a-f]+$/) { mine = 1 }
	{ rec = rec "\n" $0 }
	END { if (rec != "" && mine) n++; print n + 0 }
' "$report")
all=$(grep -c '^unreferenced object' "$report")

if [ "$ours" -gt 0 ]; then
	awk '
		/^unreferenced object/ { if (mine) print rec; rec = $0; mine = 0; bt = 0; next }
		/^  backtrace/ { bt = 1 }
		bt && (/cohbuf/ || /^ +0x[0-9a-f]+$/) { mine = 1 }
		{ rec = rec "\n" $0 }
		END { if (mine) print rec }
	' "$report" | sed 's/^/# /'
fi
echo clear >"$KMEMLEAK"

echo "# kmemleak: scanned in $((SECONDS - start)) s: $ours leaks with cohbuf in the backtrace, $((all - ours)) other suspects (not cohbuf's)"
if [ "$ours" -gt 0 ]; then
	echo "not ok 1 kmemleak: $ours leaks from cohbuf"
	totals 0 1 0
	exit 1
fi
echo "ok 1 kmemleak: no leak from cohbuf"
totals 1 0 0
