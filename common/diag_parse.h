/* The kernel's list of sockets (NETLINK_SOCK_DIAG, inet_diag): parsing a
 * dump's messages.  Pure: the bytes come from the kernel, but are read as
 * if from anyone, every length checked against what was received. */
#ifndef OM_DIAG_PARSE_H
#define OM_DIAG_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct om_diag_sock {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t state;  /* TCP_ESTABLISHED, ... */
	uint16_t sport, dport; /* host order */
	uint8_t src[16], dst[16]; /* 4 bytes used for AF_INET */
	uint32_t uid;
	uint32_t inode; /* 0: no process holds it (orphaned, or not yet accepted) */
	uint64_t cookie;
	uint64_t cgroup; /* cgroup v2 id, 0 if the kernel did not say */
	int has_info;    /* the tcp_info byte counts below are known */
	/* Payload moved, as a program counts it: never the SYN or a FIN,
	 * which take a sequence number each (tcpi_bytes_acked counts the
	 * active opener's SYN and an acked FIN, tcpi_bytes_received the
	 * peer's FIN).  Out is what was handed to the network at least
	 * once, in is what arrived. */
	uint64_t bytes_out, bytes_in;
};

typedef void (*om_diag_fn)(const struct om_diag_sock *s, void *arg);

/* One datagram of a dump whose request had sequence number seq.  Calls fn
 * for each socket.  1: the dump is complete; 0: more datagrams follow;
 * -1: the kernel answered an error, or the bytes are not a dump. */
int om_diag_parse(const void *buf, size_t len, uint32_t seq, om_diag_fn fn, void *arg);

#endif
