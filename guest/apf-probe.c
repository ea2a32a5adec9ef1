// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest-side probe for the rig's async PF tests (runs in the L2 guest).
 *
 *   rig-apf-probe spin SECONDS FILE   count loop iterations, write the count
 *                                     to FILE every second (CPU-bound work;
 *                                     FILE is replaced whole, never empty)
 *   rig-apf-probe touch FILE DELAY    mmap FILE (e.g. a PCI BAR resource),
 *                                     wait DELAY seconds, read its first
 *                                     page; report the SIGBUS if one comes
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	char msg[128];
	int n;

	n = snprintf(msg, sizeof(msg), "apf-probe: SIGBUS si_code=%d%s si_addr=%p\n",
		     si->si_code, si->si_code == BUS_ADRERR ? " (BUS_ADRERR)" : "",
		     si->si_addr);
	write(1, msg, n);
	_exit(0);
}

static int spin(int seconds, const char *file)
{
	time_t end = time(NULL) + seconds, next = 0;
	unsigned long long count = 0;
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);

	/* Background work: leave the vCPU to whatever else must run. */
	if (nice(10) == -1)
		perror("nice");

	while (time(NULL) < end) {
		for (int i = 0; i < 100000; i++)
			__asm__ volatile("" ::: "memory");
		count++;
		if (time(NULL) >= next) {
			next = time(NULL) + 1;
			/*
			 * A reader must never see the file truncated and not
			 * yet written: the spinner runs at nice 10 and can be
			 * preempted in between for longer than a reader waits.
			 */
			f = fopen(tmp, "w");
			if (f) {
				fprintf(f, "%llu\n", count);
				if (!fclose(f))
					rename(tmp, file);
			}
		}
	}
	return 0;
}

static int touch(const char *file, int delay)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	volatile unsigned char *p;
	int fd;

	fd = open(file, O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(file);
		return 2;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	sigaction(SIGBUS, &sa, NULL);
	printf("apf-probe: mapped %s, reading in %d s\n", file, delay);
	fflush(stdout);
	sleep(delay);
	printf("apf-probe: read 0x%x without a fault\n", p[0]);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "spin"))
		return spin(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "touch"))
		return touch(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: %s spin SECONDS FILE | touch FILE DELAY\n", argv[0]);
	return 2;
}
