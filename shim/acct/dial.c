#include "acct/dial.h"

#include <errno.h>
#include <string.h>

#include "acct/dial_out.h"
#include "acct/handoff.h"
#include "acct/handshake.h"
#include "common/classify.h"
#include "common/segment_layout.h"

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

/* errno values on I/O that report a failed non-blocking connect */
static int connect_failed(int err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT || err == ENETUNREACH ||
	       err == EHOSTUNREACH || err == ENETDOWN || err == EHOSTDOWN;
}

/* The class is final: credit the bytes that waited for it.  A class the
 * peer address cannot show is recorded for whoever receives the socket. */
static void decide(struct om_fd *e, struct om_hs *h, unsigned cls)
{
	int d;

	e->cls = (uint8_t)cls;
	e->flags |= OM_FDF_DECIDED;
	if ((cls == OM_CLASS_ONION || cls == OM_CLASS_PROXIED) && (e->flags & OM_FDF_TCP))
		om_out_decided(e->fd, cls);
	/* A signal handler on this thread adds to pend only before the flag
	 * above is set: after this fence it counts directly.  Most dials have
	 * nothing waiting; two loads say so. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!h || !(__atomic_load_n(&h->pend[0], __ATOMIC_RELAXED) |
		    __atomic_load_n(&h->pend[1], __ATOMIC_RELAXED)))
		return;
	for (d = 0; d < OM_NDIR; d++) {
		uint64_t n = __atomic_exchange_n(&h->pend[d], 0, __ATOMIC_RELAXED);

		if (n)
			om_out_bytes(cls, d, n);
	}
}

void om_sock_gone(om_out_t o, struct om_fd *e)
{
	if (!(e->flags & OM_FDF_SOCK))
		return;
	om_out_sock_gone(o, e);
	e->flags &= (uint8_t)~OM_FDF_SOCK;
}

static void count_bytes(struct om_fd *e, struct om_hs *h, int dir, ssize_t r)
{
	if (r <= 0)
		return;
	if ((e->flags & OM_FDF_DECIDED) || !h)
		om_out_bytes(e->cls, dir, (uint64_t)r);
	else
		__atomic_fetch_add(&h->pend[dir], (uint64_t)r, __ATOMIC_RELAXED);
}

/* The dial ended.  From here on the fast path handles the socket.  o:
 * where the event's counts go (om_out_begin), found once per event. */
static void finish(om_out_t o, struct om_fd *e, struct om_hs *h, unsigned outcome,
		   uint64_t end_ns)
{
	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, h, e->cls);
	om_out_dial(o, e->cls, outcome, h && end_ns > h->t0 ? end_ns - h->t0 : 0);
	if (outcome == OM_OUT_SUCCESS) {
		om_out_open(o, e->cls, 1);
		e->flags |= OM_FDF_OPEN;
	}
	e->dial = OM_DIAL_DONE;
	hs_drop(e);
	om_fd_set_hot(e, om_settled_hot(e));
}

/* A plain (non-proxy) connection: the dial succeeded when TCP came up. */
static void finish_plain(om_out_t o, struct om_fd *e, struct om_hs *h)
{
	if (e->flags & OM_FDF_PROXY_EP) /* a configured proxy not spoken to as one */
		finish(o, e, h, OM_OUT_PROXY_ERROR, om_out_now());
	else
		finish(o, e, h, OM_OUT_SUCCESS, h ? h->t_up : 0);
}

static void tcp_up(struct om_fd *e, struct om_hs *h)
{
	if (h)
		h->t_up = om_out_now();
	e->dial = OM_DIAL_UP;
}

static void dial_failed(struct om_fd *e, struct om_hs *h, int err)
{
	om_out_t o = om_out_begin();

	if (e->flags & OM_FDF_PROXY_EP) {
		e->cls = OM_CLASS_PROXIED;
		om_out_proxy_unreachable(o);
	}
	decide(e, h, e->cls);
	om_out_dial(o, e->cls, errno_outcome(err), h ? om_out_now() - h->t0 : 0);
	hs_drop(e);
	om_sock_gone(o, e); /* the kernel no longer lists it */
	/* the socket is dead; a later connect() on it starts afresh */
	om_fd_set_hot(e, OM_HOT_IGNORE);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
}

static void connected(struct om_fd *e, struct om_hs *h, int rc, int err)
{
	if (rc == 0 || err == EISCONN)
		tcp_up(e, h);
	else if (err != EINPROGRESS && err != EINTR && err != EALREADY && err != EAGAIN)
		dial_failed(e, h, err);
}

void om_dial_connected(struct om_fd *e, int rc, int err)
{
	connected(e, hs_of(e), rc, err);
}

int om_dial_start(struct om_fd *e, int d, uint8_t dns, uint64_t t0, int rc, int err)
{
	struct om_hs *h;

	if (!(e->hs = om_hs_alloc(&h))) /* 65536 dials at once: untracked */
		return -1;
	h->t0 = t0;
	h->forks = om_out_forks();
	e->cls = (uint8_t)om_dest_class(d);
	e->flags = OM_FDF_TCP | dns;
	om_sock_held(om_out_begin(), e, d);
	e->dial = OM_DIAL_CONNECTING;
	om_fd_set_hot(e, OM_HOT_SLOW);
	connected(e, h, rc, err);
	return 0;
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
		decide(e, h, OM_CLASS_PROXIED); /* refused before the request */
	finish(om_out_begin(), e, h, h->rep.outcome, om_out_now());
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
		count_bytes(e, h, OM_EGRESS, r);
		return;
	}
	if (iov)
		FEED(rc, iov, cnt, r, om_req_feed(&h->req, p_, n_, &used));
	else
		rc = OM_SNIFF_NOT_PROXY;
	if (rc == OM_SNIFF_DONE) {
		decide(e, h, h->req.onion ? OM_CLASS_ONION : OM_CLASS_PROXIED);
		e->flags |= OM_FDF_REQ_DONE;
		h->rep.forward = h->req.proto == OM_PROTO_HTTP && h->req.cmd == 2;
		om_out_request(&h->req);
	}
	count_bytes(e, h, OM_EGRESS, r);
	if (rc == OM_SNIFF_NOT_PROXY) {
		finish_plain(om_out_begin(), e, h);
		return;
	}
	if (h->rep.proto == OM_PROTO_NONE && h->req.proto != OM_PROTO_NONE)
		h->rep.proto = h->req.proto;
	/* what the proxy answered before the request was whole: a reply means
	 * what it means for the whole request */
	if (rc == OM_SNIFF_DONE && h->stash_len)
		replay_stash(e, h);
}

/* The dial ends without a whole request (the proxy hung up): what the
 * proxy answered so far may say why.  1 if it ended the dial. */
static int settle_stash(struct om_fd *e, struct om_hs *h)
{
	if (!h || !h->stash_len || h->rep.proto == OM_PROTO_NONE)
		return 0;
	replay_stash(e, h);
	return e->dial == OM_DIAL_DONE;
}

/* How a dial that is up ends without its outcome: connected and never
 * spoken to is a plain success (a configured proxy not spoken to as one,
 * a proxy error); a handshake cut short is judged by what the proxy said
 * before the request was whole (SOCKS5's "no acceptable method", a failed
 * login), which makes it proxied, or else aborted.  *cls is the class. */
static unsigned up_outcome(struct om_hs *h, uint8_t flags, unsigned *cls)
{
	uint8_t n;

	if (h && h->req.proto == OM_PROTO_NONE && !(flags & OM_FDF_PROXY_EP))
		return OM_OUT_SUCCESS;
	if (h && h->stash_len && h->rep.proto != OM_PROTO_NONE) {
		n = h->stash_len;
		h->stash_len = 0;
		if (om_rep_feed(&h->rep, h->stash, n) == OM_SNIFF_DONE) {
			if (!(flags & OM_FDF_DECIDED))
				*cls = OM_CLASS_PROXIED; /* refused before the request */
			return h->rep.outcome;
		}
	}
	return OM_OUT_ABORTED;
}

static void end_up(om_out_t o, struct om_fd *e, struct om_hs *h)
{
	unsigned cls = e->cls, out;

	if (h && h->req.proto == OM_PROTO_NONE && !(e->flags & OM_FDF_PROXY_EP)) {
		finish_plain(o, e, h); /* the common case: connected, never spoken to */
		return;
	}
	out = up_outcome(h, e->flags, &cls);
	if (cls != e->cls)
		decide(e, h, cls);
	finish(o, e, h, out, om_out_now());
}

void om_dial_exit(struct om_fd *e)
{
	if (e->dial == OM_DIAL_UP)
		end_up(om_out_begin(), e, hs_of(e));
}

/* Everything this entry held ends: an open dial is aborted, an open
 * connection closed.  Called with the lock held (or reentrant).  Every
 * close of a dialed socket runs end_up, finish and decide: flattened, the
 * five call levels are gone (53 instructions of a connect/accept/close
 * cycle's 1,266, measured when it was done). */
__attribute__((flatten)) void om_dial_close(struct om_fd *e)
{
	om_out_t o = om_out_begin();

	if (e->dial == OM_DIAL_CONNECTING)
		finish(o, e, hs_of(e), OM_OUT_ABORTED, om_out_now());
	else if (e->dial == OM_DIAL_UP)
		end_up(o, e, hs_of(e));
	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, hs_of(e), e->cls);
	if (e->flags & OM_FDF_OPEN)
		om_out_open(o, e->cls, 0);
	om_sock_gone(o, e);
	hs_drop(e);
	om_fd_set_hot(e, OM_HOT_NONE);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
	e->sotype = 0;
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

	count_bytes(e, h, OM_INGRESS, r);
	if (!(e->flags & OM_FDF_REQ_DONE)) {
		/* No whole request seen yet.  A peer that speaks first (SSH,
		 * SMTP) ends the dial as plain.  But a proxy answers parts of a
		 * request (SOCKS5's method choice), and its replies can be read
		 * here before the thread that wrote the request has accounted
		 * for it: anything shaped like one waits for the request. */
		if (h->req.proto == OM_PROTO_NONE && !(e->flags & OM_FDF_PROXY_EP) &&
		    !h->stash_len && cnt > 0 && iov[0].iov_len &&
		    !reply_shaped(*(const uint8_t *)iov[0].iov_base)) {
			finish_plain(om_out_begin(), e, h);
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
void om_dial_reentrant(struct om_fd *e, int dir, ssize_t r)
{
	struct om_hs *h = hs_of(e);

	if (r <= 0)
		return;
	if (h && !(e->flags & OM_FDF_DECIDED))
		__atomic_fetch_add(&h->pend[dir], (uint64_t)r, __ATOMIC_RELAXED);
	else
		om_out_bytes(e->cls, dir, (uint64_t)r);
}

void om_dial_sockopt(struct om_fd *e, int soerr)
{
	/* SO_ERROR is 0 while the connect is still in progress too; programs
	 * ask once the socket polled writable, so 0 means up */
	if (e->dial == OM_DIAL_CONNECTING && (om_fd_hot(e) & OM_HOT_SLOW)) {
		if (soerr != 0)
			dial_failed(e, hs_of(e), soerr);
		else
			tcp_up(e, hs_of(e));
	}
}

void om_dial_io(struct om_fd *e, int dir, const struct iovec *iov, int cnt, ssize_t r,
		int err)
{
	struct om_hs *h;

	if (!(om_fd_hot(e) & OM_HOT_SLOW)) {
		/* settled while we waited for the lock */
		if (om_fd_hot(e) & OM_HOT_COUNT)
			count_bytes(e, hs_of(e), dir, r);
		return;
	}
	h = hs_of(e);
	if (e->dial == OM_DIAL_CONNECTING) {
		if (r > 0 || (r == 0 && dir == OM_INGRESS)) {
			tcp_up(e, h);
		} else {
			if (r < 0 && connect_failed(err))
				dial_failed(e, h, err);
			return;
		}
	}
	if (e->dial != OM_DIAL_UP || !h) {
		count_bytes(e, h, dir, r);
		return;
	}
	if (r > 0) {
		if (dir == OM_EGRESS)
			sniff_egress(e, h, iov, cnt, r);
		else if (iov)
			sniff_ingress(e, h, iov, cnt, r);
		else
			count_bytes(e, h, dir, r);
	} else if (r == 0 && dir == OM_INGRESS) {
		/* EOF mid-handshake */
		if (h->req.proto == OM_PROTO_NONE && !(e->flags & OM_FDF_PROXY_EP))
			finish_plain(om_out_begin(), e, h);
		else if (!settle_stash(e, h))
			finish(om_out_begin(), e, h, OM_OUT_PROXY_ERROR, om_out_now());
	}
}

int om_dial_midway(struct om_fd *e, int d, uint8_t dns, uint64_t now)
{
	struct om_hs *h;

	hs_drop(e);
	if (!(e->hs = om_hs_alloc(&h)))
		return -1;
	e->cls = (uint8_t)om_dest_class(d);
	e->flags = OM_FDF_TCP | dns;
	om_sock_held(om_out_begin(), e, d);
	e->sotype = SOCK_STREAM;
	h->t0 = h->t_up = now;
	e->dial = OM_DIAL_UP;
	om_fd_set_hot(e, OM_HOT_SLOW);
	return 0;
}

void om_dial_drop_hs(struct om_fd *e)
{
	hs_drop(e);
}

/* Hand-off (handoff.h): what of the dial lives in the entry, not the
 * record. */
void om_dial_facts(const struct om_fd *e, struct om_hand_facts *f)
{
	f->cls = e->cls;
	f->flags = e->flags & (OM_FDF_PROXY_EP | OM_FDF_REQ_DONE | OM_FDF_DECIDED);
}

/* Another process moved the handshake on: its record was loaded, its
 * facts are f.  What it credited is credited; a class it decided is ours. */
void om_dial_apply(struct om_fd *e, const struct om_hand_facts *f)
{
	e->cls = f->cls;
	e->flags = (uint8_t)((e->flags & ~(OM_FDF_REQ_DONE | OM_FDF_DECIDED)) |
			     (f->flags & (OM_FDF_REQ_DONE | OM_FDF_DECIDED)));
}

/* Is this a dial whose handshake another process could continue? */
int om_dial_handshaking(const struct om_fd *e)
{
	const struct om_hs *h = hs_of(e);

	return e->dial == OM_DIAL_UP && h &&
	       (h->cookie || (e->flags & OM_FDF_PROXY_EP) || h->req.proto != OM_PROTO_NONE ||
		h->stash_len);
}

/* Another holder ended the dial, class cls, and counted its outcome: here
 * it is a connection of that class that this process holds too. */
void om_dial_ended_elsewhere(struct om_fd *e, unsigned cls)
{
	hs_drop(e);
	e->cls = (uint8_t)cls;
	e->flags |= OM_FDF_DECIDED | OM_FDF_OPEN;
	e->dial = OM_DIAL_DONE;
	om_out_open(om_out_begin(), cls, 1);
	om_fd_set_hot(e, om_settled_hot(e));
}

/* A socket met midway whose handshake another process began: continue
 * from its record (h, copied) and facts f. */
int om_dial_resume(struct om_fd *e, int d, uint8_t dns, const struct om_hs *from,
		   const struct om_hand_facts *f)
{
	struct om_hs *h;
	uint32_t next;

	if (om_dial_midway(e, d, dns, from->t0) < 0)
		return -1;
	h = hs_of(e);
	next = h->next;
	*h = *from;
	h->next = next;
	h->shared = 1;
	om_dial_apply(e, f);
	return 0;
}

/* close() of a dial in progress that another process may hold as well:
 * the record leaves the entry (returned, with the facts) and the entry
 * closes without an outcome; om_dial_settle decides it if no one else
 * did. */
uint32_t om_dial_detach(struct om_fd *e, struct om_hand_facts *f)
{
	uint32_t h = e->hs;

	om_dial_facts(e, f);
	e->hs = 0;
	e->dial = OM_DIAL_NONE;
	e->flags |= OM_FDF_DECIDED; /* nothing waits for a class here now */
	return h;
}

/* e is a copy (dup) of a socket whose dial was detached from the
 * descriptor just closed: the dial goes on here.  -1 if e is not such a
 * copy (it settled otherwise meanwhile). */
int om_dial_take_over(struct om_fd *e, uint32_t hs, const struct om_hand_facts *f)
{
	if ((e->flags & (OM_FDF_TCP | OM_FDF_OPEN)) != OM_FDF_TCP || e->dial != OM_DIAL_DONE ||
	    e->hs)
		return -1;
	e->hs = hs;
	e->cls = f->cls;
	e->flags = (uint8_t)((e->flags & (OM_FDF_TCP | OM_FDF_DNS | OM_FDF_SOCK | OM_FDF_PROXY_EP |
					  OM_FDF_ADDR_DIRECT)) |
			     (f->flags & (OM_FDF_REQ_DONE | OM_FDF_DECIDED)));
	e->dial = OM_DIAL_UP;
	om_fd_set_hot(e, OM_HOT_SLOW);
	return 0;
}

/* The outcome of a detached dial whose socket is gone with it: as a close
 * would have counted it.  Returns the class; frees the record. */
unsigned om_dial_settle(uint32_t hs, const struct om_hand_facts *f)
{
	struct om_hs *h = om_hs_at(hs);
	unsigned cls = f->cls, out = up_outcome(h, f->flags, &cls), d;
	uint64_t end = out == OM_OUT_SUCCESS && h->req.proto == OM_PROTO_NONE ? h->t_up
		     : om_out_now();

	for (d = 0; d < OM_NDIR; d++)
		if (h->pend[d])
			om_out_bytes(cls, (int)d, h->pend[d]);
	om_out_dial(om_out_begin(), cls, out, end > h->t0 ? end - h->t0 : 0);
	om_hs_free(hs);
	return cls;
}
