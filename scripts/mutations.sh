#!/usr/bin/env bash
# "make test-mutations": prove that the tests fail when the behaviour they
# name breaks.  For each line of tests/mutations.list, change the patched
# tree's working copy, rebuild, run the named test, expect it to fail, and
# restore the file.  KTAP out; the tree must have no uncommitted changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=${1:-$TOP/tests/mutations.list}
"$TOP/scripts/tree.sh"
cd "$TREE"
git diff --quiet HEAD -- arch virt include ||
	die "uncommitted kernel changes in $TREE; commit or stash them first"
restore() { git -C "$TREE" checkout -q -- arch virt include; }
trap restore EXIT

mapfile -t lines < <(grep -v '^[[:space:]]*\(#\|$\)' "$list")
echo "KTAP version 1"
echo "1..${#lines[@]}"
n=0 bad=0
for line in "${lines[@]}"; do
	n=$((n + 1))
	IFS='|' read -r file expr test <<<"$line"
	restore
	before=$(sha1sum "$file")
	sed -i "$expr" "$file"
	if [ "$(sha1sum "$file")" = "$before" ]; then
		echo "not ok $n $test # mutation did not apply to $file: $expr"; bad=$((bad + 1)); continue
	fi
	echo "$test timeout=600" >"$BUILD/mutation.list"
	out=$("$TOP/scripts/test.sh" "$BUILD/mutation.list" 2>&1 | tail -n 1) || true
	if grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' <<<"$out" &&
	   grep -q '^not ok' "$BUILD/results/mutation/vm.ktap"; then
		echo "ok $n $test fails when: $file: $expr"
		grep '^# ' "$BUILD/results/mutation/vm.ktap" | grep -iE 'assert|fail|livelock|FAIL' | head -n 3
	else
		echo "not ok $n $test still passes with $file: $expr ($out)"; bad=$((bad + 1))
	fi
done
restore
"$TOP/scripts/build-kernel.sh" >/dev/null
echo "$((n - bad)) passed, $bad failed"
(( bad == 0 ))
