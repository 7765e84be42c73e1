/* Where a socket address leads, by the configuration. */
#ifndef OM_SHIM_H
#define OM_SHIM_H

#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

enum om_dest { OM_DEST_NONE, OM_DEST_PROXY, OM_DEST_LOCAL, OM_DEST_DIRECT };
/* classify.c: pure, given a configuration (the exporter's kernel view uses
 * it with its own) */
enum om_dest om_classify_in(const struct om_config *c, const struct sockaddr *sa,
			    socklen_t len);
int om_onion_port_in(const struct om_config *c, uint16_t port);
int om_sockaddr(const struct sockaddr *sa, socklen_t len, uint8_t *fam,
		uint8_t addr[16], uint16_t *port);

/* ... under this process's configuration */
static inline enum om_dest om_classify(const struct sockaddr *sa, socklen_t len)
{
	return om_classify_in(&om_cfg, sa, len);
}

static inline int om_onion_port(uint16_t port)
{
	return om_onion_port_in(&om_cfg, port);
}
int om_dns_dest(const struct sockaddr *sa, socklen_t len); /* port 53 or 5353 */

#endif
