#include "common/diag_parse.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#ifndef INET_DIAG_CGROUP_ID
#define INET_DIAG_CGROUP_ID 21
#endif

/* The states in which the peer's FIN has arrived (and bytes_received
 * counts it): TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING, as the kernel
 * numbers them (<netinet/tcp.h> names them, but clashes with
 * <linux/tcp.h>'s struct tcp_info). */
static int fin_in(unsigned st)
{
	return st == 6 || st == 8 || st == 9 || st == 11;
}

#define HAS(have, field) ((have) >= offsetof(struct tcp_info, field) + sizeof(uint64_t))

static uint64_t field(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof v);
	return v;
}

/* The walk over a message's attributes is decided by their headers
 * alone: where the next one starts and whether the walk stops follow
 * from the total length and each header's four bytes.  The messages of
 * one dump mostly carry the same attributes, so the last walk is kept:
 * a message of the same length whose words at the places that walk read
 * headers from are the same words walks the same way, and only those
 * are compared (a few loads instead of the loop, which was most of a
 * dump's parse).  Anything else is walked and becomes the kept walk. */
#define WALK_MAX 8

struct walk {
	size_t n;         /* the attributes' length; SIZE_MAX: none kept */
	unsigned k;       /* headers the walk read */
	uint16_t at[WALK_MAX];
	uint32_t hdr[WALK_MAX];
	size_t ti, cg;    /* tcp_info's and the cgroup id's payload; 0: none */
	size_t have;      /* tcp_info's length */
};

/* A full walk, kept in w if it read at most WALK_MAX headers.  It finds
 * the two attributes it wants before reading either (a store to s would
 * make every read of p after it a reload: char data aliases anything). */
static void walk(const unsigned char *p, size_t n, struct walk *w)
{
	size_t off = 0, ti = 0, cg = 0, have = 0;
	unsigned k = 0;

	w->n = SIZE_MAX;
	while (n - off >= sizeof(struct rtattr)) {
		uint32_t word;
		uint16_t alen, type;
		size_t step;

		memcpy(&word, p + off, sizeof word);
		memcpy(&alen, p + off + offsetof(struct rtattr, rta_len), sizeof alen);
		memcpy(&type, p + off + offsetof(struct rtattr, rta_type), sizeof type);
		if (k < WALK_MAX) {
			w->at[k] = (uint16_t)off;
			w->hdr[k] = word;
		}
		k++;
		/* shorter than its header, or longer than what is left: one
		 * compare, as a length under the header wraps */
		if ((size_t)alen - sizeof(struct rtattr) > n - off - sizeof(struct rtattr))
			break;
		if (type == INET_DIAG_INFO) {
			ti = off + sizeof(struct rtattr);
			have = alen - sizeof(struct rtattr);
		} else if (type == INET_DIAG_CGROUP_ID && alen >= sizeof(struct rtattr) + 8) {
			cg = off + sizeof(struct rtattr);
		}
		step = RTA_ALIGN(alen);
		if (step >= n - off) /* the last (its padding may be missing) */
			break;
		off += step;
	}
	w->k = k;
	w->ti = ti;
	w->cg = cg;
	w->have = have;
	if (k <= WALK_MAX && n < 65536) /* offsets fit the 16 bits kept */
		w->n = n;
}

static int same_walk(const unsigned char *p, size_t n, const struct walk *w)
{
	unsigned i;

	if (n != w->n)
		return 0;
	for (i = 0; i < w->k; i++) {
		uint32_t word;

		memcpy(&word, p + w->at[i], sizeof word);
		if (word != w->hdr[i])
			return 0;
	}
	return 1;
}

/* The attributes after an inet_diag_msg: tcp_info and the cgroup id.
 * Four or five per socket (shutdown, mark, cgroup, sockopt, info). */
static void attrs(const unsigned char *p, size_t n, struct om_diag_sock *s, struct walk *w)
{
	const unsigned char *ti, *cg;
	size_t have;

	if (!same_walk(p, n, w))
		walk(p, n, w);
	ti = w->ti ? p + w->ti : 0;
	cg = w->cg ? p + w->cg : 0;
	have = w->have;
	if (cg)
		memcpy(&s->cgroup, cg, 8);
	/* older kernels send a shorter tcp_info: only what came is read,
	 * field by field (no copy of the whole) */
	if (ti && HAS(have, tcpi_bytes_received)) {
		uint64_t in = field(ti, offsetof(struct tcp_info, tcpi_bytes_received));

		s->has_info = 1;
		s->bytes_in = in - (fin_in(s->state) && in);
		/* bytes_sent and bytes_retrans: Linux 4.19 and 5.5; before,
		 * what was acked (one high on a dial) */
		if (HAS(have, tcpi_bytes_retrans)) {
			uint64_t sent = field(ti, offsetof(struct tcp_info, tcpi_bytes_sent)),
				 re = field(ti, offsetof(struct tcp_info, tcpi_bytes_retrans));

			s->bytes_out = sent >= re ? sent - re
				     : field(ti, offsetof(struct tcp_info, tcpi_bytes_acked));
		} else {
			s->bytes_out = field(ti, offsetof(struct tcp_info, tcpi_bytes_acked));
		}
	}
}

int om_diag_parse(const void *buf, size_t len, uint32_t seq, om_diag_fn fn, void *arg)
{
	const unsigned char *p = buf;
	struct walk w = { .n = SIZE_MAX };

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t step;

		memcpy(&h, p, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > len)
			return -1;
		if (h.nlmsg_seq != seq)
			goto next; /* an answer to an earlier request */
		/* a socket first: all but one message of a dump are */
		if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY) {
			if (h.nlmsg_type == NLMSG_DONE)
				return 1;
			if (h.nlmsg_type == NLMSG_ERROR)
				return -1;
		} else if (h.nlmsg_len >= sizeof h + sizeof(struct inet_diag_msg)) {
			/* the fields read where they are, every one of s set:
			 * no copy of the message, no clearing of s first */
			const unsigned char *m = p + sizeof h;
			struct om_diag_sock s;
			uint32_t ck[2];
			uint16_t port;
			size_t off;

			s.family = m[offsetof(struct inet_diag_msg, idiag_family)];
			if (s.family == AF_INET || s.family == AF_INET6) {
				s.state = m[offsetof(struct inet_diag_msg, idiag_state)];
				memcpy(&port, m + offsetof(struct inet_diag_msg, id.idiag_sport), 2);
				s.sport = ntohs(port);
				memcpy(&port, m + offsetof(struct inet_diag_msg, id.idiag_dport), 2);
				s.dport = ntohs(port);
				memcpy(s.src, m + offsetof(struct inet_diag_msg, id.idiag_src), 16);
				memcpy(s.dst, m + offsetof(struct inet_diag_msg, id.idiag_dst), 16);
				memcpy(&s.uid, m + offsetof(struct inet_diag_msg, idiag_uid), 4);
				memcpy(&s.inode, m + offsetof(struct inet_diag_msg, idiag_inode), 4);
				memcpy(ck, m + offsetof(struct inet_diag_msg, id.idiag_cookie), 8);
				s.cookie = (uint64_t)ck[1] << 32 | ck[0];
				s.cgroup = 0;
				s.has_info = 0;
				s.bytes_out = s.bytes_in = 0;
				/* no padding after the message: h.nlmsg_len >= off */
				_Static_assert(NLMSG_ALIGN(sizeof(struct inet_diag_msg)) ==
					       sizeof(struct inet_diag_msg), "inet_diag_msg padded");
				off = sizeof h + sizeof(struct inet_diag_msg);
				attrs(p + off, h.nlmsg_len - off, &s, &w);
				fn(&s, arg);
			}
		}
next:
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}
