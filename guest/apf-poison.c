// SPDX-License-Identifier: GPL-2.0-only
/*
 * L2 side of the rig's apf-poison-l2 test (runs as root in the L2 guest).
 *
 *   rig-apf-poison [simulate]
 *
 * Task A writes a marker into one page of shared memory (a memfd) and
 * locks it; it forks task B, which maps the same page at an address of
 * its own, reads it and locks it too.  A prints the page's guest physical
 * address (from /proc/self/pagemap) and the marker, then waits for a line
 * "go" on stdin (the L2 console: the L1 removes the page from the L2's
 * RAM on the host meanwhile).  Then A reads the page, and after A, B
 * reads it; each reports the SIGBUS it got (si_code, si_addr) or the byte
 * it read.  Exit status 0 only if both got BUS_MCEERR_AR at their own
 * address; the L1 script makes its own checks from the printed lines.
 * "simulate": A poisons the page itself with MADV_HWPOISON right before
 * its read (what the L2 kernel is expected to do on a failed page-ready),
 * a check of the test, not of the kernel.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static sigjmp_buf env;
static volatile int got_code, got_lsb;
static volatile unsigned long got_addr;

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	got_code = si->si_code;
	got_addr = (unsigned long)si->si_addr;
	got_lsb = si->si_addr_lsb;
	siglongjmp(env, 1);
}

static const char *code_name(int code)
{
	switch (code) {
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_OBJERR: return "BUS_OBJERR";
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
	default: return "?";
	}
}

/* Guest physical address of the page at p (present), 0 if unknown. */
static unsigned long gpa_of(volatile void *p)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, sizeof(e), (uintptr_t)p / PAGE * 8) != sizeof(e))
		perror("pagemap");
	if (fd >= 0)
		close(fd);
	if (!(e & (1ULL << 63)) || !(e & ((1ULL << 55) - 1)))
		return 0;
	return (e & ((1ULL << 55) - 1)) * PAGE;
}

/*
 * Read the first byte of the page at p (after MADV_HWPOISON on it if
 * poison); 0 if that is SIGBUS BUS_MCEERR_AR at p.
 */
static int touch(const char *who, volatile unsigned char *p, int poison)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	unsigned char v;

	sigaction(SIGBUS, &sa, NULL);
	printf("apf-poison: %s reads 0x%lx\n", who, (unsigned long)p);
	fflush(stdout);
	if (sigsetjmp(env, 1) == 0) {
		if (poison && madvise((void *)p, PAGE, MADV_HWPOISON))
			perror("MADV_HWPOISON");
		v = p[0];
		printf("apf-poison: %s read 0x%02x without a fault (%s)\n", who, v,
		       v == 'r' ? "the page is intact" : "not the marker: a new page");
		fflush(stdout);
		return 1;
	}
	printf("apf-poison: %s got SIGBUS si_code=%d (%s) si_addr=0x%lx si_addr_lsb=%d; %s's address 0x%lx\n",
	       who, got_code, code_name(got_code), got_addr, got_lsb, who, (unsigned long)p);
	fflush(stdout);
	return !(got_code == BUS_MCEERR_AR && got_addr == (unsigned long)p);
}

int main(int argc, char **argv)
{
	int simulate = argc > 1 && !strcmp(argv[1], "simulate");
	int fd, to_b[2], from_b[2], st, rc;
	volatile unsigned char *p, *q;
	char marker[64], line[64];
	pid_t b;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = memfd_create("apf-poison", 0);
	if (fd < 0 || ftruncate(fd, PAGE) || pipe(to_b) || pipe(from_b)) {
		perror("setup");
		return 2;
	}
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	/* One small page, never collapsed, never reclaimed or migrated. */
	madvise((void *)p, PAGE, MADV_NOHUGEPAGE);
	snprintf(marker, sizeof(marker), "rig-apf-poison page of pid %d", getpid());
	memset((void *)p, '.', PAGE);
	memcpy((void *)p, marker, strlen(marker));
	p[strlen(marker)] = '\n';
	if (mlock((void *)p, PAGE)) {
		perror("mlock");
		return 2;
	}

	b = fork();
	if (b < 0) {
		perror("fork");
		return 2;
	}
	if (b == 0) {
		/* B: the same page at another address, mapped and locked. */
		q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (q == MAP_FAILED || mlock((void *)q, PAGE) || q[0] != 'r') {
			perror("B: mmap/mlock");
			_exit(2);
		}
		munmap((void *)p, PAGE);
		/* SIGBUS on its next touch, not when the page is poisoned. */
		prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_LATE, 0, 0);
		printf("apf-poison: B (pid %d) maps the page at 0x%lx, gpa 0x%lx\n",
		       getpid(), (unsigned long)q, gpa_of(q));
		if (write(from_b[1], "r", 1) != 1 || read(to_b[0], line, 1) != 1)
			_exit(2);
		_exit(touch("B", q, 0));
	}

	if (read(from_b[0], line, 1) != 1) {
		fprintf(stderr, "apf-poison: B did not start\n");
		return 2;
	}
	printf("apf-poison: A (pid %d) maps the page at 0x%lx\n", getpid(), (unsigned long)p);
	printf("apf-poison: marker %s\n", marker);
	printf("apf-poison: ready gpa=0x%lx\n", gpa_of(p));
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "go", 2))
		;
	if (simulate)
		printf("apf-poison: simulated: A poisons the page with MADV_HWPOISON\n");
	rc = touch("A", p, simulate);
	if (write(to_b[1], "g", 1) != 1 || waitpid(b, &st, 0) != b) {
		perror("B");
		return 2;
	}
	printf("apf-poison: B exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return rc || !WIFEXITED(st) || WEXITSTATUS(st);
}
