#!/usr/bin/env bash
# Create FILE, a sparse raw image of MB megabytes that the L1 uses as swap
# (boot.sh --disk), once there is room for it to fill up: a swap device
# that runs out of space under the guest would fail the run obscurely.
# Usage: swap-disk.sh FILE MB
set -euo pipefail
. "$(dirname "$0")/lib.sh"

file=$1 mb=$2
if ! [[ $mb =~ ^[0-9]+$ ]] || (( mb < 64 )); then
	die "swap size must be a number of MB >= 64 (got '$mb')"
fi
mkdir -p "$(dirname "$file")"
have=$(( $(stat -c %s "$file" 2>/dev/null || echo 0) >> 20 ))
used=$(( $(stat -c %b "$file" 2>/dev/null || echo 0) * 512 >> 20 ))
avail=$(df -Pm "$(dirname "$file")" | awk 'NR == 2 { print $4 }')
# Blocks the image already holds count as available to it.
(( avail + used >= mb )) ||
	die "no space for the ${mb}M swap image $file: $((avail + used))M free in $(dirname "$file")"
(( have == mb )) || { rm -f "$file"; truncate -s "${mb}M" "$file"; }
