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
 * class is decided, bytes wait in the fd entry and are credited once. */
#ifndef OM_TRACK_H
#define OM_TRACK_H

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "counters.h"
#include "fdtable.h"

enum { OM_DIAL_NONE, OM_DIAL_CONNECTING, OM_DIAL_UP, OM_DIAL_DONE };

#define OM_FDF_TCP 0x01
#define OM_FDF_PROXY_EP 0x02 /* destination is a configured proxy */
#define OM_FDF_DECIDED 0x04  /* class is final */
#define OM_FDF_OPEN 0x08     /* counted in the open-connections gauge */
#define OM_FDF_REQ_DONE 0x10 /* proxy request complete, reply awaited */

struct om_fd *om_connect_pre(int fd, const struct sockaddr *sa, socklen_t len,
			     int *fresh);
void om_connect_post(struct om_fd *e, int fresh, int rc, int err);
void om_io_slow(struct om_fd *e, int dir, const void *buf, ssize_t r, int err);
void om_sockopt_error(struct om_fd *e, int fd, int soerr);
void om_forget_fd(int fd); /* close() and friends, before the real call */

/* Every data wrapper ends here: count r bytes moved on fd's socket. */
static inline void om_io(int fd, int dir, const void *buf, ssize_t r)
{
	struct om_fd *e = om_fd_peek(fd);
	uint8_t h;

	if (__builtin_expect(!e, 1))
		return;
	h = __atomic_load_n(&e->hot, __ATOMIC_RELAXED);
	if (__builtin_expect(h == OM_HOT_NONE, 1))
		return;
	if (__builtin_expect(!(h & OM_HOT_SLOW), 1)) {
		if (r > 0) {
			struct om_block *b = om_blk();

			if (b)
				om_add(&b->bytes[h - 1][dir], (uint64_t)r);
		}
		return;
	}
	{
		int err = errno; /* the slow path may make syscalls */

		om_io_slow(e, dir, buf, r, err);
		errno = err;
	}
}

#endif
