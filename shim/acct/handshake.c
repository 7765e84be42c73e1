#include "acct/handshake.h"

#include <sys/mman.h>

#define CHUNK OM_HS_CHUNK
#define NCHUNKS OM_HS_NCHUNKS

struct om_hs *om_hs_chunks[NCHUNKS];
uint64_t om_hs_free_head;
static uint32_t nchunks;

/* Keep the chunk's first record, give the rest to the pool. */
uint32_t om_hs_grow(void)
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
		om_hs_push(c * CHUNK + i + 1);
	return c * CHUNK + 1;
}
