/* Configuration from the environment, read once (in the constructor, or by
 * the first call that needs it if that comes earlier).
 *
 * A mistake never means less protection than asked for: an unknown policy
 * is read as the strictest one, and any ONIONMETER_ENFORCE value but an
 * explicit "off" enforces; both say so once on stderr.  In setuid programs
 * (AT_SECURE) the environment is ignored and the defaults apply. */
#ifndef OM_CONFIG_H
#define OM_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#define OM_MAX_PROXIES 16
#define OM_MAX_NETS 32
#define OM_MAX_PORTS 32
#define OM_DEFAULT_SEGMENT "/onionmeter"
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

struct om_config {
	int loaded;
	int policy;  /* enum om_policy */
	int enforce;
	int precheck_requests; /* onion-only + enforce: check proxy requests before sending */
	struct om_endpoint proxies[OM_MAX_PROXIES];
	struct om_endpoint nets[OM_MAX_NETS];
	uint16_t ports[OM_MAX_PORTS]; /* ONIONMETER_ONION_PORTS */
	int nproxies, nnets, nports;
	mode_t seg_mode;
	uint32_t nslots;
	char segment[PATH_MAX];
	char log_path[PATH_MAX]; /* ONIONMETER_LOG, or empty for stderr */
};

extern __attribute__((visibility("hidden"))) struct om_config om_cfg;

void om_cfg_load(void);

/* Parse "host:port,[v6]:port" / "cidr,cidr" / "port,port" lists; return
 * entries kept, or -1 with *bad pointing at the first entry that did not
 * parse. */
int om_parse_proxies(const char *s, struct om_endpoint *out, int max,
		     const char **bad);
int om_parse_nets(const char *s, struct om_endpoint *out, int max,
		  const char **bad);
int om_parse_ports(const char *s, uint16_t *out, int max, const char **bad);

#endif
