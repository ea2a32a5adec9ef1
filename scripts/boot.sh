#!/usr/bin/env bash
# Boot a kernel + initramfs under QEMU with a hard timeout.  KVM is used
# when the host can run a stock kernel with VMX/SVM; otherwise TCG with
# -cpu max (emulated SVM + NPT, so kvm_amd loads inside).
#
# Usage: boot.sh [options] -- [extra kernel args]
#   --kernel F --initrd F   images (default: the rig's build outputs)
#   --mode M                rig.mode= for guest/init (test, run, shell, ...)
#   --mem MB --smp N        guest size (default 4096, 2)
#   --timeout S             kill QEMU after S seconds (default 1800)
#   --console F             serial console log (default: stdout)
#   --results F             second serial port (ttyS1) to this file
#   --share-root            export the host's / read-only over virtio-9p
#   --disk F                raw image F as a virtio disk (/dev/vda in the guest)
#   --disk-iops N           at most N reads a second from it (QEMU throttling; 0: no cap)
#   --interactive           console on the terminal, no timeout
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$KOUT/arch/x86/boot/bzImage initrd=$BUILD/initramfs-test.cpio
mode=shell mem=${MEM:-4096} smp=${SMP:-2} timeout=1800 console="" results=""
share=0 interactive=0 disk="" iops=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--mode) mode=$2; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--console) console=$2; shift ;;
	--results) results=$2; shift ;;
	--share-root) share=1 ;;
	--disk) disk=$2; shift ;;
	--disk-iops) iops=$2; shift ;;
	--interactive) interactive=1 ;;
	--) shift; break ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
[ -x "$QEMU" ] || die "no $QEMU (make qemu)"
[ -f "$kernel" ] || die "no kernel $kernel (make kernel)"
[ -f "$initrd" ] || die "no initramfs $initrd"
[ -z "$disk" ] || [ -f "$disk" ] || die "no disk image $disk"

accel=${ACCEL:-}
if [ -z "$accel" ]; then
	# A /dev/kvm alone is not enough: without VMX/SVM in the host CPU the
	# L1 could not run KVM itself.
	if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm; else accel=tcg; fi
fi
# TCG runs every vCPU in one thread (TCG_THREAD=multi: one thread each).
# With a thread per vCPU, QEMU 10.0.13's emulated SVM loses or repeats
# interrupts (README "QEMU patches"): nested runs stall or triple-fault,
# with the unpatched base kernel too.
tcg_thread=${TCG_THREAD:-single}
case $tcg_thread in single|multi) ;; *) die "TCG_THREAD must be single or multi" ;; esac
# shellcheck disable=SC2054 # QEMU options are comma lists
case $accel in
kvm) cpu=(-accel kvm -cpu host) ;;
tcg) cpu=(-accel "tcg,thread=$tcg_thread" -cpu max) ;;
*) die "ACCEL must be kvm or tcg" ;;
esac

# KVM is built as modules (config/kvm-apf.config): the kernel build packs
# them into a cpio next to bzImage, which is appended to this boot's
# initramfs (the kernel unpacks both; guest/init loads them).  An L2 boots
# rig.initrd alone: it runs no KVM.
boot_initrd=$initrd
mods=${kernel%/arch/x86/boot/bzImage}/rig-modules.cpio
if [ -f "$mods" ]; then
	boot_initrd=$(mktemp "$BUILD/initrd-boot.XXXXXX")
	trap 'rm -f "$boot_initrd"' EXIT
	cat "$initrd" "$mods" >"$boot_initrd"
fi

# shellcheck disable=SC2054
args=(-L "$QEMU_FIRMWARE" -M q35 "${cpu[@]}" -m "$mem" -smp "$smp" -nodefaults -no-user-config
      -display none -no-reboot -kernel "$kernel" -initrd "$boot_initrd"
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
if (( interactive )); then
	args+=(-serial mon:stdio)
elif [ -n "$console" ]; then
	args+=(-serial "file:$console")
else
	args+=(-serial stdio)
fi
[ -n "$results" ] && { : >"$results"; args+=(-serial "file:$results"); }
# A hung guest can be inspected from another shell:
# QEMU_MONITOR=/tmp/mon make run, then any UNIX-socket client on /tmp/mon
# (socat - UNIX-CONNECT:/tmp/mon, or a few lines of python3).
[ -n "${QEMU_MONITOR:-}" ] && args+=(-monitor "unix:$QEMU_MONITOR,server=on,wait=off")
# shellcheck disable=SC2054
(( share )) && args+=(-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
                      -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot)
[ "${iops:-0}" = 0 ] && iops=""
# The host's page cache may hold the image (cache=unsafe): a read then
# waits for emulated CPU time only, unless --disk-iops caps the reads.
# shellcheck disable=SC2054
[ -n "$disk" ] && args+=(-drive "file=$disk,format=raw,if=none,id=disk,cache=unsafe${iops:+,throttling.iops-read=$iops}"
                         -device virtio-blk-pci,drive=disk)

append="console=ttyS0 panic=-1 oops=panic loglevel=4 rig.mode=$mode rig.top=$TOP rig.kernel=$kernel rig.initrd=$initrd $*"
how=$accel
[ "$accel" = kvm ] || how="tcg (thread=$tcg_thread)"
log "booting $(basename "$kernel") with $how, ${mem}M, $smp vCPUs, mode $mode"
rc=0
if (( interactive )); then
	"$QEMU" "${args[@]}" -append "$append" || rc=$?
	exit "$rc"
fi
timeout --foreground -k 10 "$timeout" "$QEMU" "${args[@]}" -append "$append" </dev/null || rc=$?
if (( rc == 124 || rc == 137 )); then
	log "TIMEOUT: QEMU killed after ${timeout}s (console: ${console:-stdout})"
	exit 124
fi
exit "$rc"
