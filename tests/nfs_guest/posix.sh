#!/bin/sh
# POSIX behaviour through the Linux kernel NFS client (busybox sh in nfs-vm,
# cwd = the mount). Exits non-zero on the first surprise, printing "FAIL: …".
# Leaves posix-done.txt behind so the host can check the server saw it.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "-- $*"; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }

d=posix.$$
mkdir "$d"
cd "$d"

step "create, read, write, append, overwrite, truncate"
echo hello >f
eq "$(cat f)" hello "read back"
echo world >>f
eq "$(cat f)" "hello
world" "append"
printf 'xy' | dd of=f bs=1 seek=1 conv=notrunc 2>/dev/null
eq "$(head -c 5 f)" hxylo "overwrite in place"
truncate -s 3 f
eq "$(cat f)" hxy "truncate down"
eq "$(stat -c %s f)" 3 "size after truncate"
truncate -s 10000 f
eq "$(stat -c %s f)" 10000 "truncate up"
eq "$(tail -c 9997 f | md5sum | cut -d' ' -f1)" "$(head -c 9997 /dev/zero | md5sum | cut -d' ' -f1)" "hole reads zeros"
: >f
eq "$(stat -c %s f)" 0 "truncate via O_TRUNC"
i=0
while [ $i -lt 100 ]; do echo "line $i" >>log; i=$((i + 1)); done
eq "$(wc -l <log)" 100 "100 appends"
eq "$(sed -n 57p log)" "line 56" "append order"

step "exclusive create (noclobber = O_EXCL)"
set -C
echo first >excl
if (echo second >excl) 2>/dev/null; then fail "O_EXCL create over an existing file succeeded"; fi
set +C
eq "$(cat excl)" first "O_EXCL left the file alone"

step "names: spaces, UTF-8, 255 bytes, too long"
echo s >"with space.txt"
echo u >"héllo wörld ✓.txt"
eq "$(cat "héllo wörld ✓.txt")" u "utf-8 name"
long=$(printf 'n%.0s' $(seq 255))
echo l >"$long"
[ -f "$long" ] || fail "255-byte name"
if (echo x >"${long}n") 2>/dev/null; then fail "256-byte name accepted"; fi
ls | grep -q "with space.txt" || fail "ls shows the spaced name"

step "rename cases"
echo a >ra
echo b >rb
mv ra rb
[ ! -e ra ] || fail "rename source still there"
eq "$(cat rb)" a "rename over a file replaces it"
mkdir rd1 rd2
echo in >rd1/x
mv rd1 rd2/moved
eq "$(cat rd2/moved/x)" in "rename a dir into another dir"
mkdir empty1 empty2
mv empty1 empty2
[ -d empty2 ] && [ ! -e empty1 ] || fail "dir over an empty dir"
mkdir full && : >full/x
mkdir other
if mv -T other full 2>/dev/null; then fail "dir over a non-empty dir succeeded"; fi
if mv rd2 rd2/moved/inside 2>/dev/null; then fail "dir into its own subtree succeeded"; fi
ln rb rb-link
mv rb rb-link
[ -e rb ] && [ -e rb-link ] || fail "rename onto a hard link of itself must be a no-op"
echo c >rc
mv rc "$PWD/rd2/rc-across"
eq "$(cat rd2/rc-across)" c "rename across directories"

step "hard links and nlink"
echo data >h1
ln h1 h2
ln h1 h3
eq "$(stat -c %h h1)" 3 "nlink 3"
eq "$(stat -c %i h1)" "$(stat -c %i h3)" "same inode"
rm h1
eq "$(stat -c %h h2)" 2 "nlink after unlink"
echo more >>h3
eq "$(cat h2)" "data
more" "write through one link, read through another"
if ln rd2 dirlink 2>/dev/null; then fail "hard link to a directory"; fi

step "symlinks"
ln -s h2 sl
eq "$(readlink sl)" h2 "readlink"
eq "$(cat sl)" "data
more" "read through symlink"
ln -s does-not-exist dangling
[ -L dangling ] && [ ! -e dangling ] || fail "dangling symlink"
ln -s rd2 sdir
[ -f sdir/rc-across ] || fail "symlink to a directory"
ln -s "$(printf 't%.0s' $(seq 1000))" longtarget
eq "$(readlink longtarget | wc -c)" 1001 "1000-byte target"

step "chmod, chown, times, mkfifo"
chmod 600 h2
eq "$(stat -c %a h2)" 600 "chmod 600"
chmod 4755 h2
eq "$(stat -c %a h2)" 4755 "chmod 4755"
chmod 0 h2
eq "$(cat h2 | head -c 4)" data "root reads a mode-0 file"
chown 1234:5678 h2
eq "$(stat -c %u:%g h2)" 1234:5678 "chown"
touch -d "2001-02-03 04:05:06" h2
eq "$(stat -c %Y h2)" "$(date -d "2001-02-03 04:05:06" +%s)" "mtime set"
mkfifo pipe
[ -p pipe ] || fail "mkfifo"
chmod 755 rd2
eq "$(stat -c %a rd2)" 755 "chmod dir"

step "mkdir -p deep, rm -rf"
mkdir -p deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p
echo bottom >deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/file
eq "$(cat deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/file)" bottom "deep file"
if rmdir deep 2>/dev/null; then fail "rmdir of a non-empty dir"; fi
rm -rf deep
[ ! -e deep ] || fail "rm -rf deep"
if rm nothing-here 2>/dev/null; then fail "rm of a missing file"; fi

step "unlink of an open file"
echo "still readable" >open.txt
exec 3<open.txt
rm open.txt
[ ! -e open.txt ] || fail "unlinked name still visible"
eq "$(cat <&3)" "still readable" "read after unlink"
exec 3<&-
sleep 1
eq "$(ls -A | grep -c '^\.nfs' || true)" 0 "silly-renamed file removed after close"

step "2000-entry directory"
mkdir many
i=0
while [ $i -lt 2000 ]; do : >"many/entry-$i"; i=$((i + 1)); done
eq "$(ls many | wc -l)" 2000 "ls count"
eq "$(ls -l many | grep -c entry-)" 2000 "ls -l count"
eq "$(ls many | sort | uniq | wc -l)" 2000 "no duplicates"
echo 3 >/proc/sys/vm/drop_caches
eq "$(find many -type f | wc -l)" 2000 "find after cache drop"
rm -rf many
[ ! -e many ] || fail "rm -rf many"

step "32 MiB round trip with md5sum"
dd if=/dev/urandom of=/tmp/big bs=1M count=32 2>/dev/null
cp /tmp/big big
sync
echo 3 >/proc/sys/vm/drop_caches
eq "$(stat -c %s big)" 33554432 "size"
eq "$(md5sum <big)" "$(md5sum </tmp/big)" "content"
dd if=/tmp/big of=big bs=4096 seek=1000 skip=3 count=10 conv=notrunc 2>/dev/null
dd if=/tmp/big of=/tmp/big2 bs=4096 seek=1000 skip=3 count=10 conv=notrunc 2>/dev/null
cp /tmp/big /tmp/big3
dd if=/tmp/big of=/tmp/big3 bs=4096 seek=1000 skip=3 count=10 conv=notrunc 2>/dev/null
sync
echo 3 >/proc/sys/vm/drop_caches
eq "$(md5sum <big)" "$(md5sum </tmp/big3)" "partial overwrite"
rm big /tmp/big /tmp/big2 /tmp/big3

step "statfs"
df -k . >/dev/null || fail "df"

cd ..
rm -rf "$d"
[ ! -e "$d" ] || fail "final rm -rf"
echo "posix ok" >posix-done.txt
echo "POSIX OK"
