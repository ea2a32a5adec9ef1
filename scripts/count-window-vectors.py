#!/usr/bin/env python3
"""Experiment, never part of the series: sort interrupt windows by vector.

KVM's irq_window_exits does not say which interrupt a window was opened for.
This adds six vCPU stats to the working copy of the patched tree (build/linux)
counting, at each window KVM requests and at each immediate exit it forces to
inject an interrupt behind an exception, whether the highest pending vector is
the page-ready vector, the Linux guest's timer (0xec) or another one; and it
makes guest/apf-stats report them.  Then:

    make run RUN_ARGS=--compare   # result lines carry exp_* and start_exp_*

Undo it afterwards, or every later build tests the counting kernel:
    git -C build/linux checkout -- arch && git checkout guest/apf-stats
"""
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(TOP, "build", "linux")
NAMES = ["exp_win_apf", "exp_win_timer", "exp_win_other",
         "exp_imm_apf", "exp_imm_timer", "exp_imm_other"]


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    if text.count(old) != 1:
        sys.exit(f"{path}: expected one match for:\n{old}")
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def main():
    if subprocess.run(["git", "-C", TREE, "diff", "--quiet", "HEAD", "--", "arch"]).returncode:
        sys.exit(f"{TREE} has uncommitted changes under arch/")

    fields = "".join(f"\tu64 {n};\n" for n in NAMES)
    edit(os.path.join(TREE, "arch/x86/include/asm/kvm_host.h"),
         "\tu64 irq_window_exits;\n", "\tu64 irq_window_exits;\n" + fields)

    x86 = os.path.join(TREE, "arch/x86/kvm/x86.c")
    descs = "".join(f"\tSTATS_DESC_COUNTER(VCPU, {n}),\n" for n in NAMES)
    edit(x86, "\tSTATS_DESC_COUNTER(VCPU, irq_window_exits),\n",
         "\tSTATS_DESC_COUNTER(VCPU, irq_window_exits),\n" + descs)
    # The Linux guest's LOCAL_TIMER_VECTOR is 0xec.
    helper = """static void exp_count(struct kvm_vcpu *vcpu, bool imm)
{
	int v = lapic_in_kernel(vcpu) ? kvm_apic_has_interrupt(vcpu) : -1;

	if (v >= 0 && v == vcpu->arch.apf.vec)
		imm ? vcpu->stat.exp_imm_apf++ : vcpu->stat.exp_win_apf++;
	else if (v == 0xec)
		imm ? vcpu->stat.exp_imm_timer++ : vcpu->stat.exp_win_timer++;
	else
		imm ? vcpu->stat.exp_imm_other++ : vcpu->stat.exp_win_other++;
}

"""
    fn = "static int kvm_check_and_inject_events(struct kvm_vcpu *vcpu,\n"
    edit(x86, fn, helper + fn)
    edit(x86, """		if (kvm_cpu_has_injectable_intr(vcpu))
			kvm_x86_call(enable_irq_window)(vcpu);
	}
""", """		if (kvm_cpu_has_injectable_intr(vcpu)) {
			exp_count(vcpu, false);
			kvm_x86_call(enable_irq_window)(vcpu);
		}
	}
""")
    edit(x86, """	if (r == -EBUSY) {
		*req_immediate_exit = true;""", """	if (r == -EBUSY) {
		if (kvm_cpu_has_injectable_intr(vcpu))
			exp_count(vcpu, true);
		*req_immediate_exit = true;""")

    edit(os.path.join(TOP, "guest/apf-stats"), "async_pf_ring_timeouts exits",
         "async_pf_ring_timeouts " + " ".join(NAMES) + " exits")


if __name__ == "__main__":
    main()
