/* Micro-workloads for the shim's per-call cost.
 *
 *   iobench tracked N     N x (write 1 byte, read 1 byte) on loopback TCP
 *   iobench untracked N   N x (write 1 byte, read 1 byte) on a pipe
 *   iobench send|sendto|vec|msg N   the same with send/recv, sendto/recvfrom
 *                         (no address), writev/readv, sendmsg/recvmsg (no
 *                         name) on loopback TCP
 *   iobench umsg N        sendmsg/recvmsg on a unix socket pair (untracked)
 *   iobench mmsg N        N x (sendmmsg, recvmmsg) of 8 one-byte datagrams
 *                         on a connected loopback UDP pair
 *   iobench mmsg1 N       the same with one datagram per call
 *   iobench mmsgname N    N x (sendmmsg, recvmmsg) of 8 datagrams with a
 *                         name each, on unconnected loopback UDP sockets
 *   iobench udp N         N x (sendto with an address, recv without one) on
 *                         unconnected loopback UDP sockets
 *   iobench churn N       N x (socket, connect, accept, close, close)
 *   iobench nbchurn N     the same with a non-blocking connect: socket,
 *                         connect (EINPROGRESS), accept, getsockopt
 *                         (SO_ERROR), close, close
 *   iobench pingpong N SIZE   N round trips of SIZE bytes with a child echo
 *   iobench bulk BYTES    stream BYTES in 64 KiB writes to a child reader
 *   iobench threads T N   T threads, each N x 64-byte write+read on its own
 *                         loopback connection
 * Prints nothing on success; exit status 0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg, recvmmsg (musl-gcc builds this too) */
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int ls;
static struct sockaddr_in addr;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void listen_lo(void)
{
	socklen_t sl = sizeof addr;

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1024) < 0 ||
	    getsockname(ls, (struct sockaddr *)&addr, &sl) < 0)
		die("listen");
}

/* Threads share the listener: without the lock a thread may accept
 * another's connection, and then each thread's reads wait for another
 * thread's writes (a context switch per read, a ratio that measures
 * scheduling luck). */
static pthread_mutex_t pair_lock = PTHREAD_MUTEX_INITIALIZER;

static void pair(int *c, int *s)
{
	int one = 1;

	pthread_mutex_lock(&pair_lock);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (struct sockaddr *)&addr, sizeof addr) < 0)
		die("connect");
	*s = accept(ls, 0, 0);
	if (*s < 0)
		die("accept");
	pthread_mutex_unlock(&pair_lock);
	setsockopt(*c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(*s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Two loopback UDP sockets on ephemeral ports; connected to each other
 * when asked. */
static void udp_pair(int *c, int *s, struct sockaddr_in *ua, struct sockaddr_in *ub, int conn)
{
	socklen_t sl = sizeof *ua;

	*ua = *ub = addr;
	ua->sin_port = ub->sin_port = 0;
	*c = socket(AF_INET, SOCK_DGRAM, 0);
	*s = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(*c, (struct sockaddr *)ua, sizeof *ua) < 0 ||
	    bind(*s, (struct sockaddr *)ub, sizeof *ub) < 0 ||
	    getsockname(*s, (struct sockaddr *)ub, &sl) < 0 ||
	    getsockname(*c, (struct sockaddr *)ua, &sl) < 0)
		die("udp");
	if (conn && (connect(*c, (struct sockaddr *)ub, sizeof *ub) < 0 ||
		     connect(*s, (struct sockaddr *)ua, sizeof *ua) < 0))
		die("udp connect");
}

static void full(int fd, char *buf, long n, int out)
{
	while (n > 0) {
		ssize_t r = out ? write(fd, buf, (size_t)n) : read(fd, buf, (size_t)n);

		if (r <= 0)
			die(out ? "write" : "read");
		buf += r;
		n -= r;
	}
}

static long iters;

static void *thread_pingpong(void *arg)
{
	char buf[64] __attribute__((aligned(64))) = { 0 };
	int c, s;
	long i;

	(void)arg;
	pair(&c, &s);
	for (i = 0; i < iters; i++) {
		full(c, buf, sizeof buf, 1);
		full(s, buf, sizeof buf, 0);
	}
	close(c);
	close(s);
	return 0;
}

/* Page aligned and static: a stack buffer's alignment moves with the size
 * of the environment (LD_PRELOAD adds to it), and the kernel's copies are
 * alignment-sensitive enough to swamp what is being measured. */
static char buf[65536] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 1000, i;
	int c, s, p[2];

	if (argc < 3) {
		fprintf(stderr, "usage: iobench WORKLOAD N ... (see the comment at the top of bench/iobench.c)\n");
		return 2;
	}
	memset(buf, 'x', sizeof buf);
	listen_lo();
	if (!strcmp(argv[1], "tracked")) {
		pair(&c, &s);
		for (i = 0; i < n; i++) {
			if (write(c, buf, 1) != 1 || read(s, buf, 1) != 1)
				die("io");
		}
	} else if (!strcmp(argv[1], "untracked")) {
		if (pipe(p) < 0)
			die("pipe");
		for (i = 0; i < n; i++) {
			if (write(p[1], buf, 1) != 1 || read(p[0], buf, 1) != 1)
				die("io");
		}
	} else if (!strcmp(argv[1], "send") || !strcmp(argv[1], "sendto") ||
		   !strcmp(argv[1], "vec") || !strcmp(argv[1], "msg") || !strcmp(argv[1], "umsg")) {
		struct iovec v = { buf, 1 };
		struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
		char w = argv[1][0] == 'u' ? 'u' : argv[1][4] == 't' ? 't' : argv[1][0];
		int sv[2];

		if (w == 'u') {
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
				die("socketpair");
			c = sv[0];
			s = sv[1];
		} else {
			pair(&c, &s);
		}
		for (i = 0; i < n; i++) {
			ssize_t a, b;

			switch (w) {
			case 's': a = send(c, buf, 1, 0), b = recv(s, buf, 1, 0); break;
			case 't': a = sendto(c, buf, 1, 0, 0, 0), b = recvfrom(s, buf, 1, 0, 0, 0); break;
			case 'v': a = writev(c, &v, 1), b = readv(s, &v, 1); break;
			default: a = sendmsg(c, &m, 0), b = recvmsg(s, &m, 0); break;
			}
			if (a != 1 || b != 1)
				die("io");
		}
	} else if (!strncmp(argv[1], "mmsg", 4)) {
		/* mmsg and mmsg1 connect both ends; mmsgname names every datagram */
		int named = !strcmp(argv[1], "mmsgname"), per = argv[1][4] == '1' ? 1 : 8;
		struct sockaddr_in ua, ub, from[8];
		struct iovec v[8];
		struct mmsghdr mm[8];
		int k;

		udp_pair(&c, &s, &ua, &ub, !named);
		memset(mm, 0, sizeof mm);
		for (k = 0; k < 8; k++) {
			v[k].iov_base = buf + k;
			v[k].iov_len = 1;
			mm[k].msg_hdr.msg_iov = &v[k];
			mm[k].msg_hdr.msg_iovlen = 1;
		}
		for (i = 0; i < n; i++) {
			for (k = 0; named && k < per; k++) {
				mm[k].msg_hdr.msg_name = &ub;
				mm[k].msg_hdr.msg_namelen = sizeof ub;
			}
			if (sendmmsg(c, mm, (unsigned)per, 0) != per)
				die("sendmmsg");
			for (k = 0; named && k < per; k++) {
				mm[k].msg_hdr.msg_name = &from[k];
				mm[k].msg_hdr.msg_namelen = sizeof from[k];
			}
			if (recvmmsg(s, mm, (unsigned)per, MSG_WAITALL, 0) != per)
				die("recvmmsg");
		}
	} else if (!strcmp(argv[1], "udp")) {
		struct sockaddr_in ua, ub;

		udp_pair(&c, &s, &ua, &ub, 0);
		for (i = 0; i < n; i++) {
			if (sendto(c, buf, 1, 0, (struct sockaddr *)&ub, sizeof ub) != 1 ||
			    recv(s, buf, 1, 0) != 1)
				die("udp");
		}
	} else if (!strcmp(argv[1], "nbchurn")) {
		for (i = 0; i < n; i++) {
			int err;
			socklen_t el = sizeof err;

			c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (connect(c, (struct sockaddr *)&addr, sizeof addr) == 0 || errno != EINPROGRESS)
				die("connect");
			if ((s = accept(ls, 0, 0)) < 0)
				die("accept");
			if (getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)
				die("SO_ERROR");
			close(c);
			close(s);
		}
	} else if (!strcmp(argv[1], "churn")) {
		for (i = 0; i < n; i++) {
			pair(&c, &s);
			close(c);
			close(s);
		}
	} else if (!strcmp(argv[1], "pingpong")) {
		long size = argc > 3 ? atol(argv[3]) : 64;
		pid_t kid;

		kid = fork();
		if (kid == 0) {
			s = accept(ls, 0, 0);
			for (;;) {
				ssize_t r = read(s, buf, sizeof buf);

				if (r <= 0 || write(s, buf, (size_t)r) != r)
					_exit(0);
			}
		}
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0)
			die("connect");
		{
			int one = 1;

			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		}
		for (i = 0; i < n; i++) {
			full(c, buf, size, 1);
			full(c, buf, size, 0);
		}
		close(c);
		waitpid(kid, 0, 0);
	} else if (!strcmp(argv[1], "bulk")) {
		pid_t kid = fork();

		if (kid == 0) {
			s = accept(ls, 0, 0);
			while (read(s, buf, sizeof buf) > 0)
				;
			_exit(0);
		}
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&addr, sizeof addr) < 0)
			die("connect");
		for (i = 0; i < n; i += (long)sizeof buf)
			full(c, buf, sizeof buf, 1);
		close(c);
		waitpid(kid, 0, 0);
	} else if (!strcmp(argv[1], "threads")) {
		int t, nt = atoi(argv[2]);
		pthread_t *th = calloc((size_t)nt, sizeof *th);

		iters = argc > 3 ? atol(argv[3]) : 1000;
		for (t = 0; t < nt; t++)
			pthread_create(&th[t], 0, thread_pingpong, 0);
		for (t = 0; t < nt; t++)
			pthread_join(th[t], 0);
	} else {
		fprintf(stderr, "unknown workload %s\n", argv[1]);
		return 2;
	}
	return 0;
}
