/* What the dial machine (dial.c) puts out, as the shim counts it: into
 * this thread's block and the slot's process block.  Inline, so that the
 * machine costs what it did before it was one.  The unit tests compile
 * dial.c against their own recorder instead (tests/unit/acct/). */
#ifndef OM_DIAL_OUT_H
#define OM_DIAL_OUT_H

#include "acct/counters.h"
#include "acct/leak.h"
#include "acct/sockrec.h"
#include "common/clock.h"

static inline void om_out_bytes(unsigned cls, int dir, uint64_t n)
{
	om_count_bytes(cls, dir, n);
}

static inline void om_out_dial(unsigned cls, unsigned outcome, uint64_t ns)
{
	om_count_dial(cls, outcome, ns);
}

/* A connection of class cls opened (1) or closed (0). */
static inline void om_out_open(unsigned cls, int opened)
{
	struct om_pblock *p = om_pblk();

	if (p)
		om_padd(opened ? &p->opened[cls] : &p->closed[cls], 1);
}

/* The TCP socket of e held (its peer's kernel class in its flags);
 * fresh: not counted in this process before. */
static inline void om_out_sock_held(const struct om_fd *e, int fresh)
{
	struct om_pblock *p = om_pblk();

	if (fresh)
		__atomic_add_fetch(&om_socks_counted, 1, __ATOMIC_RELAXED);
	if (p)
		om_padd(&p->socks_opened[om_fd_kclass(e)], 1);
}

/* ... and no longer. */
static inline void om_out_sock_gone(const struct om_fd *e)
{
	struct om_pblock *p;

	__atomic_sub_fetch(&om_socks_counted, 1, __ATOMIC_RELAXED);
	if ((p = om_pblk()))
		om_padd(&p->socks_closed[om_fd_kclass(e)], 1);
}

static inline void om_out_proxy_unreachable(void)
{
	struct om_pblock *p = om_pblk();

	if (p)
		om_padd(&p->proxy_unreachable, 1);
}

/* The class of fd's socket is final, and one its peer address cannot
 * show: recorded for whoever receives the socket. */
static inline void om_out_decided(int fd, unsigned cls)
{
	om_rec_publish(fd, cls);
}

/* A proxy request is complete: judged. */
static inline void om_out_request(const struct om_req *req)
{
	om_leak_request_done(req);
}

static inline uint64_t om_out_now(void)
{
	return om_mono_ns();
}

#endif
