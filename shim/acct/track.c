#include "acct/track.h"

#include <sched.h>
#include <string.h>
#include <time.h>

#include "acct/handshake.h"
#include "core/config.h"
#include "acct/leak.h"
#include "core/real.h"
#include "common/classify.h"
#include "acct/sockrec.h"

/* The slow-path lock.  Its word holds the holder's token: the fork
 * generation (12 bits) and the thread (20 bits), so that in a fork child a
 * lock held by a thread that does not exist there is seen as free. */
static uint32_t my_token(void)
{
	return (om_gen & 0xFFFu) << 20 | (om_thread_token() & 0xFFFFFu);
}

static int stale(uint32_t tok)
{
	return (tok >> 20) != (om_gen & 0xFFFu);
}

/* Take e's lock, waiting while another thread holds it: its critical
 * section is short and never blocks.  Returns 0 without the lock when this
 * thread holds it already (a signal handler interrupted our own frame). */
static int lock(struct om_fd *e)
{
	uint32_t me = my_token(), cur;

	for (;;) {
		cur = __atomic_load_n(&e->busy, __ATOMIC_RELAXED);
		if (cur == me)
			return 0;
		if (cur == 0 || stale(cur)) {
			if (__atomic_compare_exchange_n(&e->busy, &cur, me, 0, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return 1;
			continue;
		}
		sched_yield();
	}
}

static void unlock(struct om_fd *e)
{
	__atomic_store_n(&e->busy, 0, __ATOMIC_RELEASE);
}

static struct om_hs *hs_of(const struct om_fd *e)
{
	return e->hs ? om_hs_at(e->hs) : 0;
}

static void hs_drop(struct om_fd *e)
{
	uint32_t h = e->hs;

	e->hs = 0;
	om_hs_free(h);
}

static unsigned errno_outcome(int err)
{
	switch (err) {
	case ECONNREFUSED: return OM_OUT_REFUSED;
	case ETIMEDOUT: return OM_OUT_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN: return OM_OUT_UNREACHABLE;
	case EACCES:
	case EPERM: return OM_OUT_DENIED;
	}
	return OM_OUT_ERROR;
}

/* errno values from connect() that mean no dial happened at all (and for
 * EBADF, EFAULT, EINVAL: that the kernel may not have read the address) */
static int not_a_dial(int err)
{
	return err == EBADF || err == ENOTSOCK || err == EINVAL ||
	       err == EAFNOSUPPORT || err == EFAULT || err == EPROTOTYPE;
}

/* errno values on I/O that report a failed non-blocking connect */
static int connect_failed(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == ENETUNREACH ||
	       err == EHOSTUNREACH || err == ENETDOWN || err == EHOSTDOWN;
}

unsigned om_dest_class(int d)
{
	return d == OM_DEST_DIRECT ? OM_CLASS_DIRECT
	     : d == OM_DEST_PROXY ? OM_CLASS_PROXIED : OM_CLASS_LOCAL;
}

/* The class is final: credit the bytes that waited for it.  A class the
 * peer address cannot show is recorded for whoever receives the socket. */
static void decide(struct om_fd *e, unsigned cls)
{
	struct om_hs *h = hs_of(e);
	int d;

	e->cls = (uint8_t)cls;
	e->flags |= OM_FDF_DECIDED;
	if ((cls == OM_CLASS_ONION || cls == OM_CLASS_PROXIED) && (e->flags & OM_FDF_TCP))
		om_rec_publish(e->fd, cls);
	for (d = 0; h && d < OM_NDIR; d++) {
		uint64_t n = __atomic_exchange_n(&h->pend[d], 0, __ATOMIC_RELAXED);

		if (n)
			om_count_bytes(cls, d, n);
	}
}

static unsigned kclass(const struct om_fd *e)
{
	return (e->flags & OM_FDF_PROXY_EP) ? OM_KCLASS_PROXY
	     : (e->flags & OM_FDF_ADDR_DIRECT) ? OM_KCLASS_DIRECT : OM_KCLASS_LOCAL;
}

long om_socks_counted;

void om_sock_held(struct om_fd *e, int d)
{
	struct om_pblock *p = om_pblk();

	if (!(e->flags & OM_FDF_SOCK))
		__atomic_add_fetch(&om_socks_counted, 1, __ATOMIC_RELAXED);

	e->flags = (uint8_t)((e->flags & ~(OM_FDF_PROXY_EP | OM_FDF_ADDR_DIRECT)) | OM_FDF_SOCK |
			     (d == OM_DEST_PROXY ? OM_FDF_PROXY_EP : 0) |
			     (d == OM_DEST_DIRECT ? OM_FDF_ADDR_DIRECT : 0));
	if (p)
		om_padd(&p->socks_opened[kclass(e)], 1);
}

void om_sock_gone(struct om_fd *e)
{
	struct om_pblock *p;

	if (!(e->flags & OM_FDF_SOCK))
		return;
	__atomic_sub_fetch(&om_socks_counted, 1, __ATOMIC_RELAXED);
	e->flags &= (uint8_t)~OM_FDF_SOCK;
	if ((p = om_pblk()))
		om_padd(&p->socks_closed[kclass(e)], 1);
}

static void count_bytes(struct om_fd *e, int dir, ssize_t r)
{
	struct om_hs *h = hs_of(e);

	if (r <= 0)
		return;
	if ((e->flags & OM_FDF_DECIDED) || !h)
		om_count_bytes(e->cls, dir, (uint64_t)r);
	else
		__atomic_fetch_add(&h->pend[dir], (uint64_t)r, __ATOMIC_RELAXED);
}

/* The dial ended.  From here on the fast path handles the socket. */
static void finish(struct om_fd *e, unsigned outcome, uint64_t end_ns)
{
	struct om_hs *h = hs_of(e);
	struct om_pblock *p = om_pblk();

	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, e->cls);
	om_count_dial(e->cls, outcome, h && end_ns > h->t0 ? end_ns - h->t0 : 0);
	if (outcome == OM_OUT_SUCCESS) {
		if (p)
			om_padd(&p->opened[e->cls], 1);
		e->flags |= OM_FDF_OPEN;
	}
	e->dial = OM_DIAL_DONE;
	hs_drop(e);
	om_fd_set_hot(e, om_settled_hot(e));
}

/* A plain (non-proxy) connection: the dial succeeded when TCP came up. */
static void finish_plain(struct om_fd *e)
{
	struct om_hs *h = hs_of(e);

	if (e->flags & OM_FDF_PROXY_EP) /* a configured proxy not spoken to as one */
		finish(e, OM_OUT_PROXY_ERROR, om_mono_ns());
	else
		finish(e, OM_OUT_SUCCESS, h ? h->t_up : 0);
}

static void tcp_up(struct om_fd *e)
{
	struct om_hs *h = hs_of(e);

	if (h)
		h->t_up = om_mono_ns();
	e->dial = OM_DIAL_UP;
}

static void dial_failed(struct om_fd *e, int err)
{
	struct om_hs *h = hs_of(e);
	struct om_pblock *p = om_pblk();

	if (e->flags & OM_FDF_PROXY_EP) {
		e->cls = OM_CLASS_PROXIED;
		if (p)
			om_padd(&p->proxy_unreachable, 1);
	}
	decide(e, e->cls);
	om_count_dial(e->cls, errno_outcome(err), h ? om_mono_ns() - h->t0 : 0);
	hs_drop(e);
	om_sock_gone(e); /* the kernel no longer lists it */
	/* the socket is dead; a later connect() on it starts afresh */
	om_fd_set_hot(e, OM_HOT_IGNORE);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
}

static void connect_result(struct om_fd *e, int rc, int err)
{
	if (rc == 0 || err == EISCONN)
		tcp_up(e);
	else if (err != EINPROGRESS && err != EINTR && err != EALREADY && err != EAGAIN)
		dial_failed(e, err);
}

/* Everything this entry held ends: an open dial is aborted, an open
 * connection closed.  Called with the lock held (or reentrant). */
static void forget_locked(struct om_fd *e)
{
	struct om_pblock *p;

	if (e->dial == OM_DIAL_CONNECTING) {
		finish(e, OM_OUT_ABORTED, om_mono_ns());
	} else if (e->dial == OM_DIAL_UP) {
		struct om_hs *h = hs_of(e);

		if (h && h->req.proto == OM_PROTO_NONE && !(e->flags & OM_FDF_PROXY_EP))
			finish_plain(e); /* connected, never spoken to */
		else
			finish(e, OM_OUT_ABORTED, om_mono_ns());
	}
	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, e->cls);
	if ((e->flags & OM_FDF_OPEN) && (p = om_pblk()))
		om_padd(&p->closed[e->cls], 1);
	om_sock_gone(e);
	hs_drop(e);
	om_fd_set_hot(e, OM_HOT_NONE);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
	e->sotype = 0;
}

void om_forget_fd(int fd)
{
	struct om_fd *e = om_fd_peek(fd);
	uint8_t h;
	int err, locked;

	if (!e || om_passive() || (h = om_fd_hot(e)) == OM_HOT_NONE)
		return;
	if (h & OM_HOT_QUIET) {
		om_fd_set_hot(e, OM_HOT_NONE);
		e->sotype = 0;
		return;
	}
	err = errno;
	locked = lock(e);
	forget_locked(e);
	if (locked)
		unlock(e);
	errno = err;
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
	if (!om_cfg.enforce)
		om_leak_dest(fd, sa, len, 0);
	d = om_classify(sa, len);
	if (d == OM_DEST_NONE) {
		om_forget_fd(fd); /* unix socket or AF_UNSPEC disconnect */
		return;
	}
	if (!om_ready() || !(e = om_fd_get(fd)))
		return;
	locked = lock(e);
	hot = om_fd_hot(e);
	if ((hot & OM_HOT_SLOW) && e->dial == OM_DIAL_CONNECTING) {
		connect_result(e, rc, err); /* polling a non-blocking connect */
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
		forget_locked(e); /* UDP re-connect: settle the old destination */
	hs_drop(e);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
	e->sotype = (uint8_t)type;
	e->cls = (uint8_t)om_dest_class(d);
	dns = om_dns_dest(sa, len) ? OM_FDF_DNS : 0;
	if (type == SOCK_STREAM) {
		struct om_hs *h;

		if (!(e->hs = om_hs_alloc())) { /* 65536 dials at once: untracked */
			om_fd_set_hot(e, OM_HOT_IGNORE);
			goto out;
		}
		h = hs_of(e);
		h->t0 = t0;
		e->flags = OM_FDF_TCP | dns;
		om_sock_held(e, d);
		e->dial = OM_DIAL_CONNECTING;
		om_fd_set_hot(e, OM_HOT_SLOW);
		connect_result(e, rc, err);
	} else {
		/* UDP has no dial; a proxy endpoint over UDP is just local */
		if (d == OM_DEST_PROXY)
			e->cls = OM_CLASS_LOCAL;
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
	/* SO_ERROR is 0 while the connect is still in progress too; programs
	 * ask once the socket polled writable, so 0 means up */
	if (e->dial == OM_DIAL_CONNECTING && (om_fd_hot(e) & OM_HOT_SLOW)) {
		if (soerr != 0)
			dial_failed(e, soerr);
		else
			tcp_up(e);
	}
	if (locked)
		unlock(e);
}

/* Feed at most r bytes of iov to a parser until it is no longer hungry. */
#define FEED(rc, iov, cnt, r, call)                                           \
	do {                                                                  \
		size_t left_ = (size_t)(r);                                   \
		int i_;                                                       \
		(rc) = OM_SNIFF_MORE;                                         \
		for (i_ = 0; i_ < (cnt) && left_ && (rc) == OM_SNIFF_MORE; i_++) { \
			const uint8_t *p_ = (iov)[i_].iov_base;               \
			size_t n_ = (iov)[i_].iov_len < left_ ? (iov)[i_].iov_len : left_; \
			left_ -= n_;                                          \
			(rc) = call;                                          \
		}                                                             \
	} while (0)

static void reply_done(struct om_fd *e, struct om_hs *h)
{
	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, OM_CLASS_PROXIED); /* refused before the request */
	finish(e, h->rep.outcome, om_mono_ns());
}

/* The request's protocol is known now: what the proxy answered before we
 * saw the request (another thread read it first) goes to the reply
 * parser. */
static void replay_stash(struct om_fd *e, struct om_hs *h)
{
	uint8_t n = h->stash_len;

	h->stash_len = 0;
	if (n && om_rep_feed(&h->rep, h->stash, n) == OM_SNIFF_DONE)
		reply_done(e, h);
}

/* Bytes the program wrote while the class is undecided.  iov may be NULL
 * (sendfile, splice): file contents are never a proxy request. */
static void sniff_egress(struct om_fd *e, struct om_hs *h, const struct iovec *iov,
			 int cnt, ssize_t r)
{
	size_t used;
	int rc;

	if (e->flags & OM_FDF_REQ_DONE) {
		count_bytes(e, OM_EGRESS, r);
		return;
	}
	if (iov)
		FEED(rc, iov, cnt, r, om_req_feed(&h->req, p_, n_, &used));
	else
		rc = OM_SNIFF_NOT_PROXY;
	if (rc == OM_SNIFF_DONE) {
		decide(e, h->req.onion ? OM_CLASS_ONION : OM_CLASS_PROXIED);
		e->flags |= OM_FDF_REQ_DONE;
		h->rep.forward = h->req.proto == OM_PROTO_HTTP && h->req.cmd == 2;
		om_leak_request_done(&h->req);
	}
	count_bytes(e, OM_EGRESS, r);
	if (rc == OM_SNIFF_NOT_PROXY) {
		finish_plain(e);
		return;
	}
	if (h->rep.proto == OM_PROTO_NONE && h->req.proto != OM_PROTO_NONE)
		h->rep.proto = h->req.proto;
	/* what the proxy answered before we saw the request: an HTTP reply's
	 * meaning depends on the whole request line */
	if (h->stash_len && (h->req.proto != OM_PROTO_HTTP || rc == OM_SNIFF_DONE))
		replay_stash(e, h);
}

/* Could this be the first byte of a proxy's reply?  SOCKS5 answers 5,
 * SOCKS4 0 (some servers 4), HTTP "H". */
static int reply_shaped(uint8_t c)
{
	return c == 5 || c == 0 || c == 4 || c == 'H';
}

static void stash(struct om_hs *h, const struct iovec *iov, int cnt, ssize_t r)
{
	size_t left = (size_t)r;
	int i;

	for (i = 0; i < cnt && left && h->stash_len < OM_STASH; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (n > (size_t)(OM_STASH - h->stash_len))
			n = (size_t)(OM_STASH - h->stash_len);
		memcpy(h->stash + h->stash_len, iov[i].iov_base, n);
		h->stash_len = (uint8_t)(h->stash_len + n);
		left -= n;
	}
}

/* Bytes the program read while the dial is open. */
static void sniff_ingress(struct om_fd *e, struct om_hs *h, const struct iovec *iov,
			  int cnt, ssize_t r)
{
	int rc;

	count_bytes(e, OM_INGRESS, r);
	if (h->rep.proto == OM_PROTO_NONE) {
		/* Nothing of a request seen yet.  A peer that speaks first
		 * (SSH, SMTP) ends the dial as plain; but a proxy's reply can
		 * be read here before the thread that wrote the request has
		 * accounted for it, so anything shaped like one waits. */
		if (!(e->flags & OM_FDF_PROXY_EP) && !h->stash_len && cnt > 0 &&
		    iov[0].iov_len && !reply_shaped(*(const uint8_t *)iov[0].iov_base)) {
			finish_plain(e);
			return;
		}
		stash(h, iov, cnt, r);
		return;
	}
	FEED(rc, iov, cnt, r, om_rep_feed(&h->rep, p_, n_));
	if (rc == OM_SNIFF_DONE)
		reply_done(e, h);
}

/* Bytes that reached us while this thread already held the lock (a signal
 * handler's I/O on a socket mid-handshake): counted, not parsed. */
static void count_reentrant(struct om_fd *e, int dir, ssize_t r)
{
	struct om_hs *h = hs_of(e);

	if (r <= 0)
		return;
	if (h && !(e->flags & OM_FDF_DECIDED))
		__atomic_fetch_add(&h->pend[dir], (uint64_t)r, __ATOMIC_RELAXED);
	else
		om_count_bytes(e->cls, dir, (uint64_t)r);
}

void om_io_slow(struct om_fd *e, int dir, const struct iovec *iov, int cnt,
		ssize_t r, int err)
{
	struct om_hs *h;

	if (!e || om_passive() || !om_ready())
		return;
	if (!lock(e)) {
		count_reentrant(e, dir, r);
		return;
	}
	if (!(om_fd_hot(e) & OM_HOT_SLOW)) {
		/* settled while we waited for the lock */
		if (om_fd_hot(e) & OM_HOT_COUNT)
			count_bytes(e, dir, r);
		goto out;
	}
	h = hs_of(e);
	if (dir == OM_EGRESS && (e->flags & OM_FDF_DNS) && r > 0 && iov && !om_cfg.enforce)
		om_leak_dns(e->flags & OM_FDF_TCP, iov, cnt, (size_t)r, 0);
	if (e->dial == OM_DIAL_CONNECTING) {
		if (r > 0 || (r == 0 && dir == OM_INGRESS)) {
			tcp_up(e);
		} else {
			if (r < 0 && connect_failed(err))
				dial_failed(e, err);
			goto out;
		}
	}
	if (e->dial != OM_DIAL_UP || !h) {
		count_bytes(e, dir, r);
		goto out;
	}
	if (r > 0) {
		if (dir == OM_EGRESS)
			sniff_egress(e, h, iov, cnt, r);
		else if (iov)
			sniff_ingress(e, h, iov, cnt, r);
		else
			count_bytes(e, dir, r);
	} else if (r == 0 && dir == OM_INGRESS) {
		/* EOF mid-handshake */
		if (h->req.proto != OM_PROTO_NONE || (e->flags & OM_FDF_PROXY_EP))
			finish(e, OM_OUT_PROXY_ERROR, om_mono_ns());
		else
			finish_plain(e);
	}
out:
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

void om_track_drop_hs(struct om_fd *e)
{
	hs_drop(e);
}
