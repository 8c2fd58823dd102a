#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# examples/gstreamer's cohbuf-gst: cohbuf frames through appsrc !
# videoconvert ! appsink, checked frame by frame. TAP with a kselftest
# "# Totals:" line. selftests/Makefile builds the example when GStreamer's
# development packages are installed; without them this test skips.
set -u

gst=${1:-$(dirname -- "$0")/../examples/cohbuf-gst}
echo "TAP version 13"
if [ ! -x "$gst" ]; then
	echo "ok 1 # SKIP cohbuf-gst not built: install libgstreamer1.0-dev and libgstreamer-plugins-base1.0-dev"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi
if out=$("$gst" 2>&1); then
	echo "ok 1 cohbuf-gst: $out"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
	exit 0
fi
echo "not ok 1 cohbuf-gst"
printf '%s\n' "$out" | sed 's/^/#   /'
echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
exit 1
