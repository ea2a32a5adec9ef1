#!/usr/bin/env bash
# Install the tree's uAPI headers and build the x86 KVM selftests
# statically, so that they run in a busybox initramfs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$SELFTESTS
mkdir -p "$out" "$KOUT"
exec 9>"$KOUT/.rig-lock"   # headers are installed in $KOUT
flock 9
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
log "installing uAPI headers"
run_logged "$BUILD/headers$sfx.log" make -C "$TREE" O="$KOUT" -j"$JOBS" headers
log "building KVM selftests (static)"
run_logged "$BUILD/selftests-build$sfx.log" \
	make -C "$TREE/tools/testing/selftests/kvm" -j"$JOBS" OUTPUT="$out" \
	KHDR_INCLUDES="-isystem $KOUT/usr/include" EXTRA_CFLAGS=-static \
	CC="ccache gcc"
log "$(find "$out/x86" -maxdepth 1 -type f -perm -u+x | wc -l) x86 selftests in $out"
