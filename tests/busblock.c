/* A program whose segment is truncated under it while SIGBUS is blocked
 * in the thread that writes next: a fault on a blocked SIGBUS is forced
 * to the default action (the process dies, exit 135), so the shim must
 * never fault there.  Each dial writes 100 bytes to PORT.
 *
 *   busblock PORT SEGMENT threads|handler|raw
 *
 * threads: main blocks every signal before any socket (a sigwait daemon),
 *          starts two workers; the first dials (the shim attaches there),
 *          the segment is truncated, the second dials;
 * handler: main dials, the segment is truncated, a SIGALRM handler whose
 *          sa_mask is full dials and writes on main's socket;
 * raw:     main dials, blocks every signal with a raw
 *          syscall(SYS_rt_sigprocmask), the segment is truncated, main
 *          dials again.
 * Exits 0 when every write went through. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loopback.h"

static int port, held = -1;
static const char *seg;
static volatile sig_atomic_t handled;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;

static int dial_write(void)
{
	char buf[100];
	int fd = om_dial_loopback(port);

	memset(buf, 'b', sizeof buf);
	if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
		return -1;
	return fd;
}

static void wait_stage(int want)
{
	pthread_mutex_lock(&m);
	while (stage < want)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
}

static void set_stage(int s)
{
	pthread_mutex_lock(&m);
	stage = s;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
}

/* Truncate the segment, keeping its header beside it (SEGMENT.hdr): the
 * test removes the segment's semaphore set by the id the header names. */
static int cut(void)
{
	char path[4096], hdr[4096];
	FILE *in = fopen(seg, "rb"), *out;
	size_t n;

	snprintf(path, sizeof path, "%s.hdr", seg);
	if (!in || !(out = fopen(path, "wb")))
		return -1;
	n = fread(hdr, 1, sizeof hdr, in);
	fwrite(hdr, 1, n, out);
	fclose(in);
	fclose(out);
	return truncate(seg, 0);
}

static void *worker(void *arg)
{
	int first = arg != 0, fd;

	/* the first dials at stage 1; the second once the segment is gone */
	wait_stage(first ? 1 : 3);
	if ((fd = dial_write()) < 0)
		exit(1);
	close(fd);
	if (first)
		set_stage(2);
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (send(held, "a", 1, 0) == 1)
		handled = 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	port = atoi(argv[1]);
	seg = argv[2];
	if (!strcmp(argv[3], "threads")) {
		pthread_t a, b;
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, 0);
		if (pthread_create(&a, 0, worker, (void *)1) || pthread_create(&b, 0, worker, 0))
			return 1;
		set_stage(1);
		wait_stage(2); /* the first worker attached */
		if (cut() < 0)
			return 1;
		set_stage(3);
		pthread_join(a, 0);
		pthread_join(b, 0);
		return 0;
	}
	if ((held = dial_write()) < 0)
		return 1;
	if (!strcmp(argv[3], "handler")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sigfillset(&sa.sa_mask);
		if (sigaction(SIGALRM, &sa, 0) < 0 || cut() < 0)
			return 1;
		raise(SIGALRM);
		return handled ? 0 : 1;
	}
	if (!strcmp(argv[3], "raw")) {
		unsigned long all = ~0ul;
		int fd;

		if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, 0, sizeof all) < 0 ||
		    cut() < 0 || (fd = dial_write()) < 0)
			return 1;
		close(fd);
		return 0;
	}
	return 2;
}
