#include "common/diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/segment_layout.h"
#include "common/classify.h"

int om_diag_open(void)
{
	struct timeval tv = { 2, 0 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	/* a dump that never ends must not hang the caller */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

int om_diag_dump(int fd, uint32_t *seq, int family, int protocol, om_diag_fn fn, void *arg,
		 char *err, size_t errlen)
{
	static char buf[65536];
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	int rc = 0;

	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++*seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = (uint8_t)protocol;
	if (protocol == IPPROTO_TCP) {
		req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
		/* every state but listening, time-wait and closed */
		req.r.idiag_states =
			0x1FFF & ~(1u << TCP_LISTEN | 1u << TCP_TIME_WAIT | 1u << TCP_CLOSE);
	} else {
		/* a UDP socket is "established" once connect() gave it a peer */
		req.r.idiag_states = 1u << TCP_ESTABLISHED;
	}
	if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0) {
		snprintf(err, errlen, "sock_diag request: %s", strerror(errno));
		return -1;
	}
	while (rc == 0) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "sock_diag dump: %s", n < 0 ? strerror(errno) : "closed");
			return -1;
		}
		rc = om_diag_parse(buf, (size_t)n, req.nh.nlmsg_seq, fn, arg);
	}
	if (rc < 0) {
		snprintf(err, errlen, "sock_diag: the kernel refused the dump");
		return -1;
	}
	return 0;
}

struct found {
	struct om_diag_sock *out;
	int n;
};

static void found_one(const struct om_diag_sock *s, void *arg)
{
	struct found *f = arg;

	if (!f->n++)
		*f->out = *s;
}

int om_diag_find(int fd, uint32_t *seq, int family, const uint8_t *src, uint16_t sport,
		 const uint8_t *dst, uint16_t dport, struct om_diag_sock *out)
{
	char buf[4096];
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct found f = { out, 0 };
	size_t alen = family == AF_INET ? 4 : 16;
	ssize_t n;

	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = ++*seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	req.r.idiag_states = ~0u;
	req.r.id.idiag_sport = htons(sport);
	req.r.id.idiag_dport = htons(dport);
	memcpy(req.r.id.idiag_src, src, alen);
	memcpy(req.r.id.idiag_dst, dst, alen);
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0)
		return -1;
	do
		n = recv(fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	/* one socket, or an error (ENOENT: none) */
	om_diag_parse(buf, (size_t)n, req.nh.nlmsg_seq, found_one, &f);
	return f.n > 0;
}

int om_diag_destroy_open(void)
{
	/* SKNLGRP_INET_TCP_DESTROY (1) and SKNLGRP_INET6_TCP_DESTROY (3) */
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK, .nl_groups = 1u << 0 | 1u << 2 };
	int rcvbuf = 4 << 20;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -1;
	/* a burst of closes must not overrun it (the kernel caps it at rmem_max) */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (bind(fd, (struct sockaddr *)&nl, sizeof nl) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int om_diag_destroy_read(int fd, om_diag_fn fn, void *arg)
{
	static char buf[65536];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0)
			return 0;
		om_diag_parse(buf, (size_t)n, 0, fn, arg); /* notices carry sequence 0 */
	}
}

unsigned om_diag_kclass_slow(const struct om_config *cfg, const struct om_diag_sock *s)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	int v4;

	v4 = s->family == AF_INET || !memcmp(s->dst, v4mapped, sizeof v4mapped);

	switch (om_classify_addr(cfg, v4 ? 4 : 6, v4 && s->family != AF_INET ? s->dst + 12 : s->dst,
				 s->dport)) {
	case OM_DEST_PROXY: return OM_KCLASS_PROXY;
	case OM_DEST_DIRECT: return OM_KCLASS_DIRECT;
	default: return OM_KCLASS_LOCAL;
	}
}

void om_diag_peer(const struct om_diag_sock *s, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(s->family, s->dst, a, sizeof a);
	snprintf(out, n, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, s->dport);
}
