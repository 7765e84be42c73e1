/* The dial machine's outputs, recorded (tests/unit/test_dial.c); the
 * shim's own are shim/acct/dial_out.h.  The clock is the test's. */
#ifndef OM_DIAL_OUT_H
#define OM_DIAL_OUT_H

#include <stdint.h>

#include "common/segment_layout.h"
#include "proto/sniff.h"

struct om_recorded {
	uint64_t bytes[OM_NCLASS][OM_NDIR];
	uint64_t dials[OM_NCLASS][OM_NOUTCOME];
	uint64_t last_ns; /* the latest dial's latency */
	int64_t open[OM_NCLASS];
	int64_t socks[OM_NKCLASS];
	uint64_t proxy_unreachable;
	int decided_fd, requests;
	unsigned decided_cls;
	uint64_t now;
};
extern struct om_recorded om_rec_out;

static inline void om_out_bytes(unsigned cls, int dir, uint64_t n)
{
	om_rec_out.bytes[cls][dir] += n;
}

/* The shim's is its process block; here every event is recorded. */
typedef int om_out_t;

static inline om_out_t om_out_begin(void)
{
	return 1;
}

static inline void om_out_dial(om_out_t o, unsigned cls, unsigned outcome, uint64_t ns)
{
	(void)o;
	om_rec_out.dials[cls][outcome]++;
	om_rec_out.last_ns = ns;
}

static inline void om_out_open(om_out_t o, unsigned cls, int opened)
{
	(void)o;
	om_rec_out.open[cls] += opened ? 1 : -1;
}

static inline void om_out_sock_held(om_out_t o, const struct om_fd *e, int fresh)
{
	(void)o;
	(void)fresh;
	om_rec_out.socks[om_fd_kclass(e)]++;
}

static inline void om_out_sock_gone(om_out_t o, const struct om_fd *e)
{
	(void)o;
	om_rec_out.socks[om_fd_kclass(e)]--;
}

static inline void om_out_proxy_unreachable(om_out_t o)
{
	(void)o;
	om_rec_out.proxy_unreachable++;
}

static inline void om_out_decided(int fd, unsigned cls)
{
	om_rec_out.decided_fd = fd;
	om_rec_out.decided_cls = cls;
}

static inline void om_out_request(const struct om_req *req)
{
	(void)req;
	om_rec_out.requests++;
}

static inline uint32_t om_out_forks(void)
{
	return 0;
}

static inline uint64_t om_out_now(void)
{
	return om_rec_out.now;
}

#endif
