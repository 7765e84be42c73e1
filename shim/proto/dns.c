#include "proto/dns.h"

static char lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
}

/* One question's name at msg[*i]: written to name, *i moved past it.
 * 1 if it ends in the label "onion" after at least one other, 0 if not,
 * -1 if it is no name. */
static int question(const uint8_t *msg, size_t n, size_t *i, char *name, size_t cap,
		    int *cut)
{
	size_t o = 0, total = 0, labels = 0, len, lastlen = 0, k;
	const uint8_t *lastl = 0;

	for (;;) {
		if (*i >= n)
			return -1;
		len = msg[(*i)++];
		if (len == 0)
			break;
		if (len > 63 || len > n - *i || (total += len + 1) > 255)
			return -1; /* a compression pointer, or no name */
		if (labels++) {
			if (o + 1 < cap)
				name[o] = '.';
			o++;
		}
		for (k = 0; k < len; k++, o++)
			if (o + 1 < cap)
				name[o] = lower(msg[*i + k]);
		lastl = msg + *i;
		lastlen = len;
		*i += len;
	}
	if (cap)
		name[o < cap ? o : cap - 1] = '\0';
	*cut = cap && o >= cap;
	/* judged on the wire, so a name cut short still decides right */
	if (labels < 2 || lastlen != 5)
		return 0;
	for (k = 0; k < 5; k++)
		if (lower(lastl[k]) != "onion"[k])
			return 0;
	return 1;
}

int om_dns_onion(const uint8_t *msg, size_t n, char *name, size_t cap, int *cut)
{
	size_t i = 12;
	unsigned qd, q, seen = 0;

	*cut = 0;
	if (cap)
		name[0] = '\0';
	if (n < 12 || (msg[2] & 0x80) || ((msg[2] >> 3) & 0xF) != 0)
		return -1; /* too short, a response, or not a standard query */
	qd = (unsigned)msg[4] << 8 | msg[5];
	if (qd == 0)
		return -1;
	for (q = 0; q < qd && q < OM_DNS_MAX_QD; q++) {
		int rc = question(msg, n, &i, name, cap, cut);

		if (rc == 1)
			return 1;
		if (rc < 0)
			break; /* no name: nothing more to read */
		seen++;
		if (n - i < 4)
			break;
		i += 4;
	}
	if (cap)
		name[0] = '\0'; /* the name is only for a "yes" */
	*cut = 0;
	return seen ? 0 : -1;
}

int om_dns_wire(const uint8_t *b, size_t n, int stream, char *name, size_t cap, int *cut)
{
	size_t off = 0;
	int first = -1;

	if (!stream)
		return om_dns_onion(b, n, name, cap, cut) == 1;
	while (n - off > 2) {
		size_t len = (size_t)b[off] << 8 | b[off + 1], m = n - off - 2;
		int rc = om_dns_onion(b + off + 2, len < m ? len : m, name, cap, cut);

		if (rc == 1)
			return 1;
		if (off == 0)
			first = rc;
		if (len > m)
			break;
		off += 2 + len;
	}
	/* the length went out in a send of its own */
	return first < 0 && om_dns_onion(b, n, name, cap, cut) == 1;
}
