#!/usr/bin/env bash
# "make run": boot the patched kernel as L1 host under QEMU; inside it,
# boot the same kernel as an L2 guest with KVM and show that the L2
# enabled async PF.  Exits non-zero when that evidence is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

res=$BUILD/results/run
mkdir -p "$res"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/mkinitramfs.sh" /dev/null "$BUILD/initramfs-run.cpio"

start=$SECONDS
rc=0
"$TOP/scripts/boot.sh" --initrd "$BUILD/initramfs-run.cpio" --mode run --share-root \
	--timeout "${BOOT_TIMEOUT:-900}" "$@" 2>&1 | tr -d '\r' | tee "$res/console.log" |
	grep --line-buffered -E '^(rig|L2\| rig|L2\| \[)' || rc=$?
log "L1 + L2 ran $((SECONDS - start))s; console: $res/console.log"
grep -q '^L2| rig-l2: async PF enabled' "$res/console.log" ||
	die "the L2 guest did not show async PF enabled"
grep -q '^rig-l1: L2 exited' "$res/console.log" || die "L1 did not see the L2 exit"
log "ok: L2 enabled async PF; both guests shut down"
