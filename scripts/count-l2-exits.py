#!/usr/bin/env python3
"""Experiment, never part of the series: which of an L2's exits are page-ready's.

KVM's vCPU stats do not say which interrupt an interrupt window or an EOI
was for, which MSR a WRMSR exit wrote, or why a vCPU was kicked.  This adds
vCPU stats to the working copy of the patched tree (build/linux), each
interrupt sorted as the page-ready vector, the Linux guest's timer (0xec)
or another vector (the highest pending one, or for an EOI the highest in
service):
  exp_win_*     windows KVM requests (once per entry until one opens)
  exp_winexit_* interrupt-window exits (SVM), by the vector they let in
  exp_imm_*     immediate exits KVM forces to inject behind an exception
  exp_eoi_*     EOI register writes (each an exit without AVIC/PV EOI)
  exp_wrmsr     all WRMSR exits; _tscdl, _ack: to MSR_IA32_TSC_DEADLINE,
                MSR_KVM_ASYNC_PF_ACK
  exp_kick_ipi  kicks that found the vCPU in guest mode (an IPI, an exit)
  exp_kick_apf  of those, async PF completions and the ring's timer
                (read before the kick: may count a kick that lost a race)
and makes guest/apf-stats report them.  Then:

    make run RUN_ARGS=--compare           # result lines carry exp_*
    scripts/count-l2-exits.py report      # per event, for each phase

Undo it afterwards, or every later build tests the counting kernel:
    git -C build/linux checkout -- arch && git checkout guest/apf-stats
"""
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(TOP, "build", "linux")
SORTED = ["win", "winexit", "imm", "eoi"]
NAMES = [f"exp_{k}_{v}" for k in SORTED for v in ("apf", "timer", "other")] + \
        ["exp_wrmsr", "exp_wrmsr_tscdl", "exp_wrmsr_ack", "exp_kick_ipi",
         "exp_kick_apf"]
# The Linux guest's LOCAL_TIMER_VECTOR is 0xec.
SORT = """	{
		int exp_v = %s;

		if (exp_v >= 0 && exp_v == vcpu->arch.apf.vec)
			vcpu->stat.exp_%s_apf++;
		else if (exp_v == 0xec)
			vcpu->stat.exp_%s_timer++;
		else
			vcpu->stat.exp_%s_other++;
	}
"""
PENDING = "lapic_in_kernel(vcpu) ? kvm_apic_has_interrupt(vcpu) : -1"


def sort(kind, vector, indent):
    text = SORT % (vector, kind, kind, kind)
    return "".join(indent + line if line.strip() else line
                   for line in text.splitlines(True))


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    if text.count(old) != 1:
        sys.exit(f"{path}: expected one match for:\n{old}")
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def patch():
    if subprocess.run(["git", "-C", TREE, "diff", "--quiet", "HEAD", "--", "arch"]).returncode:
        sys.exit(f"{TREE} has uncommitted changes under arch/")
    kvm = os.path.join(TREE, "arch/x86/kvm")

    fields = "".join(f"\tu64 {n};\n" for n in NAMES)
    edit(os.path.join(TREE, "arch/x86/include/asm/kvm_host.h"),
         "\tu64 irq_window_exits;\n", "\tu64 irq_window_exits;\n" + fields)

    x86 = os.path.join(kvm, "x86.c")
    descs = "".join(f"\tSTATS_DESC_COUNTER(VCPU, {n}),\n" for n in NAMES)
    edit(x86, "\tSTATS_DESC_COUNTER(VCPU, irq_window_exits),\n",
         "\tSTATS_DESC_COUNTER(VCPU, irq_window_exits),\n" + descs)
    edit(x86, """		if (kvm_cpu_has_injectable_intr(vcpu))
			kvm_x86_call(enable_irq_window)(vcpu);
	}
""", """		if (kvm_cpu_has_injectable_intr(vcpu)) {
""" + sort("win", PENDING, "\t\t") + """			kvm_x86_call(enable_irq_window)(vcpu);
		}
	}
""")
    edit(x86, """	if (r == -EBUSY) {
		*req_immediate_exit = true;""", """	if (r == -EBUSY) {
		if (kvm_cpu_has_injectable_intr(vcpu))
""" + sort("imm", PENDING, "\t") + """		*req_immediate_exit = true;""")
    edit(x86, """	return kvm_vcpu_exiting_guest_mode(vcpu) == IN_GUEST_MODE;
}
""", """	int kick = kvm_vcpu_exiting_guest_mode(vcpu) == IN_GUEST_MODE;

	if (kick)
		vcpu->stat.exp_kick_ipi++;
	return kick;
}
""")
    apf_kick = "\t\tif (READ_ONCE(vcpu->mode) == IN_GUEST_MODE)\n" \
               "\t\t\tvcpu->stat.exp_kick_apf++;\n"
    edit(x86, """	if (!delay_us) {
		kvm_vcpu_kick(vcpu);""", """	if (!delay_us) {
""" + apf_kick + """		kvm_vcpu_kick(vcpu);""")
    edit(x86, """		++vcpu->stat.async_pf_ring_timeouts;
		kvm_vcpu_kick(vcpu);""", """		++vcpu->stat.async_pf_ring_timeouts;
""" + apf_kick + """		kvm_vcpu_kick(vcpu);""")

    svm = os.path.join(kvm, "svm/svm.c")
    edit(svm, "\t++vcpu->stat.irq_window_exits;\n\treturn 1;\n",
         "\t++vcpu->stat.irq_window_exits;\n" + sort("winexit", PENDING, "") +
         "\treturn 1;\n")

    lapic = os.path.join(kvm, "lapic.c")
    edit(lapic, "\tcase APIC_EOI:\n\t\tapic_set_eoi(apic);\n",
         "\tcase APIC_EOI: {\n\t\tstruct kvm_vcpu *vcpu = apic->vcpu;\n\n" +
         sort("eoi", "apic_find_highest_isr(apic)", "\t") +
         "\t\tapic_set_eoi(apic);\n\t}\n")
    edit(lapic, """void kvm_set_lapic_tscdeadline_msr(struct kvm_vcpu *vcpu, u64 data)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
""", """void kvm_set_lapic_tscdeadline_msr(struct kvm_vcpu *vcpu, u64 data)
{
	struct kvm_lapic *apic = vcpu->arch.apic;

	vcpu->stat.exp_wrmsr_tscdl++;
""")

    msrs = os.path.join(kvm, "msrs.c")
    edit(msrs, "\ttrace_kvm_msr_write(msr, data);\n\n\tif (!kvm_skip_emulated_instruction(vcpu))",
         "\ttrace_kvm_msr_write(msr, data);\n\tvcpu->stat.exp_wrmsr++;\n\n"
         "\tif (!kvm_skip_emulated_instruction(vcpu))")
    edit(msrs, "\tint r;\n\n\tr = kvm_emulate_msr_write(vcpu, msr, data);\n",
         "\tint r;\n\n\tvcpu->stat.exp_wrmsr++;\n\tr = kvm_emulate_msr_write(vcpu, msr, data);\n")
    edit(msrs, """		if (data & 0x1) {
			/*
			 * Pairs with the smp_mb__after_atomic() in""", """		if (data & 0x1) {
			if (!msr_info->host_initiated)
				vcpu->stat.exp_wrmsr_ack++;
			/*
			 * Pairs with the smp_mb__after_atomic() in""")

    edit(os.path.join(TOP, "guest/apf-stats"), "async_pf_ring_timeouts exits",
         "async_pf_ring_timeouts " + " ".join(NAMES) + " exits")


def report(path):
    """Per event over each phase's measured time: exp_X - start_exp_X over
    ready - start_ready, from the result lines of a make run."""
    for line in open(path, errors="replace"):
        if "start_exp_kick_apf=" not in line:
            continue
        kv = dict(re.findall(r"(\w+)=(\w+)", line))
        # Without async PF the vCPU halts for each swap-in instead.
        n = int(kv["ready"]) - int(kv["start_ready"]) or \
            int(kv["halted"]) - int(kv["start_halted"])
        d = {k: (int(kv[k]) - int(kv["start_" + k])) / n
             for k in NAMES + ["exits", "irq", "irq_window", "halt", "pf_taken"]}
        print(f"{kv['phase']}: {n} events; per event:")
        for k in SORTED:
            print(f"  {k:8} " + " ".join(f"{v} {d[f'exp_{k}_{v}']:.3f}"
                                        for v in ("apf", "timer", "other")))
        print("  " + " ".join(f"{k[4:] if k.startswith('exp_') else k} {d[k]:.3f}"
                              for k in d if not any(k.startswith(f"exp_{s}_") for s in SORTED)))
        own = d["exp_winexit_apf"] + d["exp_imm_apf"] + d["exp_eoi_apf"] + \
            d["exp_wrmsr_ack"] + d["exp_kick_apf"]
        print(f"  page-ready's own (window exits + immediate exits + EOI + ACK"
              f" + kicks for it): {own:.3f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["report"]:
        report(sys.argv[2] if len(sys.argv) > 2 else
               os.path.join(TOP, "build/results/run/console.log"))
    else:
        patch()
