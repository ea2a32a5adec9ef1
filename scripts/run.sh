#!/usr/bin/env bash
# "make run": boot the patched kernel as L1 host under QEMU, with a swap
# disk; inside it, the same kernel as an L2 guest whose QEMU runs in a
# memory cgroup smaller than the L2's working set, so that the L1 swaps
# the L2's memory in while the L2 runs memory- and CPU-bound tasks.
# Shows the VM's async PF events (L1) and page-ready interrupts and work
# (L2) live, then a summary; exits non-zero when the evidence is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<'EOF'
usage: make run [RUN_ARGS="options"]
  -m, --mem MB        L2 guest memory (default 256)
  -l, --limit MB      memory.max of the L2's QEMU in the L1 (default 128)
  -c, --cpus N        L2 vCPUs (default 2)
  -d, --duration S    workload time in each L2 (default 60)
  -w, --workset MB    memory the L2's memory tasks touch in all (default: --mem less
                      the initramfs and 48 for the L2's kernel)
  --compare           also run the L2 with async PF off (no-kvmapf): CPU work ratio on/off
  --delay US          the ring's L2 boots with kvm-apf-delay=US: page-ready events wait up
                      to US microseconds for an exit the vCPU takes anyway (default 0)
  --postcopy          no memory limit: the L2 is migrated post-copy to a second QEMU in
                      the L1 once its memory is filled (QMP, local socket)
  --postcopy-break S  the same, and the link is paused S s into post-copy for 5 s
  --bandwidth MB      post-copy migration stream cap in MiB/s (default 8)
  --shell l1|l2       interactive shell in the L1 (swap, cgroup ready) or in an L2
  --interactive       the same as --shell l1
  --swap MB           size of the sparse swap image build/swap.img (default 1024)
  --swap-iops N       reads a second the swap disk serves (default 400; 0: no cap)
Environment: BOOT_TIMEOUT (s, default from the duration), ACCEL=kvm|tcg.
EOF
}

mem=256 limit=128 cpus=2 dur=60 workset="" compare=0 shell="" swap=1024 iops=$SWAP_IOPS
postcopy=0 brk=0 bw=8 delay=0
while [ $# -gt 0 ]; do
	case $1 in
	-m|--mem) mem=${2:?$1 needs a value}; shift ;;
	-l|--limit) limit=${2:?$1 needs a value}; shift ;;
	-c|--cpus) cpus=${2:?$1 needs a value}; shift ;;
	-d|--duration) dur=${2:?$1 needs a value}; shift ;;
	-w|--workset) workset=${2:?$1 needs a value}; shift ;;
	--swap) swap=${2:?$1 needs a value}; shift ;;
	--swap-iops) iops=${2:?$1 needs a value}; shift ;;
	--compare) compare=1 ;;
	--delay) delay=${2:?$1 needs a value}; shift ;;
	--postcopy) postcopy=1 ;;
	--postcopy-break) postcopy=1; brk=${2:?$1 needs a value}; shift ;;
	--bandwidth) bw=${2:?$1 needs a value}; shift ;;
	--shell) shell=${2:?$1 needs l1 or l2}; shift ;;
	--interactive) shell=l1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown option $1" ;;
	esac
	shift
done
[[ $brk =~ ^[0-9]+$ ]] || die "--postcopy-break takes seconds (got '$brk')"
[[ $iops =~ ^[0-9]+$ ]] || die "--swap-iops takes a number (got '$iops')"
[[ $delay =~ ^[0-9]+$ ]] || die "--delay takes microseconds (got '$delay')"
for v in mem limit cpus dur swap bw ${workset:+workset}; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number (got '${!v}')"
done
case $shell in ""|l1|l2) ;; *) die "--shell takes l1 or l2" ;; esac

res=$BUILD/results/run
mkdir -p "$res"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-qemu.sh"
"$TOP/scripts/mkinitramfs.sh" /dev/null "$BUILD/initramfs-run.cpio"
"$TOP/scripts/swap-disk.sh" "$BUILD/swap.img" "$swap"

kargs=(rig.l2mem="$mem" rig.l2smp="$cpus" rig.limit="$limit" rig.duration="$dur"
       rig.compare="$compare" ${workset:+rig.workset="$workset"} ${shell:+rig.shell="$shell"}
       rig.postcopy="$postcopy" rig.bw="$bw" rig.break="$brk" rig.apf_delay="$delay")
boot=("$TOP/scripts/boot.sh" --initrd "$BUILD/initramfs-run.cpio" --mode run --share-root
      --disk "$BUILD/swap.img" --disk-iops "$iops")
if [ -n "$shell" ]; then
	exec "${boot[@]}" --interactive -- "${kargs[@]}"
fi

# Each L2 boots and fills its memory under nested emulation (minutes).
phases=$((1 + compare * (2 - postcopy)))
tmo=${BOOT_TIMEOUT:-$((120 + phases * (dur + 300)))}
tty=0
[ -t 1 ] && tty=1
start=$SECONDS
rc=0
# Line-buffered: console.log and the screen follow the run as it goes.
"${boot[@]}" --timeout "$tmo" -- "${kargs[@]}" 2>&1 | stdbuf -oL tr -d '\r' | tee "$res/console.log" |
	awk -v tty="$tty" -f "$TOP/scripts/run-display.awk" || rc=$?
log "L1 + L2 ran $((SECONDS - start))s; console: $res/console.log"
(( rc != 124 )) || die "boot timeout: no result after ${tmo}s (BOOT_TIMEOUT)"
grep -q '^L2| rig-l2: async PF enabled' "$res/console.log" ||
	die "the L2 guest did not show async PF enabled"

# "key=value" of a phase's result line.
result() { sed -n "s/^rig-apf: result phase=$1 //p" "$res/console.log" | tail -n 1; }
val() { [[ " $1 " =~ \ $2=([^ ]*)\  ]] && echo "${BASH_REMATCH[1]}"; }
# The page-ready status layout the L2 of a phase named in MSR_KVM_ASYNC_PF_INT.
layout() {
	awk -v p="rig-apf: phase $1:" 'index($0, p) == 1 { on = 1 }
		on && /rig-l2: async PF enabled/ { sub(/.*status layout /, ""); print $1; exit }' \
		"$res/console.log"
}
# All VM exits of the L2 per page-ready event, from the L1's vCPU stats.
per_event() { awk -v e="$(val "$1" exits)" -v r="$(val "$1" ready)" \
	'BEGIN { if (r > 0) printf "%.1f", e / r; else print "inf" }'; }
# The same by cause, over the L2's measured time (from the start_ counters
# taken when it began; boot and memory fill left out).  "other" is mostly
# MSR writes (the slot's ACK, IPIs, the TSC deadline), which KVM has no
# stat for.
by_cause() {
	local r=$1 k a z d out="" sum=0 n=""
	per() { awk -v d="$1" -v n="$n" 'BEGIN { if (n > 0) printf "%.2f", d / n; else print "inf" }'; }
	for k in ready exits pf_taken halt irq irq_window; do
		a=$(val "$r" "start_$k" || true) z=$(val "$r" $k || true)
		[[ $a =~ ^[0-9]+$ && $z =~ ^[0-9]+$ ]] || { echo "(no exit causes)"; return; }
		d=$((z - a))
		case $k in
		ready) n=$d; out="$d events:" ;;
		exits) out="$out $d exits, per event $(per "$d"):" ;;
		*) sum=$((sum + d))
		   out="$out $k $(per "$d")," ;;
		esac
	done
	a=$(val "$r" start_exits) z=$(val "$r" exits)
	out="$out other $(per $((z - a - sum)))"
	# What the L2 took meanwhile, for "other": each timer interrupt rearms
	# the TSC deadline, each IPI is an ICR write of its sender.
	for k in loc res cal; do
		z=$(val "$r" "${k}_during" || true)
		[[ $z =~ ^[0-9]+$ ]] || { echo "$out"; return; }
		out="$out; $k $(per "$z")"
	done
	echo "$out (L2 interrupts per event: timer, reschedule and call-function IPIs)"
}
bad=0
summary() {	# summary PHASE LINE
	local r=$2 ready src died
	# Post-copy: the L2's page-ready interrupts came from both VMs.
	ready=$(val "$r" ready || true) src=$(val "$r" src_ready || echo 0)
	if ! [[ $ready =~ ^[0-9]+$ && $src =~ ^[0-9]+$ ]]; then
		log "APF $1: no async PF counters for this VM (ready='$ready', source's '$src')"
		ready=0 src=0 bad=1
	fi
	ready=$((ready + src))
	if (( postcopy )); then
		log "APF $1: post-copy of $(val "$r" transferred_mib) MiB in $(val "$r" postcopy_secs)s," \
			"$(val "$r" postcopy_requests) pages requested by the destination; destination VM's" \
			"async PF events not_present=$(val "$r" not_present) halted=$(val "$r" halted)" \
			"ready=$(val "$r" ready) failed=$(val "$r" failed); source VM's ready=$(val "$r" src_ready)"
		if (( brk )); then
			log "APF $1: link down $(val "$r" down_secs)s (ended $(val "$r" link)):" \
				"L2 CPU-bound work meanwhile $(val "$r" down_cpu_work) units"
			[ "$(val "$r" link)" = recovered ] || {
				log "APF $1: the link was not paused and recovered during post-copy" \
					"(a longer post-copy: a lower --bandwidth)"; bad=1; }
		fi
	else
		log "APF $1: ${dur}s; L1: $(val "$r" swap_reads) reads from the swap disk, async PF events" \
			"not_present=$(val "$r" not_present) halted=$(val "$r" halted) ready=$(val "$r" ready) failed=$(val "$r" failed)"
	fi
	log "APF $1: L2: $(val "$r" hyp) page-ready interrupts (HYP), CPU-bound work $(val "$r" cpu_work)" \
		"units, memory tasks $(val "$r" mem_passes) passes; tasks stuck in the async PF wait: $(val "$r" stuck)"
	if [ "$(layout "$1")" = 2 ]; then
		# A ring takes one interrupt per batch: the stuck check below is
		# what says that every event reached a task.
		if (( $(val "$r" hyp) <= ready )); then
			log "APF $1: ring: $(val "$r" hyp) L2 page-ready interrupts for $ready L1 page-ready events"
		else
			log "APF $1: MISMATCH: more L2 page-ready interrupts ($(val "$r" hyp)) than L1 events ($ready)"
			bad=1
		fi
	elif [ "$ready" = "$(val "$r" hyp)" ]; then
		log "APF $1: tokens matched: L1 page-ready events $ready == L2 page-ready interrupts $(val "$r" hyp)"
	else
		log "APF $1: MISMATCH: L1 page-ready events $ready != L2 page-ready interrupts $(val "$r" hyp)"
		bad=1
	fi
	if [ "$(val "$r" stuck)" != 0 ] || [ "$(val "$r" unreaped)" != 0 ]; then
		log "APF $1: guest tasks left in the async PF wait"; bad=1
	fi
	# A memory task that ended takes its stalls with it: its L2's figures
	# no longer measure the workload.
	died=$(val "$r" died || echo "an unknown number of")
	if [ "$died" != 0 ]; then
		log "APF $1: $died L2 tasks ended before the workload did (out of memory? see the console)"
		bad=1
	fi
}
on=$(result on)
[ -n "$on" ] || die "no result from the L2 with async PF on (see $res/console.log)"
summary on "$on"
[[ $(val "$on" not_present) =~ ^[1-9] ]] ||
	{ log "APF on: no page-not-present event: the L1 never faulted asynchronously"; bad=1; }
# Post-copy too: the rig's QEMU names the ring's CPUID bit, so the
# migratable -cpu host offers it (config/qemu-patches/0002-*).
[ "$(layout on)" = 2 ] || { log "APF on: the L2 did not name a page-ready ring"; bad=1; }
if (( ! postcopy )); then
	# KVM arms the timer only for a 'delay_us': the events that waited it
	# out say that kvm-apf-delay= reached KVM, and none may without it.
	t=$(val "$on" ring_timeouts || true)
	if (( delay == 0 )); then
		[ "$t" = 0 ] || { log "APF on: events waited a delay the L2 never set (ring_timeouts=$t)"; bad=1; }
	else
		log "APF on: the ring's L2 booted with kvm-apf-delay=$delay; $t events waited it out (ring_timeouts)"
		[[ $t =~ ^[1-9] ]] || { log "APF on: no event waited kvm-apf-delay=$delay out: it did not reach KVM"; bad=1; }
	fi
	log "L2 VM exits per page-ready event, ring: $(per_event "$on") ($(val "$on" exits) /" \
		"$(val "$on" ready), $(val "$on" irq_window) interrupt windows)"
	log "L2 in its measured time, ring: $(by_cause "$on")"
fi
if (( compare && ! postcopy )); then
	slot=$(result slot)
	[ -n "$slot" ] || die "no result from the L2 with the page-ready slot (see $res/console.log)"
	summary slot "$slot"
	[ "$(layout slot)" = 0 ] || { log "APF slot: the L2 named a status layout"; bad=1; }
	log "L2 VM exits per page-ready event, slot: $(per_event "$slot") ($(val "$slot" exits) /" \
		"$(val "$slot" ready), $(val "$slot" irq_window) interrupt windows)"
	log "L2 in its measured time, slot: $(by_cause "$slot")"
fi
if (( compare )); then
	off=$(result off)
	[ -n "$off" ] || die "no result from the L2 with async PF off (see $res/console.log)"
	summary off "$off"
	# Per second: a stalled L2 may overrun its measured time.
	ratio=$(awk -v a="$(val "$on" cpu_work)" -v as="$(val "$on" secs)" \
		-v b="$(val "$off" cpu_work)" -v bs="$(val "$off" secs)" \
		'BEGIN { if (b > 0) printf "%.2f", (a / as) / (b / bs); else print "inf" }')
	log "CPU-bound work per second APF on/off: $ratio ($(val "$on" cpu_work) units in $(val "$on" secs)s / $(val "$off" cpu_work) in $(val "$off" secs)s)"
	if (( postcopy )); then
		# Over the seconds the L2 reported from the destination up to
		# the end of post-copy (it may end its workload earlier).
		ratio=$(awk -v a="$(val "$on" pc_cpu_work)" -v as="$(val "$on" pc_work_secs)" \
			-v b="$(val "$off" pc_cpu_work)" -v bs="$(val "$off" pc_work_secs)" \
			'BEGIN { if (b > 0 && as > 0 && bs > 0) printf "%.2f", (a / as) / (b / bs); else print "inf" }')
		log "CPU-bound work per second during post-copy APF on/off: $ratio ($(val "$on" pc_cpu_work) units in" \
			"$(val "$on" pc_work_secs) L2 seconds / $(val "$off" pc_cpu_work) in $(val "$off" pc_work_secs))"
	fi
fi
(( bad == 0 )) || die "the async PF evidence is incomplete (console: $res/console.log)"
log "ok: the L1 faulted the L2's memory in asynchronously and every page-ready event reached the L2"
