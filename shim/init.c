/* Attach at start-up, re-attach in fork children, and read configuration.
 *
 * Nothing here may take the program down: any failure disables the shim
 * for this process with one line on stderr, and every wrapper then simply
 * passes calls through. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "counters.h"
#include "leak.h"
#include "real.h"
#include "shim.h"

int om_state;
struct om_config om_cfg;
struct om_seg om_seg = { .fd = -1 };

#define DEFAULT_SEGMENT "/onionmeter"
#define DEFAULT_PROXIES "127.0.0.1:9050,127.0.0.1:9150,[::1]:9050"

void om_counters_init(void);

static void append(char *line, size_t max, size_t *n, const char *p)
{
	size_t k = strnlen(p, max - *n);

	memcpy(line + *n, p, k);
	*n += k;
}

void om_say(const char *first, ...)
{
	char line[512];
	size_t n = 0;
	const char *p;
	va_list ap;

	append(line, sizeof line - 1, &n, "onionmeter: ");
	va_start(ap, first);
	for (p = first; p; p = va_arg(ap, const char *))
		append(line, sizeof line - 1, &n, p);
	va_end(ap);
	line[n++] = '\n';
	/* one write(), so lines from concurrent processes do not interleave */
	OM_REAL(write)(2, line, n);
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
		om_say("ignoring invalid ", name, ", using the default", (char *)0);
		return dflt;
	}
	return v;
}

static void read_config(void)
{
	const char *s, *bad;
	int n;

	s = env("ONIONMETER_PROXIES");
	n = om_parse_proxies(s ? s : DEFAULT_PROXIES, om_cfg.proxies,
			     OM_MAX_PROXIES, &bad);
	if (n < 0) {
		om_say("ONIONMETER_PROXIES: cannot parse entry \"", bad,
		       "\" (want ADDR:PORT or [ADDR6]:PORT); using defaults", (char *)0);
		n = om_parse_proxies(DEFAULT_PROXIES, om_cfg.proxies,
				     OM_MAX_PROXIES, &bad);
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

	s = env("ONIONMETER_POLICY");
	if (!s || !*s || !strcmp(s, "audit")) {
		om_policy = OM_POLICY_AUDIT;
	} else if (!strcmp(s, "tor-only")) {
		om_policy = OM_POLICY_TOR_ONLY;
	} else if (!strcmp(s, "onion-only")) {
		om_policy = OM_POLICY_ONION_ONLY;
	} else {
		om_say("unknown ONIONMETER_POLICY \"", s,
		       "\" (want audit, tor-only or onion-only); using audit", (char *)0);
		om_policy = OM_POLICY_AUDIT;
	}
	s = env("ONIONMETER_ENFORCE");
	om_enforce = s && (!strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "true"));
	if (s && *s && !om_enforce && strcmp(s, "0") && strcmp(s, "no") && strcmp(s, "false"))
		om_say("ONIONMETER_ENFORCE must be 1 or 0, got \"", s, "\"; not enforcing",
		       (char *)0);
	om_precheck_requests = om_enforce && om_policy == OM_POLICY_ONION_ONLY;
}

static void attach(void)
{
	const char *name = env("ONIONMETER_SEGMENT"), *why = 0;
	char path[PATH_MAX];
	mode_t mode = (mode_t)env_num("ONIONMETER_SEGMENT_MODE", 8, 0600, 0666);
	uint32_t nslots = (uint32_t)env_num("ONIONMETER_SLOTS", 10,
					    OM_SLOTS_DEFAULT, OM_SLOTS_MAX);

	if (!name || !*name)
		name = DEFAULT_SEGMENT;
	if (om_seg_path(name, path, sizeof path) < 0) {
		om_say("disabled for this process: ONIONMETER_SEGMENT must be "
		       "/NAME or an absolute file path, got: ", name, (char *)0);
		goto off;
	}
	if (om_seg_open(&om_seg, path, mode, nslots, &why) < 0) {
		om_say("disabled for this process: ", why, " (segment ", path, ")",
		       (char *)0);
		goto off;
	}
	if (om_seg_claim(&om_seg, &why) < 0) {
		om_say("disabled for this process: ", why, " (segment ", path, ")",
		       (char *)0);
		om_seg_detach(&om_seg);
		goto off;
	}
	__atomic_store_n(&om_state, OM_ST_READY, __ATOMIC_RELEASE);
	return;
off:
	__atomic_store_n(&om_state, OM_ST_OFF, __ATOMIC_RELEASE);
}

static void atfork_child(void)
{
	const char *why;

	om_blk_forget();
	if (__atomic_load_n(&om_state, __ATOMIC_ACQUIRE) != OM_ST_READY)
		return;
	if (om_seg_reclaim_in_child(&om_seg, &why) < 0) {
		om_say("disabled in forked child: ", why, (char *)0);
		__atomic_store_n(&om_state, OM_ST_OFF, __ATOMIC_RELEASE);
		om_seg_detach(&om_seg); /* or it pins the parent's lock */
		return;
	}
	/* The child holds copies of the parent's open sockets. */
	{
		struct om_block *b = om_blk();
		int c;

		for (c = 0; b && c < OM_NCLASS; c++)
			om_add(&b->opened[c], __atomic_load_n(&om_open_now[c],
							      __ATOMIC_RELAXED));
	}
}

void om_init(void)
{
	int expect = OM_ST_UNINIT, err = errno;

	if (!__atomic_compare_exchange_n(&om_state, &expect, OM_ST_INITING, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return; /* someone else is at it; their calls go uncounted */
	om_real_resolve_all();
	om_counters_init();
	read_config();
	pthread_atfork(0, 0, atfork_child);
	attach();
	errno = err;
}

__attribute__((constructor)) static void om_constructor(void)
{
	om_init();
}
