#!/bin/sh
# Guest side of the restart test: a write loop that prints "ACK i" after each
# iteration's files are closed (close-to-open: the data is on the server);
# the host restarts the server meanwhile. Then every record is checked.
set -eu
n=${1:-40}
fail() { echo "FAIL: $*"; exit 1; }
: >wlog
i=1
while [ "$i" -le "$n" ]; do
  echo "record $i" >>wlog
  echo "rec-$i" >"w-$i"
  echo "ACK $i"
  usleep 100000
  i=$((i + 1))
done
[ "$(wc -l <wlog)" = "$n" ] || fail "wlog has $(wc -l <wlog) lines"
i=1
while [ "$i" -le "$n" ]; do
  [ "$(sed -n "${i}p" wlog)" = "record $i" ] || fail "wlog line $i"
  [ "$(cat "w-$i")" = "rec-$i" ] || fail "w-$i"
  i=$((i + 1))
done
echo "RESTART OK"
