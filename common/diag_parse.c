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

/* The attributes after an inet_diag_msg: tcp_info and the cgroup id. */
static void attrs(const unsigned char *p, size_t n, struct om_diag_sock *s)
{
	while (n >= sizeof(struct rtattr)) {
		struct rtattr a;
		size_t alen, step;

		memcpy(&a, p, sizeof a);
		alen = a.rta_len;
		if (alen < sizeof a || alen > n)
			return;
		if (a.rta_type == INET_DIAG_INFO) {
			const unsigned char *ti = p + sizeof a;
			size_t have = alen - sizeof a;

			/* older kernels send a shorter tcp_info: only what came
			 * is read, field by field (no copy of the whole) */
			if (HAS(have, tcpi_bytes_received)) {
				uint64_t in = field(ti, offsetof(struct tcp_info, tcpi_bytes_received));

				s->has_info = 1;
				s->bytes_in = in - (fin_in(s->state) && in);
				/* bytes_sent and bytes_retrans: Linux 4.19 and 5.5;
				 * before, what was acked (one high on a dial) */
				if (HAS(have, tcpi_bytes_retrans)) {
					uint64_t sent = field(ti, offsetof(struct tcp_info, tcpi_bytes_sent)),
						 re = field(ti, offsetof(struct tcp_info, tcpi_bytes_retrans));

					s->bytes_out = sent >= re ? sent - re
						     : field(ti, offsetof(struct tcp_info, tcpi_bytes_acked));
				} else {
					s->bytes_out = field(ti, offsetof(struct tcp_info, tcpi_bytes_acked));
				}
			}
		} else if (a.rta_type == INET_DIAG_CGROUP_ID && alen >= sizeof a + 8) {
			memcpy(&s->cgroup, p + sizeof a, 8);
		}
		step = RTA_ALIGN(alen);
		if (step >= n)
			return;
		p += step;
		n -= step;
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
			struct inet_diag_msg m;
			struct om_diag_sock s;
			size_t off;

			memcpy(&m, p + sizeof h, sizeof m);
			if (m.idiag_family == AF_INET || m.idiag_family == AF_INET6) {
				memset(&s, 0, sizeof s);
				s.family = m.idiag_family;
				s.state = m.idiag_state;
				s.sport = ntohs(m.id.idiag_sport);
				s.dport = ntohs(m.id.idiag_dport);
				memcpy(s.src, m.id.idiag_src, 16);
				memcpy(s.dst, m.id.idiag_dst, 16);
				s.uid = m.idiag_uid;
				s.inode = m.idiag_inode;
				s.cookie = (uint64_t)m.id.idiag_cookie[1] << 32 | m.id.idiag_cookie[0];
				off = sizeof h + NLMSG_ALIGN(sizeof m);
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
