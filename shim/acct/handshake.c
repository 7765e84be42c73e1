#include "acct/handshake.h"

#include <string.h>
#include <sys/mman.h>

#define CHUNK OM_HS_CHUNK
#define NCHUNKS OM_HS_NCHUNKS

struct om_hs *om_hs_chunks[NCHUNKS];
static uint32_t nchunks;
/* (ABA tag << 32) | (record + 1); 0 empty */
static uint64_t free_head;

static void push(uint32_t h)
{
	struct om_hs *r = om_hs_at(h);
	uint64_t old = __atomic_load_n(&free_head, __ATOMIC_ACQUIRE), new_;

	do {
		r->next = (uint32_t)old;
		new_ = ((old >> 32) + 1) << 32 | h;
	} while (!__atomic_compare_exchange_n(&free_head, &old, new_, 1, __ATOMIC_RELEASE,
					      __ATOMIC_ACQUIRE));
}

static uint32_t pop(void)
{
	uint64_t old = __atomic_load_n(&free_head, __ATOMIC_ACQUIRE), new_;
	uint32_t h;

	do {
		h = (uint32_t)old;
		if (!h)
			return 0;
		new_ = ((old >> 32) + 1) << 32 | __atomic_load_n(&om_hs_at(h)->next, __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&free_head, &old, new_, 1, __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	return h;
}

/* Map one more chunk; keep its first record, give the rest to the pool. */
static uint32_t grow(void)
{
	uint32_t c = __atomic_fetch_add(&nchunks, 1, __ATOMIC_ACQ_REL), i;
	struct om_hs *chunk;

	if (c >= NCHUNKS)
		return 0;
	chunk = mmap(0, CHUNK * sizeof *chunk, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (chunk == MAP_FAILED)
		return 0; /* that index stays empty: never handed out */
	__atomic_store_n(&om_hs_chunks[c], chunk, __ATOMIC_RELEASE);
	for (i = 1; i < CHUNK; i++)
		push(c * CHUNK + i + 1);
	return c * CHUNK + 1;
}

uint32_t om_hs_alloc(void)
{
	uint32_t h = pop();

	if (!h)
		h = grow();
	if (h) {
		struct om_hs *r = om_hs_at(h);

		memset(r, 0, sizeof *r);
	}
	return h;
}

void om_hs_free(uint32_t h)
{
	if (h)
		push(h);
}
