/* Programs that go around a preload, for it_around.sh.  Each prints what
 * it moved (its own tally) so the test can hold the segment to it, and the
 * servers' logs to both.
 *
 *   around deepbind PLUGIN IP PORT N   dlopen PLUGIN with RTLD_DEEPBIND and
 *                                     let it send N bytes to IP:PORT
 *   around udpfirst IP PORT            one datagram on a fresh unconnected
 *                                     socket through each of sendmsg,
 *                                     sendmmsg, recvmsg, recvmmsg (PORT
 *                                     echoes)
 *   around tfo sendto|sendmsg IP PORT  100 bytes with MSG_FASTOPEN
 *   around fclose IP PORT FILE         a socket fdopen()ed and fclose()d,
 *                                     its number reused by open(FILE), 1 MiB
 *                                     written to the file
 *   around clone IP PORT N             N raw clone(SIGCHLD) children each
 *                                     write 1 byte 100 times on the
 *                                     inherited connection
 *   around race IP PORT N HOST         N connections through an HTTP CONNECT
 *                                     proxy, the reply read by another
 *                                     thread than the one that writes the
 *                                     request, both started together */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static struct sockaddr_in addr(const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)) };

	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

static int dial(struct sockaddr_in sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		exit(3);
	}
	return fd;
}

static void full(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t r = write(fd, b, n);

		if (r <= 0)
			exit(3);
		b += r;
		n -= (size_t)r;
	}
}

static int deepbind(char **a)
{
	void *h = dlopen(a[0], RTLD_NOW | RTLD_DEEPBIND);
	long (*fetch)(const char *, int, long);

	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 3;
	}
	fetch = (long (*)(const char *, int, long))dlsym(h, "plugin_send");
	printf("sent %ld\n", fetch(a[1], atoi(a[2]), atol(a[3])));
	return 0;
}

static int udpfirst(char **a)
{
	struct sockaddr_in sa = addr(a[0], a[1]), from;
	char buf[2048];
	long out = 0, in = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct iovec v = { buf, 100 + (size_t)i };
		struct msghdr m = { .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &v,
				    .msg_iovlen = 1 };
		struct mmsghdr mm = { .msg_hdr = m };
		ssize_t r;

		memset(buf, 'u', sizeof buf);
		/* the first datagram of a fresh socket: sendmsg or sendmmsg */
		r = i % 2 ? (sendmmsg(u, &mm, 1, 0) == 1 ? (ssize_t)mm.msg_len : -1)
			  : sendmsg(u, &m, 0);
		if (r <= 0)
			return 3;
		out += r;
		/* and the echo back: recvmsg or recvmmsg, no name asked */
		v.iov_len = sizeof buf;
		m.msg_name = 0;
		m.msg_namelen = 0;
		mm.msg_hdr = m;
		r = i < 2 ? recvmsg(u, &m, 0) : (recvmmsg(u, &mm, 1, 0, 0) == 1 ? (ssize_t)mm.msg_len : -1);
		if (r <= 0)
			return 3;
		in += r;
		close(u);
	}
	/* and receives first: a socket that has sent nothing through us yet
	 * gets a datagram from a raw sender */
	for (i = 0; i < 2; i++) {
		int u = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in me = { .sin_family = AF_INET };
		socklen_t sl = sizeof me;
		struct iovec v = { buf, sizeof buf };
		struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
		struct mmsghdr mm = { .msg_hdr = m };
		ssize_t r;

		inet_pton(AF_INET, a[0], &me.sin_addr);
		bind(u, (struct sockaddr *)&me, sizeof me);
		getsockname(u, (struct sockaddr *)&me, &sl);
		/* sent through syscall(), which is accounted too */
		if (syscall(SYS_sendto, tx, buf, 77 + i, 0, &me, sizeof me) != 77 + i)
			return 3;
		out += 77 + i;
		r = i == 0 ? recvmsg(u, &m, 0) : (recvmmsg(u, &mm, 1, 0, 0) == 1 ? (ssize_t)mm.msg_len : -1);
		if (r <= 0)
			return 3;
		in += r;
		close(u);
		close(tx);
	}
	(void)from;
	printf("egress %ld ingress %ld\n", out, in);
	return 0;
}

static int tfo(char **a)
{
	struct sockaddr_in sa = addr(a[1], a[2]);
	char buf[100];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t r;

	memset(buf, 't', sizeof buf);
	if (!strcmp(a[0], "sendto")) {
		r = sendto(fd, buf, sizeof buf, MSG_FASTOPEN, (struct sockaddr *)&sa, sizeof sa);
	} else {
		struct iovec v = { buf, sizeof buf };
		struct msghdr m = { .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &v,
				    .msg_iovlen = 1 };

		r = sendmsg(fd, &m, MSG_FASTOPEN);
	}
	printf("%s %zd %s\n", a[0], r, r < 0 ? strerror(errno) : "ok");
	if (r > 0) {
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof buf) > 0)
			;
	}
	close(fd);
	return 0;
}

static int fclose_reuse(char **a)
{
	static char mib[1 << 20];
	int fd = dial(addr(a[0], a[1])), again;
	FILE *f = fdopen(fd, "w");

	fprintf(f, "over the socket\n"); /* 16 bytes, written inside libc */
	fclose(f);
	again = open(a[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (again != fd) {
		fprintf(stderr, "the number was not reused (%d, %d)\n", fd, again);
		return 4;
	}
	memset(mib, 'f', sizeof mib);
	full(again, mib, sizeof mib);
	close(again);
	printf("file %d bytes on fd %d\n", (int)sizeof mib, again);
	return 0;
}

static int raw_clone(char **a)
{
	int fd = dial(addr(a[0], a[1])), n = atoi(a[2]), i, k;
	char b = 'c';

	for (i = 0; i < n; i++) {
		long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);

		if (pid == 0) {
			for (k = 0; k < 100; k++)
				full(fd, &b, 1);
			_exit(0);
		}
		for (k = 0; k < 100; k++) /* the parent too, at the same time */
			full(fd, &b, 1);
		waitpid((pid_t)pid, 0, 0);
	}
	printf("wrote %d\n", n * 200);
	return 0;
}

struct race {
	int fd;
	pthread_barrier_t go;
	char reply[64];
	ssize_t got;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->go);
	r->got = read(r->fd, r->reply, sizeof r->reply);
	return 0;
}

static int race(char **a)
{
	struct sockaddr_in sa = addr(a[0], a[1]);
	int n = atoi(a[2]), i, ok = 0;
	char req[512];

	snprintf(req, sizeof req, "CONNECT %s:80 HTTP/1.1\r\nHost: %s:80\r\n\r\n", a[3], a[3]);
	for (i = 0; i < n; i++) {
		struct race r = { .fd = dial(sa) };
		pthread_t t;

		pthread_barrier_init(&r.go, 0, 2);
		pthread_create(&t, 0, race_reader, &r);
		pthread_barrier_wait(&r.go);
		full(r.fd, req, strlen(req));
		pthread_join(t, 0);
		if (r.got > 12 && !memcmp(r.reply, "HTTP/1.1 200", 12))
			ok++;
		full(r.fd, "GET / HTTP/1.0\r\n\r\n", 18);
		shutdown(r.fd, SHUT_WR);
		while (read(r.fd, req, sizeof req) > 0)
			;
		close(r.fd);
		pthread_barrier_destroy(&r.go);
		snprintf(req, sizeof req, "CONNECT %s:80 HTTP/1.1\r\nHost: %s:80\r\n\r\n", a[3], a[3]);
	}
	printf("connected %d of %d\n", ok, n);
	return ok == n ? 0 : 5;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*fn)(char **);
	} cmds[] = { { "deepbind", 4, deepbind }, { "udpfirst", 2, udpfirst },
		     { "tfo", 3, tfo },           { "fclose", 3, fclose_reuse },
		     { "clone", 3, raw_clone },   { "race", 4, race } };
	unsigned i;

	for (i = 0; argc > 1 && i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(argv[1], cmds[i].name) && argc - 2 == cmds[i].args)
			return cmds[i].fn(argv + 2);
	fprintf(stderr, "usage: see around.c\n");
	return 2;
}
