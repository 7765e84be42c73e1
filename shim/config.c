#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "log.h"
#include "segment_layout.h"

struct om_config om_cfg;

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

/* Setuid programs must not take orders from an untrusted environment. */
static const char *env(const char *name)
{
	return getauxval(AT_SECURE) ? 0 : getenv(name);
}

static unsigned long env_num(const char *name, int base, unsigned long dflt,
			     unsigned long max)
{
	const char *s = env(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v == 0 || v > max) {
		om_say("ignoring invalid ", name, "=\"", s, "\", using the default", (char *)0);
		return dflt;
	}
	return v;
}

static void copy_str(char *dst, size_t max, const char *src)
{
	size_t n = strnlen(src, max - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int word_is(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcasecmp(s, *words))
			return 1;
	return 0;
}

static void read_policy(void)
{
	static const char *const off[] = { "0", "no", "false", "off", 0 };
	static const char *const on[] = { "1", "yes", "true", "on", 0 };
	const char *s = env("ONIONMETER_POLICY");

	if (!s || !*s || !strcmp(s, "audit")) {
		om_cfg.policy = OM_POLICY_AUDIT;
	} else if (!strcmp(s, "tor-only")) {
		om_cfg.policy = OM_POLICY_TOR_ONLY;
	} else if (!strcmp(s, "onion-only")) {
		om_cfg.policy = OM_POLICY_ONION_ONLY;
	} else {
		om_say("unknown ONIONMETER_POLICY \"", s, "\" (want audit, tor-only or ",
		       "onion-only); using onion-only, the strictest", (char *)0);
		om_cfg.policy = OM_POLICY_ONION_ONLY;
	}
	s = env("ONIONMETER_ENFORCE");
	om_cfg.enforce = s && *s && !word_is(s, off);
	if (om_cfg.enforce && !word_is(s, on))
		om_say("ONIONMETER_ENFORCE=\"", s, "\" is not 1 or 0; enforcing", (char *)0);
	om_cfg.precheck_requests = om_cfg.enforce && om_cfg.policy == OM_POLICY_ONION_ONLY;
}

static void read_lists(void)
{
	const char *s, *bad;
	int n;

	s = env("ONIONMETER_PROXIES");
	n = om_parse_proxies(s ? s : OM_DEFAULT_PROXIES, om_cfg.proxies, OM_MAX_PROXIES, &bad);
	if (n < 0) {
		om_say("ONIONMETER_PROXIES: cannot parse entry \"", bad,
		       "\" (want ADDR:PORT, [ADDR6]:PORT or unix:/PATH); using defaults", (char *)0);
		n = om_parse_proxies(OM_DEFAULT_PROXIES, om_cfg.proxies, OM_MAX_PROXIES, &bad);
	}
	om_cfg.nproxies = n;
	s = env("ONIONMETER_LOCAL_NETS");
	n = om_parse_nets(s, om_cfg.nets, OM_MAX_NETS, &bad);
	if (n < 0) {
		om_say("ONIONMETER_LOCAL_NETS: cannot parse entry \"", bad,
		       "\" (want ADDR/PREFIX); ignoring the list", (char *)0);
		n = 0;
	}
	om_cfg.nnets = n;
	s = env("ONIONMETER_ONION_PORTS");
	n = om_parse_ports(s, om_cfg.ports, OM_MAX_PORTS, &bad);
	if (n < 0) {
		om_say("ONIONMETER_ONION_PORTS: cannot parse entry \"", bad,
		       "\" (want port numbers); ignoring the list", (char *)0);
		n = 0;
	}
	om_cfg.nports = n;
}

void om_cfg_load(void)
{
	const char *s;

	if (__atomic_load_n(&om_cfg.loaded, __ATOMIC_ACQUIRE))
		return;
	s = env("ONIONMETER_LOG");
	if (s && s[0] == '/')
		copy_str(om_cfg.log_path, sizeof om_cfg.log_path, s);
	read_policy();
	read_lists();
	s = env("ONIONMETER_SEGMENT");
	copy_str(om_cfg.segment, sizeof om_cfg.segment, s && *s ? s : OM_DEFAULT_SEGMENT);
	om_cfg.seg_mode = (mode_t)env_num("ONIONMETER_SEGMENT_MODE", 8, 0600, 0666);
	om_cfg.nslots = (uint32_t)env_num("ONIONMETER_SLOTS", 10, OM_SLOTS_DEFAULT, OM_SLOTS_MAX);
	__atomic_store_n(&om_cfg.loaded, 1, __ATOMIC_RELEASE);
}
