# Entry points of the kvm-apf rig; the work is done by scripts/.
# See README.md.  Build outputs live in build/ (ignored, always recreatable).

SHELL := /bin/bash
S := scripts
T ?=

.PHONY: all deps base tree kernel selftests check export test test-one test-full \
	test-debug test-rt test-mutations check-bisect qemu run bench shell clean help

all: kernel selftests

help:
	@sed -n 's/^## //p' README.md

deps:
	@$(S)/deps.sh

base: deps
	@$(S)/base.sh

tree: deps
	@$(S)/tree.sh

kernel: tree
	@$(S)/build-kernel.sh

selftests: tree
	@$(S)/build-selftests.sh

qemu: deps
	@$(S)/build-qemu.sh

check: deps
	@$(S)/check-series.sh
	@$(S)/check-rig.sh

export:
	@$(S)/export.sh

test: deps
	@$(S)/test.sh tests/test.list

# tests/test.list on the debug build (config/kvm-apf-debug.config: lockdep,
# KASAN, KFENCE; build/kout-debug) of the tree as it is; fails on any splat
# in the console
test-debug: deps
	@FLAVOR=debug $(S)/test.sh tests/test.list

# tests/rt.list with the L1 and its L2s on the PREEMPT_RT build of the
# patched tree (config/kvm-apf-rt.config; build/kout-rt); fails on any splat
test-rt: deps
	@FLAVOR=rt L2_FLAVOR=rt $(S)/test.sh tests/rt.list

# make test-one T=x86/kvm_pv_test [ARGS="timeout=60"]
test-one: deps
	@test -n "$(T)" || { echo "usage: make test-one T=<selftest>"; exit 2; }
	@mkdir -p build && echo "$(T) $(ARGS)" > build/one.list
	@$(S)/test.sh build/one.list

run: deps
	@$(S)/run.sh $(RUN_ARGS)

# make bench [BENCH_ARGS="-d 20,100 -t 5"]
bench: deps
	@$(S)/bench.sh

shell: kernel qemu
	@$(S)/mkinitramfs.sh /dev/null build/initramfs-shell.cpio
	@$(S)/boot.sh --initrd build/initramfs-shell.cpio --share-root --interactive --mode shell

clean:
	rm -rf build

test-full: deps
	@$(S)/test-full.sh

test-mutations: deps
	@$(S)/mutations.sh

check-bisect: deps
	@$(S)/check-bisect.sh
