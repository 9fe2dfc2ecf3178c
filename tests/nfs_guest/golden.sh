#!/bin/sh
# Guest side of capture_golden.ts: a few operations whose calls become golden frames.
set -eu
stat -c %s hello.txt >/dev/null
ls -l >/dev/null
cat hello.txt >/dev/null
printf 'golden write\n' >written.txt
sync
echo GOLDEN OK
