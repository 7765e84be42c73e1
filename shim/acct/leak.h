/* Leak verdicts under ONIONMETER_POLICY, enforcement, and the event ring.
 *
 *   audit       only onion_dns is a leak (a .onion name went to DNS, through
 *               the resolver's entry points or on the wire to port 53/5353)
 *   tor-only    everything non-local must go through a proxy
 *   onion-only  everything non-local must be a .onion dial
 *
 * With ONIONMETER_ENFORCE=1 the leaking call fails before anything is
 * sent, and the leak is counted as blocked. */
#ifndef OM_LEAK_H
#define OM_LEAK_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/segment_layout.h"
#include "core/config.h"
#include "acct/fdtable.h"
#include "proto/sniff.h"

/* Record a leak: counter plus ring event.  fam 4/6 with addr and port, or
 * 0 with a host name.  Returns 1 if the call must be refused. */
int om_leak(unsigned kind, int fam, const void *addr, uint16_t port,
	    const char *name);

/* A direct destination's leak, under a policy that judges them. */
int om_leak_direct(int fd, const struct sockaddr *sa, socklen_t len, int dgram_only);

/* connect(), or a datagram sent with an address, to sa, classified as d
 * (enum om_dest): a leak?  Refuse?  sa must be readable (the caller
 * copied it, or the kernel accepted it).  Inline: nearly every
 * destination is no leak, and says so in two tests.  The verdict does not
 * depend on being attached: a policy holds even when the segment cannot
 * be used. */
static inline int om_leak_dest_as(int fd, int d, const struct sockaddr *sa, socklen_t len,
				  int dgram_only)
{
	if (om_cfg.policy == OM_POLICY_AUDIT || d != OM_DEST_DIRECT)
		return 0;
	return om_leak_direct(fd, sa, len, dgram_only);
}

static inline int om_leak_dest(int fd, const struct sockaddr *sa, socklen_t len, int dgram_only)
{
	return om_leak_dest_as(fd, (int)om_classify(sa, len), sa, len, dgram_only);
}
/* A name handed to the system resolver.  Returns 1 to refuse. */
int om_leak_lookup(const char *name, int numeric_only);
/* A send to a DNS port: does a question in its first n bytes name a
 * .onion host?  stream: TCP framing.  peek: the buffers are the program's,
 * not yet accepted by the kernel.  Returns 1 to refuse. */
int om_leak_dns(int stream, const struct iovec *iov, int cnt, size_t n, int peek);
/* onion-only: would these bytes complete a request for a clearnet host? */
int om_leak_request_slow(struct om_fd *e, const struct iovec *iov, int cnt);
/* A request just completed (from the sniffer): verdict without refusal. */
void om_leak_request_done(const struct om_req *req);

static inline int om_leak_request(int fd, const struct iovec *iov, int cnt)
{
	struct om_fd *e;

	if (__builtin_expect(!om_cfg.precheck_requests, 1))
		return 0;
	e = om_fd_peek(fd);
	return e && (om_fd_hot(e) & OM_HOT_SLOW) ? om_leak_request_slow(e, iov, cnt) : 0;
}

#endif
