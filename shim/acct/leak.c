#include "acct/leak.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "acct/counters.h"
#include "proto/dns.h"
#include "core/interpose.h"
#include "acct/handshake.h"
#include "common/str.h"
#include "core/log.h"
#include "core/peek.h"
#include "core/real.h"
#include "common/classify.h"
#include "acct/track.h"

/* Ring writers claim an entry by moving its sequence word from even to odd
 * with a CAS; one that finds the entry busy (the ring wrapped onto a writer
 * still at work) drops its event, never its count.  Readers take an entry
 * only if its sequence is even and unchanged across their copy. */
static void ring_put(const struct om_ring_entry *ev)
{
	struct om_ring_entry *ring, *slot;
	uint64_t pos, seq;

	if (!om_ready())
		return;
	/* the position is read from shared memory: only ever used modulo */
	ring = (struct om_ring_entry *)(om_seg.map + om_seg.g.ring_off);
	pos = __atomic_fetch_add(&om_seg_hdr(&om_seg)->ring_head, 1, __ATOMIC_RELAXED);
	slot = &ring[pos % OM_RING_ENTRIES];
	seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
	if ((seq & 1) || !__atomic_compare_exchange_n(&slot->seq, &seq, 2 * pos + 1, 0,
						      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	memcpy((char *)slot + sizeof slot->seq, (const char *)ev + sizeof ev->seq,
	       sizeof *ev - sizeof ev->seq);
	__atomic_store_n(&slot->seq, 2 * pos + 2, __ATOMIC_RELEASE);
}

/* An enforced refusal is said, as torsocks says its own: the program
 * sees only EACCES.  One logfmt line, rate-limited (log.h). */
static void say_refused(unsigned kind, int fam, const void *addr, uint16_t port,
			const char *name)
{
	static const char *const kinds[] = OM_LEAK_NAMES, *const policies[] = OM_POLICY_NAMES;
	char dest[272], pid[24], comm[17] = { 0 }, num[8]; /* a DNS name is 253 at most */
	size_t n;

	if (fam == 4 || fam == 6) {
		n = 0;
		if (fam == 6)
			dest[n++] = '[';
		if (!inet_ntop(fam == 4 ? AF_INET : AF_INET6, addr, dest + n, INET6_ADDRSTRLEN))
			dest[n] = '\0';
		n = strlen(dest);
		if (fam == 6)
			dest[n++] = ']';
		dest[n++] = ':';
		strcpy(dest + n, om_udec(num, port));
	} else {
		n = name ? strnlen(name, sizeof dest - 1) : 0;
		memcpy(dest, name ? name : "", n);
		dest[n] = '\0';
	}
	prctl(PR_GET_NAME, comm); /* attached or not */
	om_logfmt("warn", "refused", "kind", kind < OM_NLEAK ? kinds[kind] : "?", "dest", dest,
		  "pid", om_udec(pid, (unsigned long long)getpid()), "program", comm,
		  "policy", policies[om_cfg.policy < OM_NPOLICY ? om_cfg.policy : 0], (char *)0);
}

int om_leak(unsigned kind, int fam, const void *addr, uint16_t port,
	    const char *name)
{
	struct om_ring_entry ev;
	struct om_pblock *p = om_pblk();
	struct timespec ts;
	int blocked = om_cfg.enforce;

	if (p)
		om_padd(&p->leaks[kind][blocked ? OM_ACT_BLOCKED : OM_ACT_OBSERVED], 1);
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
	if (name) {
		size_t n = strnlen(name, sizeof ev.name);

		if (n == sizeof ev.name) {
			n = sizeof ev.name - 1;
			ev.flags |= OM_EVF_TRUNCATED;
		}
		memcpy(ev.name, name, n);
	}
	if (p)
		memcpy(ev.comm, om_proc.me->head.comm, sizeof ev.comm);
	ring_put(&ev);
	if (blocked)
		say_refused(kind, fam, addr, port, name);
	return blocked;
}

int om_leak_direct(int fd, const struct sockaddr *sa, socklen_t len, int dgram_only)
{
	uint8_t fam, addr[16];
	uint16_t port;
	int type = 0, err, rc = 0;
	socklen_t tl = sizeof type;

	err = errno;
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

	if (!name || numeric_only || om_resolver_behind())
		return 0;
	if (is_onion(name))
		rc = om_leak(OM_LEAK_ONION_DNS, 0, 0, 0, name);
	else if (om_cfg.policy != OM_POLICY_AUDIT && !needs_no_dns(name))
		rc = om_leak(OM_LEAK_DNS, 0, 0, 0, name);
	errno = err;
	return rc;
}

/* The first bytes of a send, gathered.  peek: the real call has not
 * vouched for the program's buffers yet. */
static size_t gather(uint8_t *dst, size_t cap, const struct iovec *iov, int cnt,
		     size_t n, int peek)
{
	size_t got = 0;
	int i;

	if (n < cap)
		cap = n;
	for (i = 0; i < cnt && got < cap; i++) {
		struct iovec v;
		size_t k;

		if (!peek)
			v = iov[i];
		else if (om_peek(&v, &iov[i], sizeof v) < 0)
			break;
		k = v.iov_len < cap - got ? v.iov_len : cap - got;
		if (!peek)
			memcpy(dst + got, v.iov_base, k);
		else if (k && om_peek(dst + got, v.iov_base, k) < 0)
			break;
		got += k;
	}
	return got;
}

int om_leak_dns(int stream, const struct iovec *iov, int cnt, size_t n, int peek)
{
	uint8_t buf[OM_DNS_WINDOW];
	/* one more than the ring keeps, so that om_leak() marks a cut name */
	char name[sizeof((struct om_ring_entry *)0)->name + 1];
	int cut, err = errno, rc = 0;
	size_t got = gather(buf, sizeof buf, iov, cnt, n, peek);

	if (om_dns_wire(buf, got, stream, name, sizeof name, &cut))
		rc = om_leak(OM_LEAK_ONION_DNS, 0, 0, 0, name);
	errno = err;
	return rc;
}

static void request_leak(const struct om_req *r)
{
	om_leak(OM_LEAK_PROXIED_CLEARNET, r->atyp, r->addr, r->port,
		r->atyp ? 0 : r->head);
}

void om_leak_request_done(const struct om_req *req)
{
	if (om_cfg.policy == OM_POLICY_ONION_ONLY && !req->onion && !om_cfg.enforce)
		request_leak(req);
}

/* The program's buffers are read through om_peek(): the real call has not
 * vouched for them yet.  A request is a few hundred bytes at most. */
int om_leak_request_slow(struct om_fd *e, const struct iovec *iov, int cnt)
{
	struct om_req copy;
	struct iovec v;
	uint8_t buf[512];
	size_t used;
	int i, rc = OM_SNIFF_MORE;

	if (e->dial != OM_DIAL_UP || (e->flags & OM_FDF_REQ_DONE) || !e->hs)
		return 0;
	copy = om_hs_at(e->hs)->req; /* dry run: the real parse happens once bytes are sent */
	for (i = 0; i < cnt && rc == OM_SNIFF_MORE; i++) {
		if (om_peek(&v, &iov[i], sizeof v) < 0)
			return 0;
		if (v.iov_len > sizeof buf)
			v.iov_len = sizeof buf;
		if (v.iov_len && om_peek(buf, v.iov_base, v.iov_len) < 0)
			return 0;
		rc = om_req_feed(&copy, buf, v.iov_len, &used);
	}
	if (rc != OM_SNIFF_DONE || copy.onion)
		return 0;
	request_leak(&copy);
	return 1;
}
