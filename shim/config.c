#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "log.h"
#include "segment_layout.h"

struct om_config om_cfg;



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
