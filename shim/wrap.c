/* The exported wrappers.  Each calls the next definition first, then
 * accounts; the return value and errno the program sees are the real ones.
 * The acct_* helpers are shared with the syscall() wrapper, so a socket
 * driven through raw syscall numbers is counted by the same code.
 *
 * Calls on our own segment fd are answered as if it did not exist, so a
 * daemon closing every descriptor sees what it would see without us. */

/* We define both fcntl and fcntl64, sendfile and sendfile64: the headers
 * must not rename the unsuffixed ones (meson builds with 64-bit off_t). */
#undef _FILE_OFFSET_BITS

#ifndef CLOSE_RANGE_CLOEXEC /* musl's headers lack it */
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "leak.h"
#include "real.h"
#include "shim.h"
#include "track.h"

#define OM_EXPORT __attribute__((visibility("default")))

static int is_ours(long fd)
{
	return fd >= 0 && fd == om_seg.fd;
}

static int ebadf(void)
{
	errno = EBADF;
	return -1;
}

/* An enforced leak refusal: nothing was sent. */
static int eacces(void)
{
	errno = EACCES;
	return -1;
}

/* Would sending to this address (or these messages) leak?  Refuse? */
static int refuse_dest(int fd, const struct sockaddr *sa, socklen_t len, int dgram)
{
	return om_policy != OM_POLICY_AUDIT && sa && len && om_leak_dest(fd, sa, len, dgram);
}

static int refuse_msg(int fd, const struct msghdr *m)
{
	return m && (refuse_dest(fd, m->msg_name, m->msg_namelen, 1) ||
		     om_leak_request(fd, m->msg_iov, (int)m->msg_iovlen));
}

static int refuse_buf(int fd, const void *buf, size_t n)
{
	struct iovec v = { (void *)buf, n };

	return om_leak_request(fd, &v, 1);
}

/* --- accounting shared by the libc wrappers and syscall() --- */

static void acct_msg(int fd, int dir, const struct msghdr *m, ssize_t r)
{
	struct om_fd *e;

	if (r < 0 || !m)
		return;
	/* an unconnected datagram socket: the address says where it went */
	if (m->msg_name && m->msg_namelen && (e = om_fd_peek(fd)) &&
	    om_fd_hot(e) == OM_HOT_DGRAM) {
		om_datagram(dir, m->msg_name, m->msg_namelen, r);
		return;
	}
	om_iov(fd, dir, m->msg_iov, (int)m->msg_iovlen, r);
}

static void acct_mmsg(int fd, int dir, struct mmsghdr *v, int r)
{
	int i;

	for (i = 0; i < r; i++)
		acct_msg(fd, dir, &v[i].msg_hdr, (ssize_t)v[i].msg_len);
}

static void acct_addr(int fd, int dir, const void *buf, ssize_t r,
		      const struct sockaddr *sa, socklen_t len)
{
	struct om_fd *e;

	if (sa && len && r > 0) {
		e = om_fd_peek(fd);
		if (!e || om_fd_hot(e) == OM_HOT_NONE)
			e = om_adopt(fd, dir, r);
		if (e && om_fd_hot(e) == OM_HOT_DGRAM) {
			om_datagram(dir, sa, len, r);
			return;
		}
	}
	om_io(fd, dir, buf, r);
}

/* Before a receive on a socket we have not met: is it an unconnected UDP
 * socket (whose datagrams need their source address)? */
static int dgram_unconnected(int fd)
{
	struct om_fd *e = om_fd_peek(fd);

	if (!e || om_fd_hot(e) == OM_HOT_NONE)
		e = om_ready() ? om_adopt(fd, OM_INGRESS, 0) : 0;
	return e && om_fd_hot(e) == OM_HOT_DGRAM;
}

/* A second descriptor for the same socket counts its bytes; the gauge
 * stays with the original. */
static void acct_dup(int oldfd, int newfd)
{
	struct om_fd *o = om_fd_peek(oldfd), *n;

	if (newfd < 0)
		return;
	om_fd_fresh(newfd);
	if (!o || om_fd_hot(o) == OM_HOT_NONE || !(n = om_fd_get(newfd)))
		return;
	n->cls = o->cls;
	n->flags = OM_FDF_DECIDED;
	n->dial = OM_DIAL_DONE;
	om_fd_set_hot(n, om_fd_hot(o) & OM_HOT_QUIET ? om_fd_hot(o) : OM_HOT_CLASS(o->cls));
}

/* newfd is closed implicitly; ours is moved out of the way first. */
static int make_room(int newfd)
{
	if (is_ours(newfd)) {
		int moved = OM_REAL(fcntl)(newfd, F_DUPFD_CLOEXEC, newfd + 1);

		if (moved < 0)
			return -1;
		om_seg.fd = moved;
		OM_REAL(close)(newfd);
	} else {
		om_forget_fd(newfd);
	}
	return 0;
}

/* --- lifecycle --- */

OM_EXPORT int socket(int domain, int type, int proto)
{
	int fd = OM_REAL(socket)(domain, type, proto);

	if (fd >= 0) {
		int err = errno;

		om_fd_socket(fd, domain, type);
		errno = err;
	}
	return fd;
}

OM_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	int rc = OM_REAL(socketpair)(domain, type, proto, sv);

	if (rc == 0) {
		om_fd_fresh(sv[0]);
		om_fd_fresh(sv[1]);
	}
	return rc;
}

OM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct om_fd *e = 0;
	int rc, err, fresh = 0;

	if (refuse_dest(fd, sa, len, 0))
		return eacces();
	if (om_ready())
		e = om_connect_pre(fd, sa, len, &fresh);
	rc = OM_REAL(connect)(fd, sa, len);
	if (e) {
		err = errno;
		om_connect_post(e, fresh, rc, err);
		errno = err;
	}
	return rc;
}

/* The peer's address classifies an accepted connection; when the caller
 * does not ask for it we lend a buffer rather than ask getpeername(). */
static int accept_common(int fd, struct sockaddr *sa, socklen_t *len, int flags,
			 int four)
{
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof own, cap;
	int nfd;

	if (!sa) {
		sa = (struct sockaddr *)&own;
		len = &ownlen;
	}
	cap = len ? *len : 0;
	nfd = four ? OM_REAL(accept4)(fd, sa, len, flags) : OM_REAL(accept)(fd, sa, len);
	/* the kernel reports the full length even when it truncated */
	if (nfd >= 0)
		om_accepted(nfd, sa, len && *len < cap ? *len : cap);
	return nfd;
}

OM_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return accept_common(fd, sa, len, 0, 0);
}

OM_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return accept_common(fd, sa, len, flags, 1);
}

OM_EXPORT int close(int fd)
{
	if (is_ours(fd))
		return ebadf();
	om_forget_fd(fd); /* before: the number may be reused at once */
	return OM_REAL(close)(fd);
}

OM_EXPORT int dup(int fd)
{
	int nfd;

	if (is_ours(fd))
		return ebadf();
	nfd = OM_REAL(dup)(fd);
	acct_dup(fd, nfd);
	return nfd;
}

OM_EXPORT int dup2(int oldfd, int newfd)
{
	int rc;

	if (is_ours(oldfd))
		return ebadf();
	if (oldfd != newfd && make_room(newfd) < 0)
		return -1;
	rc = OM_REAL(dup2)(oldfd, newfd);
	if (rc >= 0 && oldfd != newfd)
		acct_dup(oldfd, rc);
	return rc;
}

OM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int rc;

	if (is_ours(oldfd))
		return ebadf();
	if (oldfd != newfd && make_room(newfd) < 0)
		return -1;
	rc = OM_REAL(dup3)(oldfd, newfd, flags);
	if (rc >= 0)
		acct_dup(oldfd, rc);
	return rc;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int rc;

	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return real(fd, cmd, arg);
	if (is_ours(fd))
		return ebadf();
	rc = real(fd, cmd, arg);
	acct_dup(fd, rc);
	return rc;
}

/* The third argument is an int or a pointer depending on cmd; both travel
 * in the same register or stack slot, so passing it on as a pointer is the
 * usual way for a wrapper to stay agnostic. */
OM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(OM_REAL(fcntl), fd, cmd, arg);
}

OM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(OM_REAL(fcntl64) ? om_real.fcntl64 : OM_REAL(fcntl), fd,
			    cmd, arg);
}

static int real_close_range(unsigned first, unsigned last, int flags)
{
	if (OM_REAL(close_range)) /* glibc < 2.34 lacks the wrapper */
		return om_real.close_range(first, last, flags);
	return (int)OM_REAL(syscall)(SYS_close_range, first, last, flags);
}

OM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	unsigned fd, ours = om_seg.fd >= 0 ? (unsigned)om_seg.fd : ~0u;
	int rc;

	if (first > last)
		return real_close_range(first, last, flags);
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		for (fd = first; fd <= last && fd < OM_FD_MAX; fd++) {
			if (om_fd_pages[fd >> OM_FD_PAGE_SHIFT])
				om_forget_fd((int)fd);
			else
				fd |= OM_FD_PAGE - 1; /* skip an unmapped page */
		}
	}
	if (ours < first || ours > last)
		return real_close_range(first, last, flags);
	/* split around our fd so the program cannot close it */
	rc = ours > first ? real_close_range(first, ours - 1, flags) : 0;
	if (rc == 0 && ours < last)
		rc = real_close_range(ours + 1, last, flags);
	return rc;
}

OM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int rc = OM_REAL(getsockopt)(fd, level, name, val, len);

	if (rc == 0 && level == SOL_SOCKET && name == SO_ERROR && val && len &&
	    *len >= (socklen_t)sizeof(int)) {
		struct om_fd *e = om_fd_peek(fd);

		if (e && (om_fd_hot(e) & OM_HOT_SLOW)) {
			int err = errno;

			om_sockopt_error(e, fd, *(int *)val);
			errno = err;
		}
	}
	return rc;
}

/* --- data ---
 *
 * Three paths per call, chosen by the fd's hot byte read before the call:
 * - an fd we ignore (file, pipe): a tail call into the next definition;
 * - a socket with nothing pending: the call, then one add to this thread's
 *   block, with only the counter's offset kept across the call;
 * - anything else (never seen, dial or handshake open, unconnected UDP):
 *   the general path, out of line.
 * The first two are inline for fds under OM_FD_LOW; *_other reads the
 * byte again and handles every state for any fd. */

/* m: the hot byte & OM_SORT, as a signed char */
#define OM_SORT (OM_HOT_IGNORE | OM_HOT_COUNT)
_Static_assert(OM_HOT_IGNORE == 0x80 && OM_NCLASS <= OM_HOT_COUNT,
	       "the sort needs IGNORE as the sign bit and every class below COUNT");
#define OM_PASS(m) __builtin_expect((m) < 0, 1)
#define OM_FAST(m) __builtin_expect((m) != 0, 1)
#define OM_COLD __attribute__((noinline, cold))
/* GCC shrink-wraps the inlined fast path, so the pass-through path stays
 * frameless; clang does not, so there it is a function of its own, reached
 * by a tail call. */
#if defined(__clang__)
#define OM_FASTPATH __attribute__((noinline))
#else
#define OM_FASTPATH inline __attribute__((always_inline))
#endif

/* What the fast path keeps across the real call: the hot byte times 8,
 * one lea (a row of om_block.bytes is two counters, so counted() scales
 * by 2 in its address).  The asm makes the compiler compute it before the
 * call rather than keep the byte and save it at entry, which would cost
 * the pass-through path a push and a pop. */
#define OM_ROW_SCALE sizeof(uint64_t)
static inline unsigned long om_row(unsigned long h)
{
	unsigned long row;

#if defined(__x86_64__)
	__asm__("lea 0(,%1,8), %0" : "=r"(row) : "r"(h));
#else
	row = h * OM_ROW_SCALE;
	__asm__("" : "+r"(row));
#endif
	return row;
}

static inline __attribute__((always_inline)) ssize_t
counted(ssize_t r, unsigned long row, int dir)
{
	struct om_block *b = om_tls_blk;

	if (r <= 0)
		return r;
	if (__builtin_expect(b == 0, 0)) /* a tail call: nothing to keep */
		return (ssize_t)om_count_bytes_slow(OM_HOT_CLS(row / OM_ROW_SCALE), dir,
						    (uint64_t)r);
	_Static_assert(sizeof b->bytes[0] == 2 * OM_ROW_SCALE, "a row is two counters");
	/* &b->bytes[OM_HOT_CLS(h)][dir], the bias folded into the displacement */
	om_add_private((uint64_t *)((char *)b + offsetof(struct om_block, bytes) -
				    OM_HOT_COUNT * sizeof b->bytes[0] + row * 2 +
				    (unsigned)dir * sizeof b->bytes[0][0]),
		       (uint64_t)r);
	return r;
}

static ssize_t recvfrom_common(ssize_t (*chk)(int, void *, size_t, size_t, int,
					      struct sockaddr *, socklen_t *),
			       int fd, void *buf, size_t n, size_t buflen, int flags,
			       struct sockaddr *sa, socklen_t *len);

/* The wrapper NAME(...) of a data call and its fast path: the first two
 * paths above, then NAME_other, defined before it.  WHEN: a condition on
 * the arguments for the fast path (recv's MSG_PEEK is not counted). */
#define OM_ARGS(...) __VA_ARGS__
#define OM_DATA_CALL(name, dir, when, args, ...)                              \
	static OM_FASTPATH ssize_t name##_fast(unsigned long h, __VA_ARGS__)   \
	{                                                                     \
		unsigned long row = om_row(h);                                \
									      \
		return counted(OM_REAL(name) args, row, dir);                 \
	}                                                                     \
									      \
	OM_EXPORT ssize_t name(__VA_ARGS__)                                   \
	{                                                                     \
		if (__builtin_expect((unsigned)fd < OM_FD_LOW, 1)) {          \
			unsigned long h = om_hot_low[(unsigned)fd];           \
			signed char m = (signed char)(h & OM_SORT);           \
									      \
			if (OM_PASS(m))                                       \
				return OM_REAL(name) args;                    \
			if (OM_FAST(m) && (when))                             \
				return name##_fast(h, OM_ARGS args);          \
		}                                                             \
		return name##_other args;                                     \
	}

static OM_COLD ssize_t read_other(int fd, void *buf, size_t n)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(read)(fd, buf, n);
	if (h == OM_HOT_DGRAM) /* same call for a socket; we need the source */
		return recvfrom_common(0, fd, buf, n, 0, 0, 0, 0);
	r = OM_REAL(read)(fd, buf, n);
	om_io_h(fd, h, OM_INGRESS, buf, r);
	return r;
}

OM_DATA_CALL(read, OM_INGRESS, 1, (fd, buf, n), int fd, void *buf, size_t n)

static OM_COLD ssize_t write_other(int fd, const void *buf, size_t n)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(write)(fd, buf, n);
	if ((h & OM_HOT_SLOW) && refuse_buf(fd, buf, n))
		return eacces();
	r = OM_REAL(write)(fd, buf, n);
	om_io_h(fd, h, OM_EGRESS, buf, r);
	return r;
}

OM_DATA_CALL(write, OM_EGRESS, 1, (fd, buf, n), int fd, const void *buf, size_t n)

static OM_COLD ssize_t readv_other(int fd, const struct iovec *iov, int cnt)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(readv)(fd, iov, cnt);
	r = OM_REAL(readv)(fd, iov, cnt);
	om_iov_h(fd, h, OM_INGRESS, iov, cnt, r);
	return r;
}

OM_DATA_CALL(readv, OM_INGRESS, 1, (fd, iov, cnt), int fd, const struct iovec *iov, int cnt)

static OM_COLD ssize_t writev_other(int fd, const struct iovec *iov, int cnt)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(writev)(fd, iov, cnt);
	if ((h & OM_HOT_SLOW) && om_leak_request(fd, iov, cnt))
		return eacces();
	r = OM_REAL(writev)(fd, iov, cnt);
	om_iov_h(fd, h, OM_EGRESS, iov, cnt, r);
	return r;
}

OM_DATA_CALL(writev, OM_EGRESS, 1, (fd, iov, cnt), int fd, const struct iovec *iov, int cnt)

static OM_COLD ssize_t recv_other(int fd, void *buf, size_t n, int flags)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(recv)(fd, buf, n, flags);
	if (h == OM_HOT_DGRAM)
		return recvfrom_common(0, fd, buf, n, 0, flags, 0, 0);
	r = OM_REAL(recv)(fd, buf, n, flags);
	if (!(flags & MSG_PEEK))
		om_io_h(fd, h, OM_INGRESS, buf, r);
	return r;
}

/* peeked bytes are read again later */
OM_DATA_CALL(recv, OM_INGRESS, !(flags & MSG_PEEK), (fd, buf, n, flags),
	     int fd, void *buf, size_t n, int flags)

static OM_COLD ssize_t send_other(int fd, const void *buf, size_t n, int flags)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(send)(fd, buf, n, flags);
	if ((h & OM_HOT_SLOW) && refuse_buf(fd, buf, n))
		return eacces();
	r = OM_REAL(send)(fd, buf, n, flags);
	om_io_h(fd, h, OM_EGRESS, buf, r);
	return r;
}

OM_DATA_CALL(send, OM_EGRESS, 1, (fd, buf, n, flags),
	     int fd, const void *buf, size_t n, int flags)

OM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *sa, socklen_t len)
{
	ssize_t r;

	if (refuse_dest(fd, sa, len, 1) || refuse_buf(fd, buf, n))
		return eacces();
	r = OM_REAL(sendto)(fd, buf, n, flags, sa, len);

	acct_addr(fd, OM_EGRESS, buf, r, sa, len);
	return r;
}

/* For an unconnected UDP socket we need each datagram's source even when
 * the caller does not ask for it: we pass our own buffer, which the kernel
 * fills instead, and the caller sees what it would have seen. */
static ssize_t recvfrom_common(ssize_t (*chk)(int, void *, size_t, size_t, int,
					      struct sockaddr *, socklen_t *),
			       int fd, void *buf, size_t n, size_t buflen, int flags,
			       struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof own, cap;
	ssize_t r;

	if (!sa && !(flags & MSG_PEEK) && dgram_unconnected(fd)) {
		r = chk ? chk(fd, buf, n, buflen, flags, (struct sockaddr *)&own, &ownlen)
			: OM_REAL(recvfrom)(fd, buf, n, flags, (struct sockaddr *)&own, &ownlen);
		if (r > 0)
			om_datagram(OM_INGRESS, (struct sockaddr *)&own, ownlen, r);
		return r;
	}
	cap = sa && len ? *len : 0;
	r = chk ? chk(fd, buf, n, buflen, flags, sa, len)
		: OM_REAL(recvfrom)(fd, buf, n, flags, sa, len);
	/* the kernel reports the full length even when it truncated */
	if (!(flags & MSG_PEEK))
		acct_addr(fd, OM_INGRESS, buf, r, sa, r >= 0 && cap && *len < cap ? *len : cap);
	return r;
}

OM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   struct sockaddr *sa, socklen_t *len)
{
	return recvfrom_common(0, fd, buf, n, 0, flags, sa, len);
}

OM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	ssize_t r;

	if (refuse_msg(fd, m))
		return eacces();
	r = OM_REAL(sendmsg)(fd, m, flags);

	acct_msg(fd, OM_EGRESS, m, r);
	return r;
}

OM_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	struct sockaddr_storage own;
	ssize_t r;

	if (m && !m->msg_name && !(flags & MSG_PEEK) && dgram_unconnected(fd)) {
		struct msghdr copy = *m;

		copy.msg_name = &own;
		copy.msg_namelen = sizeof own;
		r = OM_REAL(recvmsg)(fd, &copy, flags);
		m->msg_flags = copy.msg_flags;
		m->msg_controllen = copy.msg_controllen;
		if (r > 0)
			om_datagram(OM_INGRESS, (struct sockaddr *)&own, copy.msg_namelen, r);
		return r;
	}
	{
		socklen_t cap = m ? m->msg_namelen : 0;

		r = OM_REAL(recvmsg)(fd, m, flags);
		if (!(flags & MSG_PEEK) && m && r >= 0) {
			struct msghdr seen = *m;

			/* the kernel reports the full length even when it truncated */
			if (seen.msg_namelen > cap)
				seen.msg_namelen = cap;
			acct_msg(fd, OM_INGRESS, &seen, r);
		}
	}
	return r;
}

OM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, om_mmsg_flags flags)
{
	unsigned i;
	int r;

	for (i = 0; v && i < n; i++)
		if (refuse_msg(fd, &v[i].msg_hdr))
			return eacces(); /* all or nothing: nothing is sent */
	r = OM_REAL(sendmmsg)(fd, v, n, flags);

	acct_mmsg(fd, OM_EGRESS, v, r);
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
	unsigned i, lent = 0;
	int r;

	if (v && n && !(flags & MSG_PEEK) && dgram_unconnected(fd)) {
		lent = n < OM_MMSG_NAMES ? n : OM_MMSG_NAMES;
		for (i = 0; i < lent; i++) {
			if (v[i].msg_hdr.msg_name) {
				lent = i; /* the caller asked for names after all */
				break;
			}
			saved[i] = v[i].msg_hdr.msg_namelen;
			v[i].msg_hdr.msg_name = &own[i];
			v[i].msg_hdr.msg_namelen = sizeof own[i];
		}
	}
	r = OM_REAL(recvmmsg)(fd, v, n, flags, t);
	if (lent) {
		int err = errno;

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
		errno = err;
		return r;
	}
	if (!(flags & MSG_PEEK))
		acct_mmsg(fd, OM_INGRESS, v, r);
	return r;
}

OM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	ssize_t r = OM_REAL(sendfile)(out, in, off, n);

	om_io(out, OM_EGRESS, 0, r);
	return r;
}

#ifdef __GLIBC__
OM_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	ssize_t r = OM_REAL(sendfile64)(out, in, off, n);

	om_io(out, OM_EGRESS, 0, r);
	return r;
}

/* _FORTIFY_SOURCE entry points: the real ones keep their overflow checks. */
OM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t r = OM_REAL(__read_chk)(fd, buf, n, buflen);

	om_io(fd, OM_INGRESS, buf, r);
	return r;
}

OM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	ssize_t r = OM_REAL(__recv_chk)(fd, buf, n, buflen, flags);

	if (!(flags & MSG_PEEK))
		om_io(fd, OM_INGRESS, buf, r);
	return r;
}

OM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *sa, socklen_t *len)
{
	return recvfrom_common(OM_REAL(__recvfrom_chk), fd, buf, n, buflen, flags,
			       sa, len);
}
#endif

/* --- syscall(): every number passes through unchanged; the socket ones
 * are accounted like their libc wrappers.  libuv closes with
 * syscall(SYS_close) to avoid a cancellation point, so that path must not
 * detour through close(). --- */

OM_EXPORT long syscall(long n, ...)
{
	long a[6], r;
	va_list ap;
	int i, err;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);

	switch (n) {
	case SYS_close:
		if (is_ours(a[0]))
			return ebadf();
		om_forget_fd((int)a[0]);
		break;
	case SYS_dup3:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
		if (is_ours(a[0]))
			return ebadf();
		if (a[0] != a[1] && make_room((int)a[1]) < 0)
			return -1;
		break;
	case SYS_close_range:
		return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	case SYS_connect:
		return connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
	}
	r = OM_REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	err = errno;
	switch (n) {
	case SYS_read:
		om_io((int)a[0], OM_INGRESS, (void *)a[1], r);
		break;
	case SYS_write:
		om_io((int)a[0], OM_EGRESS, (void *)a[1], r);
		break;
	case SYS_readv:
		om_iov((int)a[0], OM_INGRESS, (const struct iovec *)a[1], (int)a[2], r);
		break;
	case SYS_writev:
		om_iov((int)a[0], OM_EGRESS, (const struct iovec *)a[1], (int)a[2], r);
		break;
	case SYS_sendto:
		acct_addr((int)a[0], OM_EGRESS, (void *)a[1], r,
			  (const struct sockaddr *)a[4], (socklen_t)a[5]);
		break;
	case SYS_recvfrom:
		if (!((int)a[3] & MSG_PEEK))
			acct_addr((int)a[0], OM_INGRESS, (void *)a[1], r, (struct sockaddr *)a[4],
				  a[4] && a[5] && r >= 0 ? *(socklen_t *)a[5] : 0);
		break;
	case SYS_sendmsg:
		acct_msg((int)a[0], OM_EGRESS, (const struct msghdr *)a[1], r);
		break;
	case SYS_recvmsg:
		if (!((int)a[2] & MSG_PEEK))
			acct_msg((int)a[0], OM_INGRESS, (const struct msghdr *)a[1], r);
		break;
	case SYS_sendmmsg:
		acct_mmsg((int)a[0], OM_EGRESS, (struct mmsghdr *)a[1], (int)r);
		break;
	case SYS_recvmmsg:
		if (!((int)a[3] & MSG_PEEK))
			acct_mmsg((int)a[0], OM_INGRESS, (struct mmsghdr *)a[1], (int)r);
		break;
	case SYS_socket:
		if (r >= 0)
			om_fd_fresh((int)r);
		break;
	case SYS_accept:
	case SYS_accept4:
		if (r >= 0)
			om_accepted((int)r, (struct sockaddr *)a[1],
				    a[1] && a[2] ? *(socklen_t *)a[2] : 0);
		break;
	case SYS_dup:
	case SYS_dup3:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
		if (r >= 0 && a[0] != r)
			acct_dup((int)a[0], (int)r);
		break;
	}
	errno = err;
	return r;
}
