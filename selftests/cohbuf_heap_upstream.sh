#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own dma-heap selftest (tools/testing/selftests/dmabuf-heaps/
# dmabuf-heap.c of Debian's linux-source-6.12, built next to this script as
# dmabuf-heap) against every cohbuf heap node: `cohbuf heap link` puts them
# in /dev/dma_heap, where the test looks. On a kernel with heaps of its own
# (6.12's system) the same run tests those too: the reference. Needs root,
# cohbuf loaded and a devtmpfs /dev, as in scripts/vm-run.
#
# The upstream test's TAP output passes through unchanged, its "# Totals:"
# line included; then one line per heap, "# dma-heap: NAME (cohbuf|kernel):
# N passed, N failed, N skipped", for make check's summary. Exits 1 if the
# links could not be made, a cohbuf node was not tested, or a case failed.
#
#   cohbuf_heap_upstream.sh [COHBUF]   (default: ../tools/cohbuf from here)
set -u

here=$(cd -- "$(dirname -- "$0")" && pwd -P)
cli=${1:-$here/../tools/cohbuf}
log=$(mktemp "${TMPDIR:-/tmp}/cohbuf-heap-upstream.XXXXXX") || exit 1
trap 'rm -f "$log" "$log.heaps"; "$cli" heap unlink' EXIT

# The test imports into vgem, as its config asks (CONFIG_DRM_VGEM).
modprobe vgem 2>/dev/null

# With CONFIG_DMABUF_DEBUG (the debug kernel) Linux 6.12's system heap
# oopses on CPU access by a mapped importer, a kernel bug: the test then
# sees only cohbuf's nodes, linked into a /dev/dma_heap of its own.
only_cohbuf=0
if grep -qx 'CONFIG_DMABUF_DEBUG=y' "${COHBUF_KCONFIG:-/dev/null}" 2>/dev/null; then
	only_cohbuf=1
	echo "# the kernel's own heaps are left out: with CONFIG_DMABUF_DEBUG=y Linux 6.12's system heap oopses on CPU access by a mapped importer (a kernel bug)"
fi

# shellcheck disable=SC2016 # expanded by the inner bash
run='"$1" heap link || { echo "# cohbuf heap link failed"; exit 1; }
"$1" heap list | sed "s/^/# /"
exec "$2"'
if [ "$only_cohbuf" = 1 ]; then
	mkdir -p /dev/dma_heap
	unshare -m bash -c "mount -t tmpfs cohbuf-heaps /dev/dma_heap || exit 1
$run" _ "$cli" "$here/dmabuf-heap" 2>&1 | tee "$log"
else
	bash -c "$run" _ "$cli" "$here/dmabuf-heap" 2>&1 | tee "$log"
fi
rc=${PIPESTATUS[0]}

# Each heap's results: the lines after its "# Testing heap: NAME".
awk -v dir=/dev/dma_heap -v only_cohbuf="$only_cohbuf" '
	function flush() {
		if (heap == "")
			return
		cmd = "readlink " dir "/" heap
		kind = only_cohbuf ? "cohbuf" : "kernel"
		if ((cmd | getline target) > 0 && target ~ /^\.\.\/cohbuf-heap-/)
			kind = "cohbuf"
		close(cmd)
		target = ""
		printf "# dma-heap: %s (%s): %d passed, %d failed, %d skipped\n",
			heap, kind, p, f, s
	}
	/^# Testing heap: / { flush(); heap = $4; p = f = s = 0; next }
	/^ok .*# SKIP/ { s++; next }
	/^ok / { p++; next }
	/^not ok / { f++; next }
	END { flush() }
' "$log" | tee "$log.heaps"

for node in /dev/cohbuf-heap-*; do
	name=${node#/dev/cohbuf-heap-}
	if ! grep -q "^# dma-heap: $name (cohbuf): " "$log.heaps"; then
		echo "# cohbuf-heap-upstream: FAIL: heap $name was not tested"
		rc=1
	fi
done
exit "$rc"
