/* The dial of one TCP socket, as one machine.
 *
 *   in (the wrappers feed it)            state                out (dial_out.h)
 *   om_dial_start: connect() made        NONE -> CONNECTING   socket held
 *   om_dial_connected: its result        CONNECTING -> UP     failed: a dial, its outcome
 *   om_dial_sockopt: SO_ERROR            CONNECTING -> UP     ... or failed
 *   om_dial_io: bytes out, bytes in,     CONNECTING -> UP;    bytes, credited to the class
 *     EOF                                UP: the first bytes  once it is known; a request:
 *                                        decide the class,    the class; the proxy's reply:
 *                                        the reply the end    the outcome, the latency,
 *                                        UP -> DONE           a connection opened
 *   om_dial_close: close() and kin       any -> NONE          aborted; closed; socket gone
 *   om_dial_established: a connection    NONE -> DONE         opened, socket held
 *     met already up (accept, inherit)
 *
 * In UP the first bytes the program writes decide the class: a proxy
 * request makes the socket onion/proxied and the dial then ends with the
 * proxy's reply; anything else ends the dial as a plain success.  Until
 * the class is decided, bytes wait in the handshake record and are
 * credited once.  A proxy's reply read before the request was seen
 * (another thread read it) waits in the record too.
 *
 * The machine reads and writes only the entry, its handshake record and
 * the fd's hot byte; the caller holds the entry's lock.  Its outputs are
 * acct/dial_out.h: the shim's counters, or a unit test's recorder
 * (tests/unit/acct/dial_out.h), so it is tested without a preload. */
#ifndef OM_DIAL_H
#define OM_DIAL_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "acct/fdtable.h"
#include "acct/handshake.h"
#include "common/classify.h"
#include "common/segment_layout.h"
#include "core/config.h"

enum { OM_DIAL_NONE, OM_DIAL_CONNECTING, OM_DIAL_UP, OM_DIAL_DONE };

/* PROXY_EP, REQ_DONE and DECIDED travel in the segment's hand-off table
 * (common/segment_layout.h): their values are part of its layout. */
#define OM_FDF_ADDR_DIRECT 0x01 /* peer address is not local (nor a proxy) */
#define OM_FDF_PROXY_EP 0x02 /* destination is a configured proxy */
#define OM_FDF_DECIDED 0x04  /* class is final */
#define OM_FDF_OPEN 0x08     /* counted in the open-connections gauge */
#define OM_FDF_REQ_DONE 0x10 /* proxy request complete, reply awaited */
#define OM_FDF_DNS 0x20      /* peer is a DNS port: every send is read */
#define OM_FDF_SOCK 0x40     /* counted in the sockets gauge (socks_opened) */
#define OM_FDF_TCP 0x80

/* Where a held socket's peer is, as the kernel's view classes it. */
static inline unsigned om_fd_kclass(const struct om_fd *e)
{
	/* by the two low flags (ADDR_DIRECT, PROXY_EP): one mask on the
	 * path every connect and close takes */
	static const uint8_t kclass[4] = { OM_KCLASS_LOCAL, OM_KCLASS_DIRECT, OM_KCLASS_PROXY,
					   OM_KCLASS_PROXY };

	_Static_assert(OM_FDF_ADDR_DIRECT == 0x01 && OM_FDF_PROXY_EP == 0x02, "index bits");
	return kclass[e->flags & 3];
}

/* The hot byte of a socket whose class is settled.  A connected UDP
 * socket under a policy other than audit stays on the general path: a
 * datagram there may still name another destination, which is judged
 * (a connected TCP socket ignores names, so its fast path never looks).
 * So does a socket to a DNS port, whose questions are read. */
static inline uint8_t om_settled_hot(const struct om_fd *e)
{
	if ((!(e->flags & OM_FDF_TCP) && om_cfg.policy != OM_POLICY_AUDIT) ||
	    (e->flags & OM_FDF_DNS))
		return OM_HOT_SLOW;
	return OM_HOT_CLASS(e->cls);
}

/* connect()'s result on a socket whose dial is CONNECTING. */
void om_dial_connected(struct om_fd *e, int rc, int err);
void om_dial_sockopt(struct om_fd *e, int soerr);
/* r bytes moved (dir: OM_INGRESS, OM_EGRESS); r 0 in is EOF, r < 0 an
 * error err.  iov may be NULL (sendfile, splice). */
void om_dial_io(struct om_fd *e, int dir, const struct iovec *iov, int cnt, ssize_t r,
		int err);
/* The same, reached while this thread already held the lock (a signal
 * handler's I/O on a socket mid-handshake): counted, not parsed. */
void om_dial_reentrant(struct om_fd *e, int dir, ssize_t r);
void om_dial_close(struct om_fd *e);
/* The process exits with e's dial up and never spoken on: its outcome is
 * decided as a close would decide it; the connection stays as it is. */
void om_dial_exit(struct om_fd *e);
/* A dial we did not see start (the first bytes came before connect()
 * was ours to see), to dest: followed from UP. */
int om_dial_midway(struct om_fd *e, int dest, uint8_t dns, uint64_t now);

void om_dial_drop_hs(struct om_fd *e);

/* Hand-off of a handshake between processes (handoff.h). */
struct om_hand_facts;
void om_dial_facts(const struct om_fd *e, struct om_hand_facts *f);
void om_dial_apply(struct om_fd *e, const struct om_hand_facts *f);
int om_dial_handshaking(const struct om_fd *e);
void om_dial_ended_elsewhere(struct om_fd *e, unsigned cls);
int om_dial_resume(struct om_fd *e, int dest, uint8_t dns, const struct om_hs *from,
		   const struct om_hand_facts *f);
uint32_t om_dial_detach(struct om_fd *e, struct om_hand_facts *f);
int om_dial_take_over(struct om_fd *e, uint32_t hs, const struct om_hand_facts *f);
unsigned om_dial_settle(uint32_t hs, const struct om_hand_facts *f);

#include "acct/dial_out.h"

/* The sockets gauge: e is now held with peer dest (enum om_dest), or no
 * longer.  o: om_out_begin() of the event.  Inline: every connect() and
 * accept() holds a socket. */
static inline void om_sock_held(om_out_t o, struct om_fd *e, int d)
{
	/* by enum om_dest: the flags a peer there sets */
	static const uint8_t dflags[] = { 0, OM_FDF_PROXY_EP, 0, OM_FDF_ADDR_DIRECT };
	int was = e->flags & OM_FDF_SOCK;

	_Static_assert(OM_DEST_NONE == 0 && OM_DEST_PROXY == 1 && OM_DEST_LOCAL == 2 &&
		       OM_DEST_DIRECT == 3, "the table above follows enum om_dest");
	e->flags = (uint8_t)((e->flags & ~(OM_FDF_PROXY_EP | OM_FDF_ADDR_DIRECT)) | OM_FDF_SOCK |
			     dflags[(unsigned)d & 3]);
	om_out_sock_held(o, e, !was);
}
void om_sock_gone(om_out_t o, struct om_fd *e);

/* The class a destination (enum om_dest) gives before any proxy request
 * was seen. */
static inline unsigned om_dest_class(int d)
{
	return d == OM_DEST_DIRECT ? OM_CLASS_DIRECT
	     : d == OM_DEST_PROXY ? OM_CLASS_PROXIED : OM_CLASS_LOCAL;
}

/* connect() on a TCP socket to dest (enum om_dest), started at t0,
 * returned rc (errno err); dns: OM_FDF_DNS when the peer is a DNS port.
 * -1 if no handshake record was left (the socket goes untracked). */
int om_dial_start(struct om_fd *e, int d, uint8_t dns, uint64_t t0, int rc, int err);

/* An established connection we did not dial (accepted, inherited,
 * received), of class cls, peer at dest; o: om_out_begin() of the event.
 * Inline: it is most of what accept() costs the shim. */
static inline void om_dial_established(om_out_t o, struct om_fd *e, unsigned cls, int d)
{
	if (e->hs)
		om_dial_drop_hs(e);
	e->cls = (uint8_t)cls;
	e->flags = (uint8_t)(OM_FDF_TCP | OM_FDF_DECIDED | OM_FDF_OPEN | (e->flags & OM_FDF_DNS));
	om_sock_held(o, e, d);
	e->dial = OM_DIAL_DONE;
	om_out_open(o, cls, 1);
	om_fd_set_hot(e, om_settled_hot(e));
}

#endif
