/* Where does a socket address lead: a proxy, a local peer, or clearnet? */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "shim.h"

/* Reduce an address to family 4/6 + bytes; v4-mapped v6 counts as v4. */
int om_sockaddr(const struct sockaddr *sa, socklen_t len, uint8_t *fam,
		uint8_t addr[16], uint16_t *port)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const void *)sa;

		*fam = 4;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*fam = 4;
			memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			*fam = 6;
			memcpy(addr, s6->sin6_addr.s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

static int in_net(const struct om_endpoint *n, uint8_t fam, const uint8_t *a)
{
	unsigned bits = n->prefix, i;

	if (n->family != fam)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != n->addr[i])
			return 0;
	return bits == 0 || ((a[i] ^ n->addr[i]) & (0xFF00u >> bits) & 0xFF) == 0;
}

static int is_loopback(uint8_t fam, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return fam == 4 ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

enum om_dest om_classify(const struct sockaddr *sa, socklen_t len)
{
	uint8_t fam, addr[16];
	uint16_t port;
	int i;

	if (!sa || om_sockaddr(sa, len, &fam, addr, &port) < 0)
		return OM_DEST_NONE;
	for (i = 0; i < om_cfg.nproxies; i++) {
		const struct om_endpoint *p = &om_cfg.proxies[i];

		if (p->family == fam && p->port == port &&
		    memcmp(p->addr, addr, fam == 4 ? 4 : 16) == 0)
			return OM_DEST_PROXY;
	}
	if (is_loopback(fam, addr))
		return OM_DEST_LOCAL;
	for (i = 0; i < om_cfg.nnets; i++)
		if (in_net(&om_cfg.nets[i], fam, addr))
			return OM_DEST_LOCAL;
	return OM_DEST_DIRECT;
}

/* Copy the next comma/space separated token into tok; return the rest. */
static const char *next_tok(const char *s, char *tok, size_t max)
{
	size_t n = 0;

	while (*s == ',' || *s == ' ' || *s == '\t')
		s++;
	while (*s && *s != ',' && *s != ' ' && *s != '\t') {
		if (n + 1 < max)
			tok[n] = *s;
		n++;
		s++;
	}
	tok[n < max ? n : max - 1] = '\0';
	return n < max ? s : 0; /* over-long token: invalid */
}

static int parse_addr(const char *txt, struct om_endpoint *e)
{
	if (inet_pton(AF_INET, txt, e->addr) == 1) {
		e->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, txt, e->addr) == 1) {
		e->family = 6;
		return 0;
	}
	return -1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (unsigned)(*s - '0')) > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* Walk a comma/space separated list, calling one() on each entry with its
 * index; stop at the first entry one() rejects, pointing *bad at it. */
static int parse_list(const char *s, int max, const char **bad,
		      int (*one)(char *tok, void *out, int i), void *out)
{
	char tok[80];
	int n = 0;

	while (s && *s) {
		const char *start = s;

		s = next_tok(s, tok, sizeof tok);
		if (!tok[0] && s && !*s)
			break;
		if (!s || n >= max || one(tok, out, n) < 0) {
			*bad = start;
			return -1;
		}
		n++;
	}
	return n;
}

static int one_proxy(char *tok, void *out, int i)
{
	struct om_endpoint *e = (struct om_endpoint *)out + i;
	char *host = tok, *colon = strrchr(tok, ':');
	unsigned port;

	if (tok[0] == '[') {
		char *rb = strchr(tok, ']');

		if (!rb || rb[1] != ':')
			return -1;
		*rb = '\0';
		host = tok + 1;
		colon = rb + 1;
	}
	if (!colon)
		return -1;
	*colon = '\0';
	if (parse_uint(colon + 1, 65535, &port) < 0 || port == 0 || parse_addr(host, e) < 0)
		return -1;
	e->port = (uint16_t)port;
	return 0;
}

static int one_net(char *tok, void *out, int i)
{
	struct om_endpoint *e = (struct om_endpoint *)out + i;
	char *slash = strchr(tok, '/');
	unsigned prefix;

	if (slash)
		*slash = '\0';
	if (parse_addr(tok, e) < 0)
		return -1;
	prefix = e->family == 4 ? 32 : 128;
	if (slash && parse_uint(slash + 1, prefix, &prefix) < 0)
		return -1;
	e->prefix = (uint8_t)prefix;
	return 0;
}

static int one_port(char *tok, void *out, int i)
{
	unsigned port;

	if (parse_uint(tok, 65535, &port) < 0 || port == 0)
		return -1;
	((uint16_t *)out)[i] = (uint16_t)port;
	return 0;
}

int om_parse_proxies(const char *s, struct om_endpoint *out, int max,
		     const char **bad)
{
	return parse_list(s, max, bad, one_proxy, out);
}

int om_parse_nets(const char *s, struct om_endpoint *out, int max,
		  const char **bad)
{
	return parse_list(s, max, bad, one_net, out);
}

int om_parse_ports(const char *s, uint16_t *out, int max, const char **bad)
{
	return parse_list(s, max, bad, one_port, out);
}

int om_onion_port(uint16_t port)
{
	int i;

	for (i = 0; i < om_cfg.nports; i++)
		if (om_cfg.ports[i] == port)
			return 1;
	return 0;
}
