#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Python module's unittests (python/tests/) as TAP with a kselftest
# "# Totals:" line. Needs root and the cohbuf module, as in scripts/vm-run.
# selftests/Makefile installs it with the repository's path in place of
# @TOP@.
set -u

top=${COHBUF_PYTHON_TOP:-@TOP@}
out=$(mktemp "${TMPDIR:-/tmp}/cohbuf-python.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

PYTHONPATH=$top/python PYTHONDONTWRITEBYTECODE=1 \
	python3 -m unittest discover -v -s "$top/python/tests" >"$out" 2>&1
status=$?
echo "TAP version 13"
awk '
/ \.\.\. ok$/                { n++; pass++; print "ok " n " " $1; next }
/ \.\.\. skipped /           { n++; skip++; name = $1; sub(/.* \.\.\. skipped /, ""); print "ok " n " " name " # SKIP " $0; next }
/ \.\.\. (FAIL|ERROR)$/      { n++; fail++; print "not ok " n " " $1; next }
END { printf "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", pass, fail, skip }
' "$out"
[ "$status" -eq 0 ] || sed 's/^/# /' "$out"
exit "$status"
