#!/usr/bin/env bash
# "make test": series checks on the host, then the patched kernel boots
# under QEMU and runs the tests of a list; prints KTAP and a summary.
# Usage: test.sh [LIST]   (default tests/test.list)
# FLAVOR=debug (make test-debug): the same on the debug build of the tree
# (lockdep, KASAN, KFENCE), without the series checks.  The console of a
# patched kernel (not FLAVOR=base) is scanned for splats.
# FLAVOR=rt L2_FLAVOR=rt (make test-rt): the L1 and the L2s boot the
# tree's PREEMPT_RT build (build/kout-rt).  KVM on PREEMPT_RT wants a
# constant TSC, which TCG's CPU does not report although its TSC (the
# host's) is one: the L1 gets setcpuid=constant_tsc, which taints it.
# L2_FLAVOR=rt alone boots only the L2s on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=${1:-$TOP/tests/test.list}
name=$(basename "$list" .list)
[ "$name" = "$FLAVOR" ] || name+=$sfx   # make test-rt: results/rt
res=$BUILD/results/$name
rm -rf "$res"; mkdir -p "$res"

: >"$res/rig.ktap"
if [ -n "${NO_BUILD:-}" ]; then
	: >"$res/series.ktap"   # the kernel and selftests as last built
elif [ "$FLAVOR" = debug ] || [ "$FLAVOR" = rt ]; then
	# The series checks are make test's.  The tree is tested as it is
	# (make tree syncs it with series/); created only when missing.
	: >"$res/series.ktap"
	[ -e "$TREE/.git" ] || "$TOP/scripts/tree.sh"
elif [ "$FLAVOR" = base ]; then
	"$TOP/scripts/tree.sh"
	: >"$res/series.ktap"
else
	"$TOP/scripts/check-series.sh" >"$res/series.ktap" 2>"$res/series.log" ||
		{ cat "$res/series.log" >&2; die "series checks could not run"; }
	grep -E '^(not )?ok ' "$res/series.ktap" >&2 || true
	"$TOP/scripts/check-rig.sh" >"$res/rig.ktap" 2>&1 || die "rig checks could not run"
	grep -E '^(not )?ok ' "$res/rig.ktap" >&2 || true
	"$TOP/scripts/tree.sh"
fi
if [ -z "${NO_BUILD:-}" ]; then
	"$TOP/scripts/build-kernel.sh"
	# The L2s of a debug run boot the plain build: the checks are for the
	# L1's KVM, and KASAN's shadow and the debug overhead leave an L2 of
	# 256M too little for its workload (the swap test's was OOM-killed).
	[ "$FLAVOR" != debug ] || FLAVOR='' "$TOP/scripts/build-kernel.sh"
	[ -z "${L2_FLAVOR:-}" ] || FLAVOR=$L2_FLAVOR "$TOP/scripts/build-kernel.sh"
	if [ "$FLAVOR" = rt ]; then FLAVOR='' "$TOP/scripts/build-selftests.sh"
	else "$TOP/scripts/build-selftests.sh"; fi
	"$TOP/scripts/build-qemu.sh"
fi
"$TOP/scripts/mkinitramfs.sh" "$list" "$BUILD/initramfs-$name.cpio"

# Swap for the guest tests that need a real disk (guest:apf-swap-l2).
"$TOP/scripts/swap-disk.sh" "$res/swap.img" 512

# Show results as they arrive; the console goes to a file.
touch "$res/vm.ktap.raw"
tail -n +1 -F "$res/vm.ktap.raw" 2>/dev/null | grep --line-buffered -E '^(not )?ok |^# kernel' >&2 &
tailer=$!
start=$SECONDS
brc=0
kargs=()
(( TIMEOUT_MULT == 1 )) || kargs+=("rig.timeout_mult=$TIMEOUT_MULT")
# boot.sh's loglevel=4 keeps KERN_WARNING off the console, and with it
# WARN(), lockdep and RCU reports: the runs of the patched kernels want
# them (the L2s get the L1's loglevel, guest/l2-qemu).
[ "$FLAVOR" = base ] || kargs+=(loglevel=5)
[ "$FLAVOR" != debug ] || kargs+=("rig.l2kernel=$BUILD/kout/arch/x86/boot/bzImage")
[ -z "${L2_FLAVOR:-}" ] || kargs+=("rig.l2kernel=$BUILD/kout-$L2_FLAVOR/arch/x86/boot/bzImage")
[ "$FLAVOR" != rt ] || kargs+=(setcpuid=constant_tsc)
"$TOP/scripts/boot.sh" --initrd "$BUILD/initramfs-$name.cpio" --mode test --share-root \
	--disk "$res/swap.img" --disk-iops "$SWAP_IOPS" --timeout "${BOOT_TIMEOUT:-3600}" --console "$res/console.log" \
	--results "$res/vm.ktap.raw" -- "${kargs[@]}" || brc=$?
sleep 1; kill "$tailer" 2>/dev/null || true
rm -f "$res/swap.img"
tr -d '\r' <"$res/vm.ktap.raw" >"$res/vm.ktap"
log "VM ran $((SECONDS - start))s (QEMU rc=$brc); console: $res/console.log"

# Everything below reads only the result files.
release=$(sed -n 's/^# kernel: //p' "$res/vm.ktap")
finished=0
grep -q '^# rig: done' "$res/vm.ktap" && finished=1
{
	echo "KTAP version 1"
	echo "# series checks"
	# An empty file (FLAVOR=base has no series checks) is no error.
	{ grep -E '^(not )?ok |^# ' "$res/series.ktap" || true; } | sed -E 's/^(not )?ok [0-9]+ /\1ok - /'
	{ grep -E '^(not )?ok |^# ' "$res/rig.ktap" || true; } | sed -E 's/^(not )?ok [0-9]+ /\1ok - /'
	echo "# in the ${FLAVOR:-patched} kernel ${release:-(did not boot)}"
	{ grep -E '^(not )?ok |^# ' "$res/vm.ktap" || true; } | sed -E 's/^(not )?ok [0-9]+ /\1ok - /'
	case $FLAVOR/$release in
	base/*) ;;
	debug/*-apf-debug*) echo "ok - boot: L1 runs the patched debug kernel $release" ;;
	debug/*) echo "not ok - boot: L1 runs the patched debug kernel (got '${release:-nothing}')" ;;
	rt/*-apf-rt*) echo "ok - boot: L1 runs the patched rt kernel $release" ;;
	rt/*) echo "not ok - boot: L1 runs the patched rt kernel (got '${release:-nothing}')" ;;
	*-apf*) echo "ok - boot: L1 runs the patched kernel $release" ;;
	*) echo "not ok - boot: L1 runs the patched kernel (got '${release:-nothing}')" ;;
	esac
	# Every L2 whose boot the console shows ran the L2_FLAVOR build.
	if [ -n "${L2_FLAVOR:-}" ]; then
		l2s=$(tr -d '\r' <"$res/console.log" | grep -cE '^ +\| +rig: [^ ]+ up in mode' || true)
		l2f=$(tr -d '\r' <"$res/console.log" | grep -cE "^ +\| +rig: [^ ]+-apf-$L2_FLAVOR-[^ ]+ up in mode" || true)
		if (( l2s > 0 && l2f == l2s )); then
			echo "ok - boot: the L2s run the patched $L2_FLAVOR kernel ($l2f of $l2s boots)"
		else
			echo "not ok - boot: the L2s run the patched $L2_FLAVOR kernel ($l2f of $l2s boots)"
		fi
	fi
	# Any splat in the console (the L1's, and the L2s' that guest tests
	# print) fails a run of the patched kernel; the first is named and
	# shown, all of them are counted.
	if [ "$FLAVOR" != base ]; then
		what="${FLAVOR:+$FLAVOR }kernel"
		tr -d '\r' <"$res/console.log" >"$res/console.txt"
		"$TOP/guest/splats" -n "$res/console.txt" >"$res/splats" || true
		if [ -s "$res/splats" ]; then
			first=$(head -n 1 "$res/splats")
			at=${first%%:*}
			echo "# $(wc -l <"$res/splats") splat lines in the console ($res/splats); from line $at:"
			sed -n "$((at > 3 ? at - 3 : 1)),$((at + 40))p" "$res/console.txt" | cut -c1-200 | sed 's/^/# /'
			echo "not ok - $what: $(cut -d: -f2- <<<"$first" | sed 's/^[[:space:]|]*//' | cut -c1-200)"
		else
			echo "ok - $what: no lockdep/KASAN/KFENCE/WARN splat in the console"
		fi
		rm -f "$res/console.txt"
	fi
	if (( ! finished )); then
		echo "# console tail:"; tail -n 30 "$res/console.log" | sed 's/^/# /'
		echo "not ok - vm: test run did not finish (QEMU rc=$brc: crash, panic or timeout)"
	fi
} >"$res/all.ktap"

pass=$(grep -E '^ok ' "$res/all.ktap" | grep -cvE '# (SKIP|TODO)' || true)
skip=$(grep -cE '^ok .*# SKIP' "$res/all.ktap" || true)
xfail=$(grep -cE '^ok .*# TODO' "$res/all.ktap" || true)
fail=$(grep -cE '^not ok ' "$res/all.ktap" || true)
grep -E '^not ok |^ok .*# (SKIP|TODO)' "$res/all.ktap" >&2 || true
# CI keeps only the output: each failure with the lines the test printed
# for it (the "# " lines before its "not ok"), at most 60.
awk '/^# /{b[n++ % 60] = $0; next}
	/^not ok /{print "# --- why: " $0; for (i = (n > 60 ? n - 60 : 0); i < n; i++) print b[i % 60]}
	{n = 0}' "$res/all.ktap" | cut -c1-200 >&2
# CI keeps only the end of the output: show why the L1 stopped right here.
if (( ! finished )); then
	why='Kernel panic|BUG:|Oops|general protection|Out of memory|WARNING:|TIMEOUT'
	{ grep -m1 -B2 -A16 -E "$why" "$res/console.log" || tail -n 20 "$res/console.log"; } |
		tr -d '\r' | cut -c1-160 | sed 's/^/# console: /' >&2
fi
log "full KTAP: $res/all.ktap"
(( xfail == 0 )) || echo "($xfail expected failures of the base kernel counted as passed, see '# TODO' above)"
echo "$((pass + xfail)) passed, $fail failed, $skip skipped" | tee "$res/summary"
(( fail == 0 ))
