/* Asking the kernel for its list of TCP sockets: a NETLINK_SOCK_DIAG dump,
 * unprivileged, of one network namespace (the caller's).  Used by the
 * exporter's kernel view and by onionmeter-run's report. */
#ifndef OM_DIAG_H
#define OM_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "common/classify.h"
#include "common/config.h"
#include "common/diag_parse.h"
#include "common/segment_layout.h"

/* A netlink socket for dumps (close-on-exec, receive timeout 2 s), or -1. */
int om_diag_open(void);
/* Dump family's (AF_INET, AF_INET6) sockets of protocol: IPPROTO_TCP in
 * every state but listening, time-wait and closed, with tcp_info;
 * IPPROTO_UDP connected ones (a peer set with connect()).  fn for each.
 * 0, or -1 with err set. */
int om_diag_dump(int fd, uint32_t *seq, int family, int protocol, om_diag_fn fn, void *arg,
		 char *err, size_t errlen);
/* The TCP socket with exactly this 4-tuple (family AF_INET or AF_INET6,
 * addresses of 4 or 16 bytes, ports in host order), with tcp_info: 1 and
 * *out, 0 if there is none, -1 on error. */
int om_diag_find(int fd, uint32_t *seq, int family, const uint8_t *src, uint16_t sport,
		 const uint8_t *dst, uint16_t dport, struct om_diag_sock *out);
/* A netlink socket subscribed to the kernel's notices of TCP sockets
 * destroyed (both families), non-blocking, close-on-exec; or -1.  Each
 * notice carries the socket's final tcp_info and cookie (no uid, no
 * inode: the socket is gone). */
int om_diag_destroy_open(void);
/* Everything queued on it: fn for each socket.  0, or -1 on error (the
 * socket buffer overran: notices were lost; say so). */
int om_diag_destroy_read(int fd, om_diag_fn fn, void *arg);

/* Established or closing: a connection a process holds, not a handshake
 * in progress (the shim counts a dial once connect() returns, an accept
 * once accept() does).  The kernel's numbers: ESTABLISHED 1, FIN_WAIT1 4,
 * FIN_WAIT2 5, CLOSE_WAIT 8, LAST_ACK 9, CLOSING 11.  Inline, as the rest
 * of this file's per-socket questions: asked of every socket of a dump. */
static inline int om_diag_held(unsigned state)
{
	return state < 32 && ((1u << state) & (1u << 1 | 1u << 4 | 1u << 5 | 1u << 8 |
					      1u << 9 | 1u << 11));
}

unsigned om_diag_kclass_slow(const struct om_config *cfg, const struct om_diag_sock *s);
/* enum om_kclass of the socket's peer under cfg's proxies and networks. */
static inline unsigned om_diag_kclass(const struct om_config *cfg, const struct om_diag_sock *s)
{
	/* most of a dump: IPv4 to no proxy, no listed local networks */
	if (s->family == AF_INET && !cfg->nnets && !om_proxy_port(cfg, s->dport))
		return s->dst[0] == 127 ? OM_KCLASS_LOCAL : OM_KCLASS_DIRECT;
	return om_diag_kclass_slow(cfg, s);
}
/* "ADDR:PORT" or "[ADDR6]:PORT" of the peer. */
void om_diag_peer(const struct om_diag_sock *s, char *out, size_t n);

#endif
