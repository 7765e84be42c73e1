#include "acct/handoff.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "acct/dial.h"
#include "acct/track.h"
#include "common/segment_layout.h"
#include "core/real.h"
#include "core/state.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

_Static_assert(sizeof(struct om_req) == sizeof(((struct om_hand *)0)->req), "om_req fits");
_Static_assert(sizeof(struct om_rep) == sizeof(((struct om_hand *)0)->rep), "om_rep fits");
_Static_assert(OM_STASH == sizeof(((struct om_hand *)0)->stash), "stash fits");

#define FACT_FLAGS (OM_FDF_PROXY_EP | OM_FDF_REQ_DONE | OM_FDF_DECIDED)
/* A step holds an entry's lock for a few hundred instructions, but its
 * holder can be preempted there for many milliseconds on a busy host.
 * Giving up is not harmless: a fork child that finds no entry takes the
 * connection for an established one and the dial is counted by no one.
 * So a look-up waits: a few yields, then naps growing to NAP_MAX, up to
 * LOCK_WAIT in all; only a holder stopped or killed mid-step makes it
 * wait that long.  Claiming a victim does not wait: a locked entry is in
 * use, and another will do next time. */
#define LOCK_YIELDS 16
#define NAP_FIRST 20000L    /* ns */
#define NAP_MAX 4000000L    /* ns */
#define LOCK_WAIT 500000000L /* ns */

uint64_t om_sock_cookie(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof c;
	int err = errno;

	if (OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_COOKIE, &c, &len) != 0)
		c = 0;
	errno = err;
	return c;
}

static struct om_hand *table(void)
{
	return (struct om_hand *)(om_seg.map + om_seg.g.hand_off);
}

static int usable(void)
{
	return !om_passive() && om_ready();
}

static int try_lock(struct om_hand *x, uint32_t me)
{
	uint32_t cur = 0;

	return __atomic_compare_exchange_n(&x->lock, &cur, me, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static int lock(struct om_hand *x, int wait)
{
	uint32_t me = om_thread_token();
	struct timespec nap = { 0, NAP_FIRST };
	long waited = 0;
	int i;

	for (i = 0; i < LOCK_YIELDS; i++) {
		if (try_lock(x, me))
			return 1;
		sched_yield();
	}
	/* held by this very thread (a signal handler mid-step): no waiting */
	while (wait && waited < LOCK_WAIT && __atomic_load_n(&x->lock, __ATOMIC_RELAXED) != me) {
		nanosleep(&nap, 0); /* EINTR: a shorter nap, counted whole */
		waited += nap.tv_nsec;
		nap.tv_nsec = nap.tv_nsec * 2 < NAP_MAX ? nap.tv_nsec * 2 : NAP_MAX;
		if (try_lock(x, me))
			return 1;
	}
	return 0;
}

static void unlock(struct om_hand *x)
{
	__atomic_store_n(&x->lock, 0, __ATOMIC_RELEASE);
}

/* cookie's entry, locked; with claim, a free entry or the least recently
 * written one around its home is taken for it.  NULL if none. */
static struct om_hand *grab(uint64_t c, int claim)
{
	struct om_hand *t = table(), *victim = 0;
	uint32_t home = om_hand_home(c), k, oldest = ~0u;
	uint64_t was = 0;

	for (k = 0; k < OM_HAND_PROBE; k++) {
		struct om_hand *x = &t[(home + k) % OM_NHAND];
		uint64_t cur = __atomic_load_n(&x->cookie, __ATOMIC_ACQUIRE);
		uint32_t st;

		if (cur == c) {
			if (!lock(x, 1))
				return 0;
			if (__atomic_load_n(&x->cookie, __ATOMIC_ACQUIRE) == c)
				return x;
			unlock(x); /* evicted while we waited */
			return 0;
		}
		if (!claim)
			continue;
		st = __atomic_load_n(&x->stamp, __ATOMIC_RELAXED);
		if (cur == 0)
			st = 0;
		if (st < oldest) {
			oldest = st;
			victim = x;
			was = cur;
		}
	}
	if (!victim || !lock(victim, 0))
		return 0;
	if (__atomic_load_n(&victim->cookie, __ATOMIC_ACQUIRE) != was) {
		unlock(victim); /* another process took it first */
		return 0;
	}
	__atomic_store_n(&victim->cookie, c, __ATOMIC_RELEASE);
	victim->state = OM_HAND_FREE;
	return victim;
}

static void save(struct om_hand *x, struct om_hs *h, const struct om_hand_facts *f)
{
	x->cls = f->cls;
	x->flags = f->flags & FACT_FLAGS;
	x->stash_len = h->stash_len;
	x->t0 = h->t0;
	x->t_up = h->t_up;
	x->pend[0] = h->pend[0];
	x->pend[1] = h->pend[1];
	memcpy(x->req, &h->req, sizeof h->req);
	memcpy(x->rep, &h->rep, sizeof h->rep);
	memcpy(x->stash, h->stash, sizeof h->stash);
	x->state = OM_HAND_OPEN;
	x->stamp = (uint32_t)(om_mono_ns() >> 20);
	h->seq = ++x->seq;
}

/* Load an entry another process wrote (perhaps a hostile one): every
 * length and index the parsers use is clamped, every enum checked.
 * 0, or -1 if it is not a state our parsers could have made. */
static int load(const struct om_hand *x, struct om_hs *h, struct om_hand_facts *f)
{
	struct om_req req;
	struct om_rep rep;

	memcpy(&req, x->req, sizeof req);
	memcpy(&rep, x->rep, sizeof rep);
	if (x->cls >= OM_NCLASS || x->stash_len > OM_STASH || om_sniff_state_check(&req, &rep) < 0)
		return -1;
	h->req = req;
	h->rep = rep;
	h->stash_len = x->stash_len;
	memcpy(h->stash, x->stash, sizeof h->stash);
	h->t0 = x->t0;
	h->t_up = x->t_up;
	h->pend[0] = x->pend[0];
	h->pend[1] = x->pend[1];
	h->seq = x->seq;
	f->cls = x->cls;
	f->flags = x->flags & FACT_FLAGS;
	return 0;
}

/* What a locked entry tells a holder whose state matches seq (or none). */
static int read_entry(struct om_hand *x, struct om_hs *h, struct om_hand_facts *f, int any)
{
	if (x->state == OM_HAND_DONE && x->cls < OM_NCLASS) {
		f->cls = x->cls;
		return OM_HAND_ENDED;
	}
	if (x->state != OM_HAND_OPEN)
		return OM_HAND_NONE;
	if (!any && x->seq == h->seq)
		return OM_HAND_SAME;
	return load(x, h, f) == 0 ? OM_HAND_NEWER : OM_HAND_NONE;
}

int om_hand_begin(struct om_hs *h, struct om_hand_facts *f, struct om_hand_step *s)
{
	int rc;

	s->x = 0;
	s->cookie = h->cookie;
	if (!h->cookie || !usable() || !(s->x = grab(h->cookie, 0)))
		return OM_HAND_NONE;
	rc = read_entry(s->x, h, f, 0);
	if (rc == OM_HAND_NONE)
		om_hand_release(s);
	return rc;
}

int om_hand_find(uint64_t cookie, struct om_hs *h, struct om_hand_facts *f,
		 struct om_hand_step *s)
{
	int rc;

	s->x = 0;
	s->cookie = cookie;
	if (!cookie || !usable() || !(s->x = grab(cookie, 0)))
		return OM_HAND_NONE;
	rc = read_entry(s->x, h, f, 1);
	if (rc == OM_HAND_NONE)
		om_hand_release(s);
	return rc;
}

void om_hand_put(int fd, struct om_hs *h, const struct om_hand_facts *f,
		 struct om_hand_step *s)
{
	if (!s->x) {
		if (!usable())
			return;
		if (!h->cookie)
			h->cookie = om_sock_cookie(fd);
		if (!h->cookie || !(s->x = grab(h->cookie, 1)))
			return;
		/* someone else's newer state stays: ours was not built on it */
		if (s->x->state == OM_HAND_DONE ||
		    (s->x->state == OM_HAND_OPEN && s->x->seq != h->seq)) {
			om_hand_release(s);
			return;
		}
	}
	save(s->x, h, f);
	om_hand_release(s);
}

void om_hand_done(struct om_hand_step *s, unsigned cls)
{
	if (!s->x && (!s->cookie || !usable() || !(s->x = grab(s->cookie, 0))))
		return;
	s->x->cls = (uint8_t)cls;
	s->x->state = OM_HAND_DONE;
	s->x->stamp = (uint32_t)(om_mono_ns() >> 20);
	om_hand_release(s);
}

void om_hand_release(struct om_hand_step *s)
{
	if (s->x)
		unlock(s->x);
	s->x = 0;
}
