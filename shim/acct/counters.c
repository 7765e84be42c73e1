#include "acct/counters.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

long om_socks_counted;
__thread struct om_tblock *om_tls_blk OM_TLS;
__thread uint8_t om_tls_shared OM_TLS;
static __thread struct om_tblock *tls_shared_blk OM_TLS;

static pthread_key_t blk_key;
static int blk_key_state; /* 0 not made, 1 made, 2 failed */

static void blk_release(void *p)
{
	struct om_tblock *b = p;

	/* The counts stay in the block for whoever takes it next. */
	if (b && !om_tls_shared)
		__atomic_store_n(&b->owner, 0, __ATOMIC_RELEASE);
	om_tls_blk = 0;
	om_tls_shared = 0;
	tls_shared_blk = 0;
}

static void make_key(void)
{
	blk_key_state = pthread_key_create(&blk_key, blk_release) == 0 ? 1 : 2;
}

static void key_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_key);
}

/* This thread's first count: a block of its own, or the shared one. */
static struct om_tblock *blk_take(void)
{
	struct om_slot *me = om_proc.me;
	struct om_tblock *b;
	uint64_t token;
	uint32_t i, hwm;

	key_once();
	token = om_thread_token();
	for (i = 0; i + 1 < OM_TBLOCKS; i++) {
		uint64_t free_ = 0;

		b = &me->t[i];
		if (__atomic_load_n(&b->owner, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&b->owner, &free_, token, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			om_tls_shared = 0;
			goto got;
		}
	}
	b = &me->t[OM_TBLOCKS - 1];
	om_tls_shared = 1;
	tls_shared_blk = b; /* om_tls_blk stays NULL: fast paths go slow */
	goto mark;
got:
	om_tls_blk = b;
	if (blk_key_state == 1)
		pthread_setspecific(blk_key, b);
mark:
	__atomic_store_n(&b->used, 1, __ATOMIC_RELAXED);
	hwm = __atomic_load_n(&me->head.tblocks_hwm, __ATOMIC_RELAXED);
	while (hwm < i + 1 &&
	       !__atomic_compare_exchange_n(&me->head.tblocks_hwm, &hwm, i + 1, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return b;
}

/* Keeps errno (pthread_setspecific may allocate): the counting paths
 * that reach it, a close's among them, do not save it. */
struct om_tblock *om_blk_acquire(void)
{
	struct om_tblock *b;
	int err;

	if (!om_ready())
		return 0;
	if (om_tls_blk)
		return om_tls_blk;
	if (tls_shared_blk)
		return tls_shared_blk; /* checked once: no private block is freed for us */
	err = errno;
	b = blk_take();
	errno = err;
	return b;
}

uint64_t om_count_bytes_slow(unsigned cls, int dir, uint64_t n)
{
	struct om_tblock *b = om_blk_acquire();

	if (!b)
		return n;
	if (om_tls_shared)
		__atomic_fetch_add(&b->bytes[cls][dir], n, __ATOMIC_RELAXED);
	else
		om_add_private(&b->bytes[cls][dir], n);
	return n;
}

void om_blk_forget(void)
{
	if (blk_key_state == 1)
		pthread_setspecific(blk_key, 0);
	om_tls_blk = 0;
	om_tls_shared = 0;
	tls_shared_blk = 0;
}
