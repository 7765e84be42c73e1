/* Where the wrappers' socket events meet the dial machine (dial.h): the
 * per-socket lock, and what connect() tells before there is a dial. */
#include "acct/track.h"

#include <sched.h>

#include "acct/closing.h"
#include "acct/dial.h"
#include "acct/handoff.h"
#include "acct/leak.h"
#include "common/classify.h"
#include "core/config.h"
#include "core/real.h"

/* The slow-path lock.  Its word holds the holder's token: the fork
 * generation (10 bits) and the thread's kernel id (22 bits: pid_max is at
 * most 2^22), so that no two live threads share one, and in a fork child
 * a lock held by a thread that does not exist there is seen as free. */
#define TID_BITS 22
static inline uint32_t my_token(void)
{
	uint32_t gen = om_gen;

	/* one compare: lock_gen holds ~gen, which a new thread's zeroed
	 * word matches only in generation 2^32 - 1 */
	if (__builtin_expect(om_tls_id.lock_gen != ~gen, 0)) {
		uint32_t tok = om_thread_token(); /* this generation's thread id */

		om_tls_id.lock = (gen & 0x3FFu) << TID_BITS | (tok & ((1u << TID_BITS) - 1));
		om_tls_id.lock_gen = ~gen;
	}
	return om_tls_id.lock;
}

static int stale(uint32_t tok)
{
	return (tok >> TID_BITS) != (om_gen & 0x3FFu);
}

/* Take e's lock, waiting while another thread holds it: its critical
 * section is short and never blocks.  Returns 0 without the lock when this
 * thread holds it already (a signal handler interrupted our own frame).
 * The free lock is the common case and takes one compare-and-swap inline;
 * the loop that may yield is out of line. */
static __attribute__((noinline, cold)) int lock_wait(struct om_fd *e, uint32_t me, uint32_t cur)
{
	for (;;) {
		if (cur == me)
			return 0;
		if (cur == 0 || stale(cur)) {
			if (__atomic_compare_exchange_n(&e->busy, &cur, me, 0, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return 1;
			continue;
		}
		sched_yield();
		cur = __atomic_load_n(&e->busy, __ATOMIC_RELAXED);
	}
}

static inline int lock(struct om_fd *e)
{
	uint32_t me = my_token(), cur = 0;

	if (__builtin_expect(__atomic_compare_exchange_n(&e->busy, &cur, me, 0, __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED),
			     1))
		return 1;
	return lock_wait(e, me, cur);
}

static void unlock(struct om_fd *e)
{
	__atomic_store_n(&e->busy, 0, __ATOMIC_RELEASE);
}

/* errno values from connect() that mean no dial happened at all (and for
 * EBADF, EFAULT, EINVAL: that the kernel may not have read the address) */
static int not_a_dial(int err)
{
	return err == EBADF || err == ENOTSOCK || err == EINVAL ||
	       err == EAFNOSUPPORT || err == EFAULT || err == EPROTOTYPE;
}

int om_forget_closing(int fd, struct om_closing *c)
{
	struct om_fd *e = om_fd_peek(fd);
	uint8_t h;
	int locked, taken = 0;

	if (!e || om_passive() || (h = om_fd_hot(e)) == OM_HOT_NONE)
		return 0;
	if (h & OM_HOT_QUIET) {
		om_fd_set_hot(e, OM_HOT_NONE);
		e->sotype = 0;
		return 0;
	}
	/* errno is kept below: the dial machine makes no system call but in
	 * om_rec_publish() and om_closing_begin(), which keep it themselves */
	locked = lock(e);
	if (c && locked && om_closing_shared(e))
		taken = om_closing_begin(e, c);
	om_dial_close(e);
	if (locked)
		unlock(e);
	return taken;
}

int om_track_take_over(int fd, uint32_t hs, const struct om_hand_facts *f)
{
	struct om_fd *e;
	int locked, rc;

	if (fd < 0 || !(e = om_fd_peek(fd)) || om_fd_hot(e) == OM_HOT_NONE)
		return 0;
	locked = lock(e);
	rc = locked && om_dial_take_over(e, hs, f) == 0;
	if (locked)
		unlock(e);
	return rc;
}

void om_forget_fd(int fd)
{
	om_forget_closing(fd, 0);
}

void om_connect_done(int fd, const struct sockaddr *sa, socklen_t len, int rc,
		     int err, uint64_t t0)
{
	enum om_dest d;
	struct om_fd *e;
	uint8_t hot, dns;
	int type, locked;
	socklen_t tl = sizeof type;

	if (om_passive() || (rc != 0 && not_a_dial(err)))
		return;
	/* the kernel read sa: judged here unless it was judged (and let
	 * through) before the call */
	d = om_classify(sa, len);
	if (!om_cfg.enforce)
		om_leak_dest_as(fd, (int)d, sa, len, 0);
	if (d == OM_DEST_NONE) {
		om_forget_fd(fd); /* unix socket or AF_UNSPEC disconnect */
		return;
	}
	if (!om_ready() || !(e = om_fd_get(fd)))
		return;
	locked = lock(e);
	hot = om_fd_hot(e);
	if ((hot & OM_HOT_SLOW) && e->dial == OM_DIAL_CONNECTING) {
		om_dial_connected(e, rc, err); /* polling a non-blocking connect */
		goto out;
	}
	if (hot != OM_HOT_NONE && !(hot & OM_HOT_QUIET) && (e->flags & OM_FDF_TCP))
		goto out; /* connected TCP: the kernel said EISCONN */
	/* socket() told us the type; only inherited sockets need asking */
	type = e->sotype;
	if (!type && (OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		      (type != SOCK_STREAM && type != SOCK_DGRAM))) {
		om_fd_set_hot(e, OM_HOT_IGNORE);
		goto out;
	}
	if (hot != OM_HOT_NONE)
		om_dial_close(e); /* UDP re-connect: settle the old destination */
	if (e->hs)
		om_dial_drop_hs(e);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
	e->sotype = (uint8_t)type;
	dns = om_dns_dest(sa, len) ? OM_FDF_DNS : 0;
	if (type == SOCK_STREAM) {
		if (om_dial_start(e, d, dns, t0, rc, err) < 0)
			om_fd_set_hot(e, OM_HOT_IGNORE);
	} else {
		/* UDP has no dial; a proxy endpoint over UDP is just local */
		e->cls = (uint8_t)(d == OM_DEST_PROXY ? OM_CLASS_LOCAL : om_dest_class(d));
		e->flags = OM_FDF_DECIDED | dns;
		if (rc == 0)
			om_fd_set_hot(e, om_settled_hot(e));
	}
out:
	if (locked)
		unlock(e);
}

void om_sockopt_error(struct om_fd *e, int soerr)
{
	int locked;

	if (om_passive() || !om_ready())
		return;
	locked = lock(e);
	om_dial_sockopt(e, soerr);
	if (locked)
		unlock(e);
}

/* A step of a handshake another process may continue (handoff.h): the
 * table's newer state first, ours back after. */
static void step_begin(struct om_fd *e, struct om_hand_step *s)
{
	struct om_hand_facts f;

	s->x = 0;
	s->cookie = 0;
	if (e->dial != OM_DIAL_UP || !e->hs || !om_hs_at(e->hs)->cookie)
		return;
	switch (om_hand_begin(om_hs_at(e->hs), &f, s)) {
	case OM_HAND_ENDED:
		om_hand_release(s);
		s->cookie = 0;
		om_dial_ended_elsewhere(e, f.cls);
		break;
	case OM_HAND_NEWER:
		om_dial_apply(e, &f);
		break;
	}
}

static void step_end(struct om_fd *e, struct om_hand_step *s)
{
	struct om_hand_facts f;

	if (om_dial_handshaking(e)) {
		om_dial_facts(e, &f);
		om_hand_put(e->fd, om_hs_at(e->hs), &f, s);
	} else if (s->cookie) {
		om_hand_done(s, e->cls);
	} else {
		om_hand_release(s);
	}
}

void om_io_slow(struct om_fd *e, int dir, const struct iovec *iov, int cnt,
		ssize_t r, int err)
{
	struct om_hand_step s;

	if (!e || om_passive() || !om_ready())
		return;
	if (!lock(e)) {
		om_dial_reentrant(e, dir, r);
		return;
	}
	if (dir == OM_EGRESS && (e->flags & OM_FDF_DNS) && r > 0 && iov && !om_cfg.enforce &&
	    (om_fd_hot(e) & OM_HOT_SLOW))
		om_leak_dns(e->flags & OM_FDF_TCP, iov, cnt, (size_t)r, 0);
	step_begin(e, &s);
	om_dial_io(e, dir, iov, cnt, r, err);
	step_end(e, &s);
	unlock(e);
}

/* Exported to adopt.c: take the lock around an adoption. */
int om_track_lock(struct om_fd *e)
{
	return lock(e);
}

void om_track_unlock(struct om_fd *e)
{
	unlock(e);
}

/* The dial ends with this process: from the hand-off table's state if
 * another holder moved it on (a dup closed before, a child's steps). */
static void exit_here(struct om_fd *e)
{
	struct om_hand_step s;
	struct om_hs *h = e->hs ? om_hs_at(e->hs) : 0;

	if (h && !h->cookie && om_closing_shared(e))
		h->cookie = om_sock_cookie(e->fd);
	step_begin(e, &s);
	if (e->dial == OM_DIAL_UP)
		om_dial_exit(e);
	step_end(e, &s);
}

/* A dial up and never spoken on when the process exits (bash's exec
 * 3<>/dev/tcp/HOST/PORT, then exit) would never get its outcome: it is
 * decided now, as a close would.  Only this process's entries: a fork
 * child's hot bytes start at zero, and its parent's dials stay the
 * parent's.  Not reached by _exit() or a fatal signal. */
__attribute__((destructor)) static void settle_at_exit(void)
{
	unsigned p, i, top;

	/* a process that never attached touches no page of the fd table */
	if (__atomic_load_n(&om_proc.state, __ATOMIC_ACQUIRE) != OM_ST_READY ||
	    om_thread_mode == OM_THR_VFORK || om_seg.detached)
		return;
	top = __atomic_load_n(&om_fd_pages_top, __ATOMIC_ACQUIRE);
	for (p = 0; p < top; p++) {
		struct om_fd_page *pg = __atomic_load_n(&om_fd_pages[p], __ATOMIC_ACQUIRE);

		for (i = 0; pg && i < OM_FD_PAGE; i++) {
			struct om_fd *e = &pg->e[i];

			if (__atomic_load_n(&e->dial, __ATOMIC_RELAXED) != OM_DIAL_UP ||
			    om_fd_hot(e) == OM_HOT_NONE || !lock(e))
				continue;
			if (!om_closing_at_exit(e))
				exit_here(e);
			unlock(e);
		}
	}
}
