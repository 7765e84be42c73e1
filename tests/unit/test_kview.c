/* The kernel view's bookkeeping across polls, without a kernel: sockets
 * handed to it as a dump would, and what it makes of them.  A socket is
 * new the first poll it is listed in (a socket listed twice in one dump
 * is one), and a connection counts as aged when a process held it in the
 * last poll and holds it still. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "check.h"
#include "kernel.h"

static struct om_kview k;

/* cookie: the socket; held: a process holds it, established */
static void sock(uint64_t cookie, int held, uint8_t last_octet)
{
	struct om_diag_sock s;

	memset(&s, 0, sizeof s);
	s.family = AF_INET;
	s.state = held ? TCP_ESTABLISHED : TCP_SYN_RECV;
	s.inode = held ? (uint32_t)(1000 + cookie) : 0;
	s.cookie = cookie;
	s.sport = 40000;
	s.dport = 443;
	s.src[0] = 127;
	s.src[3] = 1;
	s.dst[0] = last_octet == 1 ? 127 : 198;
	s.dst[1] = last_octet == 1 ? 0 : 18;
	s.dst[3] = last_octet;
	s.has_info = 1;
	s.bytes_out = 10;
	s.bytes_in = 20;
	om_kview_account(&k, &s);
}

static uint64_t sum(const uint64_t v[OM_NKCLASS])
{
	uint64_t n = 0;
	int c;

	for (c = 0; c < OM_NKCLASS; c++)
		n += v[c];
	return n;
}

int main(void)
{
	struct om_kscope scope = { .kind = OM_KSCOPE_NETNS };
	struct om_config cfg;
	uint64_t i;
	int round;

	memset(&cfg, 0, sizeof cfg);
	om_kview_init(&k, &scope, &cfg);

	/* poll 1: A held, B not yet accepted, A listed twice */
	om_kview_begin(&k);
	sock(1, 1, 1);
	sock(2, 0, 1);
	sock(1, 1, 1);
	CHECK_EQ(sum(k.seen_new), 2);
	CHECK_EQ(sum(k.aged), 0);
	CHECK_EQ(k.conns[OM_KCLASS_LOCAL], 2); /* every listing counts here */
	om_kview_end(&k);
	CHECK_EQ(sum(k.seen_total), 2);

	/* poll 2: A held still (aged), B held now (not aged: not held
	 * before), C new and direct */
	om_kview_begin(&k);
	sock(1, 1, 1);
	sock(2, 1, 1);
	sock(3, 1, 7);
	CHECK_EQ(sum(k.seen_new), 1);
	CHECK_EQ(k.seen_new[OM_KCLASS_DIRECT], 1);
	CHECK_EQ(k.aged[OM_KCLASS_LOCAL], 1);
	CHECK_EQ(k.aged[OM_KCLASS_DIRECT], 0);
	CHECK_EQ(k.bytes[OM_KCLASS_DIRECT][OM_EGRESS], 10);
	om_kview_end(&k);

	/* poll 3: B and C aged, A gone; poll 4: A again is new again */
	om_kview_begin(&k);
	sock(2, 1, 1);
	sock(3, 1, 7);
	CHECK_EQ(sum(k.seen_new), 0);
	CHECK_EQ(k.aged[OM_KCLASS_LOCAL] + k.aged[OM_KCLASS_DIRECT], 2);
	om_kview_end(&k);
	om_kview_begin(&k);
	sock(1, 1, 1);
	CHECK_EQ(sum(k.seen_new), 1);
	CHECK_EQ(sum(k.aged), 0);
	om_kview_end(&k);

	/* many sockets, many polls: the sets grow, are emptied by a new
	 * generation each poll, and one wraps its generation */
	for (round = 0; round < 6; round++) {
		if (round == 3)
			k.cur.gen = UINT32_MAX; /* the set about to be emptied */
		om_kview_begin(&k);
		for (i = 0; i < 5000; i++)
			sock(100 + i + (round == 5 ? 2500 : 0), 1, 7);
		CHECK_EQ(sum(k.seen_new), round == 0 ? 5000 : round == 5 ? 2500 : 0);
		CHECK_EQ(sum(k.aged), round == 0 ? 0 : round == 5 ? 2500 : 5000);
		CHECK(!k.cur.oom);
		om_kview_end(&k);
	}
	om_kview_close(&k);
	return check_done("kview");
}
