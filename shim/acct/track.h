/* Socket tracking: what the wrappers report about a socket, in front of
 * the dial machine (dial.h).  Every byte that reaches the slow path is
 * both counted and shown to the parsers: a thread that finds another in
 * the middle of updating the same socket waits for its lock. */
#ifndef OM_TRACK_H
#define OM_TRACK_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "acct/adopt.h"
#include "acct/counters.h"
#include "acct/dial.h"
#include "acct/fdtable.h"
#include "common/clock.h"
#include "core/config.h"

/* connect() returned rc (errno err), having started at t0.  sa is read
 * only here, after the kernel accepted it. */
void om_connect_done(int fd, const struct sockaddr *sa, socklen_t len, int rc,
		     int err, uint64_t t0);
void om_io_slow(struct om_fd *e, int dir, const struct iovec *iov, int cnt,
		ssize_t r, int err);
void om_sockopt_error(struct om_fd *e, int soerr);
void om_forget_fd(int fd); /* close() and friends, before the real call */
/* close() itself: 1 if c must be finished after the real close (closing.h) */
struct om_closing;
int om_forget_closing(int fd, struct om_closing *c);
/* The dial detached from a closed descriptor (closing.h) continues on
 * fd, another descriptor of the same socket: 1, or 0 if it cannot. */
struct om_hand_facts;
int om_track_take_over(int fd, uint32_t hs, const struct om_hand_facts *f);

/* Take e's lock around an adoption (adopt.c); 0: this thread holds it
 * already. */
int om_track_lock(struct om_fd *e);
void om_track_unlock(struct om_fd *e);

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
