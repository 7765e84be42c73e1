/* Sockets met without having seen their dial: accepted, inherited across
 * exec or fork, received from another process, or connected behind our
 * back.  Also unconnected datagrams, and descriptors made anew. */
#include "acct/adopt.h"
#include "acct/track.h"

#include <arpa/inet.h>
#ifdef __GLIBC__
#include <linux/tcp.h> /* glibc's struct tcp_info lacks the byte counts */
#else
#include <netinet/tcp.h>
#endif
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "acct/handoff.h"
#include "acct/handshake.h"
#include "core/real.h"
#include "common/classify.h"
#include "acct/sockrec.h"

/* Has the program moved nothing on this TCP connection before this call?
 * Then it is new and we can follow its handshake as if we had seen
 * connect() (a dial made by a raw syscall, or by a library bound past
 * us).  Sent: the kernel's count (SYN excluded) is at most this call's own
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

/* The entry holds what a fork parent knew of this very socket (only then
 * is there state behind a hot byte of NONE): an established connection of
 * that class. */
static int inherited(const struct om_fd *e)
{
	return (e->flags & (OM_FDF_TCP | OM_FDF_DECIDED)) == (OM_FDF_TCP | OM_FDF_DECIDED);
}

/* The hand-off table knows the socket: its handshake is continued here,
 * or it was ended by another holder and is a connection of that class. */
static int resumed(struct om_fd *e, int fd, int d, uint8_t dns)
{
	struct om_hand_facts f;
	struct om_hand_step s;
	struct om_hs from;
	int rc;

	memset(&from, 0, sizeof from);
	rc = om_hand_find(om_sock_cookie(fd), &from, &f, &s);
	if (rc == OM_HAND_ENDED) {
		om_hand_release(&s);
		om_dial_established(om_out_begin(), e, f.cls, d);
		return 1;
	}
	if (rc == OM_HAND_NONE)
		return 0;
	from.cookie = s.cookie;
	rc = om_dial_resume(e, d, dns, &from, &f);
	om_hand_release(&s);
	return rc == 0;
}

static void set_ignore(struct om_fd *e)
{
	om_dial_drop_hs(e);
	e->flags = e->dial = 0;
	om_fd_set_hot(e, OM_HOT_IGNORE);
}

/* Settles the hot byte of an fd we have not met.  Only an inet socket
 * attaches the shim: files, pipes and unix sockets cost a getsockopt()
 * once and nothing after. */
static void adopt_locked(struct om_fd *e, int fd, int dir, ssize_t r)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss, tl = sizeof(int);
	enum om_dest d;
	unsigned cls;
	uint8_t dns;
	int type = 0;

	if (OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM)) {
		set_ignore(e); /* file, pipe, or exotic socket */
		return;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
		/* unconnected UDP: classified datagram by datagram; listening
		 * or unconnected TCP: accept() and connect() take over */
		sl = sizeof ss;
		if (type == SOCK_DGRAM && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
		    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) && om_ready()) {
			om_dial_drop_hs(e);
			e->flags = e->dial = 0;
			om_fd_set_hot(e, OM_HOT_DGRAM);
		} else {
			set_ignore(e);
		}
		return;
	}
	d = om_classify((struct sockaddr *)&ss, sl);
	if (d == OM_DEST_NONE || !om_ready()) {
		set_ignore(e);
		return;
	}
	dns = om_dns_dest((struct sockaddr *)&ss, sl) ? OM_FDF_DNS : 0;
	e->flags = (uint8_t)((e->flags & ~OM_FDF_DNS) | dns);
	if (type == SOCK_STREAM && inherited(e)) {
		om_dial_established(om_out_begin(), e, e->cls, d);
	} else if (type == SOCK_STREAM && resumed(e, fd, d, dns)) {
		/* a handshake another process began (handoff.h) */
	} else if (type == SOCK_STREAM && om_rec_lookup(fd, &cls) == 0) {
		/* received (SCM_RIGHTS) or inherited across exec: its class
		 * was recorded where it was decided */
		om_dial_established(om_out_begin(), e, cls, d);
	} else if (type == SOCK_STREAM && tcp_fresh(fd, dir, r) &&
		   om_dial_midway(e, d, dns, om_mono_ns()) == 0) {
		/* a dial we did not see start: followed from here; the
		 * process that began it may hold it too */
		om_hs_at(e->hs)->shared = 1;
	} else if (type == SOCK_STREAM) {
		om_dial_established(om_out_begin(), e, om_dest_class(d), d);
	} else {
		om_dial_drop_hs(e);
		e->cls = (uint8_t)(d == OM_DEST_PROXY ? OM_CLASS_LOCAL : om_dest_class(d));
		e->flags = OM_FDF_DECIDED | dns;
		e->dial = OM_DIAL_NONE;
		om_fd_set_hot(e, om_settled_hot(e));
	}
}

/* In a fork child, from the atfork handler (one thread, the parent's
 * entries as they were): every settled connection the parent counted is
 * counted again here, in the child's own slot.  Dials still in progress
 * are left to their first use. */
void om_adopt_inherited(void)
{
	unsigned pg, i, top;

	if (!__atomic_load_n(&om_socks_counted, __ATOMIC_RELAXED) || om_passive())
		return;
	om_socks_counted = 0;
	if (!om_ready())
		return;
	top = __atomic_load_n(&om_fd_pages_top, __ATOMIC_ACQUIRE);
	for (pg = 0; pg < top; pg++) {
		struct om_fd_page *page = __atomic_load_n(&om_fd_pages[pg], __ATOMIC_ACQUIRE);

		for (i = 0; page && i < OM_FD_PAGE; i++) {
			struct om_fd *e = &page->e[i];
			int d;

			if ((e->flags & (OM_FDF_TCP | OM_FDF_DECIDED | OM_FDF_SOCK)) !=
			    (OM_FDF_TCP | OM_FDF_DECIDED | OM_FDF_SOCK) || e->hs)
				continue;
			d = (e->flags & OM_FDF_PROXY_EP) ? OM_DEST_PROXY
			  : (e->flags & OM_FDF_ADDR_DIRECT) ? OM_DEST_DIRECT : OM_DEST_LOCAL;
			e->busy = 0;
			e->flags &= (uint8_t)~OM_FDF_SOCK;
			if (e->flags & OM_FDF_OPEN) {
				om_dial_established(om_out_begin(), e, e->cls, d);
			} else {
				/* a dial that failed on a socket still open */
				om_sock_held(om_out_begin(), e, d);
				om_fd_set_hot(e, om_settled_hot(e));
			}
		}
	}
}

struct om_fd *om_adopt(int fd, int dir, ssize_t r)
{
	struct om_fd *e;
	int err = errno, locked;

	if (om_passive() || !(e = om_fd_get(fd)))
		return 0;
	locked = om_track_lock(e);
	if (om_fd_hot(e) == OM_HOT_NONE) /* or another thread adopted it meanwhile */
		adopt_locked(e, fd, dir, r);
	if (locked)
		om_track_unlock(e);
	errno = err;
	return e;
}

/* Before a receive on an fd whose hot byte was h: the byte to go by.  An
 * fd we have not met may be an unconnected UDP socket, whose datagrams
 * need their source address: that must be known before the call.  Streams
 * are adopted after it (whether the program moved bytes on one before
 * tells a fresh dial from an old connection). */
uint8_t om_hot_ingress_unseen(int fd)
{
	const uint8_t h = OM_HOT_NONE;
	struct om_fd *e;
	int type = 0;
	socklen_t tl = sizeof type;

	if (om_passive())
		return h;
	e = om_fd_peek(fd);
	if (e && e->sotype == SOCK_STREAM)
		return h;
	if (!(e && e->sotype == SOCK_DGRAM) &&
	    OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
		return h;
	/* a datagram socket, or not a socket at all: settle it now */
	e = om_adopt(fd, OM_INGRESS, 0);
	return e ? om_fd_hot(e) : OM_HOT_IGNORE;
}

void om_io_unseen(int fd, int dir, const struct iovec *iov, int cnt, ssize_t r)
{
	struct om_fd *e = om_adopt(fd, dir, r);
	uint8_t h;

	if (!e)
		return;
	h = om_fd_hot(e);
	if (h & OM_HOT_SLOW)
		om_io_slow(e, dir, iov, cnt, r, 0);
	else if (h & OM_HOT_COUNT)
		om_count_bytes(OM_HOT_CLS(h), dir, (uint64_t)r);
}

/* peer: the address accept() returned, or NULL to ask the kernel.  May
 * change errno (getpeername): its caller keeps it. */
void om_accepted(int fd, const struct sockaddr *peer, socklen_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct om_pblock *p;
	struct om_fd *e;
	enum om_dest d;
	unsigned cls;

	if ((e = om_fd_peek(fd)))
		om_fd_fresh_entry(e); /* a stale entry from a close we did not see */
	if (om_passive() || !(e || (e = om_fd_get_slow(fd))))
		return;
	if (!peer || len == 0) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
			return;
		peer = (struct sockaddr *)&ss;
		len = sl;
	}
	d = om_classify(peer, len);
	if (d == OM_DEST_NONE || !om_ready()) { /* unix: no need to attach */
		om_fd_set_hot(e, OM_HOT_IGNORE);
		return;
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
	p = &om_proc.me->p; /* om_ready() said so above */
	om_padd(&p->accepted[cls], 1);
	om_dial_established(p, e, cls, d);
	if (cls == OM_CLASS_ONION)
		om_rec_publish(fd, cls);
}

void om_datagram_run(int dir, int d, ssize_t r)
{
	om_datagram_as(dir, d, r);
}

void om_datagram(int dir, const struct sockaddr *sa, socklen_t len, ssize_t r)
{
	if (r > 0)
		om_datagram_as(dir, (int)om_classify(sa, len), r);
}

/* A new descriptor came from a call we wrap: whatever the number was
 * before, it is unknown now, and nothing a fork parent knew applies. */
void om_fd_fresh_slow(struct om_fd *e)
{
	if (om_passive())
		return;
	if (om_fd_hot(e) != OM_HOT_NONE)
		om_forget_fd(e->fd);
	om_dial_drop_hs(e);
	om_fd_clear(e);
}

void om_fd_socket(int fd, int domain, int type)
{
	struct om_fd *e = om_fd_peek(fd);

	if (e)
		om_fd_fresh_entry(e);
	type &= 0xf; /* without SOCK_NONBLOCK, SOCK_CLOEXEC */
	if ((domain == AF_INET || domain == AF_INET6) &&
	    (type == SOCK_STREAM || type == SOCK_DGRAM) && !om_passive() &&
	    (e || (e = om_fd_get_slow(fd))))
		e->sotype = (uint8_t)type;
}
