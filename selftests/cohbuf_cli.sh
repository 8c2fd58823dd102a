#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The cohbuf command, end to end: alloc serves a buffer, get maps, fills,
# verifies and dumps it, info describes it (flags, ranges, DMA addresses
# for root only, JSON), import hands it to cohbuf_importer, ls lists it
# (from debugfs, and from /proc/PID/fdinfo as root and not),
# bench finds (or misses) cohbuf-bench; exit statuses and error messages.
# Needs root, both modules loaded and debugfs, as in scripts/vm-run.
# Prints TAP with a kselftest "# Totals:" line; exits 1 if a test failed.
#
#   cohbuf_cli.sh [COHBUF]   (default: ../tools/cohbuf from this script)
#
# It is also the smoke test of modules built elsewhere (DKMS).
set -u

here=$(cd -- "$(dirname -- "$0")" && pwd -P)
cli=${1:-$here/../tools/cohbuf}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cohbuf-cli.XXXXXX") || exit 1
sock=$tmp/buf.sock
pass=0 fail=0 n=0 server=

cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ok DESCRIPTION COMMAND...: one TAP line, and the output on failure.
ok() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@" >"$tmp/out" 2>&1; then
		pass=$((pass + 1))
		echo "ok $n $desc"
	else
		fail=$((fail + 1))
		echo "not ok $n $desc"
		sed 's/^/#   /' "$tmp/out"
	fi
}

# Run the CLI; the test passes if its exit status is $1 and its stdout and
# stderr match the extended regular expression $2.
expect() {
	local want=$1 re=$2 status
	shift 2
	"$cli" "$@" >"$tmp/run" 2>&1
	status=$?
	cat "$tmp/run"
	[ "$status" -eq "$want" ] || { echo "exit status $status, expected $want"; return 1; }
	grep -Eq -- "$re" "$tmp/run" || { echo "output does not match /$re/"; return 1; }
}

# Start `cohbuf alloc ... --serve $sock` in the background; wait for it.
serve() {
	rm -f "$tmp/server.out"
	"$cli" alloc "$@" --serve "$sock" >"$tmp/server.out" 2>&1 &
	server=$!
	for _ in $(seq 100); do
		grep -q '^cohbuf: serving' "$tmp/server.out" 2>/dev/null && return 0
		kill -0 "$server" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/server.out"
	return 1
}

# Wait for the server to exit with status $1 and say "served $2 clients".
served() {
	local status=0
	wait "$server" || status=$?
	server=
	cat "$tmp/server.out"
	[ "$status" -eq "$1" ] && grep -q "^cohbuf: served $2 client" "$tmp/server.out" &&
		[ ! -e "$sock" ]
}

inode_of() {
	sed -n 's/.*inode \([0-9]*\).*/\1/p' "$tmp/server.out" | head -n1
}

crc_of() {
	sed -n 's/.*crc32 \([0-9a-f]\{8\}\).*/\1/p' "$1" | head -n1
}

# The CRC the CPU sees through its mapping equals the importer's.
same_crc() {
	"$cli" get "$sock" --verify >"$tmp/get" 2>&1 || { cat "$tmp/get"; return 1; }
	"$cli" import "$sock" >"$tmp/import" 2>&1 || { cat "$tmp/import"; return 1; }
	cat "$tmp/get" "$tmp/import"
	[ -n "$(crc_of "$tmp/get")" ] && [ "$(crc_of "$tmp/get")" = "$(crc_of "$tmp/import")" ]
}

ls_lists() {
	local ino=$1 want=$2
	"$cli" ls >"$tmp/ls" 2>&1 || { cat "$tmp/ls"; return 1; }
	cat "$tmp/ls"
	head -n1 "$tmp/ls" | grep -q '^INODE' || return 1
	[ "$(grep -c "^$ino " "$tmp/ls")" -eq "$want" ]
}

ls_json() {
	local ino=$1
	"$cli" ls --json >"$tmp/json" 2>&1 || { cat "$tmp/json"; return 1; }
	cat "$tmp/json"
	grep -q "{\"ino\": $ino, \"size\": 6291456, \"chunks\": [0-9]*, \"pid\": $server, \"comm\": \"cohbuf\"" "$tmp/json"
}

# info --json parses, and says what a 1920x1080 YUYV frame allocated
# --contiguous --dma32 must be: one range of the whole buffer below 4 GiB.
info_json() {
	"$cli" info "$sock" --json >"$tmp/json" 2>&1 || { cat "$tmp/json"; return 1; }
	cat "$tmp/json"
	python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
r = b["ranges"]
assert b["size"] == 4149248 and b["name"] == "frame", b
assert b["flags"] == ["contiguous", "dma32"], b["flags"]
assert b["dma_addr_visible"] is True, b
assert len(r) == 1 and r[0]["offset"] == 0 and r[0]["size"] == b["size"], r
assert 0 < r[0]["dma_addr"] and r[0]["dma_addr"] + r[0]["size"] <= 1 << 32, r
' "$tmp/json"
}

# info without CAP_SYS_RAWIO (root's bounding set without it).
info_unprivileged() {
	setpriv --inh-caps=-sys_rawio --bounding-set=-sys_rawio -- \
		"$cli" info "$sock" "$@" >"$tmp/hidden" 2>&1 || { cat "$tmp/hidden"; return 1; }
	cat "$tmp/hidden"
}

# The one range, with no DMA address, and the reason.
info_hidden() {
	info_unprivileged || return 1
	grep -q '^dma addresses: hidden (they need CAP_SYS_RAWIO)$' "$tmp/hidden" &&
		grep -Eq '^0x0 +0x3f5000 *$' "$tmp/hidden"
}

info_hidden_json() {
	info_unprivileged --json || return 1
	python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
assert b["dma_addr_visible"] is False, b
assert [r["dma_addr"] for r in b["ranges"]] == [None], b["ranges"]
' "$tmp/hidden"
}

# A contiguous buffer above max_contiguous_size: E2BIG, and the limit named.
too_big() {
	local max
	max=$(cat /sys/module/cohbuf/parameters/max_contiguous_size) || return 1
	expect 1 'max_contiguous_size.*Argument list too long' \
		alloc $((max + 4096)) --contiguous --serve "$sock"
}

# ls --fdinfo finds the server's fd: inode, size, name, pid, command.
ls_fdinfo() {
	local ino=$1
	"$cli" ls --fdinfo >"$tmp/fdinfo" 2>&1 || { cat "$tmp/fdinfo"; return 1; }
	cat "$tmp/fdinfo"
	head -n1 "$tmp/fdinfo" | grep -Eq '^INODE +SIZE +NAME +PID +COMMAND +FD$' &&
		grep -Eq "^$ino +6M +cli-test +$server +cohbuf +[0-9]+$" "$tmp/fdinfo" || return 1
	"$cli" ls --fdinfo --json >"$tmp/json" 2>&1 || { cat "$tmp/json"; return 1; }
	cat "$tmp/json"
	grep -q "{\"ino\": $ino, \"size\": 6291456, \"name\": \"cli-test\", \"pid\": $server, \"comm\": \"cohbuf\", \"fd\": [0-9]*}" "$tmp/json"
}

# Without root, debugfs is unreadable: ls says so and lists from fdinfo
# what that user can see (none of root's buffers).
ls_unprivileged() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$cli" ls >"$tmp/ls" 2>&1 ||
		{ cat "$tmp/ls"; return 1; }
	cat "$tmp/ls"
	grep -q 'Permission denied; listing the open buffers from /proc/PID/fdinfo' "$tmp/ls" &&
		grep -Eq '^INODE +SIZE +NAME' "$tmp/ls" && ! grep -q "^$1 " "$tmp/ls"
}

# cohbuf bench runs cohbuf-bench next to it, else fails clearly.
bench() {
	mkdir -p "$tmp/bin" && cp "$cli" "$tmp/bin/cohbuf" || return 1
	cli=$tmp/bin/cohbuf PATH=/usr/bin:/bin expect 1 'cohbuf-bench is not installed' bench || return 1
	printf '#!/bin/sh\necho "bench ran with: $*"\n' >"$tmp/bin/cohbuf-bench"
	chmod +x "$tmp/bin/cohbuf-bench"
	cli=$tmp/bin/cohbuf expect 0 '^bench ran with: --quick 1$' bench --quick 1
}

echo "TAP version 13"
ok "--version prints the version" expect 0 '^cohbuf [0-9]+\.[0-9]+\.[0-9]+$' --version
ok "--help prints the usage" expect 0 '^Usage: cohbuf COMMAND' --help
ok "an unknown command is a usage error" expect 2 "unknown command 'frobnicate'" frobnicate
ok "a bad size is a usage error" expect 2 "bad SIZE '12Q'" alloc 12Q --serve "$sock"
ok "alloc without --serve is a usage error" expect 2 'serve SOCKET is required' alloc 4K
ok "get on a missing socket fails with the errno text" \
	expect 1 'No such file or directory' get "$tmp/none.sock"

ok "alloc 6M serves a named buffer" serve 6M --name cli-test --clients 7
ino=$(inode_of)
ok "get maps it and prints inode, size and name" \
	expect 0 "^inode $ino, 6M \(6291456 bytes\), name 'cli-test', crc32 [0-9a-f]{8}$" get "$sock"
ok "get --fill writes every word" expect 0 '^filled: every word is now 0xcafef00d$' \
	get "$sock" --fill 0xcafef00d
ok "get --verify and import see the same CRC" same_crc
ok "ls lists the buffer" ls_lists "$ino" 1
ok "ls --json lists it with its owner" ls_json "$ino"
ok "info describes it: no flags, ranges, DMA addresses" \
	expect 0 '^flags: none$' info "$sock"
ok "info lists the ranges with their DMA addresses as root" \
	expect 0 '^0x0 +0x[0-9a-f]+ +0x[0-9a-f]+$' info "$sock"
ok "ls --fdinfo lists the open fd, its name and holder" ls_fdinfo "$ino"
ok "ls without root lists from /proc/PID/fdinfo" ls_unprivileged "$ino"
ok "get --hexdump shows the bytes at an offset" \
	expect 0 '^00001000  0d f0 fe ca 0d f0 fe ca  0d f0 fe ca 0d f0 fe ca  \|\.\.\.\.\.\.\.\.\.\.\.\.\.\.\.\.\|$' \
	get "$sock" --hexdump 4K+16
ok "alloc exits after --clients 7" served 0 7
ok "ls no longer lists it" ls_lists "$ino" 0

ok "alloc --rdonly serves a read-only buffer" serve 4K --rdonly
ok "get --fill on it fails: read-only" expect 1 'read-only.*Permission denied' get "$sock" --fill 1
ok "get --verify on it sees zeroes" expect 0 'every word is 0x00000000' get "$sock" --verify
ok "import on it gives the CRC of zeroes" expect 0 'crc32 c71c0011$' import "$sock"
kill -TERM "$server"
ok "SIGTERM stops alloc, which removes its socket" served 0 3

ok "alloc --contiguous --dma32 serves a 1920x1080 YUYV frame" \
	serve 4147200 --contiguous --dma32 --name frame --clients 4
ok "alloc names the flags" grep -q 'flags contiguous,dma32' "$tmp/server.out"
ok "info says: both flags, one range" \
	expect 0 '^flags: contiguous,dma32$' info "$sock"
ok "info --json parses: one range below 4 GiB" info_json
ok "without CAP_SYS_RAWIO info shows the range, the DMA address hidden" \
	info_hidden
ok "without CAP_SYS_RAWIO info --json gives null for it" info_hidden_json
ok "alloc exits after --clients 4" served 0 4
ok "info without SOCKET is a usage error" expect 2 'expected one SOCKET' info
ok "alloc --contiguous above max_contiguous_size names the limit" too_big

ok "bench runs cohbuf-bench, or says it is missing" bench

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
