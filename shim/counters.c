#include "counters.h"

#include <pthread.h>
#include <stdint.h>

#include "shim.h"

__thread struct om_block *om_tls_blk OM_TLS;
__thread uint8_t om_tls_shared OM_TLS;
static __thread struct om_block *tls_shared_blk OM_TLS;

static pthread_key_t blk_key;
static int blk_key_ok;

static void blk_release(void *p)
{
	struct om_block *b = p;

	/* The counts stay in the block for whoever takes it next. */
	if (b && !om_tls_shared)
		__atomic_store_n(&b->owner, 0, __ATOMIC_RELEASE);
	om_tls_blk = 0;
	om_tls_shared = 0;
	tls_shared_blk = 0;
}

void om_counters_init(void)
{
	blk_key_ok = pthread_key_create(&blk_key, blk_release) == 0;
}

struct om_block *om_blk_acquire(void)
{
	struct om_slot *me;
	struct om_block *b;
	uint64_t token;
	unsigned i;

	if (tls_shared_blk)
		return tls_shared_blk; /* checked once: no private block is freed for us */
	if (!om_ready() || !(me = om_seg.me))
		return 0;
	/* any per-thread nonzero value will do; no syscall needed */
	token = (uint64_t)(uintptr_t)&om_tls_blk | (1ULL << 63);
	for (i = 0; i + 1 < OM_BLOCKS_PER_SLOT; i++) {
		uint64_t free_ = 0;

		b = &me->blocks[i];
		if (__atomic_load_n(&b->owner, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&b->owner, &free_, token, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			om_tls_shared = 0;
			goto got;
		}
	}
	b = &me->blocks[OM_BLOCKS_PER_SLOT - 1];
	__atomic_store_n(&b->used, 1, __ATOMIC_RELAXED);
	om_tls_shared = 1;
	tls_shared_blk = b; /* om_tls_blk stays NULL: fast paths go slow */
	return b;
got:
	__atomic_store_n(&b->used, 1, __ATOMIC_RELAXED);
	om_tls_blk = b;
	if (blk_key_ok)
		pthread_setspecific(blk_key, b);
	return b;
}

uint64_t om_count_bytes_slow(unsigned cls, int dir, uint64_t n)
{
	struct om_block *b = om_blk_acquire();

	if (b)
		om_add(&b->bytes[cls][dir], n);
	return n;
}

void om_blk_forget(void)
{
	if (blk_key_ok)
		pthread_setspecific(blk_key, 0);
	om_tls_blk = 0;
	om_tls_shared = 0;
	tls_shared_blk = 0;
}

void om_count_dial(struct om_block *b, unsigned cls, unsigned outcome,
		   uint64_t ns)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	unsigned i = 0;

	while (i < OM_NBUCKET && ns > bounds[i])
		i++;
	om_add(&b->dials[cls][outcome], 1);
	om_add(&b->dial_bucket[cls][i], 1);
	om_add(&b->dial_sum_ns[cls], ns);
}
