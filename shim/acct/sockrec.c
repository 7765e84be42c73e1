#include "acct/sockrec.h"

#include <errno.h>
#include <sys/socket.h>

#include "core/real.h"
#include "core/state.h"
#include "acct/track.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static uint64_t cookie_of(int fd)
{
	uint64_t c = 0;
	socklen_t len = sizeof c;

	return OM_REAL(getsockopt)(fd, SOL_SOCKET, SO_COOKIE, &c, &len) == 0 ? c : 0;
}

static struct om_rec *table(void)
{
	return (struct om_rec *)(om_seg.map + om_seg.g.recs_off);
}

static void fill(struct om_rec *r, unsigned cls)
{
	__atomic_store_n(&r->stamp, (uint32_t)(om_mono_ns() >> 20), __ATOMIC_RELAXED);
	__atomic_store_n(&r->cls, (uint8_t)(cls + 1), __ATOMIC_RELEASE);
}

void om_rec_publish(int fd, unsigned cls)
{
	struct om_rec *t, *victim = 0;
	uint64_t c, cur;
	uint32_t h, k, oldest = ~0u;
	int err = errno;

	if (om_passive() || !om_ready() || !(c = cookie_of(fd)))
		goto out;
	t = table();
	h = om_rec_home(c);
	for (k = 0; k < OM_REC_PROBE; k++) {
		struct om_rec *r = &t[(h + k) % OM_NRECS];

		cur = __atomic_load_n(&r->cookie, __ATOMIC_ACQUIRE);
		if (cur == c) {
			fill(r, cls);
			goto out;
		}
		if (cur == 0) {
			if (__atomic_compare_exchange_n(&r->cookie, &cur, c, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				fill(r, cls);
				goto out;
			}
			continue;
		}
		if (__atomic_load_n(&r->stamp, __ATOMIC_RELAXED) < oldest) {
			oldest = __atomic_load_n(&r->stamp, __ATOMIC_RELAXED);
			victim = r;
		}
	}
	if (victim) { /* full around home: the oldest record goes */
		cur = __atomic_load_n(&victim->cookie, __ATOMIC_ACQUIRE);
		__atomic_store_n(&victim->cls, 0, __ATOMIC_RELEASE);
		if (__atomic_compare_exchange_n(&victim->cookie, &cur, c, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			fill(victim, cls);
	}
out:
	errno = err;
}

int om_rec_lookup(int fd, unsigned *cls)
{
	struct om_rec *t;
	uint64_t c;
	uint32_t h, k;
	int err = errno, rc = -1;

	if (om_passive() || !om_ready() || !(c = cookie_of(fd)))
		goto out;
	t = table();
	h = om_rec_home(c);
	for (k = 0; k < OM_REC_PROBE; k++) {
		struct om_rec *r = &t[(h + k) % OM_NRECS];
		uint8_t v;

		if (__atomic_load_n(&r->cookie, __ATOMIC_ACQUIRE) != c)
			continue;
		v = __atomic_load_n(&r->cls, __ATOMIC_ACQUIRE);
		if (v >= 1 && v <= OM_NCLASS) { /* untrusted: only a class, or nothing */
			*cls = v - 1u;
			rc = 0;
		}
		break;
	}
out:
	errno = err;
	return rc;
}
