/* The calls that carry addresses or many buffers: sendto, recvfrom,
 * sendmsg, recvmsg, sendmmsg, recvmmsg.
 *
 * On a classified socket they count the call's result and nothing else,
 * like read() and write().  Addresses matter for unconnected UDP, whose
 * datagrams are classified one by one (a receive that asks for no source
 * address is lent one), and for TCP Fast Open, where sendto() and
 * sendmsg() with MSG_FASTOPEN are a connect(). */
#include <string.h>

#include "wrap.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

int om_refuse_dest(int fd, const struct sockaddr *sa, socklen_t len, int dgram)
{
	struct sockaddr_storage ss;

	if (!om_enforcing() || !sa || !len)
		return 0;
	if (len > sizeof ss)
		len = sizeof ss;
	if (om_peek(&ss, sa, len) < 0)
		return 0; /* the real call says EFAULT */
	return om_leak_dest(fd, (struct sockaddr *)&ss, len, dgram);
}

int om_refuse_msg(int fd, const struct msghdr *m)
{
	struct msghdr mc;

	if (!om_enforcing() || om_peek(&mc, m, sizeof mc) < 0)
		return 0;
	return om_refuse_dest(fd, mc.msg_name, mc.msg_namelen, 1) ||
	       om_leak_request(fd, mc.msg_iov, (int)mc.msg_iovlen);
}

/* Before a receive on a socket we have not met: is it an unconnected UDP
 * socket (whose datagrams need their source address)? */
static int dgram_unconnected(int fd)
{
	struct om_fd *e;
	uint8_t h = om_hot(fd);

	if (h == OM_HOT_NONE)
		return (e = om_adopt(fd, OM_INGRESS, 0)) && om_fd_hot(e) == OM_HOT_DGRAM;
	return h == OM_HOT_DGRAM;
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

/* A datagram to or from sa, or a stream's bytes: r bytes moved.  sa was
 * accepted by the kernel. */
void om_acct_addr(int fd, int dir, const void *buf, ssize_t r,
		  const struct sockaddr *sa, socklen_t len)
{
	if (sa && len && r > 0 && hot_adopting(fd, dir, r) == OM_HOT_DGRAM) {
		om_datagram(dir, sa, len, r);
		return;
	}
	om_io(fd, dir, buf, r);
}

/* m was accepted by the kernel. */
void om_acct_msg(int fd, int dir, const struct msghdr *m, ssize_t r)
{
	if (r < 0)
		return;
	if (m->msg_name && m->msg_namelen && r > 0 &&
	    hot_adopting(fd, dir, r) == OM_HOT_DGRAM) {
		om_datagram(dir, m->msg_name, m->msg_namelen, r);
		return;
	}
	om_iov(fd, dir, m->msg_iov, (int)m->msg_iovlen, r);
}

void om_acct_mmsg(int fd, int dir, struct mmsghdr *v, int r)
{
	int i;

	for (i = 0; i < r; i++)
		om_acct_msg(fd, dir, &v[i].msg_hdr, (ssize_t)v[i].msg_len);
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

OM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *sa, socklen_t len)
{
	uint64_t t0 = 0;
	ssize_t r;
	int err;

	if (__builtin_expect(om_enforcing(), 0) &&
	    (om_refuse_dest(fd, sa, len, !(flags & MSG_FASTOPEN)) || om_refuse_buf(fd, buf, n)))
		return om_eacces();
	if (flags & MSG_FASTOPEN)
		t0 = om_mono_ns();
	r = OM_REAL(sendto)(fd, buf, n, flags, sa, len);
	err = errno;
	if ((flags & MSG_FASTOPEN) && sa)
		fastopen_done(fd, sa, len, r, err, t0);
	else if (r >= 0 && sa && len && !om_cfg.enforce)
		om_leak_dest(fd, sa, len, 1);
	om_acct_addr(fd, OM_EGRESS, buf, r, sa, len);
	errno = err;
	return r;
}

/* For an unconnected UDP socket we need each datagram's source even when
 * the caller does not ask for it: we pass our own buffer, which the kernel
 * fills instead, and the caller sees what it would have seen. */
ssize_t om_recvfrom(ssize_t (*chk)(int, void *, size_t, size_t, int, struct sockaddr *,
				   socklen_t *),
		    int fd, void *buf, size_t n, size_t buflen, int flags,
		    struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof own, cap = 0;
	ssize_t r;

	if (!sa && !(flags & MSG_PEEK) && dgram_unconnected(fd)) {
		r = chk ? chk(fd, buf, n, buflen, flags, (struct sockaddr *)&own, &ownlen)
			: OM_REAL(recvfrom)(fd, buf, n, flags, (struct sockaddr *)&own, &ownlen);
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
		om_acct_addr(fd, OM_INGRESS, buf, r, cap ? sa : 0, cap && *len < cap ? *len : cap);
		errno = err;
	}
	return r;
}

OM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   struct sockaddr *sa, socklen_t *len)
{
	return om_recvfrom(0, fd, buf, n, 0, flags, sa, len);
}

#ifdef __GLIBC__
OM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *sa, socklen_t *len)
{
	return om_recvfrom(OM_REAL(__recvfrom_chk), fd, buf, n, buflen, flags, sa, len);
}
#endif

/* On a classified socket: the call and one count (the result is the
 * bytes moved, whatever the buffers). */
static inline int counted_fd(int fd, uint8_t *h)
{
	return __builtin_expect((unsigned)fd < OM_FD_MAX, 1) &&
	       ((*h = om_hot_tab[fd]) & OM_HOT_COUNT);
}

static ssize_t sendmsg_other(int fd, const struct msghdr *m, int flags)
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
	else if (r >= 0 && m->msg_name && m->msg_namelen && !om_cfg.enforce)
		om_leak_dest(fd, m->msg_name, m->msg_namelen, 1);
	om_acct_msg(fd, OM_EGRESS, m, r);
	errno = err;
	return r;
}

OM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	uint8_t h;

	if (counted_fd(fd, &h) && !om_cfg.enforce) {
		ssize_t r = OM_REAL(sendmsg)(fd, m, flags);

		if (r > 0)
			om_count_bytes(OM_HOT_CLS(h), OM_EGRESS, (uint64_t)r);
		return r;
	}
	if ((unsigned)fd < OM_FD_MAX && (h & OM_HOT_IGNORE))
		return OM_REAL(sendmsg)(fd, m, flags);
	return sendmsg_other(fd, m, flags);
}

static ssize_t recvmsg_other(int fd, struct msghdr *m, int flags)
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

OM_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	uint8_t h;

	if (counted_fd(fd, &h) && !(flags & MSG_PEEK)) {
		ssize_t r = OM_REAL(recvmsg)(fd, m, flags);

		if (r > 0)
			om_count_bytes(OM_HOT_CLS(h), OM_INGRESS, (uint64_t)r);
		return r;
	}
	if ((unsigned)fd < OM_FD_MAX && (h & OM_HOT_IGNORE))
		return OM_REAL(recvmsg)(fd, m, flags);
	return recvmsg_other(fd, m, flags);
}

static uint64_t sum_lens(const struct mmsghdr *v, int r)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < r; i++)
		n += v[i].msg_len;
	return n;
}

OM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, om_mmsg_flags flags)
{
	unsigned i;
	uint8_t h;
	int r, err;

	if (counted_fd(fd, &h) && !om_cfg.enforce) {
		r = OM_REAL(sendmmsg)(fd, v, n, flags);
		if (r > 0)
			om_count_bytes(OM_HOT_CLS(h), OM_EGRESS, sum_lens(v, r));
		return r;
	}
	for (i = 0; om_enforcing() && i < n; i++)
		if (om_refuse_msg(fd, &v[i].msg_hdr))
			return om_eacces(); /* all or nothing: nothing is sent */
	r = OM_REAL(sendmmsg)(fd, v, n, flags);
	err = errno;
	for (i = 0; r > 0 && i < (unsigned)r && !om_cfg.enforce; i++)
		if (v[i].msg_hdr.msg_name && v[i].msg_hdr.msg_namelen)
			om_leak_dest(fd, v[i].msg_hdr.msg_name, v[i].msg_hdr.msg_namelen, 1);
	om_acct_mmsg(fd, OM_EGRESS, v, r);
	errno = err;
	return r;
}

/* Source addresses lent to an unconnected UDP recvmmsg() that asked for
 * none; past this many messages the rest count under the last source. */
#define OM_MMSG_NAMES 64

OM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, om_mmsg_flags flags,
		       struct timespec *t)
{
	struct sockaddr_in6 own[OM_MMSG_NAMES];
	socklen_t saved[OM_MMSG_NAMES];
	struct mmsghdr first;
	unsigned i, lent = 0;
	uint8_t h;
	int r, err;

	if (counted_fd(fd, &h) && !(flags & MSG_PEEK)) {
		r = OM_REAL(recvmmsg)(fd, v, n, flags, t);
		if (r > 0)
			om_count_bytes(OM_HOT_CLS(h), OM_INGRESS, sum_lens(v, r));
		return r;
	}
	if (n && !(flags & MSG_PEEK) && wants_addr(fd) &&
	    om_peek(&first, v, sizeof first) == 0 && dgram_unconnected(fd)) {
		struct mmsghdr probe;

		/* the vector is ours to lend names in only where readable */
		lent = n < OM_MMSG_NAMES ? n : OM_MMSG_NAMES;
		for (i = 0; i < lent; i++) {
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
		for (i = 0; i < lent; i++) {
			if ((int)i < r)
				om_datagram(OM_INGRESS, (struct sockaddr *)&own[i],
					    v[i].msg_hdr.msg_namelen, (ssize_t)v[i].msg_len);
			v[i].msg_hdr.msg_name = 0;
			v[i].msg_hdr.msg_namelen = saved[i];
		}
		for (i = lent; (int)i < r; i++)
			om_datagram(OM_INGRESS, (struct sockaddr *)&own[lent - 1],
				    sizeof own[0], (ssize_t)v[i].msg_len);
	} else if (!(flags & MSG_PEEK)) {
		om_acct_mmsg(fd, OM_INGRESS, v, r);
	}
	errno = err;
	return r;
}
