#!/usr/bin/env bash
# Extract the pristine Debian linux-source-6.12 into $TREE as a git repo
# whose first commit (tag "base") is the untouched base.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$TREE" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null 2>&1; then
	exit 0
fi

if [ ! -f "$BASE_TARBALL" ]; then
	log "installing $BASE_PKG"
	"$TOP/scripts/deps.sh" "$BASE_PKG"
fi
ver=$(dpkg-query -W -f='${Version}' "$BASE_PKG")
verified=$(cat "$TOP/BASE_VERSION")
[ "$ver" = "$verified" ] ||
	log "note: $BASE_PKG $ver installed; the series was verified on $verified"

rm -rf "$TREE.tmp"
mkdir -p "$TREE.tmp"
log "extracting $BASE_TARBALL ($ver)"
tar -C "$TREE.tmp" --strip-components=1 -xf "$BASE_TARBALL"
cd "$TREE.tmp"
git init -q -b master
export GIT_AUTHOR_NAME="kvm-apf rig" GIT_AUTHOR_EMAIL="rig@localhost"
export GIT_COMMITTER_NAME="kvm-apf rig" GIT_COMMITTER_EMAIL="rig@localhost"
git config core.abbrev 12
# Debian appends "/*" to .gitignore (its packaging repo ignores the top
# level), so everything must be added with -f, here and for new files.
git add -A -f
# A fixed identity and date give the same base commit id on every machine,
# so exported patches (base-commit, index lines) do not churn.
GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git commit -q -m "Linux base: Debian $BASE_PKG $ver"
git tag "$BASE_TAG"
cd /
rm -rf "$TREE"
mv "$TREE.tmp" "$TREE"
log "base tree ready at $TREE"
