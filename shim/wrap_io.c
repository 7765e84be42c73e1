/* The data calls: read, write and their kin on any descriptor.
 *
 * Three paths per call, chosen by the fd's hot byte read before the call:
 * - an fd we ignore (file, pipe): a tail call into the next definition;
 * - a socket with nothing pending: the call, then one add to this thread's
 *   block, with only the counter's offset kept across the call;
 * - anything else (never seen, dial or handshake open, unconnected UDP):
 *   the general path, out of line.
 * The first two are inline for fds under OM_FD_MAX; *_other reads the
 * byte again and handles every state for any fd. */

/* We define both sendfile and sendfile64. */
#undef _FILE_OFFSET_BITS

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "wrap.h"

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
	struct om_tblock *b = om_tls_blk;

	if (r <= 0)
		return r;
	if (__builtin_expect(b == 0, 0)) /* a tail call: nothing to keep */
		return (ssize_t)om_count_bytes_slow(OM_HOT_CLS(row / OM_ROW_SCALE), dir,
						    (uint64_t)r);
	_Static_assert(sizeof b->bytes[0] == 2 * OM_ROW_SCALE, "a row is two counters");
	/* &b->bytes[OM_HOT_CLS(h)][dir], the bias folded into the displacement */
	om_add_private((uint64_t *)((char *)b + offsetof(struct om_tblock, bytes) -
				    OM_HOT_COUNT * sizeof b->bytes[0] + row * 2 +
				    (unsigned)dir * sizeof b->bytes[0][0]),
		       (uint64_t)r);
	return r;
}


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
		if (__builtin_expect((unsigned)fd < OM_FD_MAX, 1)) {          \
			unsigned long h = om_hot_tab[(unsigned)fd];           \
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
		return om_recvfrom(0, fd, buf, n, 0, 0, 0, 0);
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
	if ((h & OM_HOT_SLOW) && om_refuse_buf(fd, buf, n))
		return om_eacces();
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
		return om_eacces();
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
		return om_recvfrom(0, fd, buf, n, 0, flags, 0, 0);
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
	if ((h & OM_HOT_SLOW) && om_refuse_buf(fd, buf, n))
		return om_eacces();
	r = OM_REAL(send)(fd, buf, n, flags);
	om_io_h(fd, h, OM_EGRESS, buf, r);
	return r;
}

OM_DATA_CALL(send, OM_EGRESS, 1, (fd, buf, n, flags),
	     int fd, const void *buf, size_t n, int flags)


OM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	ssize_t r = OM_REAL(sendfile)(out, in, off, n);

	om_io(out, OM_EGRESS, 0, r);
	return r;
}

/* splice() moves bytes between a pipe and anything else without showing
 * them to the program: counted like sendfile(), in whichever direction a
 * socket is at. */
OM_EXPORT ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
			 unsigned flags)
{
	ssize_t r = OM_REAL(splice)(in, in_off, out, out_off, n, flags);

	if (r > 0) {
		int err = errno;

		om_io(in, OM_INGRESS, 0, r);
		om_io(out, OM_EGRESS, 0, r);
		errno = err;
	}
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
#endif
