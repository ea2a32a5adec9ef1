#!/usr/bin/env bash
# Make $TREE = base + series/ (FLAVOR=base: the base alone).  Re-applies
# when series/ changed, unless the tree holds commits that were never
# exported (work in progress).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/base.sh"
# FLAVOR=base: the pristine base, a worktree of $BUILD/linux at the tag.
if [ "$FLAVOR" = base ]; then
	[ -d "$TREE" ] || git -C "$BUILD/linux" worktree add -q --detach "$TREE" "$BASE_TAG"
	exit 0
fi
cd "$TREE"
git config user.email >/dev/null || git config user.email "rig@localhost"
git config user.name >/dev/null || git config user.name "kvm-apf rig"

mapfile -t patches < <(find "$SERIES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
	! -name '0000-cover-letter.patch' | sort)
want=$(cat "${patches[@]}" /dev/null | sha1sum | cut -d' ' -f1)
state=.git/rig-applied    # "<series hash> <HEAD after applying>"
head=$(git rev-parse HEAD)

if [ -f "$state" ]; then
	read -r had_series had_head <"$state"
	[ "$had_series" = "$want" ] && [ "$had_head" = "$head" ] && exit 0
	if [ "$had_head" != "$head" ]; then
		log "tree has commits not exported to series/ (HEAD moved); keeping it."
		log "run 'make export' to save them, or 'make tree FORCE=1' to discard."
		[ -n "${FORCE:-}" ] || exit 0
	fi
elif [ "$head" != "$(git rev-parse "$BASE_TAG")" ] && [ -z "${FORCE:-}" ]; then
	die "tree HEAD is not the base and was not made by the rig; FORCE=1 to reset"
fi

[ -z "$(git status --porcelain --untracked-files=no)" ] || [ -n "${FORCE:-}" ] ||
	die "uncommitted changes in $TREE; commit or FORCE=1 to discard"
git am --abort >/dev/null 2>&1 || true
git checkout -q -f -B master "$BASE_TAG"
for p in "${patches[@]}"; do
	if ! git am -q --committer-date-is-author-date "$p" >/dev/null 2>&1; then
		git am --abort >/dev/null 2>&1 || true
		die "patch does not apply: $(basename "$p") (base $(cat "$TOP/BASE_VERSION"))"
	fi
done
echo "$want $(git rev-parse HEAD)" >"$state"
log "tree at base + ${#patches[@]} patches"
