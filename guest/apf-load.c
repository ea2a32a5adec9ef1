// SPDX-License-Identifier: GPL-2.0-only
/*
 * L2 workload of "make run": memory tasks keep touching more memory than
 * the L1 lets this guest's QEMU keep resident, so the L1 swaps the pages
 * in; CPU-bound tasks beside them count the work they get done.  With
 * async PF the guest runs a CPU task while a memory task waits for its
 * page; without it the vCPU halts until the L1 has the page.
 *
 * rig-apf-load [-d SECONDS] [-m MEM_TASKS] [-s MIB] [-c CPU_TASKS] [-w SECONDS]
 *              [-p CPU]
 *   -d  measured time (default 60)       -s  MiB touched by all memory tasks
 *   -m  memory tasks (default 2)             together (default 192)
 *   -c  CPU-bound tasks (default 2)      -w  wait before exiting (default 3)
 *   -p  memory tasks keep to CPU, back on it soon after it was offline
 *
 * The measured time starts once the memory tasks have filled their
 * buffers (the guest's first touch of a page is never an async fault in
 * the L1: there is nothing to read in).  Prints "apf-load: filling ..."
 * and "apf-load: t=..." once a second, then, with the tasks stopped,
 * "apf-load: done k=v ...": totals over the measured time, the page-ready
 * interrupts this guest received (HYP in /proc/interrupts) and the tasks
 * left waiting for a page, and the tasks that ended before they were
 * stopped (killed by the L2 out of memory, say), each also named on its
 * own line as it was found.  A task that ends before the memory is
 * filled ends the fill ("apf-load: memory not filled"): nothing is
 * measured (secs=0).  The -w wait lets the L1 read its counters while
 * nothing in here takes faults.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TASKS 64
#define PAGE 4096

/* One cache line per counter: the tasks run on different vCPUs. */
struct counter {
	volatile unsigned long long v;
	char pad[56];
};

struct shared {
	struct counter work[MAX_TASKS];		/* CPU tasks: loops of 100000 */
	struct counter pages[MAX_TASKS];	/* memory tasks: pages touched */
	struct counter filled[MAX_TASKS];	/* memory tasks: first pass done */
};

static struct shared *sh;
/* The tasks, 0 once reaped, and how many ended before they were stopped. */
static pid_t pids[2 * MAX_TASKS];
static int ntasks, died;
/* -p: the CPU the memory tasks keep to, or -1. */
static int pin_cpu = -1;
static cpu_set_t pin_set;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void cpu_task(int k)
{
	/* Background work: it gets what the memory tasks leave. */
	if (nice(10) == -1)
		perror("nice");
	for (;;) {
		for (int i = 0; i < 100000; i++)
			__asm__ volatile("" ::: "memory");
		sh->work[k].v++;
	}
}

static void mem_task(int k, size_t bytes)
{
	volatile unsigned char *buf;

	/* rig-apf-offline finds the memory tasks by name. */
	prctl(PR_SET_NAME, "rig-apf-mem");
	buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		_exit(1);
	}
	/* A write per page keeps every page dirty, so the L1 swaps it out and in. */
	for (;;) {
		for (size_t off = 0; off < bytes; off += PAGE) {
			/*
			 * Taking the CPU offline moved this task off it for
			 * good: ask again at once (rig-apf-offline waits for
			 * it).  Fails while it is offline.
			 */
			if (pin_cpu >= 0 && sched_getcpu() != pin_cpu)
				sched_setaffinity(0, sizeof(pin_set), &pin_set);
			buf[off]++;
			sh->pages[k].v++;
		}
		sh->filled[k].v = 1;
	}
}

/*
 * A memory task that ended takes its stalls with it: the L2's work would
 * then be measured against a workload it no longer runs, so the done line
 * says how many ended.
 */
static void reap_early(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < ntasks; i++)
			if (pids[i] == pid)
				pids[i] = 0;
		died++;
		if (WIFSIGNALED(status))
			printf("apf-load: task %d ended early: signal %d\n", pid, WTERMSIG(status));
		else
			printf("apf-load: task %d ended early: exit status %d\n", pid,
			       WEXITSTATUS(status));
	}
}

static unsigned long long sum(const struct counter *c, int n)
{
	unsigned long long s = 0;

	for (int i = 0; i < n; i++)
		s += c[i].v;
	return s;
}

/* A line of /proc/interrupts ("HYP:", page-ready), summed over all CPUs. */
static unsigned long long irq_count(const char *name)
{
	unsigned long long s = 0;
	char line[4096], *p, *end;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, name, strlen(name)))
			continue;
		for (p += strlen(name);; p = end) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			s += v;
		}
	}
	fclose(f);
	return s;
}

static unsigned long long hyp_count(void)
{
	return irq_count("HYP:");
}

/*
 * The other interrupts of the measured time, to tell the VM exits the L1
 * counts apart: timer interrupts (each rearms the TSC deadline) and
 * reschedule and call-function IPIs (each sent with an ICR write).
 */
static const char *const other_irqs[] = { "LOC:", "RES:", "CAL:" };
#define NR_OTHER (sizeof(other_irqs) / sizeof(other_irqs[0]))

static void other_counts(unsigned long long *v)
{
	for (unsigned int i = 0; i < NR_OTHER; i++)
		v[i] = irq_count(other_irqs[i]);
}

/* Tasks asleep in the guest's async PF wait, named on stdout. */
static int stuck_tasks(void)
{
	char path[300], wchan[128], comm[64];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/wchan", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		wchan[0] = 0;
		if (!fgets(wchan, sizeof(wchan), f))
			wchan[0] = 0;
		fclose(f);
		if (!strstr(wchan, "kvm_async_pf_task_wait"))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		comm[0] = 0;
		f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
		}
		comm[strcspn(comm, "\n")] = 0;
		printf("apf-load: STUCK pid %s (%s) in %s\n", de->d_name, comm, wchan);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int secs = 60, nmem = 2, ncpu = 2, linger = 3, mib = 192, opt, alive, stuck, len;
	char line[512];
	unsigned long long other0[NR_OTHER], other[NR_OTHER];
	unsigned long long hyp0, hyp, last_hyp, work, work0, last_work, pages, pages0, last_pages;
	double t0, t, next;

	while ((opt = getopt(argc, argv, "d:m:s:c:w:p:")) != -1) {
		switch (opt) {
		case 'd': secs = atoi(optarg); break;
		case 'm': nmem = atoi(optarg); break;
		case 's': mib = atoi(optarg); break;
		case 'c': ncpu = atoi(optarg); break;
		case 'w': linger = atoi(optarg); break;
		case 'p': pin_cpu = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-d s] [-m tasks] [-s MiB] [-c tasks] [-w s] [-p cpu]\n", argv[0]);
			return 2;
		}
	}
	if (nmem < 1 || nmem > MAX_TASKS || ncpu < 0 || ncpu > MAX_TASKS || mib < 1 || secs < 1 ||
	    pin_cpu >= CPU_SETSIZE) {
		fprintf(stderr, "apf-load: bad arguments\n");
		return 2;
	}
	if (pin_cpu >= 0) {
		CPU_ZERO(&pin_set);
		CPU_SET(pin_cpu, &pin_set);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("apf-load: %d memory tasks touching %d MiB in all, %d CPU-bound tasks (nice 10), %d s\n",
	       nmem, mib, ncpu, secs);
	for (int i = 0; i < nmem + ncpu; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			break;
		}
		if (pid == 0) {
			/* Never outlive the parent (killed, or its output closed). */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(1);
			if (i < nmem)
				mem_task(i, (size_t)mib * 1024 * 1024 / nmem);
			cpu_task(i - nmem);
		}
		pids[ntasks++] = pid;
	}

	/* Fill: until every memory task has made one pass over its buffer. */
	t0 = now();
	for (next = t0 + 1;; next += 1) {
		int filled = 0;

		for (int i = 0; i < nmem; i++)
			filled += sh->filled[i].v;
		if (filled == nmem)
			break;
		reap_early();
		/* One that ended may never fill its part: measure nothing. */
		if (died) {
			printf("apf-load: memory not filled: %d tasks ended early\n", died);
			secs = 0;
			break;
		}
		t = now();
		if (next > t)
			usleep((next - t) * 1e6);
		pages = sum(sh->pages, nmem) * PAGE >> 20;
		printf("apf-load: filling %.0fs mem_MiB=%llu/%d cpu_work=%llu\n", now() - t0,
		       pages < (unsigned long long)mib ? pages : (unsigned long long)mib, mib, sum(sh->work, ncpu));
	}
	if (secs)
		printf("apf-load: memory filled in %.0f s; measuring for %d s\n", now() - t0, secs);
	hyp0 = last_hyp = hyp_count();
	other_counts(other0);
	work0 = last_work = sum(sh->work, ncpu);
	pages0 = last_pages = sum(sh->pages, nmem);

	t0 = now();
	for (next = t0 + 1; (t = now()) < t0 + secs; next += 1) {
		if (next > t)
			usleep((next - t) * 1e6);
		reap_early();
		work = sum(sh->work, ncpu);
		pages = sum(sh->pages, nmem);
		hyp = hyp_count();
		printf("apf-load: t=%.0fs cpu_work/s=%llu mem_MiB/s=%.1f hyp/s=%llu hyp=%llu\n",
		       now() - t0, work - last_work, (pages - last_pages) * PAGE / 1048576.0,
		       hyp - last_hyp, hyp);
		last_work = work, last_pages = pages, last_hyp = hyp;
	}
	t = now() - t0;
	other_counts(other);
	work = sum(sh->work, ncpu) - work0;
	pages = sum(sh->pages, nmem) - pages0;
	reap_early();

	/* A task in the async PF wait is not woken by SIGKILL: reaping them all proves none is stuck. */
	for (int i = 0; i < ntasks; i++)
		if (pids[i])
			kill(pids[i], SIGKILL);
	alive = ntasks - died;
	for (double end = now() + 15; alive && now() < end;) {
		if (waitpid(-1, NULL, WNOHANG) > 0)
			alive--;
		else
			usleep(100000);
	}
	stuck = stuck_tasks();
	/*
	 * The first pass touches every page the last line needs (code, data,
	 * stack): nothing runs here after the final HYP read that could take
	 * an async fault, whose page-ready would then count in the L1 only.
	 * The pause lets page-ready interrupts still on their way arrive.
	 */
	for (int pass = 0; pass < 2; pass++) {
		hyp = hyp_count();
		len = snprintf(line, sizeof(line),
			       "apf-load: %s secs=%.0f cpu_work=%llu mem_pages=%llu mem_passes=%.1f hyp=%llu hyp_during=%llu unreaped=%d stuck=%d died=%d loc_during=%llu res_during=%llu cal_during=%llu\n",
			       pass ? "done" : "stopped", t, work, pages,
			       (double)pages * PAGE / ((double)mib * 1048576), hyp, hyp - hyp0,
			       alive, stuck, died, other[0] - other0[0], other[1] - other0[1],
			       other[2] - other0[2]);
		fflush(stdout);
		if (write(1, line, len) != len)
			return 1;
		if (!pass)
			sleep(1);
	}
	sleep(linger);
	return 0;
}
