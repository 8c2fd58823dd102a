#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# examples/gstreamer's cohbuf-gst: cohbuf frames through appsrc !
# videoconvert ! appsink, checked frame by frame; then again with every
# frame allocated COHBUF_ALLOC_CONTIGUOUS and checked to be one range.
# TAP with a kselftest "# Totals:" line. selftests/Makefile builds the
# example when GStreamer's development packages are installed; without
# them this test skips.
set -u

gst=${1:-$(dirname -- "$0")/../examples/cohbuf-gst}
pass=0 fail=0 n=0

echo "TAP version 13"
if [ ! -x "$gst" ]; then
	echo "ok 1 # SKIP cohbuf-gst not built: install libgstreamer1.0-dev and libgstreamer-plugins-base1.0-dev"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi

# run WHAT ARGS...: one TAP line for cohbuf-gst ARGS.
run() {
	local what=$1 out
	shift
	n=$((n + 1))
	if out=$("$gst" "$@" 2>&1); then
		pass=$((pass + 1))
		echo "ok $n $what: $out"
	else
		fail=$((fail + 1))
		echo "not ok $n $what"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

run "cohbuf-gst"
run "cohbuf-gst --contiguous" --contiguous
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
