/* Parsing the address lists of the configuration: proxies (ADDR:PORT,
 * [ADDR6]:PORT, unix:/PATH), networks (CIDR) and ports.  Pure, shared by
 * the shim and the exporter's kernel view. */
#include "common/config.h"

#include <arpa/inet.h>
#include <string.h>

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
	char tok[OM_UNIX_PATH + 16];
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

	if (!strncmp(tok, "unix:", 5)) { /* unix:/run/tor/socks */
		size_t n = strlen(tok + 5);

		if (tok[5] != '/' || n >= sizeof e->path)
			return -1;
		e->family = 1;
		memcpy(e->path, tok + 5, n + 1);
		return 0;
	}
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
