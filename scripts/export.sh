#!/usr/bin/env bash
# Export the tree's commits above base to series/ as git format-patch
# output.  The cover letter's text survives as the branch description;
# files are rewritten only when their content changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$TREE"
# make check-bisect checks out each commit in turn: exporting then would
# write a truncated series.
[ "$(git symbolic-ref -q --short HEAD)" = master ] ||
	die "$TREE is not on branch master (a check-bisect running?); not exporting"
git diff --quiet HEAD || log "note: uncommitted changes in $TREE are not exported"
n=$(git rev-list --count "$BASE_TAG"..HEAD)
(( n > 0 )) || die "no commits above base"

cover=$SERIES/0000-cover-letter.patch
if [ -f "$cover" ] && [ -z "$(git config branch.master.description)" ]; then
	# Subject line (without the [PATCH 0/N] tag), then the text up to the
	# shortlog that format-patch appends.
	at=$(cover_shortlog_line "$cover")
	[ -n "$at" ] || die "no shortlog in $cover: its text would be lost"
	awk -v at="$at" 'NR >= at { exit }
	     /^Subject:/ { sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next }
	     insubj && /^ / { subj = subj $0; next }
	     insubj { insubj = 0; print subj; print "" }
	     /^$/ && !body { body = 1; next }
	     body { print }' "$cover" >.git/rig-description
	git config branch.master.description "$(cat .git/rig-description)"
fi
[ -n "$(git config branch.master.description)" ] ||
	git config branch.master.description "$(printf 'KVM: x86: async PF series\n\n*** BLURB HERE ***')"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git format-patch -q -o "$tmp" --zero-commit --no-signature --base="$BASE_TAG" \
	--cover-letter --cover-from-description=subject "$BASE_TAG"..HEAD

mkdir -p "$SERIES"
changed=0
for f in "$tmp"/*.patch; do
	dst=$SERIES/$(basename "$f")
	# The cover letter's Date: is "now"; ignore it when comparing.
	if [ -f "$dst" ] && diff -q <(grep -v '^Date: ' "$f") <(grep -v '^Date: ' "$dst") >/dev/null; then
		continue
	fi
	cp "$f" "$dst"
	changed=$((changed + 1))
done
for f in "$SERIES"/*.patch; do
	[ -e "$tmp/$(basename "$f")" ] || { rm -f "$f"; changed=$((changed + 1)); }
done
series_hash=$(find "$SERIES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
	! -name '0000-cover-letter.patch' | sort | xargs -r cat | sha1sum | cut -d' ' -f1)
echo "$series_hash $(git rev-parse HEAD)" >.git/rig-applied
log "exported $n patches + cover letter to series/ ($changed files changed)"
