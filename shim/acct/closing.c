/* The end of a dial in progress whose socket another process may hold too
 * (a child this process forked or spawned since the dial began, or the
 * process it was inherited from): the holder that ends the handshake
 * counts its outcome, so a close or exit here must not count an abort
 * while the socket lives on elsewhere.
 *
 * close(): after the real close, one sock_diag query by the socket's
 * 4-tuple and cookie.  Established or closed by the peer only: another
 * descriptor holds it, and the handshake goes to the hand-off table for
 * that holder.  Anything else (gone, FIN sent, reset): ours was the last
 * and the dial is settled here.  A kernel without sock_diag, or a sandbox
 * that refuses it, settles here as before.
 *
 * exit(): the process still holds its descriptors, so the kernel cannot
 * tell; the parent's and the children's descriptor tables are read
 * instead (/proc/PID/fd), the only places the shim makes the socket go. */
#include "acct/closing.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acct/dial.h"
#include "acct/handoff.h"
#include "acct/holders.h"
#include "acct/track.h"
#include "core/real.h"
#include "core/state.h"

/* The sock_diag ABI (linux/netlink.h, linux/sock_diag.h,
 * linux/inet_diag.h), spelled out: musl's headers have none of them. */
#define NL_SOCK_DIAG 4
#define NL_ERROR 2
#define NL_F_REQUEST 1
#define DIAG_BY_FAMILY 20
#define TCP_ST_ESTABLISHED 1
#define TCP_ST_CLOSE_WAIT 8
struct nl_addr {
	sa_family_t family;
	unsigned short pad;
	uint32_t pid, groups;
};
struct nl_hdr {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};
struct diag_id {
	uint16_t sport, dport; /* network order */
	uint8_t src[16], dst[16];
	uint32_t ifindex;
	uint32_t cookie[2];
};
struct diag_req {
	uint8_t family, protocol, ext, pad;
	uint32_t states;
	struct diag_id id;
};
struct diag_msg {
	uint8_t family, state, timer, retrans;
	struct diag_id id;
	uint32_t expires, rqueue, wqueue, uid, inode;
};

/* One end's address and port, as sock_diag keys them (network order):
 * the family, or 0 if it is not inet. */
static int endpoint(const struct sockaddr_storage *s, uint8_t addr[16], uint16_t *port)
{
	if (s->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)s;

		memcpy(addr, &x->sin_addr, 4);
		*port = x->sin_port;
	} else if (s->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)s;

		memcpy(addr, &x->sin6_addr, 16);
		*port = x->sin6_port;
	} else {
		return 0;
	}
	return s->ss_family;
}

static int tuple(int fd, struct om_closing *c)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof a, lb = sizeof b;

	if (getsockname(fd, (struct sockaddr *)&a, &la) < 0 ||
	    getpeername(fd, (struct sockaddr *)&b, &lb) < 0)
		return 0;
	c->family = endpoint(&a, c->src, &c->sport);
	return c->family && endpoint(&b, c->dst, &c->dport) == c->family;
}

static int begin(struct om_fd *e, struct om_closing *c)
{
	struct stat st;
	struct om_hs *h;

	if (!om_closing_shared(e) || !tuple(e->fd, c) || fstat(e->fd, &st) < 0)
		return 0;
	c->ino = st.st_ino;
	h = om_hs_at(e->hs);
	if (!h->cookie)
		h->cookie = om_sock_cookie(e->fd);
	if (!(c->cookie = h->cookie))
		return 0;
	c->hs = om_dial_detach(e, &c->f);
	return 1;
}

/* Keeps errno: close() does not save it around the dial's end. */
int om_closing_begin(struct om_fd *e, struct om_closing *c)
{
	int err = errno, taken = begin(e, c);

	errno = err;
	return taken;
}

/* Does the socket still live with another holder?  -1: cannot tell. */
static int alive(const struct om_closing *c)
{
	struct {
		struct nl_hdr h;
		struct diag_req r;
	} req;
	struct nl_addr nl = { .family = AF_NETLINK };
	union {
		struct nl_hdr h;
		char b[512];
	} rep;
	struct diag_msg m;
	ssize_t n;
	int fd = OM_REAL(socket)(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NL_SOCK_DIAG);

	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof req);
	req.h.len = sizeof req;
	req.h.type = DIAG_BY_FAMILY;
	req.h.flags = NL_F_REQUEST;
	req.h.seq = 1;
	req.r.family = (uint8_t)c->family;
	req.r.protocol = IPPROTO_TCP;
	req.r.states = ~0u;
	req.r.id.sport = c->sport;
	req.r.id.dport = c->dport;
	memcpy(req.r.id.src, c->src, sizeof c->src);
	memcpy(req.r.id.dst, c->dst, sizeof c->dst);
	req.r.id.cookie[0] = (uint32_t)c->cookie;
	req.r.id.cookie[1] = (uint32_t)(c->cookie >> 32);
	if (OM_REAL(sendto)(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0) {
		OM_REAL(close)(fd);
		return -1;
	}
	do /* the kernel answers a single lookup before sendto returns */
		n = OM_REAL(recv)(fd, &rep, sizeof rep, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	OM_REAL(close)(fd);
	if (n < (ssize_t)sizeof rep.h || rep.h.len > (size_t)n)
		return -1;
	if (rep.h.type == NL_ERROR)
		return 0; /* ENOENT: gone */
	if (rep.h.type != DIAG_BY_FAMILY || rep.h.len < sizeof rep.h + sizeof m)
		return -1;
	memcpy(&m, rep.b + sizeof rep.h, sizeof m);
	if (((uint64_t)m.id.cookie[1] << 32 | m.id.cookie[0]) != c->cookie)
		return 0;
	return m.state == TCP_ST_ESTABLISHED || m.state == TCP_ST_CLOSE_WAIT;
}

static void park(struct om_hs *h, const struct om_hand_facts *f, int fd)
{
	struct om_hand_step s = { 0, h->cookie };

	om_hand_put(fd, h, f, &s);
}

void om_closing_end(struct om_closing *c)
{
	struct om_hs *h = om_hs_at(c->hs);
	struct om_hand_step s;
	int err = errno;

	if (alive(c) == 1) {
		/* a copy of ours (dup) goes on with the dial; another
		 * process's finds it in the table */
		if (!om_track_take_over(om_fd_holding(0, c->ino), c->hs, &c->f)) {
			park(h, &c->f, -1);
			om_hs_free(c->hs);
		}
	} else if (om_hand_find(c->cookie, h, &c->f, &s) == OM_HAND_ENDED) {
		om_hand_release(&s); /* a holder before us ended it */
		om_hs_free(c->hs);
	} else {
		om_hand_done(&s, om_dial_settle(c->hs, &c->f));
	}
	errno = err;
}

int om_closing_at_exit(struct om_fd *e)
{
	struct om_hand_facts f;
	struct stat st;
	struct om_hs *h;

	if (!om_closing_shared(e) || fstat(e->fd, &st) < 0)
		return 0;
	h = om_hs_at(e->hs);
	if (!(h->shared && om_fd_holding(getppid(), st.st_ino) >= 0) &&
	    !(h->forks != __atomic_load_n(&om_forks, __ATOMIC_RELAXED) && om_children_hold(st.st_ino)))
		return 0;
	om_dial_facts(e, &f);
	park(h, &f, e->fd);
	return 1;
}
