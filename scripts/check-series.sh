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
echo "1..$(( ${#patches[@]} + 4 ))"
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
# Each line of tests/mutations.list must still change its file in the
# patched tree: a later patch that rewrites the code leaves a line that
# breaks nothing, which make test-mutations finds only when it runs it.
stale=()
while [ -z "$bad" ] && IFS='|' read -r file expr _; do
	case $file in ''|'#'*) continue ;; esac
	if ! old=$(git -C "$TREE" show ":$file" 2>/dev/null); then
		stale+=("not in the patched tree: $file"); continue
	fi
	new=$(sed "$expr" <<<"$old" 2>&1) || { stale+=("sed failed on $file: $expr"); continue; }
	[ "$new" != "$old" ] || stale+=("changes nothing in $file: $expr")
done <"$TOP/tests/mutations.list"
unset GIT_INDEX_FILE
if [ -z "$bad" ]; then
	result 1 "series: ${#patches[@]} patches apply to base $(cat "$TOP/BASE_VERSION")"
else
	result 0 "series: ${#patches[@]} patches apply to base $(cat "$TOP/BASE_VERSION")" \
		"first patch that does not apply: $bad"
fi

mut="series: every line of tests/mutations.list changes its file in the patched tree"
if [ -n "$bad" ]; then
	result 0 "$mut" "the series does not apply"
else
	result "$(( ${#stale[@]} == 0 ))" "$mut" ${stale[@]+"${stale[@]}"}
fi

if [ ${#patches[@]} -eq 0 ]; then
	result 1 "series: empty series needs no cover letter"
elif [ -f "$cover" ] && grep -qE "^Subject: \\[PATCH 0+/${#patches[@]}\\]" "$cover" &&
	! grep -q 'BLURB HERE' "$cover"; then
	result 1 "series: cover letter present, written, and counts ${#patches[@]} patches"
else
	result 0 "series: cover letter present, written, and counts ${#patches[@]} patches"
fi

# make export recovers the text from the cover letter on a machine whose
# tree has none: the text must end where the shortlog begins, at a line
# "<author> (<n>):" after a blank line, before the first subject.
sl="series: make export recovers the cover letter's whole text (up to the shortlog)"
if [ ${#patches[@]} -eq 0 ] || [ ! -f "$cover" ]; then
	result 1 "$sl"
else
	at=$(cover_shortlog_line "$cover")
	if [ -n "$at" ] && [ -z "$(sed -n "$((at - 1))p" "$cover")" ] &&
		sed -n "$((at + 1))p" "$cover" | grep -qE '^  [^ ]'; then
		result 1 "$sl"
	else
		result 0 "$sl" "the text would end at line ${at:-(none)}: $(sed -n "${at:-1}p" "$cover")"
	fi
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
