/* Where does a socket address lead: a proxy, a local peer, or clearnet? */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/un.h>
#include <string.h>

#include "common/classify.h"
#include "common/segment_layout.h"

/* Reduce an address to family 4/6 + bytes; v4-mapped v6 counts as v4. */
int om_sockaddr(const struct sockaddr *sa, socklen_t len, uint8_t *fam,
		uint8_t addr[16], uint16_t *port)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const void *)sa;

		*fam = 4;
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*fam = 4;
			memcpy(addr, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			*fam = 6;
			memcpy(addr, s6->sin6_addr.s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

static int in_net(const struct om_endpoint *n, uint8_t fam, const uint8_t *a)
{
	unsigned bits = n->prefix, i;

	if (n->family != fam)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != n->addr[i])
			return 0;
	return bits == 0 || ((a[i] ^ n->addr[i]) & (0xFF00u >> bits) & 0xFF) == 0;
}

/* LOCAL if addr is in one of ONIONMETER_LOCAL_NETS, else DIRECT */
static enum om_dest local_net(const struct om_config *c, uint8_t fam, const uint8_t *addr)
{
	int i;

	for (i = 0; i < c->nnets; i++)
		if (in_net(&c->nets[i], fam, addr))
			return OM_DEST_LOCAL;
	return OM_DEST_DIRECT;
}

static int is_loopback(uint8_t fam, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return fam == 4 ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

/* A Unix-domain socket is ours to follow only at a listed proxy path
 * (Tor's SocksPort unix:...); every other stays ignored. */
static int unix_proxy(const struct om_config *c, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *su = (const void *)sa;
	size_t n;
	int i;

	if (len <= offsetof(struct sockaddr_un, sun_path) || !su->sun_path[0])
		return 0;
	n = strnlen(su->sun_path, len - offsetof(struct sockaddr_un, sun_path));
	for (i = 0; i < c->nproxies; i++)
		if (c->proxies[i].family == 1 && !strncmp(c->proxies[i].path, su->sun_path, n) &&
		    c->proxies[i].path[n] == '\0')
			return 1;
	return 0;
}

enum om_dest om_classify_slow(const struct om_config *c, const struct sockaddr *sa,
			      socklen_t len)
{
	uint8_t fam, addr[16];
	uint16_t port;

	if (!sa)
		return OM_DEST_NONE;
	if (sa->sa_family == AF_UNIX)
		return unix_proxy(c, sa, len) ? OM_DEST_PROXY : OM_DEST_NONE;
	if (om_sockaddr(sa, len, &fam, addr, &port) < 0)
		return OM_DEST_NONE;
	return om_classify_addr(c, fam, addr, port);
}

enum om_dest om_classify_addr(const struct om_config *c, uint8_t fam, const uint8_t *addr,
			      uint16_t port)
{
	int i;

	for (i = 0; om_proxy_port(c, port) && i < c->nproxies; i++) {
		const struct om_endpoint *p = &c->proxies[i];

		if (p->family == fam && p->port == port &&
		    memcmp(p->addr, addr, fam == 4 ? 4 : 16) == 0)
			return OM_DEST_PROXY;
	}
	if (is_loopback(fam, addr))
		return OM_DEST_LOCAL;
	return local_net(c, fam, addr);
}

int om_onion_port_in(const struct om_config *c, uint16_t port)
{
	int i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return 1;
	return 0;
}

unsigned om_kclass_of(const struct om_config *c, const struct sockaddr *sa, socklen_t len)
{
	switch (om_classify_in(c, sa, len)) {
	case OM_DEST_PROXY: return OM_KCLASS_PROXY;
	case OM_DEST_DIRECT: return OM_KCLASS_DIRECT;
	default: return OM_KCLASS_LOCAL;
	}
}
