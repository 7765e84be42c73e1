/* onionmeter's configuration, as the environment gives it: one reader for
 * every component, so that the shim, the exporter's kernel and Tor views
 * and onionmeter-run can never read the same variables differently.
 *
 * A mistake never means less protection than asked for: an unknown policy
 * is read as the strictest one, and any ONIONMETER_ENFORCE value but an
 * explicit "off" enforces; both are said.  A list that does not parse is
 * said and replaced by its default (proxies) or dropped (networks, ports);
 * a list that is set but empty is an empty list. */
#ifndef OM_CONFIG_H
#define OM_CONFIG_H

#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/types.h>

#define OM_MAX_PROXIES 16
#define OM_MAX_NETS 32
#define OM_MAX_PORTS 32
#define OM_PROXY_PORT_BITS 4096
/* Tor's SocksPort in its usual places: TCP, and the Unix sockets of
 * Debian's tor and of hardened setups */
#define OM_DEFAULT_PROXIES                                                    \
	"127.0.0.1:9050,127.0.0.1:9150,[::1]:9050,unix:/run/tor/socks,"       \
	"unix:/var/run/tor/socks"

#define OM_UNIX_PATH 108 /* sizeof sun_path */

struct om_endpoint {
	uint8_t family; /* 4 or 6, or 1 for a Unix-domain socket (proxies) */
	uint8_t prefix; /* CIDR length, for nets */
	uint16_t port;  /* host order; proxies only */
	uint8_t addr[16];
	char path[OM_UNIX_PATH]; /* family 1: the socket's path */
};

/* What every process writes at start comes first, so that it shares a
 * page or two: each page of the shim's .bss written at exec is a fault. */
struct om_config {
	int policy;  /* enum om_policy */
	int enforce;
	int precheck_requests; /* onion-only + enforce: check proxy requests before sending */
	int nproxies, nnets, nports;
	mode_t seg_mode;
	uint32_t nslots;
	/* bit (port & 4095) set for each TCP proxy's port: most connects and
	 * datagrams are to no proxy, and one test says so (a narrower mask
	 * sent a random ephemeral port down the slow path often enough to
	 * move a benchmark) */
	uint64_t proxy_ports[OM_PROXY_PORT_BITS / 64];
	struct om_endpoint proxies[OM_MAX_PROXIES];
	uint16_t ports[OM_MAX_PORTS]; /* ONIONMETER_ONION_PORTS */
	char segment[PATH_MAX];
	struct om_endpoint nets[OM_MAX_NETS];
	char log_path[PATH_MAX]; /* ONIONMETER_LOG, or empty for stderr */
};

/* A variable's value, or NULL (the shim's ignores the environment of a
 * setuid program). */
typedef const char *(*om_env_fn)(const char *name);
/* Says one thing about the configuration, a whole sentence. */
typedef void (*om_warn_fn)(const char *msg);

/* The process environment, for components that trust theirs (inline: the
 * shim has its own, and binds no getenv at exec). */
static inline const char *om_env_plain(const char *name)
{
	return getenv(name);
}
/* Says nothing (the shim of the program being watched says it). */
void om_warn_none(const char *msg);

/* Read every ONIONMETER_* variable into c, which starts zeroed.  No
 * allocation, no stdio, little stack: the shim reads it in its
 * constructor, or in whatever call comes first, a signal handler's too. */
void om_config_read(struct om_config *c, om_env_fn env, om_warn_fn warn);

static inline void om_proxy_port_set(struct om_config *c, uint16_t port)
{
	unsigned b = port % OM_PROXY_PORT_BITS;

	c->proxy_ports[b / 64] |= 1ull << (b % 64);
}

/* endpoints.c: parse "host:port,[v6]:port,unix:/path" / "cidr,cidr" /
 * "port,port" lists; return entries kept, or -1 with *bad pointing at
 * the first entry that did not parse. */
int om_parse_proxies(const char *s, struct om_endpoint *out, int max,
		     const char **bad);
int om_parse_nets(const char *s, struct om_endpoint *out, int max,
		  const char **bad);
int om_parse_ports(const char *s, uint16_t *out, int max, const char **bad);

#endif
