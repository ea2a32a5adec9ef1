#!/usr/bin/env bash
# KTAP checks of series/: it applies to the pristine base, every patch is
# checkpatch --strict clean, and the cover letter counts the series.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/base.sh"
mapfile -t patches < <(find "$SERIES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
	! -name '0000-cover-letter.patch' | sort)
cover=$SERIES/0000-cover-letter.patch

echo "KTAP version 1"
echo "1..$(( ${#patches[@]} + 2 ))"
n=0
result() {	# result <ok?> <name> [diagnostics...]
	local ok=$1 name=$2; shift 2
	n=$((n + 1))
	for d in "$@"; do printf '# %s\n' "$d"; done
	if [ "$ok" = 1 ]; then echo "ok $n $name"; else echo "not ok $n $name"; fi
}

# Apply onto base in a scratch index: no checkout, so it takes seconds.
idx=$(mktemp)
trap 'rm -f "$idx"' EXIT
export GIT_INDEX_FILE=$idx
git -C "$TREE" read-tree "$BASE_TAG"
bad=""
for p in "${patches[@]}"; do
	if ! git -C "$TREE" apply --cached "$p" 2>/dev/null; then
		bad=$(basename "$p"); break
	fi
done
unset GIT_INDEX_FILE
if [ -z "$bad" ]; then
	result 1 "series: ${#patches[@]} patches apply to base $(cat "$TOP/BASE_VERSION")"
else
	result 0 "series: ${#patches[@]} patches apply to base $(cat "$TOP/BASE_VERSION")" \
		"first patch that does not apply: $bad"
fi

if [ ${#patches[@]} -eq 0 ]; then
	result 1 "series: empty series needs no cover letter"
elif [ -f "$cover" ] && grep -qE "^Subject: \\[PATCH 0+/${#patches[@]}\\]" "$cover" &&
	! grep -q 'BLURB HERE' "$cover"; then
	result 1 "series: cover letter present, written, and counts ${#patches[@]} patches"
else
	result 0 "series: cover letter present, written, and counts ${#patches[@]} patches"
fi

# An exception is accepted only when the commit message names it:
# "checkpatch: TYPE: why", one line per ignored type.
for p in "${patches[@]}"; do
	ignore=$(sed -n '/^---$/q; s/^checkpatch: \([A-Z_]*\):.*/\1/p' "$p" | paste -sd, -)
	# Debian python3-ply for spdxcheck.py, whatever python3 comes first in PATH.
	out=$(cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --no-summary --terse \
		--show-types ${ignore:+--ignore "$ignore"} "$p" 2>&1) || true
	errs=$(grep -c ': ERROR:' <<<"$out" || true)
	warns=$(grep -c ': WARNING:' <<<"$out" || true)
	checks=$(grep -c ': CHECK:' <<<"$out" || true)
	mapfile -t diag <<<"$out"
	[ -n "$out" ] || diag=()
	name="checkpatch --strict $(basename "$p"): $errs errors, $warns warnings, $checks checks${ignore:+ (explained: $ignore)}"
	if (( errs + warns + checks == 0 )); then result 1 "$name"; else result 0 "$name" "${diag[@]}"; fi
done
