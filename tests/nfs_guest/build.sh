#!/bin/sh
# A build-like workload through the kernel NFS client: untar a generated
# source tree ($NFSVM_FILES/src.tar.gz), edit files in place and by
# rename-over (as editors save), "compile" every source into an object,
# "link", copy and compare the tree, write a manifest of md5 sums for the
# host to check, then remove everything but the manifest.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "-- $*"; }

step "untar"
tar -xzf "$NFSVM_FILES/src.tar.gz"
n=$(find src -type f | wc -l)
[ "$n" -gt 100 ] || fail "only $n files unpacked"

step "edit"
for f in src/*/config.h; do sed -i 's/VERSION 1/VERSION 2/' "$f"; done
[ "$(grep -rl 'VERSION 2' src | wc -l)" = "$(ls src/*/config.h | wc -l)" ] || fail "sed -i edits"
echo "/* edit */" >>src/mod0/file0.c
cp src/mod1/file1.c src/mod1/.file1.c.swp
echo "// saved" >>src/mod1/.file1.c.swp
mv src/mod1/.file1.c.swp src/mod1/file1.c

step "compile and link"
mkdir -p obj
for c in $(find src -name '*.c'); do
  md5sum "$c" >"obj/$(echo "$c" | tr / _).o"
done
cat obj/*.o >app.bin
[ "$(wc -l <app.bin)" = "$(find src -name '*.c' | wc -l)" ] || fail "link"
# incremental rebuild of one object
echo "/* again */" >>src/mod2/file2.c
md5sum src/mod2/file2.c >obj/src_mod2_file2.c.o
[ ! src/mod2/file2.c -nt obj/src_mod2_file2.c.o ] || fail "object older than its source"

step "copy, compare, archive"
cp -a src src-copy
diff -r src src-copy || fail "diff -r after cp -a"
tar -czf out.tar.gz src
[ "$(tar -tzf out.tar.gz | grep -c '\.c$')" = "$(find src -name '*.c' | wc -l)" ] || fail "tar list"

step "manifest and cleanup"
find src -type f | sort | while read -r f; do md5sum "$f"; done >manifest.txt
rm -rf src src-copy obj app.bin out.tar.gz
[ ! -e src ] || fail "rm -rf src"
echo "BUILD OK"
