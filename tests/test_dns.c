/* DNS questions on the wire: queries as dig, c-ares and hand-written
 * clients build them, framed for UDP and TCP, and what is not a query. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "proto/dns.h"

static size_t put_name(uint8_t *p, const char *dotted)
{
	size_t o = 0;

	while (*dotted) {
		size_t n = strcspn(dotted, ".");

		p[o++] = (uint8_t)n;
		memcpy(p + o, dotted, n);
		o += n;
		dotted += n + (dotted[n] == '.');
	}
	p[o++] = 0;
	return o;
}

/* A query (flags 0x0100: RD) for each name, with dig's EDNS OPT record. */
static size_t query(uint8_t *p, uint16_t flags, const char *const *names, int n)
{
	size_t o = 12;
	int i;

	memset(p, 0, 12);
	p[0] = 0xab;
	p[2] = (uint8_t)(flags >> 8);
	p[3] = (uint8_t)flags;
	p[5] = (uint8_t)n;
	p[11] = 1;
	for (i = 0; i < n; i++) {
		o += put_name(p + o, names[i]);
		memcpy(p + o, "\0\1\0\1", 4);
		o += 4;
	}
	memcpy(p + o, "\0\0\x29\x04\xd0\0\0\0\0\0\0", 11);
	return o + 11;
}

static int wire(const uint8_t *b, size_t n, int stream, char *name, size_t cap)
{
	int cut;

	return om_dns_wire(b, n, stream, name, cap, &cut);
}

int main(void)
{
	static const char v3[] = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion";
	const char *one[1], *two[2];
	uint8_t m[700], t[1400];
	char name[80];
	size_t n, k;
	int cut;

	one[0] = "x.onion";
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 1);
	CHECK(!strcmp(name, "x.onion") && cut == 0);
	/* every cut of the message: no verdict before the name's end (9
	 * bytes on the wire after the 12-byte header) */
	for (k = 0; k < n; k++)
		CHECK_EQ(om_dns_onion(m, k, name, sizeof name, &cut), k >= 12 + 9 ? 1 : -1);

	one[0] = "WWW.Example.ONION";
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 1);
	CHECK(!strcmp(name, "www.example.onion"));

	one[0] = v3;
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, 20, &cut), 1); /* decided on the wire */
	CHECK(cut == 1 && strlen(name) == 19);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 1);
	CHECK(!strcmp(name, v3) && cut == 0);

	/* not onion names */
	one[0] = "example.com";
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 0);
	one[0] = "onion";
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 0);
	one[0] = "onion.example";
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 0);
	one[0] = "x.onionz";
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 0);

	/* a second question */
	two[0] = "example.com";
	two[1] = "y.onion";
	n = query(m, 0x0100, two, 2);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), 1);
	CHECK(!strcmp(name, "y.onion"));

	/* responses, other opcodes, no question: no query */
	one[0] = "x.onion";
	n = query(m, 0x8180, one, 1);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), -1);
	n = query(m, 0x2800, one, 1); /* UPDATE */
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), -1);
	n = query(m, 0x0100, one, 0);
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), -1);
	/* a compression pointer in the first question */
	n = query(m, 0x0100, one, 1);
	m[12] = 0xc0;
	CHECK_EQ(om_dns_onion(m, n, name, sizeof name, &cut), -1);

	/* framing: UDP whole; TCP with its length, pipelined, or the length
	 * sent on its own */
	n = query(m, 0x0100, one, 1);
	CHECK_EQ(wire(m, n, 0, name, sizeof name), 1);
	t[0] = 0;
	t[1] = (uint8_t)n;
	memcpy(t + 2, m, n);
	CHECK_EQ(wire(t, n + 2, 1, name, sizeof name), 1);
	CHECK_EQ(wire(t, 2, 1, name, sizeof name), 0);
	CHECK_EQ(wire(m, n, 1, name, sizeof name), 1);
	one[0] = "a.example";
	k = query(t + 2, 0x0100, one, 1);
	t[0] = 0;
	t[1] = (uint8_t)k;
	t[k + 2] = 0;
	t[k + 3] = (uint8_t)n;
	memcpy(t + k + 4, m, n);
	CHECK_EQ(wire(t, k + n + 4, 1, name, sizeof name), 1);
	CHECK(!strcmp(name, "x.onion"));
	CHECK_EQ(wire(t, k + 2, 1, name, sizeof name), 0);

	/* a name over 255 bytes is no name */
	memset(m, 0, 12);
	m[5] = 1;
	for (n = 12; n < 12 + 5 * 64; n += 64) {
		m[n] = 63;
		memset(m + n + 1, 'a', 63);
	}
	memcpy(m + n, "\5onion\0\0\1\0\1", 11);
	CHECK_EQ(om_dns_onion(m, n + 11, name, sizeof name, &cut), -1);
	return check_done("test_dns");
}
