#!/usr/bin/env bash
# Fetch Debian's linux-source-7.3 (BASE_VERSION, from experimental through
# the rig's own apt sources), check its checksum, and extract it into
# $TREE as a git repo whose first commit (tag "base") is the pristine base.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if git -C "$TREE" rev-parse -q --verify "refs/tags/$BASE_TAG" >/dev/null 2>&1; then
	exit 0
fi

deb=$BUILD/dl/${BASE_PKG}_${BASE_VER//:/%3a}_all.deb
if [ ! -f "$deb" ]; then
	mkdir -p "$BUILD/dl"
	log "downloading $BASE_PKG $BASE_VER (~166 MB) from Debian experimental"
	if ! (cd "$BUILD/dl" && "$TOP/scripts/archive.sh" download "$BASE_PKG=$BASE_VER" \
			>"$BUILD/dl/base.log" 2>&1); then
		tail -3 "$BUILD/dl/base.log" >&2
		log "the archive no longer serves $BASE_PKG $BASE_VER; it has:"
		"$TOP/scripts/archive.sh" policy "$BASE_PKG" | sed -n 's/^ *\(\*\*\* \)\?\([0-9][^ ]*\) .*/  \2/p' >&2
		die "try one with 'BASE_VER=<version> make ...' (untested), or update BASE_VERSION and config/base.sha256 after porting"
	fi
fi
if [ "$BASE_VER" = "$BASE_PINNED" ]; then
	(cd "$BUILD/dl" && sha256sum --quiet -c "$TOP/config/base.sha256") ||
		die "checksum of $(basename "$deb") differs from config/base.sha256: remove it and retry"
else
	log "note: $BASE_PKG $BASE_VER is not the pinned $BASE_PINNED: no checksum, not what CI proves"
fi

rm -rf "$TREE.tmp"
mkdir -p "$TREE.tmp/deb"
log "extracting $BASE_PKG $BASE_VER"
dpkg-deb -x "$deb" "$TREE.tmp/deb"
tar -C "$TREE.tmp" --strip-components=1 -xf "$TREE.tmp/deb/usr/src/$BASE_PKG.tar.xz"
rm -rf "$TREE.tmp/deb"
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
	git commit -q -m "Linux base: Debian $BASE_PKG $BASE_VER"
git tag "$BASE_TAG"
cd /
rm -rf "$TREE"
mv "$TREE.tmp" "$TREE"
log "base tree ready at $TREE"
