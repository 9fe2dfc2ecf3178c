#!/bin/sh
# One nfs-vm boot for the kernel-client suite: the shared smoke test, the
# POSIX script, and the build-like workload, in that order.
set -eu
sh "$NFSVM_FILES/guest-smoke.sh" kernel
sh "$NFSVM_FILES/posix.sh"
sh "$NFSVM_FILES/build.sh"
echo "ALL OK"
