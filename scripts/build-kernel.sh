#!/usr/bin/env bash
# Configure (tinyconfig + the fragments scripts/lib.sh names:
# config/kvm-apf.config, + kvm-apf-debug.config for FLAVOR=debug,
# kvm-apf-rt.config for FLAVOR=rt, kvm-apf-kunit.config where the tree
# has its option) and build bzImage and modules of $TREE into $KOUT with
# ccache.
# The same image is the L1 host and the L2 guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -e "$TREE/.git" ] || die "no kernel tree at $TREE: run 'make tree'"
mkdir -p "$KOUT"
# One build at a time per output directory (make run and make test may
# be started side by side).
exec 9>"$KOUT/.rig-lock"
flock 9
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
ccache -M 8G >/dev/null
kmake=(make -C "$TREE" O="$KOUT" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc")

# Reconfigure only when a fragment changed, so that a rebuild after
# touching one file stays incremental.
stamp=$KOUT/.config.frag
if ! cat "${FRAGMENTS[@]}" | cmp -s - "$stamp" || [ ! -f "$KOUT/.config" ]; then
	log "configuring: tinyconfig + $(for f in "${FRAGMENTS[@]}"; do basename "$f"; done | paste -sd+)"
	"${kmake[@]}" -s tinyconfig >/dev/null
	(cd "$KOUT" && "$TREE/scripts/kconfig/merge_config.sh" -m -O "$KOUT" \
		"$KOUT/.config" "${FRAGMENTS[@]}" >/dev/null)
	"${kmake[@]}" -s olddefconfig >/dev/null
	# merge_config silently drops what Kconfig refuses; we do not.  Every
	# option of every fragment is checked, as the last fragment that names
	# it sets it.
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) grep -qxF "$line" "$KOUT/.config" || { log "not set: $line"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$KOUT/.config" && { log "unexpectedly set: $opt"; bad=1; } ;;
		esac
	done < <(awk '/^CONFIG_[A-Za-z0-9_]+=/ { k = $0; sub(/=.*/, "", k) }
		      /^# CONFIG_[A-Za-z0-9_]+ is not set$/ { k = $2 }
		      k != "" { if (!(k in v)) order[++n] = k; v[k] = $0; k = "" }
		      END { for (i = 1; i <= n; i++) print v[order[i]] }' "${FRAGMENTS[@]}")
	(( bad == 0 )) || die "config fragments did not apply cleanly"
	cat "${FRAGMENTS[@]}" >"$stamp"
fi

log "building bzImage and modules ($JOBS jobs), kernel $("${kmake[@]}" -s kernelrelease)"
run_logged "$BUILD/kernel-build$sfx.log" "${kmake[@]}" bzImage modules

# The modules (KVM's), as a cpio that boot.sh appends to the initramfs:
# lib/modules/rig/*.ko, loaded by guest/init.
mods=$(mktemp -d "$BUILD/modules.XXXXXX")
trap 'rm -rf "$mods"' EXIT
mkdir -p "$mods/lib/modules/rig"
# modules.order names this build's modules (foo.o for foo.ko), not stale ones.
while read -r m; do
	cp "$KOUT/${m%.o}.ko" "$mods/lib/modules/rig/"
done <"$KOUT/modules.order"
(cd "$mods" && find . -print0 | cpio --null -o -H newc --quiet) >"$KOUT/rig-modules.cpio.tmp"
mv "$KOUT/rig-modules.cpio.tmp" "$KOUT/rig-modules.cpio"
log "modules: $(find "$mods/lib/modules/rig" -name '*.ko' -printf '%f ')"
ccache -s 2>/dev/null | grep -E 'Hits|Misses' | head -2 | sed 's/^/[build-kernel] ccache /' >&2 || true
