#!/usr/bin/env bash
# "make bench": the async PF benchmark (x86/async_pf_bench) in the
# patched L1: a guest scheduler's work rate with APF off, with page ready in
# the token slot, in the ring, and in the ring with a delay_us ("lazy"), for
# a few host fault-in delays.  Writes build/results/bench/{bench.csv,
# bench.txt,bench.gp,bench.png}.  BENCH_ARGS overrides the benchmark's
# arguments.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# A thread per vCPU for the L1 (boot.sh's default is one for all): the
# benchmark measures how the host's page-ready work (the userfault thread,
# the async PF worker) overlaps the vCPU, and with one thread the L1's two
# CPUs take turns on one host CPU, so that work takes the vCPU's time as on
# no host with a CPU to spare.  Its selftest VM has no L2 Linux guest, where
# the multi-threaded emulation's races struck.  TCG_THREAD=single to compare.
export TCG_THREAD=${TCG_THREAD:-multi}
# Rounds of each configuration, whose medians the tables and the plot give:
# between two runs of one stack rates moved by up to 40% and the ring's
# efficiency at one delay by 0.18 (README, "Benchmark").
rounds=${BENCH_ROUNDS:-3}
args=${BENCH_ARGS:--d 10,20,50,100 -t 5 -r $rounds}
# Bursts: 32 items with ~1 ms of work each all park within a delay, and the
# first fault due takes every queued one along.  BENCH_BURST_ARGS= skips it.
burst_args=${BENCH_BURST_ARGS--b -n 32 -c 1 -d 20,100 -t 5 -r $rounds}
# Single events again with the vCPU on a CPU of its own, the userfault
# threads and the fault-in work on the other (-p): what KVM costs, without
# the exits that the benchmark's own host threads cause when the scheduler
# puts them on the vCPU's CPU.  BENCH_PIN_ARGS= skips it.
pin_args=${BENCH_PIN_ARGS--p -d 10,20,50,100 -t 5 -r $rounds}
res=$BUILD/results/bench
list=$BUILD/bench.list
prefix='apf-bench-csv: '
mprefix='apf-bench-median: '
rm -rf "$res"; mkdir -p "$res"

"$TOP/scripts/deps.sh"
command -v gnuplot >/dev/null || die "no gnuplot (install gnuplot-nox)"
[ "$FLAVOR" != base ] || die "the benchmark is part of the series: no FLAVOR=base"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-selftests.sh"
"$TOP/scripts/build-qemu.sh"
# A configuration takes 5-10 s (5 s measured, VM setup, the parked touches'
# completion); a round of the single events is 20 of them.
timeout=${BENCH_TIMEOUT:-$((rounds * 300 + 300))}
{
	echo "x86/async_pf_bench $args timeout=$timeout"
	[ -z "$burst_args" ] || echo "x86/async_pf_bench $burst_args timeout=$timeout"
	[ -z "$pin_args" ] || echo "x86/async_pf_bench $pin_args timeout=$timeout"
} >"$list"
"$TOP/scripts/mkinitramfs.sh" "$list" "$BUILD/initramfs-bench.cpio"

start=$SECONDS
brc=0
"$TOP/scripts/boot.sh" --initrd "$BUILD/initramfs-bench.cpio" --mode test \
	--timeout "${BOOT_TIMEOUT:-$((rounds * 700 + 600))}" --console "$res/console.log" \
	--results "$res/vm.ktap.raw" || brc=$?
tr -d '\r' <"$res/vm.ktap.raw" >"$res/vm.ktap"
log "VM ran $((SECONDS - start))s (QEMU rc=$brc); console: $res/console.log"

# The runner copies the benchmark's output to the console, "  | " first.
tr -d '\r' <"$res/console.log" | sed -n 's/^  | //p' >"$res/bench.out"
# Each run prints its CSV header first, and its medians' header before
# them; the runs come in the list's order.
runs=bench
[ -z "$burst_args" ] || runs="$runs bench-burst"
[ -z "$pin_args" ] || runs="$runs bench-pinned"
split_csv() {	# prefix suffix
	sed -n "s/^$1//p" "$res/bench.out" |
		awk -v runs="$runs" -v dir="$res" -v sfx="$2" '
			BEGIN { split(runs, r, " ") }
			FNR == 1 { h = $0 } $0 == h { n++ }
			{ print > (dir "/" r[n] sfx ".csv") }'
}
split_csv "$prefix" ""
split_csv "$mprefix" -median
grep -v "^$prefix\|^$mprefix" "$res/bench.out" >"$res/bench.txt" || true
if grep -q '^not ok' "$res/vm.ktap" || ! grep -q '^ok ' "$res/vm.ktap" ||
	[ "$(wc -l <"$res/bench.csv")" -lt 2 ] ||
	[ "$(wc -l <"$res/bench-median.csv" 2>/dev/null || echo 0)" -lt 2 ]; then
	grep '^not ok\|^# ' "$res/vm.ktap" >&2 || true
	tail -n 30 "$res/console.log" >&2
	die "benchmark did not finish (QEMU rc=$brc), see $res/console.log"
fi
cat "$res/bench.txt"

# Plot the medians over the rounds against the delay: work rate (with the
# ratio to APF off), efficiency against the limit min(1, N*C/(C+D)), VM
# exits per delayed page, and page-ready latency.  Columns are looked up by
# name.
med=$res/bench-median.csv
col() { head -n 1 "${2:-$med}" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
base=$(awk -F, -v c="$(col work_per_s)" '$2 == "none" { print $c; exit }' "$med")
items=$(awk -F, -v c="$(col items "$res/bench.csv")" 'NR == 2 { print $c }' "$res/bench.csv")
# Room for the key above the highest rate.
ymax=$(awk -F, -v c="$(col work_per_s)" 'NR > 1 && $c > m { m = $c } END { print m * 1.35 }' "$med")
slot="'< grep ,slot, $med'" ring="'< grep ,ring, $med'"
lazy="'< grep ,lazy, $med'"
off="'< grep ,off, $med'"
cat >"$res/bench.gp" <<EOF
set datafile separator ","
set terminal pngcairo size 1600,400 font ",9"
set output "$res/bench.png"
set multiplot layout 1,4 title "KVM async PF benchmark: guest scheduler, $items work items ($args; medians)"
set logscale x
set offsets graph 0.08, graph 0.08, graph 0.1, 0
set xlabel "host fault-in delay (ms)"
set grid
set key top right
set yrange [0:$ymax]
set title "work done (chunks/s), ratio to APF off"
plot $lazy using 1:$(col work_per_s) with linespoints pt 11 title "lazy", \
     $ring using 1:$(col work_per_s) with linespoints pt 9 title "ring", \
     $slot using 1:$(col work_per_s) with linespoints pt 7 title "slot", \
     $off using 1:$(col work_per_s) with linespoints pt 5 title "APF off (halt)", \
     $ring using 1:$(col work_per_s):(sprintf("%.1fx", column($(col ratio)))) \
        with labels offset 0,1 notitle, \
     ${base:-0} with lines dt 2 title "no slow memory"
set title "efficiency: work rate / (no-slow-memory rate x limit)"
set yrange [0:1.2]
plot $lazy using 1:$(col efficiency) with linespoints pt 11 title "lazy", \
     $ring using 1:$(col efficiency) with linespoints pt 9 title "ring", \
     $slot using 1:$(col efficiency) with linespoints pt 7 title "slot", \
     $off using 1:$(col efficiency) with linespoints pt 5 title "APF off", \
     0.85 with lines dt 2 title "0.85"
set title "VM exits per delayed page"
set yrange [0:*]
plot $lazy using 1:$(col exits_per_page) with linespoints pt 11 title "lazy", \
     $ring using 1:$(col exits_per_page) with linespoints pt 9 title "ring", \
     $slot using 1:$(col exits_per_page) with linespoints pt 7 title "slot", \
     $off using 1:$(col exits_per_page) with linespoints pt 5 title "APF off"
set title "page ready latency (ms): p50"
set logscale y
set yrange [*:*]
set autoscale yfix
set key top left
plot $lazy using 1:(column($(col lat_p50_us))/1000) with linespoints pt 11 title "lazy", \
     $ring using 1:(column($(col lat_p50_us))/1000) with linespoints pt 9 title "ring", \
     $slot using 1:(column($(col lat_p50_us))/1000) with linespoints pt 7 title "slot", \
     $off using 1:(column($(col lat_p50_us))/1000) with linespoints pt 5 title "off", \
     x with lines dt 2 title "delay"
unset multiplot
EOF
gnuplot "$res/bench.gp" || die "gnuplot failed on $res/bench.gp"
log "raw numbers: $res/bench.csv; medians: $med; plot: $res/bench.png; table: $res/bench.txt"
