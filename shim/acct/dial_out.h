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

/* Where one event's counts go: this process's block, or NULL while the
 * shim is off.  Found once per event (a close ends a dial, a connection
 * and a held socket at once), not once per count. */
typedef struct om_pblock *om_out_t;

static inline om_out_t om_out_begin(void)
{
	return om_pblk();
}

static inline void om_out_dial(om_out_t p, unsigned cls, unsigned outcome, uint64_t ns)
{
	om_count_dial(p, cls, outcome, ns);
}

/* A connection of class cls opened (1) or closed (0). */
static inline void om_out_open(om_out_t p, unsigned cls, int opened)
{
	if (p)
		om_padd(opened ? &p->opened[cls] : &p->closed[cls], 1);
}

/* The TCP socket of e held (its peer's kernel class in its flags);
 * fresh: not counted in this process before. */
static inline void om_out_sock_held(om_out_t p, const struct om_fd *e, int fresh)
{
	if (fresh)
		__atomic_add_fetch(&om_socks_counted, 1, __ATOMIC_RELAXED);
	if (p)
		om_padd(&p->socks_opened[om_fd_kclass(e)], 1);
}

/* ... and no longer. */
static inline void om_out_sock_gone(om_out_t p, const struct om_fd *e)
{
	__atomic_sub_fetch(&om_socks_counted, 1, __ATOMIC_RELAXED);
	if (p)
		om_padd(&p->socks_closed[om_fd_kclass(e)], 1);
}

static inline void om_out_proxy_unreachable(om_out_t p)
{
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

/* The fork count when a dial starts: a close that sees it changed asks
 * whether a child holds the socket too (closing.h). */
static inline uint32_t om_out_forks(void)
{
	return __atomic_load_n(&om_forks, __ATOMIC_RELAXED);
}

static inline uint64_t om_out_now(void)
{
	return om_clock_ns(CLOCK_MONOTONIC);
}

#endif
