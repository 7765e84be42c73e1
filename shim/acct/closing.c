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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acct/dial.h"
#include "acct/handoff.h"
#include "acct/track.h"
#include "common/diag_parse.h"
#include "core/real.h"
#include "core/state.h"

static int fd_holding(long pid, unsigned long ino);

static int maybe_shared(const struct om_fd *e)
{
	const struct om_hs *h;

	if (e->dial != OM_DIAL_UP || !e->hs)
		return 0;
	h = om_hs_at(e->hs);
	return h->shared || h->forks != __atomic_load_n(&om_forks, __ATOMIC_RELAXED);
}

static int tuple(int fd, struct om_closing *c)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof a, lb = sizeof b;

	if (getsockname(fd, (struct sockaddr *)&a, &la) < 0 ||
	    getpeername(fd, (struct sockaddr *)&b, &lb) < 0 || a.ss_family != b.ss_family)
		return 0;
	c->family = a.ss_family;
	if (a.ss_family == AF_INET) {
		const struct sockaddr_in *x = (void *)&a, *y = (void *)&b;

		memcpy(c->src, &x->sin_addr, 4);
		memcpy(c->dst, &y->sin_addr, 4);
		c->sport = x->sin_port;
		c->dport = y->sin_port;
		return 1;
	}
	if (a.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (void *)&a, *y = (void *)&b;

		memcpy(c->src, &x->sin6_addr, 16);
		memcpy(c->dst, &y->sin6_addr, 16);
		c->sport = x->sin6_port;
		c->dport = y->sin6_port;
		return 1;
	}
	return 0;
}

int om_closing_begin(struct om_fd *e, struct om_closing *c)
{
	struct stat st;
	struct om_hs *h;

	if (!maybe_shared(e) || !tuple(e->fd, c) || fstat(e->fd, &st) < 0)
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

struct seen {
	uint64_t cookie;
	int alive;
};

static void one(const struct om_diag_sock *s, void *arg)
{
	struct seen *k = arg;

	if (s->cookie == k->cookie)
		k->alive = s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT;
}

/* Does the socket still live with another holder?  -1: cannot tell. */
static int alive(const struct om_closing *c)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct seen k = { c->cookie, 0 };
	char buf[1024];
	ssize_t n;
	int fd = OM_REAL(socket)(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.r.sdiag_family = (uint8_t)c->family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_sport = c->sport;
	req.r.id.idiag_dport = c->dport;
	memcpy(req.r.id.idiag_src, c->src, sizeof c->src);
	memcpy(req.r.id.idiag_dst, c->dst, sizeof c->dst);
	req.r.id.idiag_cookie[0] = (uint32_t)c->cookie;
	req.r.id.idiag_cookie[1] = (uint32_t)(c->cookie >> 32);
	if (OM_REAL(sendto)(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0) {
		OM_REAL(close)(fd);
		return -1;
	}
	do /* the kernel answers a single lookup before sendto returns */
		n = OM_REAL(recv)(fd, buf, sizeof buf, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	OM_REAL(close)(fd);
	if (n <= 0)
		return -1;
	/* one socket, or an error: ENOENT when it is gone */
	om_diag_parse(buf, (size_t)n, 1, one, &k);
	return k.alive;
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
		if (!om_track_take_over(fd_holding(0, c->ino), c->hs, &c->f)) {
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

/* A descriptor of process pid (0: this one) for the socket with inode
 * ino: its number, or -1. */
static int fd_holding(long pid, unsigned long ino)
{
	char path[64], want[48], link[48], buf[1024];
	int dfd, found = -1;
	long n;

	if (pid)
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
	else
		snprintf(path, sizeof path, "/proc/self/fd");
	snprintf(want, sizeof want, "socket:[%lu]", ino);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	while (found < 0 && (n = getdents64(dfd, buf, sizeof buf)) > 0) {
		long off = 0;

		for (; off < n && found < 0; off += ((struct dirent64 *)(buf + off))->d_reclen) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			ssize_t l = readlinkat(dfd, d->d_name, link, sizeof link - 1);

			if (l > 0 && d->d_name[0] >= '0' && d->d_name[0] <= '9') {
				link[l] = 0;
				if (strcmp(link, want) == 0)
					found = atoi(d->d_name);
			}
		}
	}
	OM_REAL(close)(dfd);
	return found;
}

static int pid_holds(long pid, unsigned long ino)
{
	return pid > 0 && fd_holding(pid, ino) >= 0;
}

/* Does a child of any of this process's threads hold it? */
static int children_hold(unsigned long ino)
{
	char buf[1024], path[300], kids[512];
	int tdir, found = 0;
	long n;

	if ((tdir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	while (!found && (n = getdents64(tdir, buf, sizeof buf)) > 0) {
		long off = 0;

		for (; off < n && !found; off += ((struct dirent64 *)(buf + off))->d_reclen) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			ssize_t k;
			char *p, *end;
			int cf;

			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			snprintf(path, sizeof path, "%s/children", d->d_name);
			if ((cf = openat(tdir, path, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			k = OM_REAL(read)(cf, kids, sizeof kids - 1);
			OM_REAL(close)(cf);
			if (k <= 0)
				continue;
			kids[k] = 0;
			for (p = kids; *p && !found; p = end) {
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				found = pid_holds(pid, ino);
			}
		}
	}
	OM_REAL(close)(tdir);
	return found;
}

int om_closing_at_exit(struct om_fd *e)
{
	struct om_hand_facts f;
	struct stat st;
	struct om_hs *h;

	if (!maybe_shared(e) || fstat(e->fd, &st) < 0)
		return 0;
	h = om_hs_at(e->hs);
	if (!(h->shared && pid_holds(getppid(), st.st_ino)) &&
	    !(h->forks != __atomic_load_n(&om_forks, __ATOMIC_RELAXED) && children_hold(st.st_ino)))
		return 0;
	om_dial_facts(e, &f);
	park(h, &f, e->fd);
	return 1;
}
