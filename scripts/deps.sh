#!/usr/bin/env bash
# Install the Debian packages the rig needs, only those that are missing.
# Extra package names may be given as arguments.
set -euo pipefail

pkgs=(debian-archive-keyring dpkg-dev build-essential bc flex bison libelf-dev libssl-dev
      cpio xz-utils kmod ccache git rsync busybox-static
      python3 python3-ply python3-git perl gnuplot-nox
      ninja-build pkg-config libglib2.0-dev zlib1g-dev python3-venv lib32gcc-12-dev seabios)
# The distribution's QEMU, for L2s as a Debian user would run them (rig-debian-qemu).
pkgs+=(qemu-system-x86)
pkgs+=("$@")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "[deps] installing: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
	--no-install-recommends "${missing[@]}" >/dev/null
