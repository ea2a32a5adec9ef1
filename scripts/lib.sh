# shellcheck shell=bash
# Common settings for the rig scripts; sourced, never run.
# shellcheck disable=SC2034 # used by the scripts that source this

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
# FLAVOR=base builds and tests the unpatched base (make test-full) in
# directories of its own; FLAVOR=debug the patched tree with lockdep and
# memory debugging (make test-debug: config/kvm-apf-debug.config on top,
# kernel and selftests built apart); FLAVOR=rt the patched tree's
# kernel on PREEMPT_RT, for the L1 and the L2s of make test-rt
# (config/kvm-apf-rt.config on top); empty is the patched tree.
FLAVOR=${FLAVOR:-}
case $FLAVOR in ""|base|debug|rt) ;; *) echo "FLAVOR must be empty, base, debug or rt" >&2; exit 2 ;; esac
sfx=${FLAVOR:+-$FLAVOR}
if [ "$FLAVOR" = base ]; then TREE=$BUILD/base-linux; else TREE=$BUILD/linux; fi
KOUT=$BUILD/kout$sfx
# SELFTESTS=<dir> runs selftests built elsewhere (with NO_BUILD=1 in
# test.sh: one test built on its own while the tree is being edited).
# The selftests do not depend on the kernel's config: the PREEMPT_RT run
# takes the plain build's.
st_sfx=$sfx
[ "$FLAVOR" != rt ] || st_sfx=
SELFTESTS=${SELFTESTS:-$BUILD/selftests$st_sfx}
# Config fragments merged onto tinyconfig, in order (a later one wins).
FRAGMENTS=("$TOP/config/kvm-apf.config")
# A debug kernel under TCG is slower: each test's timeout is multiplied
# (guest/run-tests, rig.timeout_mult= on the kernel command line) and the
# whole VM run gets a larger bound (test.sh's BOOT_TIMEOUT, in seconds).
if [ "$FLAVOR" = debug ]; then
	FRAGMENTS+=("$TOP/config/kvm-apf-debug.config")
	TIMEOUT_MULT=${TIMEOUT_MULT:-3}
	BOOT_TIMEOUT=${BOOT_TIMEOUT:-7200}
fi
[ "$FLAVOR" != rt ] || FRAGMENTS+=("$TOP/config/kvm-apf-rt.config")
# The series' KUnit tests (guest:kunit), in a tree that has their option:
# not the base, nor the commits before it (make check-bisect).  Also on
# PREEMPT_RT (make test-rt), where they call the 'page ready' handler
# with IRQs off, as the interrupt does: that found the base's allocation
# there (patch 46).
if grep -qsx 'config KVM_GUEST_APF_KUNIT_TEST' "$TREE/arch/x86/Kconfig"; then
	FRAGMENTS+=("$TOP/config/kvm-apf-kunit.config")
fi
TIMEOUT_MULT=${TIMEOUT_MULT:-1}
SERIES=$TOP/series
BASE_PKG=linux-source-7.3
# The pinned base (what CI proves); BASE_VER=<version> tries another
# linux-source-7.3 from the archive, without the checksum.
BASE_PINNED=$(cat "$TOP/BASE_VERSION")
BASE_VER=${BASE_VER:-$BASE_PINNED}
BASE_TAG=base
JOBS=${JOBS:-$(nproc)}
# Reads a second from the swap disk of make run and make test (0: no
# cap).  Without a cap a swap-in costs only emulated CPU time, which the
# one TCG thread (boot.sh) shares with the vCPUs: async PF then has no
# wait to overlap.  Capped, a read waits as for a device.
SWAP_IOPS=${SWAP_IOPS:-400}
# Built by build-qemu.sh; run with -L "$QEMU_FIRMWARE".
QEMU=$BUILD/qemu/qemu-system-x86_64
QEMU_FIRMWARE=$BUILD/qemu/firmware

# The line number, in cover letter $1, of the shortlog that format-patch
# appends to the text: its first "<author> (<n>):" line with <author> one
# of the authors of series/ (their From: lines); the text may end a line
# so too.
cover_shortlog_line() {
	local authors
	authors=$(find "$SERIES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
		! -name '0000-cover-letter.patch' -exec sed -n 's/^From: \([^<]*[^< ]\).*/\1/p' {} + |
		sort -u)
	awk -v authors="$authors" '
	BEGIN { n = split(authors, a, "\n"); for (i = 1; i <= n; i++) is_author[a[i]] = 1 }
	/^$/ && !body { body = 1; next }
	body && / \([0-9]+\):$/ {
		name = $0; sub(/ \([0-9]+\):$/, "", name)
		if (name in is_author) { print NR; exit }
	}' "$1"
}

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a long command with its output in a log file, printing a dot a
# minute so that a watcher knows it is alive, and the log tail on failure.
run_logged() {
	local logf=$1; shift
	local start=$SECONDS next=$((SECONDS + 60)) rc=0
	"$@" >"$logf" 2>&1 &
	local pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		if (( SECONDS >= next )); then
			next=$((next + 60))
			log "... $(( (SECONDS - start) / 60 )) min: $(tail -n 1 "$logf" | cut -c1-90)"
		fi
	done
	wait "$pid" || rc=$?
	if (( rc )); then
		tail -n 40 "$logf" >&2
		log "failed after $((SECONDS - start))s (rc=$rc), full log: $logf"
		return "$rc"
	fi
	log "done in $((SECONDS - start))s, log: $logf"
}
