#!/usr/bin/env bash
# Build QEMU (config/qemu.version, Debian trixie's source package) for
# x86_64 with only what the rig uses, into $BUILD/qemu: Debian 12's QEMU
# 7.2 is too old.  Nothing is installed; see $QEMU in lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ver=$(cat "$TOP/config/qemu.version")
meson_ver=1.7.0-1
src=$BUILD/qemu-src out=$BUILD/qemu dl=$BUILD/dl
dsc=$dl/qemu/qemu_${ver#*:}.dsc   # no epoch in file names

# Only the devices the rig uses: q35 (which brings the serial port),
# isa-debug-exit, virtio-blk, virtio-9p, ivshmem-plain.
devices='CONFIG_Q35=y
CONFIG_ISA_DEBUG=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_9P=y
CONFIG_IVSHMEM_DEVICE=y'
# Every optional feature off but the accelerators and virtio-9p (which
# needs only glibc's xattr: no libattr, nor libcap-ng since QEMU 9.1);
# QMP and (postcopy) migration have no switch.  /usr/bin/python3 is
# Debian's (deps.sh), not whichever pyenv python comes first in PATH.
opts=(--target-list=x86_64-softmmu --without-default-features --without-default-devices
      --with-devices-x86_64=rig --enable-kvm --enable-tcg --enable-attr --enable-virtfs
      --disable-download --disable-install-blobs --disable-debug-info
      --python=/usr/bin/python3)
# ccache through its gcc symlink: configure runs "$CC" as one word, and
# a failed probe (so does a missing lib32gcc-12-dev) drops the option ROMs.
cc=/usr/lib/ccache/gcc
# The rig's own fixes to QEMU (config/qemu-patches, see README "QEMU
# patches"), applied in order after Debian's.
shopt -s nullglob
patches=("$TOP"/config/qemu-patches/*.patch)
shopt -u nullglob
patch_sum=$(cat /dev/null "${patches[@]}" | sha256sum | cut -d' ' -f1)
stamp=$(printf '%s\n' "$ver" "$meson_ver" "$devices" "$cc" "$patch_sum" "${opts[@]}")

mkdir -p "$out"
exec 9>"$BUILD/.qemu-lock"   # make test and make run may start side by side
flock 9
if [ -x "$out/qemu-system-x86_64" ] && [ "$(cat "$out/rig.stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

[ -f /usr/share/seabios/bios-256k.bin ] || die "no SeaBIOS: install seabios (make deps)"
mkdir -p "$dl/qemu"
if [ ! -f "$dsc" ]; then
	log "downloading the qemu $ver source (~40 MB) from Debian trixie"
	(cd "$dl/qemu" && "$TOP/scripts/archive.sh" source "qemu=$ver" >"$dl/qemu/get.log" 2>&1) ||
		{ tail -3 "$dl/qemu/get.log" >&2; die "cannot get qemu $ver (gone from trixie? see config/qemu.version)"; }
fi
if [ ! -f "$dl/meson_${meson_ver}_all.deb" ]; then
	log "downloading meson $meson_ver from Debian trixie"
	(cd "$dl" && "$TOP/scripts/archive.sh" download "meson=$meson_ver" >"$dl/meson.log" 2>&1) ||
		{ tail -3 "$dl/meson.log" >&2; die "cannot get meson $meson_ver"; }
fi
(cd "$dl" && sha256sum --quiet -c "$TOP/config/qemu.sha256") ||
	die "checksums differ from config/qemu.sha256: remove the files under $dl and retry"

# QEMU 10 needs meson >= 1.5 and the +ds source drops the bundled wheel;
# Debian 12 has 1.0.  trixie's meson is pure Python (>= 3.7) and runs
# from where it is unpacked, found by QEMU's venv through PYTHONPATH.
if [ "$(cat "$BUILD/meson/version" 2>/dev/null)" != "$meson_ver" ]; then
	rm -rf "$BUILD/meson"
	dpkg-deb -x "$dl/meson_${meson_ver}_all.deb" "$BUILD/meson"
	echo "$meson_ver" >"$BUILD/meson/version"
fi
export PYTHONPATH=$BUILD/meson/usr/lib/python3/dist-packages

# dpkg-source applies Debian's patches; --no-check: config/qemu.sha256
# pins all three files, the signer's key is not on the machine.
if [ "$(cat "$src/rig.version" 2>/dev/null)" != "$ver $patch_sum" ]; then
	log "extracting qemu $ver"
	rm -rf "$src" "$src.tmp"
	dpkg-source -q --no-check -x "$dsc" "$src.tmp" >/dev/null
	for p in "${patches[@]}"; do
		patch -d "$src.tmp" -p1 -s --no-backup-if-mismatch <"$p" || die "$p does not apply to qemu $ver"
	done
	echo "$ver $patch_sum" >"$src.tmp/rig.version"
	mv "$src.tmp" "$src"
fi
printf '%s\n' "$devices" >"$src/configs/devices/x86_64-softmmu/rig.mak"

# A fresh build directory for new options (ccache keeps it cheap).  Only
# the binary and the option ROMs: the default targets add QEMU's tests.
rm -rf "$out"
mkdir -p "$out"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
build() {
	cd "$out" && CC=$cc "$src/configure" "${opts[@]}" &&
	ninja -j"$JOBS" qemu-system-x86_64 && make -C pc-bios/optionrom
}
log "building QEMU $ver ($JOBS jobs)"
run_logged "$BUILD/qemu-build.log" build
# The +ds source has no firmware blobs: $QEMU_FIRMWARE (-L) gathers
# SeaBIOS from Debian's seabios package and the option ROMs built above
# (linuxboot_dma.bin for -kernel, kvmvapic.bin).  Compiled-in paths would
# not do: from a build tree QEMU looks for them under qemu-bundle/.
mkdir -p "$QEMU_FIRMWARE"
ln -sf /usr/share/seabios/*.bin "$out"/pc-bios/optionrom/*.bin "$QEMU_FIRMWARE/"
echo "$stamp" >"$out/rig.stamp"
log "$("$out/qemu-system-x86_64" --version | head -n 1)"
