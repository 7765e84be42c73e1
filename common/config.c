#include "common/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/segment_layout.h"
#include "common/segpath.h"
#include "common/str.h"

/* One sentence from its parts, up to NULL. */
static __attribute__((sentinel)) void say(om_warn_fn warn, const char *first, ...)
{
	char line[512];
	size_t n = 0;
	const char *p;
	va_list ap;

	va_start(ap, first);
	for (p = first; p; p = va_arg(ap, const char *))
		om_append(line, sizeof line - 1, &n, p);
	va_end(ap);
	line[n] = '\0';
	warn(line);
}

static unsigned long env_num(om_env_fn env, om_warn_fn warn, const char *name, int base,
			     unsigned long dflt, unsigned long max)
{
	const char *s = env(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v == 0 || v > max) {
		say(warn, "ignoring invalid ", name, "=\"", s, "\", using the default", (char *)0);
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

static void read_policy(struct om_config *c, om_env_fn env, om_warn_fn warn)
{
	static const char *const off[] = { "0", "no", "false", "off", 0 };
	static const char *const on[] = { "1", "yes", "true", "on", 0 };
	const char *s = env("ONIONMETER_POLICY");

	if (!s || !*s || !strcmp(s, "audit")) {
		c->policy = OM_POLICY_AUDIT;
	} else if (!strcmp(s, "tor-only")) {
		c->policy = OM_POLICY_TOR_ONLY;
	} else if (!strcmp(s, "onion-only")) {
		c->policy = OM_POLICY_ONION_ONLY;
	} else {
		say(warn, "unknown ONIONMETER_POLICY \"", s, "\" (want audit, tor-only or ",
		    "onion-only); using onion-only, the strictest", (char *)0);
		c->policy = OM_POLICY_ONION_ONLY;
	}
	s = env("ONIONMETER_ENFORCE");
	c->enforce = s && *s && !word_is(s, off);
	if (c->enforce && !word_is(s, on))
		say(warn, "ONIONMETER_ENFORCE=\"", s, "\" is not 1 or 0; enforcing", (char *)0);
	c->precheck_requests = c->enforce && c->policy == OM_POLICY_ONION_ONLY;
}

static void read_lists(struct om_config *c, om_env_fn env, om_warn_fn warn)
{
	const char *s, *bad;
	int n;

	/* unset: Tor's usual SocksPorts; set, even empty: exactly that list */
	s = env("ONIONMETER_PROXIES");
	n = om_parse_proxies(s ? s : OM_DEFAULT_PROXIES, c->proxies, OM_MAX_PROXIES, &bad);
	if (n < 0) {
		say(warn, "ONIONMETER_PROXIES: cannot parse entry \"", bad,
		    "\" (want ADDR:PORT, [ADDR6]:PORT or unix:/PATH); using defaults", (char *)0);
		n = om_parse_proxies(OM_DEFAULT_PROXIES, c->proxies, OM_MAX_PROXIES, &bad);
	}
	c->nproxies = n;
	while (n-- > 0)
		if (c->proxies[n].family != 1)
			om_proxy_port_set(c, c->proxies[n].port);
	s = env("ONIONMETER_LOCAL_NETS");
	n = om_parse_nets(s, c->nets, OM_MAX_NETS, &bad);
	if (n < 0) {
		say(warn, "ONIONMETER_LOCAL_NETS: cannot parse entry \"", bad,
		    "\" (want ADDR/PREFIX); ignoring the list", (char *)0);
		n = 0;
	}
	c->nnets = n;
	s = env("ONIONMETER_ONION_PORTS");
	n = om_parse_ports(s, c->ports, OM_MAX_PORTS, &bad);
	if (n < 0) {
		say(warn, "ONIONMETER_ONION_PORTS: cannot parse entry \"", bad,
		    "\" (want port numbers); ignoring the list", (char *)0);
		n = 0;
	}
	c->nports = n;
}

void om_warn_none(const char *msg)
{
	(void)msg;
}

void om_config_read(struct om_config *c, om_env_fn env, om_warn_fn warn)
{
	const char *s;

	s = env("ONIONMETER_LOG");
	if (s && s[0] == '/')
		copy_str(c->log_path, sizeof c->log_path, s);
	read_policy(c, env, warn);
	read_lists(c, env, warn);
	s = env("ONIONMETER_SEGMENT");
	copy_str(c->segment, sizeof c->segment, s && *s ? s : OM_DEFAULT_SEGMENT);
	c->seg_mode = (mode_t)env_num(env, warn, "ONIONMETER_SEGMENT_MODE", 8, 0600, 0666);
	c->nslots = (uint32_t)env_num(env, warn, "ONIONMETER_SLOTS", 10, OM_SLOTS_DEFAULT, OM_SLOTS_MAX);
}
