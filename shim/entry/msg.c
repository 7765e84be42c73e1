/* The calls that carry addresses or many buffers: sendto, recvfrom,
 * sendmsg, recvmsg, sendmmsg, recvmmsg.
 *
 * On a classified socket they count the call's result and nothing else,
 * like read() and write().  Addresses matter for unconnected UDP, whose
 * datagrams are classified one by one (a receive that asks for no source
 * address is lent one), and for TCP Fast Open, where sendto() and
 * sendmsg() with MSG_FASTOPEN are a connect(). */
#include <string.h>

#include "entry/wrap.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

/* After a send that named sa (accepted by the kernel): questions read,
 * unless the socket is connected to a DNS port, whose slow path reads
 * them.  1 if sa is a DNS port. */
static int dns_named(int fd, const struct sockaddr *sa, socklen_t len,
		     const struct iovec *iov, int cnt, ssize_t r)
{
	struct om_fd *e = om_fd_peek(fd);
	int stream;

	if (om_cfg.enforce || (e && (e->flags & OM_FDF_DNS)))
		return 0;
	/* no DNS port named: no DNS, the socket's own DNS flag aside (above) */
	if (!om_dns_dest(sa, len) || !om_dns_send(fd, sa, len, &stream))
		return 0;
	om_leak_dns(stream, iov, cnt, (size_t)r, 0);
	return 1;
}

/* Before a receive on a socket we have not met: is it an unconnected UDP
 * socket (whose datagrams need their source address)? */
static int dgram_unconnected(int fd)
{
	return om_hot_ingress(fd, om_hot(fd)) == OM_HOT_DGRAM;
}

/* Does a call on fd need the datagram's address?  Not once it is
 * classified, nor when we ignore it. */
static int wants_addr(int fd)
{
	return !(om_hot(fd) & (OM_HOT_COUNT | OM_HOT_IGNORE));
}

/* fd's hot byte, adopting the socket first if we have not met it (the
 * first datagram of a new UDP socket must not go uncounted). */
static uint8_t hot_adopting(int fd, int dir, ssize_t r)
{
	uint8_t h = om_hot(fd);
	struct om_fd *e;

	if (h == OM_HOT_NONE)
		h = (e = om_adopt(fd, dir, r)) ? om_fd_hot(e) : OM_HOT_IGNORE;
	return h;
}

/* Is a name the same address as the one before it in a batch?  A
 * sockaddr_in is two words, compared inline (gcc calls memcmp for it). */
static inline int same_name(const void *a, socklen_t al, const void *b, socklen_t bl)
{
	if (!b || al != bl)
		return 0;
	if (al == sizeof(struct sockaddr_in)) {
		uint64_t x[2], y[2];

		memcpy(x, a, sizeof x);
		memcpy(y, b, sizeof y);
		return !((x[0] ^ y[0]) | (x[1] ^ y[1]));
	}
	return !memcmp(a, b, al);
}

/* Datagrams of one batch with one name after another are a run: one
 * classification and one add for all of them (*mmsg to one peer), where
 * the count per datagram would be the same.  d: the name's enum om_dest. */
struct dgram_run {
	const struct sockaddr *sa;
	socklen_t len;
	int dir, d;
	uint64_t bytes;
};

static void run_flush(struct dgram_run *run)
{
	if (run->sa)
		om_datagram_run(run->dir, run->d, (ssize_t)run->bytes);
	run->sa = 0;
}

static void run_start(struct dgram_run *run, const struct sockaddr *sa, socklen_t len, int d,
		      ssize_t r)
{
	run_flush(run);
	run->sa = sa;
	run->len = len;
	run->d = d;
	run->bytes = (uint64_t)r;
}

/* A datagram received from sa (the kernel's, or one lent to it). */
static void run_add(struct dgram_run *run, const struct sockaddr *sa, socklen_t len, ssize_t r)
{
	if (r <= 0)
		return;
	if (same_name(sa, len, run->sa, run->len))
		run->bytes += (uint64_t)r;
	else
		run_start(run, sa, len, (int)om_classify(sa, len), r);
}

static void judge_direct(int fd, int d, const struct sockaddr *sa, socklen_t len)
{
	struct om_fd *e = om_fd_peek(fd);

	if (!e || !(e->flags & OM_FDF_TCP))
		om_leak_dest_as(fd, d, sa, len, 1);
}

/* A send to a named destination d (the kernel accepted sa), observed:
 * a leak?  Per datagram, as each one leaves.  Enforcing, it was judged
 * before the call; a TCP socket ignores the name (TCP Fast Open was
 * judged as the connect it is).  Inline to its first test: most named
 * datagrams are not direct. */
static inline void judge_named(int fd, int d, const struct sockaddr *sa, socklen_t len)
{
	if (d == OM_DEST_DIRECT && !om_cfg.enforce)
		judge_direct(fd, d, sa, len);
}

/* r bytes moved in one message to or from sa (accepted by the kernel),
 * as iov/cnt: judged, and counted as a datagram if fd is an unconnected
 * UDP socket (1), else left to the caller to count as a stream's (0).
 * With run: a datagram not to a DNS port starts a new run (the caller
 * adds the run's name again to it: neither DNS, since the run's was not,
 * nor a socket to adopt, since the run's message adopted it). */
static int acct_named(int fd, int dir, const struct sockaddr *sa, socklen_t len,
		      const struct iovec *iov, int cnt, ssize_t r, struct dgram_run *run)
{
	uint8_t h;
	int d, dns = 0;

	if (!sa || !len || r < 0)
		return 0;
	d = (int)om_classify(sa, len);
	if (dir == OM_EGRESS)
		judge_named(fd, d, sa, len);
	if (r == 0)
		return 0;
	h = hot_adopting(fd, dir, r);
	if (dir == OM_EGRESS)
		dns = dns_named(fd, sa, len, iov, cnt, r);
	if (h != OM_HOT_DGRAM)
		return 0;
	if (run && !dns) {
		run_start(run, sa, len, d, r);
	} else {
		if (run)
			run_flush(run);
		om_datagram_as(dir, d, r);
	}
	return 1;
}

/* A datagram to or from sa, or a stream's bytes: r bytes moved.  sa was
 * accepted by the kernel.  Inline in sendto() and recvfrom(), where a
 * call level is a tenth of what an unconnected datagram costs us. */
static inline __attribute__((always_inline)) void acct_addr(int fd, int dir, const void *buf,
							     ssize_t r, const struct sockaddr *sa,
							     socklen_t len)
{
	struct iovec v = { (void *)buf, r > 0 ? (size_t)r : 0 };

	if (!acct_named(fd, dir, sa, len, &v, 1, r, 0))
		om_io(fd, dir, buf, r);
}

void om_acct_addr(int fd, int dir, const void *buf, ssize_t r,
		  const struct sockaddr *sa, socklen_t len)
{
	acct_addr(fd, dir, buf, r, sa, len);
}

/* m was accepted by the kernel. */
void om_acct_msg(int fd, int dir, const struct msghdr *m, ssize_t r)
{
	if (r >= 0 && !acct_named(fd, dir, m->msg_name, m->msg_namelen, m->msg_iov,
				  (int)m->msg_iovlen, r, 0))
		om_iov(fd, dir, m->msg_iov, (int)m->msg_iovlen, r);
}

void om_acct_mmsg(int fd, int dir, struct mmsghdr *v, int r)
{
	struct dgram_run run = { .dir = dir };
	int i;

	for (i = 0; i < r; i++) {
		const struct msghdr *m = &v[i].msg_hdr;
		ssize_t n = (ssize_t)v[i].msg_len;

		/* the run's name again, the common case, here rather than in
		 * acct_named(): a call per datagram costs more than the rest */
		if (run.sa && n >= 0 && m->msg_name &&
		    same_name(m->msg_name, m->msg_namelen, run.sa, run.len)) {
			if (dir == OM_EGRESS && run.d == OM_DEST_DIRECT)
				judge_named(fd, run.d, m->msg_name, m->msg_namelen);
			run.bytes += (uint64_t)n;
		} else if (!acct_named(fd, dir, m->msg_name, m->msg_namelen, m->msg_iov,
				       (int)m->msg_iovlen, n, &run)) {
			om_iov(fd, dir, m->msg_iov, (int)m->msg_iovlen, n);
		}
	}
	run_flush(&run);
}

/* TCP Fast Open: the call connects.  Judged and followed as connect(). */
static int fastopen_refused(int fd, int flags, const struct sockaddr *sa, socklen_t len)
{
	return (flags & MSG_FASTOPEN) && om_refuse_dest(fd, sa, len, 0);
}

static void fastopen_done(int fd, const struct sockaddr *sa, socklen_t len, ssize_t r,
			  int err, uint64_t t0)
{
	om_connect_done(fd, sa, len, r >= 0 ? 0 : -1, err, t0);
}

static OM_COLD ssize_t sendto_other(int fd, const void *buf, size_t n, int flags,
				    const struct sockaddr *sa, socklen_t len)
{
	uint64_t t0 = 0;
	ssize_t r;
	int err;

	if (__builtin_expect(om_cfg.enforce, 0) && om_refuse_sendto(fd, buf, n, flags, sa, len))
		return om_eacces();
	if (flags & MSG_FASTOPEN)
		t0 = om_mono_ns();
	r = OM_REAL(sendto)(fd, buf, n, flags, sa, len);
	err = errno;
	if ((flags & MSG_FASTOPEN) && sa)
		fastopen_done(fd, sa, len, r, err, t0);
	acct_addr(fd, OM_EGRESS, buf, r, sa, len); /* judges a named datagram */
	errno = err;
	return r;
}

/* no address: a classified socket's bytes; with one, judged */
OM_DATA_CALL(sendto, OM_EGRESS, !sa, (fd, buf, n, flags, sa, len),
	     int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
	     socklen_t len)

/* For an unconnected UDP socket we need each datagram's source even when
 * the caller does not ask for it: we pass our own buffer, which the kernel
 * fills instead, and the caller sees what it would have seen. */
ssize_t om_recv_lent(int fd, void *buf, size_t n, int flags)
{
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof own;
	ssize_t r = OM_REAL(recvfrom)(fd, buf, n, flags, (struct sockaddr *)&own, &ownlen);

	if (r > 0) {
		int err = errno;

		om_datagram(OM_INGRESS, (struct sockaddr *)&own, ownlen, r);
		errno = err;
	}
	return r;
}

ssize_t om_recvfrom(ssize_t (*chk)(int, void *, size_t, size_t, int, struct sockaddr *,
				   socklen_t *),
		    int fd, void *buf, size_t n, size_t buflen, int flags,
		    struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof own, cap = 0;
	ssize_t r;

	if (!sa && !(flags & MSG_PEEK) && dgram_unconnected(fd)) {
		if (!chk)
			return om_recv_lent(fd, buf, n, flags);
		r = chk(fd, buf, n, buflen, flags, (struct sockaddr *)&own, &ownlen);
		if (r > 0) {
			int err = errno;

			om_datagram(OM_INGRESS, (struct sockaddr *)&own, ownlen, r);
			errno = err;
		}
		return r;
	}
	if (sa && len && !(flags & MSG_PEEK) && wants_addr(fd) &&
	    om_peek(&cap, len, sizeof cap) < 0)
		cap = 0;
	r = chk ? chk(fd, buf, n, buflen, flags, sa, len)
		: OM_REAL(recvfrom)(fd, buf, n, flags, sa, len);
	if (!(flags & MSG_PEEK) && r >= 0) {
		int err = errno;

		/* the kernel reports the full length even when it truncated */
		acct_addr(fd, OM_INGRESS, buf, r, cap ? sa : 0, cap && *len < cap ? *len : cap);
		errno = err;
	}
	return r;
}

static OM_COLD ssize_t recvfrom_other(int fd, void *buf, size_t n, int flags,
				      struct sockaddr *sa, socklen_t *len)
{
	return om_recvfrom(0, fd, buf, n, 0, flags, sa, len);
}

/* a classified socket needs no address: the caller's is the caller's */
OM_DATA_CALL(recvfrom, OM_INGRESS, !(flags & MSG_PEEK), (fd, buf, n, flags, sa, len),
	     int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)

#ifdef __GLIBC__
OM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *sa, socklen_t *len)
{
	return om_recvfrom(OM_REAL(__recvfrom_chk), fd, buf, n, buflen, flags, sa, len);
}
#endif

static OM_COLD ssize_t sendmsg_other(int fd, const struct msghdr *m, int flags)
{
	struct msghdr mc;
	uint64_t t0 = 0;
	ssize_t r;
	int err, fastopen = 0;

	if (om_refuse_msg(fd, m))
		return om_eacces();
	if ((flags & MSG_FASTOPEN) && om_peek(&mc, m, sizeof mc) == 0 && mc.msg_name) {
		if (fastopen_refused(fd, flags, mc.msg_name, mc.msg_namelen))
			return om_eacces();
		fastopen = 1;
		t0 = om_mono_ns();
	}
	r = OM_REAL(sendmsg)(fd, m, flags);
	err = errno;
	if (fastopen)
		fastopen_done(fd, m->msg_name, m->msg_namelen, r, err, t0);
	om_acct_msg(fd, OM_EGRESS, m, r); /* judges a named datagram */
	errno = err;
	return r;
}

/* A classified socket's fast path needs no look at names: TCP ignores
 * them, and a connected UDP socket that could send elsewhere is on the
 * general path under any policy that judges destinations (track.h).
 * Enforcing, every destination is judged before the call. */
OM_DATA_CALL(sendmsg, OM_EGRESS, !(flags & MSG_FASTOPEN) && !om_cfg.enforce, (fd, m, flags),
	     int fd, const struct msghdr *m, int flags)

static OM_COLD ssize_t recvmsg_other(int fd, struct msghdr *m, int flags)
{
	struct sockaddr_storage own;
	struct msghdr mc;
	socklen_t cap = 0;
	ssize_t r;
	int err;

	if (!(flags & MSG_PEEK) && wants_addr(fd) && om_peek(&mc, m, sizeof mc) == 0) {
		if (!mc.msg_name && dgram_unconnected(fd)) {
			mc.msg_name = &own;
			mc.msg_namelen = sizeof own;
			r = OM_REAL(recvmsg)(fd, &mc, flags);
			if (r >= 0) {
				err = errno;
				m->msg_flags = mc.msg_flags;
				m->msg_controllen = mc.msg_controllen;
				if (r > 0)
					om_datagram(OM_INGRESS, (struct sockaddr *)&own, mc.msg_namelen, r);
				errno = err;
			}
			return r;
		}
		cap = mc.msg_namelen;
	}
	r = OM_REAL(recvmsg)(fd, m, flags);
	if (!(flags & MSG_PEEK) && r >= 0) {
		struct msghdr seen = *m; /* the kernel accepted m */

		err = errno;
		/* the kernel reports the full length even when it truncated */
		seen.msg_namelen = seen.msg_namelen > cap ? cap : seen.msg_namelen;
		om_acct_msg(fd, OM_INGRESS, &seen, r);
		errno = err;
	}
	return r;
}

OM_DATA_CALL(recvmsg, OM_INGRESS, !(flags & MSG_PEEK), (fd, m, flags),
	     int fd, struct msghdr *m, int flags)

static inline uint64_t sum_lens(const struct mmsghdr *v, int r)
{
	uint64_t n = v[0].msg_len; /* r >= 1: one message is the common call */
	int i;

	for (i = 1; i < r; i++)
		n += v[i].msg_len;
	return n;
}

static OM_COLD int sendmmsg_other(int fd, struct mmsghdr *v, unsigned n, om_mmsg_flags flags)
{
	int r, err;

	if (om_refuse_mmsg(fd, v, n))
		return om_eacces(); /* all or nothing: nothing is sent */
	r = OM_REAL(sendmmsg)(fd, v, n, flags);
	err = errno;
	om_acct_mmsg(fd, OM_EGRESS, v, r); /* judges the named datagrams */
	errno = err;
	return r;
}

static OM_FASTPATH int sendmmsg_fast(unsigned long h, int fd, struct mmsghdr *v, unsigned n,
				     om_mmsg_flags flags)
{
	unsigned long row = om_row(h);
	int r = OM_REAL(sendmmsg)(fd, v, n, flags);

	if (r > 0)
		counted_n(sum_lens(v, r), row, OM_EGRESS);
	return r;
}

OM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, om_mmsg_flags flags)
{
	if (__builtin_expect((unsigned)fd < OM_FD_MAX, 1)) {
		unsigned long h = om_hot_tab[(unsigned)fd];
		signed char s = (signed char)(h & OM_SORT);

		if (OM_PASS(s))
			return OM_REAL(sendmmsg)(fd, v, n, flags);
		if (OM_FAST(s) && !om_cfg.enforce)
			return sendmmsg_fast(h, fd, v, n, flags);
	}
	return sendmmsg_other(fd, v, n, flags);
}

/* Source addresses lent to an unconnected UDP recvmmsg() that asked for
 * none; past this many messages the rest count under the last source. */
#define OM_MMSG_NAMES 64

static OM_COLD int recvmmsg_other(int fd, struct mmsghdr *v, unsigned n,
				  om_mmsg_flags flags, struct timespec *t)
{
	struct sockaddr_in6 own[OM_MMSG_NAMES];
	socklen_t saved[OM_MMSG_NAMES];
	struct mmsghdr first;
	unsigned i, lent = 0;
	int r, err;

	if (n && !(flags & MSG_PEEK) && wants_addr(fd) &&
	    om_peek(&first, v, sizeof first) == 0 && dgram_unconnected(fd)) {
		struct mmsghdr probe;

		/* the vector is ours to lend names in only where readable */
		lent = first.msg_hdr.msg_name ? 0 : n < OM_MMSG_NAMES ? n : OM_MMSG_NAMES;
		for (i = 1; i < lent; i++) {
			if (om_peek(&probe, &v[i], sizeof probe) < 0 || probe.msg_hdr.msg_name) {
				lent = i; /* the caller asked for names after all */
				break;
			}
		}
		for (i = 0; i < lent; i++) {
			saved[i] = v[i].msg_hdr.msg_namelen;
			v[i].msg_hdr.msg_name = &own[i];
			v[i].msg_hdr.msg_namelen = sizeof own[i];
		}
	}
	r = OM_REAL(recvmmsg)(fd, v, n, flags, t);
	err = errno;
	if (lent) {
		struct dgram_run run = { .dir = OM_INGRESS };

		for (i = 0; i < lent; i++) {
			if ((int)i < r)
				run_add(&run, (struct sockaddr *)&own[i], v[i].msg_hdr.msg_namelen,
					(ssize_t)v[i].msg_len);
			v[i].msg_hdr.msg_name = 0;
			v[i].msg_hdr.msg_namelen = saved[i];
		}
		for (i = lent; (int)i < r; i++)
			run_add(&run, (struct sockaddr *)&own[lent - 1], sizeof own[0],
				(ssize_t)v[i].msg_len);
		run_flush(&run);
	} else if (!(flags & MSG_PEEK)) {
		om_acct_mmsg(fd, OM_INGRESS, v, r);
	}
	errno = err;
	return r;
}

static OM_FASTPATH int recvmmsg_fast(unsigned long h, int fd, struct mmsghdr *v, unsigned n,
				     om_mmsg_flags flags, struct timespec *t)
{
	unsigned long row = om_row(h);
	int r = OM_REAL(recvmmsg)(fd, v, n, flags, t);

	if (r > 0)
		counted_n(sum_lens(v, r), row, OM_INGRESS);
	return r;
}

OM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, om_mmsg_flags flags,
		       struct timespec *t)
{
	if (__builtin_expect((unsigned)fd < OM_FD_MAX, 1)) {
		unsigned long h = om_hot_tab[(unsigned)fd];
		signed char s = (signed char)(h & OM_SORT);

		if (OM_PASS(s))
			return OM_REAL(recvmmsg)(fd, v, n, flags, t);
		if (OM_FAST(s) && !(flags & MSG_PEEK))
			return recvmmsg_fast(h, fd, v, n, flags, t);
	}
	return recvmmsg_other(fd, v, n, flags, t);
}
