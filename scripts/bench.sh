#!/usr/bin/env bash
# "make bench": the async PF benchmark (x86/async_pf_bench) in the
# patched L1: a guest scheduler's work rate with APF on and off, for a few
# host fault-in delays.  Writes build/results/bench/{bench.csv,bench.txt,
# bench.gp,bench.png}.  BENCH_ARGS overrides the benchmark's arguments.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

args=${BENCH_ARGS:--d 10,20,50,100 -t 5}
res=$BUILD/results/bench
list=$BUILD/bench.list
prefix='apf-bench-csv: '
rm -rf "$res"; mkdir -p "$res"

"$TOP/scripts/deps.sh"
command -v gnuplot >/dev/null || die "no gnuplot (install gnuplot-nox)"
[ "$FLAVOR" != base ] || die "the benchmark is part of the series: no FLAVOR=base"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh"
"$TOP/scripts/build-selftests.sh"
"$TOP/scripts/build-qemu.sh"
echo "x86/async_pf_bench $args timeout=${BENCH_TIMEOUT:-600}" >"$list"
"$TOP/scripts/mkinitramfs.sh" "$list" "$BUILD/initramfs-bench.cpio"

start=$SECONDS
brc=0
"$TOP/scripts/boot.sh" --initrd "$BUILD/initramfs-bench.cpio" --mode test \
	--timeout "${BOOT_TIMEOUT:-900}" --console "$res/console.log" \
	--results "$res/vm.ktap.raw" || brc=$?
tr -d '\r' <"$res/vm.ktap.raw" >"$res/vm.ktap"
log "VM ran $((SECONDS - start))s (QEMU rc=$brc); console: $res/console.log"

# The runner copies the benchmark's output to the console, "  | " first.
tr -d '\r' <"$res/console.log" | sed -n 's/^  | //p' >"$res/bench.out"
sed -n "s/^$prefix//p" "$res/bench.out" >"$res/bench.csv"
grep -v "^$prefix" "$res/bench.out" >"$res/bench.txt" || true
if ! grep -q '^ok ' "$res/vm.ktap" || [ "$(wc -l <"$res/bench.csv")" -lt 2 ]; then
	grep '^not ok\|^# ' "$res/vm.ktap" >&2 || true
	tail -n 30 "$res/console.log" >&2
	die "benchmark did not finish (QEMU rc=$brc), see $res/console.log"
fi
cat "$res/bench.txt"

# Plot: work rate (with the on/off ratio), page ready latency and VM exits
# per delayed page, against the delay.  Columns are looked up by name.
col() { head -n 1 "$res/bench.csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
base=$(awk -F, -v c="$(col work_per_s)" '$2 == "none" { print $c }' "$res/bench.csv")
items=$(awk -F, -v c="$(col items)" 'NR == 2 { print $c }' "$res/bench.csv")
# Room for the key above the highest rate.
ymax=$(awk -F, -v c="$(col work_per_s)" 'NR > 1 && $c > m { m = $c } END { print m * 1.35 }' "$res/bench.csv")
on="'< grep ,on, $res/bench.csv'" off="'< grep ,off, $res/bench.csv'"
cat >"$res/bench.gp" <<EOF
set datafile separator ","
set terminal pngcairo size 1200,400 font ",9"
set output "$res/bench.png"
set multiplot layout 1,3 title "KVM async PF benchmark: guest scheduler, $items work items ($args)"
set logscale x
set offsets graph 0.08, graph 0.08, graph 0.1, 0
set xlabel "host fault-in delay (ms)"
set grid
set key top right
set yrange [0:$ymax]
set title "work done (chunks/s), ratio APF on/off"
plot $on using 1:$(col work_per_s) with linespoints pt 7 title "APF on", \
     $off using 1:$(col work_per_s) with linespoints pt 5 title "APF off (halt)", \
     $on using 1:$(col work_per_s):(sprintf("%.1fx", column($(col ratio)))) \
        with labels offset 0,1 notitle, \
     ${base:-0} with lines dt 2 title "no slow memory"
set title "VM exits per delayed page"
set yrange [0:*]
plot $on using 1:$(col exits_per_page) with linespoints pt 7 title "APF on", \
     $off using 1:$(col exits_per_page) with linespoints pt 5 title "APF off"
set title "page ready latency (ms): p50, p99"
set logscale y
set yrange [*:*]
set autoscale yfix
set key top left
plot $on using 1:(column($(col lat_p50_us))/1000) with linespoints pt 7 title "on p50", \
     $on using 1:(column($(col lat_p99_us))/1000) with linespoints pt 6 title "on p99", \
     $off using 1:(column($(col lat_p50_us))/1000) with linespoints pt 5 title "off p50", \
     $off using 1:(column($(col lat_p99_us))/1000) with linespoints pt 4 title "off p99", \
     x with lines dt 2 title "delay"
unset multiplot
EOF
gnuplot "$res/bench.gp" || die "gnuplot failed on $res/bench.gp"
log "raw numbers: $res/bench.csv; plot: $res/bench.png; table: $res/bench.txt"
