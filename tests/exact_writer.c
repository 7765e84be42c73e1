/* Runs under the shim: PROCS forked processes (plus this one), each with
 * THREADS threads moving known byte counts over loopback TCP to an echo
 * sink, while SIGALRM handlers write on another connection mid-count.
 * Writes to REPORT_FD how many bytes the handlers moved, per process. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int port, nthreads, nconns, nwrites, size, report_fd;
static int sigconn = -1;
/* handlers run concurrently on different threads: count atomically */
static long sig_bytes;

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("exact_writer: connect");
		exit(3);
	}
	return fd;
}

static void xfer(int fd, char *buf, int n, int out, int alt)
{
	int off = 0;

	while (off < n) {
		ssize_t r = out ? (alt ? send(fd, buf + off, (size_t)(n - off), 0)
				       : write(fd, buf + off, (size_t)(n - off)))
				: (alt ? recv(fd, buf + off, (size_t)(n - off), 0)
				       : read(fd, buf + off, (size_t)(n - off)));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "exact_writer: %s: %s\n", out ? "write" : "read",
				r ? strerror(errno) : "EOF");
			exit(3);
		}
		off += (int)r;
	}
}

static void on_alarm(int sig)
{
	int err = errno;

	(void)sig;
	if (write(sigconn, "s", 1) == 1) /* accounted from inside a handler */
		__atomic_fetch_add(&sig_bytes, 1, __ATOMIC_RELAXED);
	errno = err;
}

static void *thread_main(void *arg)
{
	char *buf = malloc((size_t)size);
	int c, w;

	(void)arg;
	memset(buf, 'x', (size_t)size);
	for (c = 0; c < nconns; c++) {
		int fd = dial();

		for (w = 0; w < nwrites; w++) {
			xfer(fd, buf, size, 1, w & 1);
			xfer(fd, buf, size, 0, w & 1);
		}
		close(fd);
	}
	free(buf);
	return 0;
}

static void work(void)
{
	struct itimerval it = { { 0, 500 }, { 0, 500 } }, off = { { 0, 0 }, { 0, 0 } };
	struct sigaction sa;
	pthread_t *t = calloc((size_t)nthreads, sizeof *t);
	char line[32], drain[256];
	long got = 0;
	ssize_t r;
	int i;

	sigconn = dial();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, 0);
	setitimer(ITIMER_REAL, &it, 0);
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], 0, thread_main, 0);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], 0);
	setitimer(ITIMER_REAL, &off, 0);
	signal(SIGALRM, SIG_IGN);
	shutdown(sigconn, SHUT_WR);
	while ((r = read(sigconn, drain, sizeof drain)) > 0 || (r < 0 && errno == EINTR))
		got += r > 0 ? r : 0;
	close(sigconn);
	if (got != sig_bytes) {
		fprintf(stderr, "exact_writer: echo of handler bytes %ld != %ld\n", got,
			sig_bytes);
		exit(3);
	}
	snprintf(line, sizeof line, "%ld\n", sig_bytes);
	if (write(report_fd, line, strlen(line)) < 0)
		exit(3);
	free(t);
}

int main(int argc, char **argv)
{
	int procs, i, st, rc = 0;

	if (argc != 8) {
		fprintf(stderr, "usage: exact_writer PORT PROCS THREADS CONNS WRITES SIZE REPORT_FD\n");
		return 2;
	}
	port = atoi(argv[1]);
	procs = atoi(argv[2]);
	nthreads = atoi(argv[3]);
	nconns = atoi(argv[4]);
	nwrites = atoi(argv[5]);
	size = atoi(argv[6]);
	report_fd = atoi(argv[7]);
	for (i = 0; i < procs; i++) {
		pid_t p = fork();

		if (p == 0) {
			work();
			_exit(0);
		}
		if (p < 0)
			return 3;
	}
	work();
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 3;
	return rc;
}
