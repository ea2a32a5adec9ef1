#!/usr/bin/env bash
# "make check-bisect": every patch of the series builds on its own (kernel
# and KVM selftests, no new warnings).  Checks out each commit of the tree
# in turn, builds incrementally with ccache, and returns to the tip.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/tree.sh"
cd "$TREE"
git diff --quiet HEAD || die "uncommitted changes in $TREE"
tip=$(git rev-parse HEAD)
trap 'git -C "$TREE" checkout -q master' EXIT
mapfile -t commits < <(git rev-list --reverse "$BASE_TAG"..master)
echo "KTAP version 1"
echo "1..${#commits[@]}"
n=0 bad=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	git checkout -q "$c"
	subject=$(git log -1 --format=%s "$c")
	if "$TOP/scripts/build-kernel.sh" >/dev/null 2>&1 &&
	   ! grep -E ': warning:' "$BUILD/kernel-build.log" &&
	   "$TOP/scripts/build-selftests.sh" >/dev/null 2>&1 &&
	   ! grep -E ': warning:' "$BUILD/selftests-build.log"; then
		echo "ok $n builds: $subject"
	else
		echo "not ok $n builds: $subject (logs: $BUILD/kernel-build.log, $BUILD/selftests-build.log)"
		bad=$((bad + 1))
	fi
done
git checkout -q master
[ "$(git rev-parse HEAD)" = "$tip" ] || die "tree did not return to its tip"
"$TOP/scripts/build-kernel.sh" >/dev/null
"$TOP/scripts/build-selftests.sh" >/dev/null
echo "$((n - bad)) passed, $bad failed"
(( bad == 0 ))
