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
and makes guest/apf-stats report them.  With EXP_RIPS=1 it also prints
(pr_err, at most 20 a second) one "exp-win" line per interrupt-window
exit: the vector, guest RIP, IF and whether an interrupt had just been
injected when the window was first asked for, and the vector and RIP at
the window exit; "count-l2-exits.py rips" names the RIPs from
build/kout/System.map (the L2 boots the L1's kernel) per phase.  Then:

    make run RUN_ARGS=--compare           # result lines carry exp_*
    scripts/count-l2-exits.py report      # per event, for each phase

Undo it afterwards, or every later build tests the counting kernel:
    git -C build/linux checkout -- arch && git checkout guest/apf-stats
"""
import bisect
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
    rips_exit = ""
    if os.environ.get("EXP_RIPS") == "1":
        edit(os.path.join(TREE, "arch/x86/include/asm/kvm_host.h"),
             "struct kvm_vcpu_arch {\n",
             "struct kvm_vcpu_arch {\n\tbool exp_win_open;\n"
             "\tint exp_req_v, exp_req_inj, exp_req_if;\n\tunsigned long exp_req_rip;\n")
        edit(x86, "\t\t\tkvm_x86_call(enable_irq_window)(vcpu);\n\t\t}\n",
             """\t\t\tif (!vcpu->arch.exp_win_open) {
\t\t\t\tvcpu->arch.exp_win_open = true;
\t\t\t\tvcpu->arch.exp_req_v = kvm_apic_has_interrupt(vcpu);
\t\t\t\tvcpu->arch.exp_req_rip = kvm_rip_read(vcpu);
\t\t\t\tvcpu->arch.exp_req_inj = vcpu->arch.interrupt.injected;
\t\t\t\tvcpu->arch.exp_req_if = !!(kvm_get_rflags(vcpu) & X86_EFLAGS_IF);
\t\t\t}
\t\t\tkvm_x86_call(enable_irq_window)(vcpu);
\t\t}
""")
        edit(svm, "static int interrupt_window_interception(struct kvm_vcpu *vcpu)\n{\n",
             "static DEFINE_RATELIMIT_STATE(exp_rs, HZ, 20);\n\n"
             "static int interrupt_window_interception(struct kvm_vcpu *vcpu)\n{\n")
        rips_exit = """	if (vcpu->arch.exp_win_open && __ratelimit(&exp_rs))
		pr_err("exp-win req_v=%x req_rip=%lx inj=%d if=%d v=%x rip=%lx\\n",
		       vcpu->arch.exp_req_v, vcpu->arch.exp_req_rip,
		       vcpu->arch.exp_req_inj, vcpu->arch.exp_req_if,
		       kvm_apic_has_interrupt(vcpu), kvm_rip_read(vcpu));
	vcpu->arch.exp_win_open = false;
"""
    edit(svm, "\t++vcpu->stat.irq_window_exits;\n\treturn 1;\n",
         "\t++vcpu->stat.irq_window_exits;\n" + sort("winexit", PENDING, "") +
         rips_exit + "\treturn 1;\n")

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


def rips(path):
    """The exp-win lines of each phase, RIPs named from System.map."""
    syms = []
    for line in open(os.path.join(TOP, "build/kout/System.map")):
        a, t, name = line.split()[:3]
        if t in "tTwW":
            syms.append((int(a, 16), name))
    syms.sort()
    addrs = [a for a, _ in syms]

    def name(rip):
        i = bisect.bisect_right(addrs, int(rip, 16)) - 1
        return syms[i][1] if i >= 0 else rip

    def vec(v):
        v = int(v, 16)
        return "timer" if v == 0xec else "apf" if v == 0xf3 else "none" if v >= 0xffffffff else hex(v)

    phase, hist, total = None, {}, {}

    def flush():
        if phase and total:
            print(f"{phase}: {sum(total.values())} windows sampled")
            for k, n in sorted(hist.items(), key=lambda kv: -kv[1])[:15]:
                print(f"  {n:5} {k}")
    for line in open(path, errors="replace"):
        m = re.search(r"rig-apf: phase (\w+)", line)
        if m and m.group(1) != phase:
            flush()
            phase, hist, total = m.group(1), {}, {}
            continue
        m = re.search(r"exp-win req_v=(\w+) req_rip=(\w+) inj=(\d) if=(\d) v=(\w+) rip=(\w+)", line)
        if m and phase:
            rv, rr, inj, iff, v, r = m.groups()
            k = (f"{vec(rv)} {'behind an injected irq' if inj == '1' else 'IF=' + iff}"
                 f" at {name(rr)} -> {vec(v)} at {name(r)}")
            hist[k] = hist.get(k, 0) + 1
            total[vec(rv)] = total.get(vec(rv), 0) + 1
    flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["rips"]:
        rips(sys.argv[2] if len(sys.argv) > 2 else
             os.path.join(TOP, "build/results/run/console.log"))
    elif sys.argv[1:2] == ["report"]:
        report(sys.argv[2] if len(sys.argv) > 2 else
               os.path.join(TOP, "build/results/run/console.log"))
    else:
        patch()
