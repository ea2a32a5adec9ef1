#!/usr/bin/env bash
# KTAP checks of the rig's own guest-side parsing, run on the host with
# the shells the guest has (busybox sh) and Debian's /bin/sh (dash).
# apf_report_work (guest/apf-report) must take the work from a whole
# apf-load report line and refuse every line an L2 kernel message split.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

shells=()
command -v busybox >/dev/null && shells+=("busybox sh")
command -v dash >/dev/null && shells+=(dash)
(( ${#shells[@]} )) || die "neither busybox nor dash"

# LINE|EXPECTED: EXPECTED is the work, or "-" for a refused line.
cases=(
	"apf-load: t=1s cpu_work/s=100 mem_MiB/s=1.0 hyp/s=0 hyp=0|100"
	"apf-load: t=2s cpu_work/s=0 mem_MiB/s=481.7 hyp/s=3 hyp=9|0"
	"apf-load: t=3s cpu_work/s|-"
	"apf-load: t=4s cpu_work/s=|-"
	"apf-load: t=5s cpu_work/s=5clocksource: Marking clocksource 'tsc' as unstable|-"
	"apf-load: t=6s cpu_work/s= mem_MiB/s=1.0|-"
	"apf-load: t=7s cpu_work/s=12 memclocksource: Watchdog|-"
	"=271 mem_MiB/s=481.7 hyp/s=0 hyp=0|-"
	"apf-load: done secs=60 cpu_work=12733 mem_pages=1|-"
)

echo "KTAP version 1"
echo "1..${#shells[@]}"
n=0
for sh in "${shells[@]}"; do
	n=$((n + 1))
	bad=()
	for c in "${cases[@]}"; do
		line=${c%|*} want=${c##*|}
		# shellcheck disable=SC2016 # expanded by the guest shell
		got=$($sh -c '. "$1"; apf_report_work "$2" || echo -' _ \
			"$TOP/guest/apf-report" "$line" 2>&1) || got="(shell failed: $got)"
		[ "$got" = "$want" ] || bad+=("'$line': got '$got', want '$want'")
	done
	for b in ${bad[@]+"${bad[@]}"}; do printf '# %s\n' "$b"; done
	name="rig: apf_report_work under $sh: work of ${#cases[@]} console lines, split ones refused"
	if (( ${#bad[@]} )); then echo "not ok $n $name"; else echo "ok $n $name"; fi
done
