#!/usr/bin/env bash
# "make test-full": the whole x86 KVM selftest suite on the patched
# kernel and on the unpatched base, then every test whose result differs.
# FULL_PART=patched|base runs one side only (the comparison uses the last
# results of the other side, when there are any); FULL_PART=compare runs
# nothing and compares the last results of both.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

part=${FULL_PART:-both}
case $part in both|patched|base|compare) ;; *) die "FULL_PART must be both, patched, base or compare" ;; esac
list=$BUILD/full.list
if { [ "$part" != base ] && [ "$part" != compare ]; } || [ ! -f "$list" ]; then
	"$TOP/scripts/tree.sh"
	"$TOP/scripts/build-selftests.sh"
	(cd "$SELFTESTS" && find . -path ./lib -prune -o -type f -perm -u+x -print |
		sed 's|^\./||' | sort | sed "s/\$/ timeout=${FULL_TIMEOUT:-120}/") >"$list"
fi
log "$(wc -l <"$list") selftests"

rc=0
case $part in both|patched) "$TOP/scripts/test.sh" "$list" || rc=$? ;; esac
if [ "$part" = both ] || [ "$part" = base ]; then
	FLAVOR=base "$TOP/scripts/tree.sh"
	FLAVOR=base "$TOP/scripts/build-selftests.sh"
	# The base lacks this series' tests; run the rest.
	mkdir -p "$BUILD/base-list"
	base_list=$BUILD/base-list/full.list
	while read -r t opts; do
		[ -x "$BUILD/selftests-base/$t" ] && echo "$t $opts"
	done <"$list" >"$base_list"
	FLAVOR=base "$TOP/scripts/test.sh" "$base_list" || true
fi

# "name STATUS" for each selftest of the list, from a run's KTAP.
status() {
	[ -f "$1" ] || return 0
	awk 'NR == FNR { want[$1] = 1; next }
	     /^ok - / && ($3 in want) { s = "PASS"; if (/# SKIP/) s = "SKIP"; if (/# TODO/) s = "XFAIL"; print $3, s }
	     /^not ok - / && ($4 in want) { print $4, "FAIL" }' "$list" "$1" | sort
}
status "$BUILD/results/full/all.ktap" >"$BUILD/results/full.status"
status "$BUILD/results/full-base/all.ktap" >"$BUILD/results/full-base.status"
echo "# tests whose result differs (test: base -> patched; NONE: not run there)"
join -a1 -a2 -e NONE -o 0,2.2,1.2 "$BUILD/results/full.status" "$BUILD/results/full-base.status" |
	awk '$2 != $3 { print "# " $1 ": " $2 " -> " $3; n++ } END { print "# " n + 0 " differ" }'
exit "$rc"
