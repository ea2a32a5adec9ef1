#!/usr/bin/env bash
# Pack the rig's initramfs: static busybox, guest/ scripts, and the
# selftests named in a test list.  Usage: mkinitramfs.sh LIST OUT.cpio
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=$1 out=$2
bb=$(command -v busybox) || die "no busybox (install busybox-static)"
if ldd "$bb" >/dev/null 2>&1; then die "$bb is not static (install busybox-static)"; fi

stage=$(mktemp -d "$BUILD/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc/rig,proc,sys,dev,tmp,run,tests,host}
cp "$bb" "$stage/bin/busybox"
"$bb" --list-full | while read -r p; do
	[ -e "$stage/$p" ] || ln -s /bin/busybox "$stage/$p"
done
install -m 755 "$TOP/guest/init" "$stage/init"
for f in "$TOP"/guest/*; do
	b=$(basename "$f")
	case $b in
	init) ;;
	*.py|__pycache__) ;;	# run by the host root's python3
	*.c) gcc -static -O2 -Wall -o "$stage/bin/rig-${b%.c}" "$f" ||
		die "cannot build guest tool $b" ;;
	*) install -m 755 "$f" "$stage/bin/rig-$b" ;;
	esac
done
grep -v '^[[:space:]]*\(#\|$\)' "$list" >"$stage/etc/rig/tests.list" || true
while read -r name _; do
	case $name in guest:*) continue ;; esac
	src=$SELFTESTS/$name
	[ -x "$src" ] || die "selftest $name not built ($src)"
	mkdir -p "$stage/tests/$(dirname "$name")"
	cp "$src" "$stage/tests/$name"
done <"$stage/etc/rig/tests.list"
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
log "$(basename "$out"): $(du -h "$out" | cut -f1), $(wc -l <"$stage/etc/rig/tests.list") tests"
