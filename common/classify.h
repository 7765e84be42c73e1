/* Where a socket address leads, under a configuration: a proxy, a local
 * peer, clearnet.  Pure: the shim classes its sockets with it, the
 * exporter's kernel and Tor views the kernel's list, from the same
 * configuration (config.h). */
#ifndef OM_CLASSIFY_H
#define OM_CLASSIFY_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"

enum om_dest { OM_DEST_NONE, OM_DEST_PROXY, OM_DEST_LOCAL, OM_DEST_DIRECT };

enum om_dest om_classify_in(const struct om_config *c, const struct sockaddr *sa,
			    socklen_t len);
int om_onion_port_in(const struct om_config *c, uint16_t port);
/* Reduce an address to family 4/6, bytes and port; v4-mapped v6 counts
 * as v4.  0, or -1 if not an inet address. */
int om_sockaddr(const struct sockaddr *sa, socklen_t len, uint8_t *fam,
		uint8_t addr[16], uint16_t *port);
/* DNS's ports: unicast and multicast DNS. */
#define OM_DNS_PORT(p) ((p) == 53 || (p) == 5353)
/* Is sa a DNS port? */
int om_dns_dest(const struct sockaddr *sa, socklen_t len);
/* enum om_kclass of a peer, as the kernel's view names it: a listed
 * proxy, direct, or local (which covers unclassifiable). */
/* The same from an address already reduced (family 4 or 6, v4-mapped
 * v6 as 4; port in host order). */
enum om_dest om_classify_addr(const struct om_config *c, uint8_t fam, const uint8_t *addr,
			      uint16_t port);
unsigned om_kclass_of(const struct om_config *c, const struct sockaddr *sa, socklen_t len);

#endif
