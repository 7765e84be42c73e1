#include "track.h"

#include <arpa/inet.h>
#ifdef __GLIBC__
#include <linux/tcp.h> /* glibc's struct tcp_info lacks the byte counts */
#else
#include <netinet/tcp.h>
#endif
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "leak.h"
#include "real.h"
#include "shim.h"

uint64_t om_open_now[4];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int trylock(struct om_fd *e)
{
	return __atomic_exchange_n(&e->busy, 1, __ATOMIC_ACQUIRE) == 0;
}

static void unlock(struct om_fd *e)
{
	__atomic_store_n(&e->busy, 0, __ATOMIC_RELEASE);
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

/* errno values from connect() that mean no dial happened at all */
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

static void set_hot(struct om_fd *e, uint8_t h)
{
	om_fd_set_hot(e, h);
}

/* The class is final: credit the bytes that waited for it. */
static void decide(struct om_fd *e, struct om_block *b, unsigned cls)
{
	int d;

	e->cls = (uint8_t)cls;
	e->flags |= OM_FDF_DECIDED;
	for (d = 0; d < OM_NDIR; d++) {
		if (e->pend[d] && b)
			om_add(&b->bytes[cls][d], e->pend[d]);
		e->pend[d] = 0;
	}
}

static void count_bytes(struct om_fd *e, struct om_block *b, int dir, ssize_t r)
{
	if (r <= 0)
		return;
	if (e->flags & OM_FDF_DECIDED) {
		if (b)
			om_add(&b->bytes[e->cls][dir], (uint64_t)r);
	} else {
		e->pend[dir] += (uint64_t)r;
	}
}

/* The dial ended.  From here on the fast path handles the socket. */
static void finish(struct om_fd *e, struct om_block *b, unsigned outcome,
		   uint64_t end_ns)
{
	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, b, e->cls);
	if (b)
		om_count_dial(b, e->cls, outcome, end_ns - e->t0);
	if (outcome == OM_OUT_SUCCESS) {
		if (b)
			om_add(&b->opened[e->cls], 1);
		__atomic_fetch_add(&om_open_now[e->cls], 1, __ATOMIC_RELAXED);
		e->flags |= OM_FDF_OPEN;
	}
	e->dial = OM_DIAL_DONE;
	set_hot(e, OM_HOT_CLASS(e->cls));
}

/* A plain (non-proxy) connection: the dial succeeded when TCP came up. */
static void finish_plain(struct om_fd *e, struct om_block *b)
{
	if (e->flags & OM_FDF_PROXY_EP) {
		/* a configured proxy that is not spoken to as one */
		finish(e, b, OM_OUT_PROXY_ERROR, mono_ns());
		return;
	}
	finish(e, b, OM_OUT_SUCCESS, e->t_up);
}

static void tcp_up(struct om_fd *e)
{
	e->t_up = mono_ns();
	e->dial = OM_DIAL_UP;
}

static void dial_failed(struct om_fd *e, struct om_block *b, int err)
{
	if (e->flags & OM_FDF_PROXY_EP) {
		e->cls = OM_CLASS_PROXIED;
		if (b)
			om_add(&b->proxy_unreachable, 1);
	}
	decide(e, b, e->cls);
	if (b)
		om_count_dial(b, e->cls, errno_outcome(err), mono_ns() - e->t0);
	/* the socket is dead; a later connect() on it starts afresh */
	set_hot(e, OM_HOT_IGNORE);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
}

struct om_fd *om_connect_pre(int fd, const struct sockaddr *sa, socklen_t len,
			     int *fresh)
{
	enum om_dest d = om_classify(sa, len);
	struct om_fd *e;
	int type;
	socklen_t tl = sizeof type;

	*fresh = 0;
	if (d == OM_DEST_NONE) {
		om_forget_fd(fd); /* unix socket or AF_UNSPEC disconnect */
		return 0;
	}
	e = om_fd_get(fd);
	if (!e)
		return 0;
	if (e->dial == OM_DIAL_CONNECTING)
		return e; /* polling a non-blocking connect */
	if ((e->flags & OM_FDF_TCP) && om_fd_hot(e) != OM_HOT_NONE && !(om_fd_hot(e) & OM_HOT_QUIET))
		return 0; /* connected TCP: the kernel says EISCONN */
	/* socket() told us the type; only inherited sockets need asking */
	type = e->sotype;
	if (!type && (OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
		      (type != SOCK_STREAM && type != SOCK_DGRAM)))
		return 0;
	om_forget_fd(fd); /* UDP re-connect: settle the old destination */
	om_fd_clear(e);
	e->sotype = (uint8_t)type;
	e->cls = d == OM_DEST_LOCAL ? OM_CLASS_LOCAL
	       : d == OM_DEST_DIRECT ? OM_CLASS_DIRECT : OM_CLASS_PROXIED;
	if (type == SOCK_STREAM) {
		e->flags = OM_FDF_TCP | (d == OM_DEST_PROXY ? OM_FDF_PROXY_EP : 0);
		e->dial = OM_DIAL_CONNECTING;
		e->t0 = mono_ns();
		set_hot(e, OM_HOT_SLOW);
	} else {
		/* UDP has no dial; a proxy endpoint over UDP is just local */
		if (d == OM_DEST_PROXY)
			e->cls = OM_CLASS_LOCAL;
		e->flags = OM_FDF_DECIDED;
	}
	*fresh = 1;
	return e;
}

void om_connect_post(struct om_fd *e, int fresh, int rc, int err)
{
	struct om_block *b;

	if (!(e->flags & OM_FDF_TCP)) {
		if (rc == 0)
			set_hot(e, OM_HOT_CLASS(e->cls));
		return;
	}
	if (e->dial != OM_DIAL_CONNECTING)
		return;
	if (rc == 0 || err == EISCONN) {
		tcp_up(e);
		return;
	}
	if (err == EINPROGRESS || err == EINTR || err == EALREADY ||
	    err == EAGAIN)
		return;
	if (fresh && not_a_dial(err)) {
		set_hot(e, OM_HOT_NONE);
		e->dial = OM_DIAL_NONE;
		return;
	}
	b = om_blk();
	dial_failed(e, b, err);
}

void om_sockopt_error(struct om_fd *e, int fd, int soerr)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (e->dial != OM_DIAL_CONNECTING || !trylock(e))
		return;
	if (soerr != 0)
		dial_failed(e, om_blk(), soerr);
	else if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		tcp_up(e); /* SO_ERROR is also 0 while still in progress */
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

/* Bytes the program wrote while the class is undecided.  iov may be NULL
 * (sendfile): file contents are never a proxy request. */
static void sniff_egress(struct om_fd *e, struct om_block *b,
			 const struct iovec *iov, int cnt, ssize_t r)
{
	size_t used;
	int rc;

	if (e->flags & OM_FDF_REQ_DONE) {
		count_bytes(e, b, OM_EGRESS, r);
		return;
	}
	if (iov)
		FEED(rc, iov, cnt, r, om_req_feed(&e->req, p_, n_, &used));
	else
		rc = OM_SNIFF_NOT_PROXY;
	e->rep.proto = e->req.proto;
	if (rc == OM_SNIFF_DONE) {
		decide(e, b, e->req.onion ? OM_CLASS_ONION : OM_CLASS_PROXIED);
		e->flags |= OM_FDF_REQ_DONE;
		om_leak_request_done(e);
	}
	count_bytes(e, b, OM_EGRESS, r);
	if (rc == OM_SNIFF_NOT_PROXY)
		finish_plain(e, b);
}

/* Bytes the program read while the dial is open. */
static void sniff_ingress(struct om_fd *e, struct om_block *b,
			  const struct iovec *iov, int cnt, ssize_t r)
{
	int rc;

	count_bytes(e, b, OM_INGRESS, r);
	if (e->rep.proto == OM_PROTO_NONE) {
		/* the peer spoke first: no proxy protocol works that way */
		if (!(e->flags & OM_FDF_PROXY_EP))
			finish_plain(e, b);
		return;
	}
	FEED(rc, iov, cnt, r, om_rep_feed(&e->rep, p_, n_));
	if (rc == OM_SNIFF_DONE) {
		if (!(e->flags & OM_FDF_DECIDED))
			decide(e, b, OM_CLASS_PROXIED); /* refused before the request */
		finish(e, b, e->rep.outcome, mono_ns());
	}
}

void om_io_slow(struct om_fd *e, int dir, const struct iovec *iov, int cnt,
		ssize_t r, int err)
{
	struct om_block *b = om_blk();

	if (!trylock(e)) {
		/* another thread or our own interrupted frame is mid-update:
		 * count under the current class rather than wait */
		if (r > 0 && b)
			om_add(&b->bytes[e->cls][dir], (uint64_t)r);
		return;
	}
	if (e->dial == OM_DIAL_CONNECTING) {
		if (r > 0 || (r == 0 && dir == OM_INGRESS)) {
			tcp_up(e);
		} else if (r < 0 && connect_failed(err)) {
			dial_failed(e, b, err);
			goto out;
		} else {
			goto out;
		}
	}
	if (e->dial != OM_DIAL_UP) {
		count_bytes(e, b, dir, r);
		goto out;
	}
	if (r > 0) {
		if (dir == OM_EGRESS)
			sniff_egress(e, b, iov, cnt, r);
		else if (iov)
			sniff_ingress(e, b, iov, cnt, r);
		else
			count_bytes(e, b, dir, r);
	} else if (r == 0 && dir == OM_INGRESS) {
		/* EOF mid-handshake */
		if (e->req.proto != OM_PROTO_NONE || (e->flags & OM_FDF_PROXY_EP))
			finish(e, b, OM_OUT_PROXY_ERROR, mono_ns());
		else
			finish_plain(e, b);
	}
out:
	unlock(e);
}

static enum om_class dest_class(enum om_dest d)
{
	return d == OM_DEST_DIRECT ? OM_CLASS_DIRECT
	     : d == OM_DEST_PROXY ? OM_CLASS_PROXIED : OM_CLASS_LOCAL;
}

/* An established TCP connection we did not dial: accepted, inherited
 * across exec, or connected behind our back.  Counted from now on. */
static void track_established(struct om_fd *e, enum om_class cls)
{
	struct om_block *b = om_blk();

	om_fd_clear(e);
	e->cls = (uint8_t)cls;
	e->flags = OM_FDF_TCP | OM_FDF_DECIDED | OM_FDF_OPEN;
	e->dial = OM_DIAL_DONE;
	if (b)
		om_add(&b->opened[cls], 1);
	__atomic_fetch_add(&om_open_now[cls], 1, __ATOMIC_RELAXED);
	set_hot(e, OM_HOT_CLASS(cls));
}

/* Has the program moved nothing on this TCP connection before this call?
 * Then it is new and we can follow its handshake as if we had seen
 * connect(): a preload stacked after us (torsocks) dials through libc
 * behind our back but writes its SOCKS request through our send().
 * Sent: the kernel's count (SYN excluded) is at most this call's own
 * bytes.  Received: everything that arrived is still queued, bar this
 * call's own read; a peer that spoke first, or a proxy whose reply beat
 * us here, must not make a new connection look old.  TCP_INFO before
 * FIONREAD: data arriving in between only grows the queue.  Kernels
 * without the byte counts say "no". */
static int tcp_fresh(int fd, int dir, ssize_t r)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	uint64_t mine = (uint64_t)r;
	int queued = 0;

	if (r <= 0)
		return 0;
	memset(&ti, 0, sizeof ti);
	if (OM_REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_sent) + sizeof ti.tcpi_bytes_sent ||
	    ioctl(fd, FIONREAD, &queued) < 0 || queued < 0)
		return 0;
	return ti.tcpi_bytes_sent <= (dir == OM_EGRESS ? mine : 0) &&
	       ti.tcpi_bytes_received <= (uint64_t)queued + (dir == OM_INGRESS ? mine : 0);
}

struct om_fd *om_adopt(int fd, int dir, ssize_t r)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss, tl = sizeof(int);
	struct om_fd *e;
	enum om_dest d;
	int type = 0, err = errno;

	if (!om_ready() || !(e = om_fd_get(fd)))
		return 0;
	if (om_fd_hot(e) != OM_HOT_NONE)
		goto out;
	if (OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM)) {
		set_hot(e, OM_HOT_IGNORE); /* file, pipe, or exotic socket */
		goto out;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		/* unconnected UDP: classified datagram by datagram; listening
		 * or unconnected TCP: accept() and connect() take over */
		set_hot(e, type == SOCK_DGRAM && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
				   (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
				   ? OM_HOT_DGRAM : OM_HOT_IGNORE);
		goto out;
	}
	d = om_classify((struct sockaddr *)&ss, sl);
	if (d == OM_DEST_NONE) {
		set_hot(e, OM_HOT_IGNORE);
	} else if (type == SOCK_STREAM && tcp_fresh(fd, dir, r)) {
		/* a dial we did not see start: follow it from here */
		om_fd_clear(e);
		e->cls = (uint8_t)dest_class(d);
		e->flags = OM_FDF_TCP | (d == OM_DEST_PROXY ? OM_FDF_PROXY_EP : 0);
		e->sotype = SOCK_STREAM;
		e->t0 = e->t_up = mono_ns();
		e->dial = OM_DIAL_UP;
		set_hot(e, OM_HOT_SLOW);
	} else if (type == SOCK_STREAM) {
		track_established(e, dest_class(d));
	} else {
		om_fd_clear(e);
		e->cls = (uint8_t)(d == OM_DEST_PROXY ? OM_CLASS_LOCAL : dest_class(d));
		e->flags = OM_FDF_DECIDED;
		set_hot(e, OM_HOT_CLASS(e->cls));
	}
out:
	errno = err;
	return e;
}

void om_io_unseen(int fd, int dir, const struct iovec *iov, int cnt, ssize_t r)
{
	struct om_fd *e = om_adopt(fd, dir, r);
	uint8_t h;

	if (!e)
		return;
	h = om_fd_hot(e);
	if (h & OM_HOT_SLOW) {
		om_io_slow(e, dir, iov, cnt, r, 0);
	} else if (h & OM_HOT_COUNT) {
		struct om_block *b = om_blk();

		if (b)
			om_add(&b->bytes[OM_HOT_CLS(h)][dir], (uint64_t)r);
	}
}

void om_accepted(int fd, const struct sockaddr *peer, socklen_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct om_block *b;
	struct om_fd *e;
	enum om_dest d;
	enum om_class cls;
	int err = errno;

	if (!om_ready() || !(e = om_fd_get(fd)))
		goto out;
	om_forget_fd(fd); /* a stale entry from a close we did not see */
	if (!peer || len == 0) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
			goto out;
		peer = (struct sockaddr *)&ss;
		len = sl;
	}
	d = om_classify(peer, len);
	if (d == OM_DEST_NONE) {
		set_hot(e, OM_HOT_IGNORE);
		goto out;
	}
	cls = d == OM_DEST_DIRECT ? OM_CLASS_DIRECT : OM_CLASS_LOCAL;
	if (om_cfg.nports) {
		/* the local end of an onion service: Tor connects to it */
		sl = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    om_onion_port(ss.ss_family == AF_INET
					  ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
					  : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)))
			cls = OM_CLASS_ONION;
	}
	b = om_blk();
	if (b)
		om_add(&b->accepted[cls], 1);
	track_established(e, cls);
out:
	errno = err;
}

void om_datagram(int dir, const struct sockaddr *sa, socklen_t len, ssize_t r)
{
	enum om_dest d;
	struct om_block *b;

	if (r <= 0 || (d = om_classify(sa, len)) == OM_DEST_NONE || !(b = om_blk()))
		return;
	om_add(&b->bytes[d == OM_DEST_PROXY ? OM_CLASS_LOCAL : dest_class(d)][dir],
	       (uint64_t)r);
}

/* A new descriptor came from a call we wrap: whatever the number was
 * before, it is unknown now. */
void om_fd_fresh(int fd)
{
	struct om_fd *e = om_fd_peek(fd);

	if (!e)
		return;
	if (om_fd_hot(e) != OM_HOT_NONE) {
		om_forget_fd(fd);
		set_hot(e, OM_HOT_NONE);
	}
	e->sotype = 0;
}

void om_fd_socket(int fd, int domain, int type)
{
	struct om_fd *e;

	type &= 0xf; /* without SOCK_NONBLOCK, SOCK_CLOEXEC */
	if ((domain != AF_INET && domain != AF_INET6) ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM) || !(e = om_fd_get(fd))) {
		om_fd_fresh(fd);
		return;
	}
	om_fd_fresh(fd);
	e->sotype = (uint8_t)type;
}

void om_forget_fd(int fd)
{
	struct om_fd *e = om_fd_peek(fd);
	struct om_block *b;
	int err;

	if (!e || om_fd_hot(e) == OM_HOT_NONE)
		return;
	if (om_fd_hot(e) & OM_HOT_QUIET) {
		set_hot(e, OM_HOT_NONE);
		e->sotype = 0;
		return;
	}
	err = errno;
	b = om_blk();
	if (e->dial == OM_DIAL_CONNECTING) {
		finish(e, b, OM_OUT_ABORTED, mono_ns());
	} else if (e->dial == OM_DIAL_UP) {
		if (e->req.proto == OM_PROTO_NONE && !(e->flags & OM_FDF_PROXY_EP))
			finish_plain(e, b); /* connected, never used */
		else
			finish(e, b, OM_OUT_ABORTED, mono_ns());
	}
	if (!(e->flags & OM_FDF_DECIDED))
		decide(e, b, e->cls);
	if (e->flags & OM_FDF_OPEN) {
		if (b)
			om_add(&b->closed[e->cls], 1);
		__atomic_fetch_sub(&om_open_now[e->cls], 1, __ATOMIC_RELAXED);
	}
	set_hot(e, OM_HOT_NONE);
	e->flags = 0;
	e->dial = OM_DIAL_NONE;
	e->sotype = 0;
	errno = err;
}
