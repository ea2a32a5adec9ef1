#!/usr/bin/env bash
# "make check-bisect": every patch of the series builds on its own (kernel
# and KVM selftests, no new warnings) and passes the series' own selftests
# that exist at that commit.  Checks out each commit of the tree in turn,
# builds incrementally with ccache, boots the VM once per commit with the
# lines of tests/test.list whose test is one of the series' own
# (x86/async_pf_*, x86/pv_eoi_test, x86/irq_behind_exception_test, and
# guest:kunit, whose source is arch/x86/kernel/kvm_apf_kunit.c) and
# whose source the commit has (their args and timeouts kept;
# $BUILD/bisect.list), and returns to the tip.  The VM run is skipped at a commit without such a
# test, and when neither the kernel nor the selftests changed since the
# last commit that ran them and the tests are the same (that commit's
# result stands).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/tree.sh"
cd "$TREE"
git diff --quiet HEAD || die "uncommitted changes in $TREE"
tip=$(git rev-parse HEAD)
trap 'git -C "$TREE" checkout -q master' EXIT
# BISECT_FROM=N starts at the series' patch N (the patches before it are
# not checked: for a series changed only from patch N on).
from=${BISECT_FROM:-1}
[[ $from =~ ^[1-9][0-9]*$ ]] || die "BISECT_FROM takes a patch number (got '$from')"
mapfile -t commits < <(git rev-list --reverse "$BASE_TAG"..master | tail -n +"$from")
(( ${#commits[@]} )) || die "BISECT_FROM=$from: the series has no such patch"
# The series' selftests and KUnit tests in tests/test.list, with their words.
mapfile -t series_tests < <(grep -v '^[[:space:]]*\(#\|$\)' "$TOP/tests/test.list" |
	awk '$1 ~ /^x86\/(async_pf_|pv_eoi_test|irq_behind_exception_test)/ || $1 == "guest:kunit"')
(( ${#series_tests[@]} )) || die "none of the series' tests in tests/test.list"
"$TOP/scripts/build-qemu.sh"
blist=$BUILD/bisect.list
bres=$BUILD/results/bisect
tlog=$BUILD/bisect-test.log
: >"$tlog"

echo "KTAP version 1"
echo "1..${#commits[@]}"
(( from == 1 )) || echo "# BISECT_FROM=$from: patches 1-$((from - 1)) not checked"
all_start=$SECONDS
n=0 bad=0
last_run="" last_list="" last_result="" last_ok=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	start=$SECONDS
	git checkout -q "$c"
	subject=$(git log -1 --format=%s "$c")
	if ! { "$TOP/scripts/build-kernel.sh" >/dev/null 2>&1 &&
	       ! grep -E ': warning:' "$BUILD/kernel-build.log" &&
	       "$TOP/scripts/build-selftests.sh" >/dev/null 2>&1 &&
	       ! grep -E ': warning:' "$BUILD/selftests-build.log"; }; then
		echo "not ok $n $subject (does not build; logs: $BUILD/kernel-build.log, $BUILD/selftests-build.log) # $((SECONDS - start))s"
		bad=$((bad + 1))
		continue
	fi
	for line in "${series_tests[@]}"; do
		t=${line%% *}
		case $t in
		guest:kunit) src=arch/x86/kernel/kvm_apf_kunit.c ;;
		*) src=tools/testing/selftests/kvm/$t.c ;;
		esac
		if [ -f "$src" ]; then echo "$line"; fi
	done >"$blist"
	ntests=$(wc -l <"$blist")
	# What the VM would run is what the last run ran: the same tests, and
	# no source of the kernel or of the selftests (tools/, uAPI headers)
	# changed; only Documentation/ and MAINTAINERS are no input of either.
	if (( ntests == 0 )); then
		ok=1 result="builds; no series test at this commit"
	elif [ -n "$last_run" ] && [ "$(cat "$blist")" = "$last_list" ] &&
	     git diff --quiet "$last_run" "$c" -- . ':(exclude)Documentation' ':(exclude)MAINTAINERS'; then
		ok=$last_ok result="builds; tests: same as previous commit: $last_result"
	else
		echo "=== $n $subject" >>"$tlog"
		# The kernel and selftests are those just built (NO_BUILD=1: no
		# series checks, no tree sync, no rebuild).
		NO_BUILD=1 "$TOP/scripts/test.sh" "$blist" >>"$tlog" 2>&1 || true
		summary=$(cat "$bres/summary" 2>/dev/null || echo "did not run, see $tlog")
		ok=0
		grep -qE '^[1-9][0-9]* passed, 0 failed' <<<"$summary" && ok=1
		result="$summary ($ntests series tests and the boot check)"
		last_run=$c last_list=$(cat "$blist") last_result=$result last_ok=$ok
		if (( ! ok )); then
			rm -rf "$bres-$n"; cp -r "$bres" "$bres-$n" 2>/dev/null || true
			grep -E '^not ok ' "$bres/all.ktap" 2>/dev/null | sed 's/^/# /' || true
			result="$result; results: $bres-$n, log: $tlog"
		fi
		result="builds; tests: $result"
	fi
	if (( ok )); then
		echo "ok $n $subject ($result) # $((SECONDS - start))s"
	else
		echo "not ok $n $subject ($result) # $((SECONDS - start))s"
		bad=$((bad + 1))
	fi
done
git checkout -q master
[ "$(git rev-parse HEAD)" = "$tip" ] || die "tree did not return to its tip"
"$TOP/scripts/build-kernel.sh" >/dev/null
"$TOP/scripts/build-selftests.sh" >/dev/null
secs=$((SECONDS - all_start))
echo "# total time: $((secs / 60)) min $((secs % 60)) s for ${#commits[@]} commits"
echo "$((n - bad)) passed, $bad failed"
(( bad == 0 ))
