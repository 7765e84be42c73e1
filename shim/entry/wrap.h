/* Internals shared by the wrapper files (wrap_*.c).
 *
 * Rule for every wrapper: the program's pointers are read only after the
 * real call has accepted them, or through om_peek(), which cannot fault.
 * A bad pointer must give the program EFAULT, as without us, never a
 * SIGSEGV from our side. */
#ifndef OM_WRAP_H
#define OM_WRAP_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/config.h"
#include "acct/leak.h"
#include "core/peek.h"
#include "core/real.h"
#include "common/classify.h"
#include "acct/track.h"

#define OM_EXPORT __attribute__((visibility("default")))

/* An enforced leak refusal: nothing was sent. */
static inline int om_eacces(void)
{
	errno = EACCES;
	return -1;
}

/* Is a leak refusal possible at all?  (one load on the common path) */
static inline int om_enforcing(void)
{
	return __builtin_expect(om_cfg.enforce, 0) && om_cfg.policy != OM_POLICY_AUDIT;
}

/* Would sending to sa (the program's pointer) leak and be refused?
 * Inline to the one test most processes stop at: every connect() asks. */
int om_refuse_dest_slow(int fd, const struct sockaddr *sa, socklen_t len, int dgram);
static inline int om_refuse_dest(int fd, const struct sockaddr *sa, socklen_t len, int dgram)
{
	return om_enforcing() && om_refuse_dest_slow(fd, sa, len, dgram);
}
/* ... any of these messages? */
int om_refuse_msg(int fd, const struct msghdr *m);
/* ... these bytes, a DNS question for a .onion name (sa: where a datagram
 * is sent, the program's pointer, or NULL)?  Under every policy. */
int om_refuse_dns_slow(int fd, const struct sockaddr *sa, socklen_t len,
		       const struct iovec *iov, int cnt);
static inline int om_refuse_dns(int fd, const struct sockaddr *sa, socklen_t len,
				const struct iovec *iov, int cnt)
{
	return __builtin_expect(om_cfg.enforce, 0) && om_refuse_dns_slow(fd, sa, len, iov, cnt);
}
/* ... or these bytes on a connected socket? */
static inline int om_refuse_buf(int fd, const void *buf, size_t n)
{
	struct iovec v = { (void *)buf, n };

	return om_leak_request(fd, &v, 1) || om_refuse_dns(fd, 0, 0, &v, 1);
}

/* Is a send to fd DNS (a name given, or its peer), and framed as TCP? */
int om_dns_send(int fd, const struct sockaddr *named, socklen_t len, int *stream);

/* refuse.c: refusals shared by the libc wrappers and syscall(), before
 * the call. */
int om_refuse_sendto(int fd, const void *buf, size_t n, int flags,
		     const struct sockaddr *sa, socklen_t len);
int om_refuse_mmsg(int fd, struct mmsghdr *v, unsigned n);

/* Accounting shared by the libc wrappers and syscall(); called after the
 * real call, with its result. */
void om_acct_msg(int fd, int dir, const struct msghdr *m, ssize_t r);
void om_acct_mmsg(int fd, int dir, struct mmsghdr *v, int r);
void om_acct_addr(int fd, int dir, const void *buf, ssize_t r,
		  const struct sockaddr *sa, socklen_t len);
void om_acct_dup(int oldfd, int newfd);
/* connect() and accept() as both libc wrappers and syscall() need them. */
int om_connect(int fd, const struct sockaddr *sa, socklen_t len);
int om_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags, int four);
int om_close_range(unsigned first, unsigned last, int flags);
/* A receive on an unconnected UDP socket that asked for no source: we
 * lend one (the datagram is classified by it). */
ssize_t om_recv_lent(int fd, void *buf, size_t n, int flags);
ssize_t om_recvfrom(ssize_t (*chk)(int, void *, size_t, size_t, int, struct sockaddr *,
				   socklen_t *),
		    int fd, void *buf, size_t n, size_t buflen, int flags,
		    struct sockaddr *sa, socklen_t *len);


/* The fast paths of the data calls (wrap_io.c, wrap_msg.c).
 *
 * Three paths per call, chosen by the fd's hot byte read before the call:
 * - an fd we ignore (file, pipe, unix socket): a tail call into the next
 *   definition;
 * - a socket with nothing pending: the call, then one add to this thread's
 *   block, with only the counter's offset kept across the call;
 * - anything else (never seen, dial or handshake open, unconnected UDP):
 *   the general path, NAME_other, out of line. */

/* the hot byte & OM_SORT, as a signed char */
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

/* &b->bytes[OM_HOT_CLS(h)][dir] for the row om_row(h) kept across the
 * call, the bias folded into the displacement. */
static inline __attribute__((always_inline)) uint64_t *
om_row_counter(struct om_tblock *b, unsigned long row, int dir)
{
	_Static_assert(sizeof b->bytes[0] == 2 * OM_ROW_SCALE, "a row is two counters");
	return (uint64_t *)((char *)b + offsetof(struct om_tblock, bytes) -
			    OM_HOT_COUNT * sizeof b->bytes[0] + row * 2 +
			    (unsigned)dir * sizeof b->bytes[0][0]);
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
	om_add_private(om_row_counter(b, row, dir), (uint64_t)r);
	return r;
}

/* The same for n bytes that are not the call's result (*mmsg). */
static inline __attribute__((always_inline)) void
counted_n(uint64_t n, unsigned long row, int dir)
{
	struct om_tblock *b = om_tls_blk;

	if (__builtin_expect(b == 0, 0))
		om_count_bytes_slow(OM_HOT_CLS(row / OM_ROW_SCALE), dir, n);
	else
		om_add_private(om_row_counter(b, row, dir), n);
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
			signed char s_ = (signed char)(h & OM_SORT);          \
									      \
			if (OM_PASS(s_))                                      \
				return OM_REAL(name) args;                    \
			if (OM_FAST(s_) && (when))                            \
				return name##_fast(h, OM_ARGS args);          \
		}                                                             \
		return name##_other args;                                     \
	}

#endif
