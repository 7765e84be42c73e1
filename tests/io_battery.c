/* Every wrapped call, on loopback, errors included.  Prints each call's
 * return value and errno (the run with and without the shim must print the
 * same), then what the shim should have counted, from the program's own
 * tally of bytes moved.  Both ends are in this process, so every byte is
 * counted once as egress and once as ingress. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);

static long egress, ingress, dials, refused, accepted;

/* A system call no preload can see: no libc, no syscall(). */
static long raw3(long n, long a, long b, long c)
{
	long r;

#if defined(__x86_64__)
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b,
		      x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	r = x0;
#else
	r = syscall(n, a, b, c);
#endif
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define SHOW(name, expr)                                                      \
	({                                                                    \
		long r_;                                                      \
		errno = 0;                                                    \
		r_ = (long)(expr);                                            \
		printf("%-24s = %d errno=%s\n", name, r_ < 0 ? -1 : r_ > 0 ? 1 : 0, \
		       r_ < 0 ? strerrorname_np(errno) : "-");                \
		r_;                                                           \
	})
#define OUT(name, expr) ({ long o_ = SHOW(name, expr); if (o_ > 0) egress += o_; o_; })
#define IN(name, expr) ({ long i_ = SHOW(name, expr); if (i_ > 0) ingress += i_; i_; })

static struct sockaddr_in lo(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

/* A UDP socket bound to an ephemeral loopback port, its address in *a. */
static int udp_bound(struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t sl = sizeof *a;

	*a = lo(0);
	bind(fd, (struct sockaddr *)a, sizeof *a);
	getsockname(fd, (struct sockaddr *)a, &sl);
	return fd;
}

static int listener(int *port)
{
	struct sockaddr_in sa = lo(0);
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	bind(ls, (struct sockaddr *)&sa, sizeof sa);
	listen(ls, 16);
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	*port = ntohs(sa.sin_port);
	return ls;
}

/* read exactly n bytes with whatever call, counting */
static void drain(int fd, long n)
{
	char buf[4096];

	while (n > 0) {
		ssize_t r = read(fd, buf, n < (long)sizeof buf ? (size_t)n : sizeof buf);

		if (r <= 0)
			exit(3);
		ingress += r;
		n -= r;
	}
}

int main(void)
{
	char buf[8192], small[100];
	struct iovec iov[3] = { { buf, 100 }, { buf + 100, 200 }, { buf + 300, 300 } };
	struct sockaddr_in sa, from;
	struct msghdr mh;
	struct mmsghdr mm[2];
	struct iovec miov[2] = { { buf, 64 }, { buf, 32 } };
	socklen_t sl;
	int port, ls, c, s, d, d2, d3, u1, u2, p[2], fd, nb, soerr;
	char tmpl[] = "/tmp/om-battery-XXXXXX";

	memset(buf, 'b', sizeof buf);
	ls = listener(&port);
	sa = lo(port);

	/* blocking connect + accept; then every data call both ways */
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (SHOW("connect", connect(c, (struct sockaddr *)&sa, sizeof sa)) == 0)
		dials++;
	s = (int)SHOW("accept", accept(ls, 0, 0));
	accepted++;
	OUT("write", write(c, buf, 1000));
	IN("read", read(s, buf, 1000));
	OUT("send", send(s, buf, 700, 0));
	SHOW("recv MSG_PEEK", recv(c, buf, 700, MSG_PEEK)); /* not counted */
	IN("recv", recv(c, buf, 700, 0));
	OUT("writev", writev(c, iov, 3));
	IN("readv", readv(s, iov, 3));
	OUT("sendto (connected)", sendto(s, buf, 333, 0, 0, 0));
	IN("recvfrom (connected)", recvfrom(c, buf, 333, 0, 0, 0));
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = iov;
	mh.msg_iovlen = 3;
	OUT("sendmsg", sendmsg(c, &mh, 0));
	IN("recvmsg", recvmsg(s, &mh, 0));
	OUT("syscall(SYS_write)", syscall(SYS_write, s, buf, 444));
	IN("syscall(SYS_read)", syscall(SYS_read, c, buf, 444));
	OUT("write 55", write(s, buf, 55));
	IN("__read_chk", __read_chk(c, buf, 55, sizeof buf));
	OUT("write 66", write(s, buf, 66));
	IN("__recv_chk", __recv_chk(c, buf, 66, sizeof buf, 0));
	OUT("write 77", write(s, buf, 77));
	IN("__recvfrom_chk", __recvfrom_chk(c, buf, 77, sizeof buf, 0, 0, 0));

	/* sendfile from a file into the socket */
	fd = mkstemp(tmpl);
	unlink(tmpl);
	if (write(fd, buf, 5000) != 5000)
		return 3;
	OUT("sendfile", sendfile(c, fd, &(off_t){ 0 }, 5000));
	drain(s, 5000);
	close(fd);

	/* dup, dup2, fcntl(F_DUPFD): the copies count too */
	d = (int)SHOW("dup", dup(c));
	OUT("write on dup", write(d, buf, 123));
	d2 = (int)SHOW("dup2", dup2(c, 200));
	OUT("write on dup2", write(d2, buf, 234));
	d3 = (int)SHOW("fcntl F_DUPFD", fcntl(c, F_DUPFD, 300));
	OUT("write on F_DUPFD", write(d3, buf, 345));
	drain(s, 123 + 234 + 345);
	SHOW("close dup", close(d));
	SHOW("close_range", close_range(200, 300, 0));

	/* accept4 and a connection closed through syscall(SYS_close) */
	{
		int c2 = socket(AF_INET, SOCK_STREAM, 0), s2;

		if (SHOW("connect 2", connect(c2, (struct sockaddr *)&sa, sizeof sa)) == 0)
			dials++;
		s2 = (int)SHOW("accept4", accept4(ls, 0, 0, SOCK_CLOEXEC));
		accepted++;
		OUT("send 2", send(c2, buf, 99, 0));
		IN("recv 2", recv(s2, buf, 99, 0));
		SHOW("syscall(SYS_close)", syscall(SYS_close, c2));
		SHOW("close accepted", close(s2));
	}

	/* libc's functions looked up by handle, as torsocks does before us in
	 * LD_PRELOAD: they are ours, and count */
	{
		void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
		ssize_t (*w)(int, const void *, size_t) =
			libc ? (ssize_t (*)(int, const void *, size_t))dlsym(libc, "write") : 0;

		if (!w)
			return 4;
		OUT("dlsym(libc) write", w(c, buf, 11));
		IN("read it", read(s, buf, 11));
	}

	/* dials behind our back, as a program bound past every preload makes
	 * them (raw system calls).  Followed as dials from the first call we
	 * see while the program has moved nothing on them, even if the peer
	 * has already spoken; not once the program has. */
	{
		int i, b[3], a[3];

		for (i = 0; i < 3; i++) {
			struct pollfd pf = { .events = POLLIN };

			b[i] = socket(AF_INET, SOCK_STREAM, 0);
			SHOW("raw connect", raw3(__NR_connect, b[i], (long)&sa, sizeof sa));
			a[i] = (int)SHOW("accept behind", accept(ls, 0, 0));
			accepted++;
			if (i < 2) {
				/* the peer speaks first and it has arrived */
				OUT("peer speaks", write(a[i], buf, 5));
				pf.fd = b[i];
				poll(&pf, 1, 5000);
			} else {
				/* the program has written already, unseen */
				SHOW("raw write", raw3(__NR_write, b[i], (long)buf, 10));
				IN("peer reads unseen", read(a[i], buf, 10));
			}
			if (i == 1)
				IN("read 2 of 5 first", read(b[i], buf, 2));
			OUT("send behind", send(b[i], buf, 50, 0));
			IN("peer reads", recv(a[i], buf, 50, MSG_WAITALL));
			if (i < 2) {
				IN("read the rest", read(b[i], buf, i == 1 ? 3 : 5));
				dials++;
			}
			close(b[i]);
			close(a[i]);
		}
	}

	/* UDP: connected pair with sendmmsg/recvmmsg, then an unconnected
	 * socket whose receive does not ask for the source address */
	{
		struct sockaddr_in ua, ub;

		u1 = udp_bound(&ua);
		u2 = udp_bound(&ub);
		SHOW("udp connect", connect(u1, (struct sockaddr *)&ub, sizeof ub));
		memset(mm, 0, sizeof mm);
		mm[0].msg_hdr.msg_iov = &miov[0];
		mm[0].msg_hdr.msg_iovlen = 1;
		mm[1].msg_hdr.msg_iov = &miov[1];
		mm[1].msg_hdr.msg_iovlen = 1;
		if (SHOW("sendmmsg", sendmmsg(u1, mm, 2, 0)) == 2)
			egress += 64 + 32;
		memset(mm, 0, sizeof mm);
		mm[0].msg_hdr.msg_iov = &miov[0];
		mm[0].msg_hdr.msg_iovlen = 1;
		mm[1].msg_hdr.msg_iov = &miov[1];
		mm[1].msg_hdr.msg_iovlen = 1;
		if (SHOW("recvmmsg", recvmmsg(u2, mm, 2, MSG_WAITFORONE, 0)) >= 1)
			ingress += mm[0].msg_len + mm[1].msg_len;
		while (mm[1].msg_len == 0 && recv(u2, buf, 32, MSG_DONTWAIT) == 32)
			ingress += 32, mm[1].msg_len = 32;
		OUT("sendto unconnected", sendto(u2, buf, 41, 0, (struct sockaddr *)&ua, sizeof ua));
		IN("recv unconnected", recv(u1, buf, 41, 0)); /* u1 is connected to u2 */
		OUT("sendto to u2", sendto(u1, buf, 42, 0, 0, 0));
		IN("recvfrom no address", recvfrom(u2, buf, 42, 0, 0, 0));
		OUT("sendto to u2 again", send(u1, buf, 43, 0));
		sl = sizeof from;
		IN("recvfrom address", recvfrom(u2, buf, 43, 0, (struct sockaddr *)&from, &sl));
		OUT("syscall(SYS_sendto)", syscall(SYS_sendto, u2, buf, 44, 0, &ua, sizeof ua));
		IN("recv 44", recv(u1, buf, 44, 0));
		close(u1);
		close(u2);
	}

	/* Unconnected UDP batches with a name per datagram: runs to one peer
	 * (counted as one by the shim), a peer between them, a DNS-port name
	 * that is not a run's, and receives with and without names. */
	{
		struct sockaddr_in ua, ub, uc, dns = lo(53), got[6];
		struct sockaddr_in *to[6] = { &ub, &ub, &uc, &ub, &ub, &dns };
		struct mmsghdr bm[6];
		struct iovec bv[6];
		int k, sent, x = udp_bound(&ua), y = udp_bound(&ub), z = udp_bound(&uc);

		memset(bm, 0, sizeof bm);
		for (k = 0; k < 6; k++) {
			bv[k].iov_base = buf;
			bv[k].iov_len = 10 + (size_t)k; /* 10..15 bytes */
			bm[k].msg_hdr.msg_iov = &bv[k];
			bm[k].msg_hdr.msg_iovlen = 1;
			bm[k].msg_hdr.msg_name = to[k];
			bm[k].msg_hdr.msg_namelen = sizeof *to[k];
		}
		/* the DNS-port datagram goes nowhere (nothing listens there) but
		 * leaves: the kernel accepts it */
		sent = (int)SHOW("sendmmsg named", sendmmsg(x, bm, 6, 0));
		for (k = 0; k < sent; k++)
			egress += bm[k].msg_len;
		/* y takes four (10, 11, 13, 14), with names; z one (12), without */
		for (k = 0; k < 4; k++) {
			bm[k].msg_hdr.msg_name = &got[k];
			bm[k].msg_hdr.msg_namelen = sizeof got[k];
			bv[k].iov_len = 64;
		}
		k = (int)SHOW("recvmmsg named", recvmmsg(y, bm, 4, MSG_WAITALL, 0));
		while (k-- > 0)
			ingress += bm[k].msg_len;
		bm[0].msg_hdr.msg_name = 0;
		bm[0].msg_hdr.msg_namelen = 0;
		k = (int)SHOW("recvmmsg lent names", recvmmsg(z, bm, 1, 0, 0));
		if (k == 1)
			ingress += bm[0].msg_len;
		close(x);
		close(y);
		close(z);
	}

	/* non-blocking connect refused, resolved through SO_ERROR */
	{
		int closed_port, l2 = listener(&closed_port);
		struct sockaddr_in ca = lo(closed_port);
		struct pollfd pf;

		close(l2); /* now nothing listens there */
		nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		SHOW("connect nonblock", connect(nb, (struct sockaddr *)&ca, sizeof ca));
		pf.fd = nb;
		pf.events = POLLOUT;
		poll(&pf, 1, 5000);
		sl = sizeof soerr;
		SHOW("getsockopt SO_ERROR", getsockopt(nb, SOL_SOCKET, SO_ERROR, &soerr, &sl));
		printf("so_error = %s\n", strerrorname_np(soerr));
		if (soerr == ECONNREFUSED)
			refused++;
		close(nb);
	}

	/* bad pointers: EFAULT, as without the shim, never a crash.  Where
	 * the kernel reads the pointer only once data is there, a datagram or
	 * a connection is made to wait first.  Not with the ASan runtime in
	 * the process: its own interceptors read these pointers first. */
	if (!getenv("OM_NO_EFAULT")) {
		void *bad = (void *)16; /* never mapped */
		struct sockaddr_in ua = lo(0), ub = lo(0);
		struct msghdr badname;
		int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
		int t = socket(AF_INET, SOCK_STREAM, 0), pend;

		bind(u, (struct sockaddr *)&ua, sizeof ua);
		bind(v, (struct sockaddr *)&ub, sizeof ub);
		sl = sizeof ua;
		getsockname(u, (struct sockaddr *)&ua, &sl);
		SHOW("connect EFAULT", connect(t, bad, sizeof(struct sockaddr_in)));
		SHOW("connect udp EFAULT", connect(v, bad, sizeof(struct sockaddr_in)));
		SHOW("sendto EFAULT addr", sendto(v, buf, 10, 0, bad, sizeof(struct sockaddr_in)));
		SHOW("sendmsg EFAULT header", sendmsg(v, bad, 0));
		memset(&badname, 0, sizeof badname);
		badname.msg_name = bad;
		badname.msg_namelen = sizeof(struct sockaddr_in);
		badname.msg_iov = iov;
		badname.msg_iovlen = 1;
		SHOW("sendmsg EFAULT name", sendmsg(v, &badname, 0));
		SHOW("sendmmsg EFAULT vector", sendmmsg(v, bad, 2, 0));
		OUT("datagram for recvfrom", sendto(v, buf, 21, 0, (struct sockaddr *)&ua, sizeof ua));
		sl = sizeof from;
		SHOW("recvfrom EFAULT addr", recvfrom(u, buf, sizeof buf, 0, bad, &sl));
		OUT("datagram for recvfrom 2", sendto(v, buf, 22, 0, (struct sockaddr *)&ua, sizeof ua));
		SHOW("recvfrom EFAULT len", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, bad));
		SHOW("recvmsg EFAULT header", recvmsg(u, bad, MSG_DONTWAIT));
		OUT("datagram for recvmsg", sendto(v, buf, 23, 0, (struct sockaddr *)&ua, sizeof ua));
		badname.msg_iov = &(struct iovec){ buf, sizeof buf };
		SHOW("recvmsg EFAULT name", recvmsg(u, &badname, 0));
		OUT("datagram for recvmmsg", sendto(v, buf, 24, 0, (struct sockaddr *)&ua, sizeof ua));
		SHOW("recvmmsg EFAULT vector", recvmmsg(u, bad, 2, 0, 0));
		IN("drain recvmmsg datagram", recv(u, buf, sizeof buf, MSG_DONTWAIT));
		/* accept with a connection waiting: lost, as without us */
		pend = socket(AF_INET, SOCK_STREAM, 0);
		if (SHOW("connect for accept", connect(pend, (struct sockaddr *)&sa, sizeof sa)) == 0)
			dials++;
		sl = sizeof from;
		SHOW("accept EFAULT addr", accept(ls, bad, &sl));
		close(pend);
		pend = socket(AF_INET, SOCK_STREAM, 0);
		if (SHOW("connect for accept 2", connect(pend, (struct sockaddr *)&sa, sizeof sa)) == 0)
			dials++;
		SHOW("accept EFAULT len", accept(ls, (struct sockaddr *)&from, bad));
		close(pend);
		close(u);
		close(v);
		close(t);
	}

	/* errors pass through untouched */
	SHOW("read closed fd", read(999, small, 1));
	SHOW("write bad fd", write(-1, small, 1));
	SHOW("recv on pipe", (pipe(p), recv(p[0], small, 1, MSG_DONTWAIT)));
	SHOW("send unconnected", send(socket(AF_INET, SOCK_STREAM, 0), small, 1, MSG_NOSIGNAL));
	SHOW("connect bad family", connect(socket(AF_INET, SOCK_STREAM, 0),
					   (struct sockaddr *)&(struct sockaddr_in){ .sin_family = 99 },
					   sizeof(struct sockaddr_in)));
	SHOW("accept non-socket", accept(p[0], 0, 0));
	SHOW("close twice", (close(p[1]), close(p[1])));
	SHOW("getsockopt bad fd", getsockopt(-1, SOL_SOCKET, SO_ERROR, &soerr, &sl));
	SHOW("dup bad fd", dup(-1));
	SHOW("fcntl F_GETFL", fcntl(p[0], F_GETFL) >= 0);
	SHOW("syscall(SYS_close) bad", syscall(SYS_close, 4000));
	SHOW("syscall(SYS_getpid)", syscall(SYS_getpid) > 0);

	/* pipes and files are not sockets: never counted */
	if (pipe(p) == 0) {
		if (write(p[1], buf, 999) != 999 || read(p[0], buf, 999) != 999)
			return 3;
	}
	close(c);
	close(s);
	close(ls);
	printf("EXPECT egress=%ld ingress=%ld dials=%ld refused=%ld accepted=%ld\n", egress,
	       ingress, dials, refused, accepted);
	return 0;
}
