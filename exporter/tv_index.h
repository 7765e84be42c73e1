/* Tor's view's indexes: open addressing by a 64-bit key (never 0), with
 * backward-shift delete; values are the caller's (never 0). */
#ifndef OM_TV_INDEX_H
#define OM_TV_INDEX_H

#include <stdint.h>

struct om_tv_index {
	uint64_t *keys; /* 0: empty */
	uint32_t *vals;
	uint32_t mask;
};

/* size: a power of two; the caller keeps the index at most half full, so
 * that there is always a free slot.  0, or -1 out of memory. */
int om_tv_idx_init(struct om_tv_index *x, uint32_t size);
void om_tv_idx_free(struct om_tv_index *x);
uint32_t om_tv_idx_find(const struct om_tv_index *x, uint64_t key); /* 0: none */
void om_tv_idx_put(struct om_tv_index *x, uint64_t key, uint32_t val);
void om_tv_idx_del(struct om_tv_index *x, uint64_t key);

/* A client's address and port, as a key. */
uint64_t om_tv_tkey(int family, const uint8_t *addr, uint16_t port);

#endif
