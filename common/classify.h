/* Where a socket address leads, under a configuration: a proxy, a local
 * peer, clearnet.  Pure: the shim classes its sockets with it, the
 * exporter's kernel and Tor views the kernel's list, from the same
 * configuration (config.h). */
#ifndef OM_CLASSIFY_H
#define OM_CLASSIFY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/config.h"

enum om_dest { OM_DEST_NONE, OM_DEST_PROXY, OM_DEST_LOCAL, OM_DEST_DIRECT };

/* May port be a TCP proxy's?  A no is exact; a yes is checked. */
static inline int om_proxy_port(const struct om_config *c, uint16_t port)
{
	unsigned b = port % OM_PROXY_PORT_BITS;

	return (int)(c->proxy_ports[b / 64] >> (b % 64)) & 1;
}

enum om_dest om_classify_slow(const struct om_config *c, const struct sockaddr *sa,
			      socklen_t len);

/* Inline for what nearly every connect and datagram is, IPv4 to no proxy
 * and no listed local network: a test of the port and one of the first
 * byte, no call. */
static inline enum om_dest om_classify_in(const struct om_config *c,
					  const struct sockaddr *sa, socklen_t len)
{
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in) &&
	    !c->nnets) {
		const struct sockaddr_in *s4 = (const void *)sa;

		if (!om_proxy_port(c, ntohs(s4->sin_port)))
			return ((const uint8_t *)&s4->sin_addr)[0] == 127 ? OM_DEST_LOCAL
									  : OM_DEST_DIRECT;
	}
	return om_classify_slow(c, sa, len);
}

int om_onion_port_in(const struct om_config *c, uint16_t port);
/* Reduce an address to family 4/6, bytes and port; v4-mapped v6 counts
 * as v4.  0, or -1 if not an inet address. */
int om_sockaddr(const struct sockaddr *sa, socklen_t len, uint8_t *fam,
		uint8_t addr[16], uint16_t *port);
/* DNS's ports: unicast and multicast DNS. */
#define OM_DNS_PORT(p) ((p) == 53 || (p) == 5353)
/* Is sa a DNS port?  On every connect() and named datagram, so only the
 * port is read, where both families keep it. */
static inline int om_dns_dest(const struct sockaddr *sa, socklen_t len)
{
	_Static_assert(offsetof(struct sockaddr_in, sin_port) ==
			       offsetof(struct sockaddr_in6, sin6_port),
		       "both families keep the port in one place");
	uint16_t port;

	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len < offsetof(struct sockaddr_in, sin_port) + sizeof port)
		return 0;
	port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return OM_DNS_PORT(port);
}
/* The same from an address already reduced (family 4 or 6, v4-mapped
 * v6 as 4; port in host order). */
enum om_dest om_classify_addr(const struct om_config *c, uint8_t fam, const uint8_t *addr,
			      uint16_t port);
/* enum om_kclass of a peer, as the kernel's view names it: a listed
 * proxy, direct, or local (which covers unclassifiable). */
unsigned om_kclass_of(const struct om_config *c, const struct sockaddr *sa, socklen_t len);

#endif
