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

/* The attributes after an inet_diag_msg: tcp_info and the cgroup id.
 * Four or five per socket (shutdown, cgroup, sockopt, padding, info):
 * the loop is most of a dump's parse, so it keeps one offset and finds
 * the two it wants before reading either (a store to s would make every
 * read of p after it a reload: char data aliases anything). */
static void attrs(const unsigned char *p, size_t n, struct om_diag_sock *s)
{
	const unsigned char *ti = 0, *cg = 0;
	size_t off = 0, have = 0;

	while (off + sizeof(struct rtattr) <= n) {
		uint16_t alen, type;

		memcpy(&alen, p + off + offsetof(struct rtattr, rta_len), sizeof alen);
		memcpy(&type, p + off + offsetof(struct rtattr, rta_type), sizeof type);
		if (alen < sizeof(struct rtattr) || alen > n - off)
			break;
		if (type == INET_DIAG_INFO) {
			ti = p + off + sizeof(struct rtattr);
			have = alen - sizeof(struct rtattr);
		} else if (type == INET_DIAG_CGROUP_ID && alen >= sizeof(struct rtattr) + 8) {
			cg = p + off + sizeof(struct rtattr);
		}
		off += RTA_ALIGN(alen); /* at most n + 3: no wrap */
	}
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

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t step;

		memcpy(&h, p, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > len)
			return -1;
		if (h.nlmsg_seq != seq)
			goto next; /* an answer to an earlier request */
		if (h.nlmsg_type == NLMSG_DONE)
			return 1;
		if (h.nlmsg_type == NLMSG_ERROR)
			return -1;
		if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h.nlmsg_len >= sizeof h + sizeof(struct inet_diag_msg)) {
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
				off = sizeof h + NLMSG_ALIGN(sizeof(struct inet_diag_msg));
				attrs(p + off, h.nlmsg_len > off ? h.nlmsg_len - off : 0, &s);
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
