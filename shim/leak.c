#include "leak.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "real.h"
#include "shim.h"
#include "track.h"

int om_policy;
int om_enforce;
int om_precheck_requests;

/* Ring writers claim an entry by moving its sequence word from even to odd
 * with a CAS; one that finds the entry busy (the ring wrapped onto a writer
 * still at work) drops its event, never its count.  Readers take an entry
 * only if its sequence is even and unchanged across their copy. */
static void ring_put(const struct om_ring_entry *ev)
{
	struct om_header *h = om_seg.hdr;
	struct om_ring_entry *ring, *slot;
	uint64_t pos, seq;

	if (!h)
		return;
	ring = (struct om_ring_entry *)((char *)h + h->ring_off);
	pos = __atomic_fetch_add(&h->ring_head, 1, __ATOMIC_RELAXED);
	slot = &ring[pos % OM_RING_ENTRIES];
	seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !__atomic_compare_exchange_n(&slot->seq, &seq, 2 * pos + 1, 0,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	memcpy((char *)slot + sizeof slot->seq, (const char *)ev + sizeof ev->seq,
	       sizeof *ev - sizeof ev->seq);
	__atomic_store_n(&slot->seq, 2 * pos + 2, __ATOMIC_RELEASE);
}

int om_leak(unsigned kind, int fam, const void *addr, uint16_t port,
	    const char *name)
{
	struct om_ring_entry ev;
	struct om_block *b = om_blk();
	struct timespec ts;
	int blocked = om_enforce;

	if (b)
		om_add(&b->leaks[kind][blocked ? OM_ACT_BLOCKED : OM_ACT_OBSERVED], 1);
	memset(&ev, 0, sizeof ev);
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	ev.pid = (uint32_t)getpid();
	ev.kind = (uint8_t)kind;
	ev.action = blocked ? OM_ACT_BLOCKED : OM_ACT_OBSERVED;
	ev.family = (uint8_t)fam;
	ev.port = port;
	if (fam)
		memcpy(ev.addr, addr, fam == 4 ? 4 : 16);
	if (name)
		strncpy(ev.name, name, sizeof ev.name - 1);
	if (om_seg.me)
		memcpy(ev.comm, om_seg.me->head.comm, sizeof ev.comm);
	ring_put(&ev);
	return blocked;
}

int om_leak_dest(int fd, const struct sockaddr *sa, socklen_t len, int dgram_only)
{
	uint8_t fam, addr[16];
	uint16_t port;
	int type = 0, err = errno, rc = 0;
	socklen_t tl = sizeof type;

	if (om_policy == OM_POLICY_AUDIT || !om_ready() ||
	    om_classify(sa, len) != OM_DEST_DIRECT)
		return 0;
	if (OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM) ||
	    (dgram_only && type != SOCK_DGRAM))
		goto out;
	if (om_sockaddr(sa, len, &fam, addr, &port) == 0)
		rc = om_leak(type == SOCK_DGRAM ? OM_LEAK_UDP : OM_LEAK_DIRECT_CONNECT,
			     fam, addr, port, 0);
out:
	errno = err;
	return rc;
}

static int is_onion(const char *name)
{
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	return n > 6 && !strncasecmp(name + n - 6, ".onion", 6);
}

/* Names that never reach a DNS server: literals and localhost. */
static int needs_no_dns(const char *name)
{
	uint8_t buf[16];
	size_t n = strlen(name);

	if (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1)
		return 1;
	if (n && name[n - 1] == '.')
		n--;
	return (n == 9 && !strncasecmp(name, "localhost", 9)) ||
	       (n > 10 && !strncasecmp(name + n - 10, ".localhost", 10));
}

int om_leak_lookup(const char *name, int numeric_only)
{
	int err = errno, rc = 0;

	if (!name || numeric_only || !om_ready())
		return 0;
	if (is_onion(name))
		rc = om_leak(OM_LEAK_ONION_DNS, 0, 0, 0, name);
	else if (om_policy != OM_POLICY_AUDIT && !needs_no_dns(name))
		rc = om_leak(OM_LEAK_DNS, 0, 0, 0, name);
	errno = err;
	return rc;
}

static void request_leak(const struct om_req *r)
{
	om_leak(OM_LEAK_PROXIED_CLEARNET, r->atyp, r->addr, r->port,
		r->atyp ? 0 : r->head);
}

void om_leak_request_done(struct om_fd *e)
{
	if (om_policy == OM_POLICY_ONION_ONLY && !e->req.onion && !om_enforce)
		request_leak(&e->req);
}

int om_leak_request_slow(struct om_fd *e, const struct iovec *iov, int cnt)
{
	struct om_req copy;
	size_t used;
	int i, rc = OM_SNIFF_MORE;

	if (e->dial != OM_DIAL_UP || (e->flags & OM_FDF_REQ_DONE))
		return 0;
	copy = e->req; /* dry run: the real parse happens once bytes are sent */
	for (i = 0; i < cnt && rc == OM_SNIFF_MORE; i++)
		rc = om_req_feed(&copy, iov[i].iov_base, iov[i].iov_len, &used);
	if (rc != OM_SNIFF_DONE || copy.onion)
		return 0;
	request_leak(&copy);
	return 1;
}
