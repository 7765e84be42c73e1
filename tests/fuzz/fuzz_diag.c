/* Fuzz the sock_diag parser and the kernel view's accounting: the input
 * is one datagram of a dump, as the kernel (or anyone able to answer on
 * the netlink socket) could send it.  Byte 0 picks the sequence number the
 * answer must carry (0 or 1); the rest is the datagram.  Each message is
 * also parsed alone, and must come out the same. */
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag_parse.h"
#include "kernel.h"

/* What a parse made of each socket, to compare two parses by. */
struct seen {
	struct om_diag_sock s[512];
	size_t n;
};

static struct om_kview k;

static void keep(struct seen *v, const struct om_diag_sock *s)
{
	if (v->n < sizeof v->s / sizeof v->s[0])
		v->s[v->n] = *s;
	v->n++;
}

static void on_sock(const struct om_diag_sock *s, void *arg)
{
	if (s->family != 2 && s->family != 10)
		__builtin_trap();
	om_kview_account(&k, s);
	keep(arg, s);
}

static void on_alone(const struct om_diag_sock *s, void *arg)
{
	keep(arg, s);
}

static int same(const struct om_diag_sock *a, const struct om_diag_sock *b)
{
	return a->family == b->family && a->state == b->state && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->src, b->src, 16) &&
	       !memcmp(a->dst, b->dst, 16) && a->uid == b->uid && a->inode == b->inode &&
	       a->cookie == b->cookie && a->cgroup == b->cgroup && a->has_info == b->has_info &&
	       a->bytes_out == b->bytes_out && a->bytes_in == b->bytes_in;
}

/* The parse keeps the last message's walk over its attributes and only
 * compares headers when the next looks the same: each message parsed
 * alone (nothing kept) must give what the datagram's parse gave. */
static void differential(const uint8_t *p, size_t len, uint32_t seq, const struct seen *whole)
{
	static struct seen alone;
	struct nlmsghdr h;

	alone.n = 0;
	while (len >= sizeof h) {
		uint8_t *one;
		size_t step;
		int rc;

		memcpy(&h, p, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > len)
			break;
		one = malloc(h.nlmsg_len);
		memcpy(one, p, h.nlmsg_len);
		rc = om_diag_parse(one, h.nlmsg_len, seq, on_alone, &alone);
		free(one);
		if (rc)
			break;
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	if (alone.n != whole->n)
		__builtin_trap();
	for (size_t i = 0; i < alone.n && i < sizeof alone.s / sizeof alone.s[0]; i++)
		if (!same(&alone.s[i], &whole->s[i]))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen whole;
	static int init;
	struct om_kscope scope = { OM_KSCOPE_NETNS, 0, 0 };
	uint8_t *copy;
	int rc;

	if (!init) {
		static struct om_config cfg;

		om_config_read(&cfg, om_env_plain, om_warn_none);
		om_kview_init(&k, &scope, &cfg);
		init = 1;
	}
	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees overreads */
	memcpy(copy, data + 1, size - 1);
	om_kview_begin(&k);
	whole.n = 0;
	rc = om_diag_parse(copy, size - 1, data[0] & 1, on_sock, &whole);
	if (rc < -1 || rc > 1)
		__builtin_trap();
	differential(copy, size - 1, data[0] & 1, &whole);
	free(copy);
	return 0;
}
