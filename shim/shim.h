/* Process-wide shim state and configuration. */
#ifndef OM_SHIM_H
#define OM_SHIM_H

#include <stdint.h>
#include <sys/socket.h>

#include "segment.h"

enum { OM_ST_UNINIT, OM_ST_INITING, OM_ST_READY, OM_ST_OFF };

#define OM_MAX_PROXIES 16
#define OM_MAX_NETS 32
#define OM_MAX_PORTS 32

struct om_endpoint {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix; /* CIDR length, for nets */
	uint16_t port;  /* host order; proxies only */
	uint8_t addr[16];
};

struct om_config {
	struct om_endpoint proxies[OM_MAX_PROXIES];
	struct om_endpoint nets[OM_MAX_NETS];
	uint16_t ports[OM_MAX_PORTS]; /* ONIONMETER_ONION_PORTS */
	int nproxies, nnets, nports;
};

extern int om_state;
extern struct om_config om_cfg;
extern struct om_seg om_seg;
extern uint64_t om_open_now[4]; /* tracked connections open in this process */

/* Attach if nobody has yet (calls can precede our constructor). */
void om_init(void);
static inline int om_ready(void)
{
	int st = __atomic_load_n(&om_state, __ATOMIC_ACQUIRE);

	if (__builtin_expect(st == OM_ST_READY, 1))
		return 1;
	if (st == OM_ST_UNINIT) {
		om_init();
		return __atomic_load_n(&om_state, __ATOMIC_ACQUIRE) == OM_ST_READY;
	}
	return 0;
}

/* Write "onionmeter: " and the NULL-terminated strings as one line to
 * stderr, without stdio or allocation. */
void om_say(const char *first, ...) __attribute__((sentinel));

/* classify.c */
enum om_dest { OM_DEST_NONE, OM_DEST_PROXY, OM_DEST_LOCAL, OM_DEST_DIRECT };
enum om_dest om_classify(const struct sockaddr *sa, socklen_t len);
int om_sockaddr(const struct sockaddr *sa, socklen_t len, uint8_t *fam,
		uint8_t addr[16], uint16_t *port);
/* Parse "host:port,[v6]:port" / "cidr,cidr" lists; return entries kept,
 * or -1 with *bad pointing at the first entry that did not parse. */
int om_parse_proxies(const char *s, struct om_endpoint *out, int max,
		     const char **bad);
int om_parse_nets(const char *s, struct om_endpoint *out, int max,
		  const char **bad);
int om_parse_ports(const char *s, uint16_t *out, int max, const char **bad);
int om_onion_port(uint16_t port);

#endif
