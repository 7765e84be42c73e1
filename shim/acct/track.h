/* Socket tracking: what the wrappers report, and the dial state machine.
 *
 * A TCP socket's life as the shim sees it:
 *
 *   connect() ─▶ CONNECTING ─(TCP up)─▶ UP ─(class + outcome known)─▶ DONE
 *                     └─(TCP failed)─▶ dial ends: refused, timeout, ...
 *
 * In UP the first bytes the program writes decide the class: a proxy
 * request makes the socket onion/proxied and the dial then ends with the
 * proxy's reply; anything else ends the dial as a plain success.  Until the
 * class is decided, bytes wait in the handshake record and are credited
 * once.  Every byte that reaches the slow path is both counted and shown
 * to the parsers: a thread that finds another in the middle of updating
 * the same socket waits for it. */
#ifndef OM_TRACK_H
#define OM_TRACK_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/clock.h"

#include "core/config.h"
#include "acct/adopt.h"
#include "acct/counters.h"
#include "acct/fdtable.h"

enum { OM_DIAL_NONE, OM_DIAL_CONNECTING, OM_DIAL_UP, OM_DIAL_DONE };

#define OM_FDF_TCP 0x01
#define OM_FDF_PROXY_EP 0x02 /* destination is a configured proxy */
#define OM_FDF_DECIDED 0x04  /* class is final */
#define OM_FDF_OPEN 0x08     /* counted in the open-connections gauge */
#define OM_FDF_REQ_DONE 0x10 /* proxy request complete, reply awaited */
#define OM_FDF_DNS 0x20      /* peer is a DNS port: every send is read */
#define OM_FDF_SOCK 0x40     /* counted in the sockets gauge (socks_opened) */
#define OM_FDF_ADDR_DIRECT 0x80 /* peer address is not local (nor a proxy) */

/* connect() returned rc (errno err), having started at t0.  sa is read
 * only here, after the kernel accepted it. */
void om_connect_done(int fd, const struct sockaddr *sa, socklen_t len, int rc,
		     int err, uint64_t t0);
void om_io_slow(struct om_fd *e, int dir, const struct iovec *iov, int cnt,
		ssize_t r, int err);
void om_sockopt_error(struct om_fd *e, int soerr);
void om_forget_fd(int fd); /* close() and friends, before the real call */

/* The hot byte of a socket whose class is settled.  A connected UDP
 * socket under a policy other than audit stays on the general path: a
 * datagram there may still name another destination, which is judged
 * (a connected TCP socket ignores names, so its fast path never looks).
 * So does a socket to a DNS port, whose questions are read. */
static inline uint8_t om_settled_hot(const struct om_fd *e)
{
	if ((!(e->flags & OM_FDF_TCP) && om_cfg.policy != OM_POLICY_AUDIT) ||
	    (e->flags & OM_FDF_DNS))
		return OM_HOT_SLOW;
	return OM_HOT_CLASS(e->cls);
}

/* The sockets gauge: e (TCP) is now held with peer d, or no longer. */
void om_sock_held(struct om_fd *e, int dest);
void om_sock_gone(struct om_fd *e);
/* Entries with OM_FDF_SOCK in this process (a fork child's starts as its
 * parent's: it then knows whether it inherited any). */
extern __attribute__((visibility("hidden"))) long om_socks_counted;
unsigned om_dest_class(int dest);
int om_track_lock(struct om_fd *e); /* 0: this thread holds it already */
void om_track_unlock(struct om_fd *e);
void om_track_drop_hs(struct om_fd *e);

/* Account r bytes moved on fd, whose hot byte was h before the call. */
static inline void om_iov_h(int fd, uint8_t h, int dir, const struct iovec *iov,
			    int cnt, ssize_t r)
{
	if (__builtin_expect(h & OM_HOT_COUNT, 1)) {
		if (r > 0)
			om_count_bytes(OM_HOT_CLS(h), dir, (uint64_t)r);
		return;
	}
	if (h & OM_HOT_QUIET)
		return;
	if (h == OM_HOT_NONE) {
		if (r > 0)
			om_io_unseen(fd, dir, iov, cnt, r);
		return;
	}
	{
		int err = errno; /* the slow path may make syscalls */

		om_io_slow(om_fd_peek(fd), dir, iov, cnt, r, err);
		errno = err;
	}
}

/* The same, reading the hot byte now. */
static inline void om_iov(int fd, int dir, const struct iovec *iov, int cnt,
			  ssize_t r)
{
	om_iov_h(fd, om_hot(fd), dir, iov, cnt, r);
}

static inline void om_io_h(int fd, uint8_t h, int dir, const void *buf, ssize_t r)
{
	struct iovec v = { (void *)buf, r > 0 ? (size_t)r : 0 };

	om_iov_h(fd, h, dir, buf ? &v : 0, buf ? 1 : 0, r);
}

static inline void om_io(int fd, int dir, const void *buf, ssize_t r)
{
	om_io_h(fd, om_hot(fd), dir, buf, r);
}

#endif
