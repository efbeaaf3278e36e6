#!/bin/sh
# Runs one GTest program in TAP mode, under $VH_TEST_WRAPPER when set
# (valgrind in `make check-valgrind`).  Libtool wrapper scripts are resolved
# so the wrapper sees the real binary, not a shell script.
prog="$1"; shift
if [ -n "$VH_TEST_WRAPPER" ]; then
  exec "${VH_BUILDDIR:-.}/libtool" --mode=execute $VH_TEST_WRAPPER "$prog" --tap "$@"
fi
exec "$prog" --tap "$@"
