#!/usr/bin/env bash
# apt-get against the rig's own sources list (Debian experimental for the
# base kernel, trixie for QEMU's source and meson), with its own lists and
# cache under build/apt: the system's apt configuration is never touched.
#   archive.sh update | download PKG=VER... | source PKG=VER | policy PKG
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$BUILD/apt
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
key=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$key" ] || die "$key missing: install debian-archive-keyring"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cat >"$dir/sources.list.new" <<EOT
deb [signed-by=$key] $mirror experimental main
deb [signed-by=$key] $mirror trixie main
deb-src [signed-by=$key] $mirror trixie main
deb-src [signed-by=$key] $mirror trixie-updates main
EOT
mv "$dir/sources.list.new" "$dir/sources.list"
opts=(-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache"
      -o APT::Sandbox::User=root -o Debug::NoLocking=1 -q)

# Lists older than a day are refreshed; a pinned version that is gone
# shows up as a failed download, which the callers explain.
fresh() { [ -n "$(find "$dir/lists" -maxdepth 1 -name '*_Release' -mmin -1440 2>/dev/null)" ]; }
update() { fresh || apt-get "${opts[@]}" update >"$dir/update.log" 2>&1 ||
	{ tail -5 "$dir/update.log" >&2; die "apt-get update failed (rig sources: $dir/sources.list)"; }; }

cmd=${1:?usage: archive.sh update|download|source|policy ...}; shift
case $cmd in
update) update ;;
download) update; apt-get "${opts[@]}" download "$@" ;;
source) update; apt-get "${opts[@]}" source --download-only "$@" ;;
policy) update; apt-cache "${opts[@]}" policy "$@" ;;
*) die "unknown command $cmd" ;;
esac
