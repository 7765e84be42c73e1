/* Handshake records: what a dial in progress needs and an established
 * socket does not (parser states, timestamps, bytes waiting for the class,
 * the first bytes a proxy answered before the request was seen).  Taken at
 * connect(), given back when the dial ends, so an open socket costs its
 * 16-byte fd entry and nothing else.
 *
 * A lock-free pool of fixed records in mmap'd chunks: wrappers run in
 * signal handlers and before the allocator may be usable. */
#ifndef OM_HANDSHAKE_H
#define OM_HANDSHAKE_H

#include <stdint.h>
#include <string.h>

#include "proto/sniff.h"

#define OM_STASH 64

struct om_hs {
	uint32_t next; /* free-list link (record + 1) */
	uint8_t stash_len;
	uint8_t shared;  /* met midway, or dup()ed: another descriptor may hold the socket */
	uint8_t pad[2];
	uint32_t forks;  /* om_forks when the dial started */
	uint32_t seq;    /* the hand-off entry's seq this state matches */
	uint64_t cookie; /* the socket's, once the handshake is in the hand-off table */
	uint64_t t0;      /* connect() started, CLOCK_MONOTONIC ns */
	uint64_t t_up;    /* TCP connection established */
	uint64_t pend[2]; /* bytes seen before the class was decided */
	struct om_req req;
	struct om_rep rep;
	uint8_t stash[OM_STASH]; /* ingress seen before any request byte */
};

#define OM_HS_CHUNK 64u
#define OM_HS_NCHUNKS 1024u /* up to 65536 dials in progress at once */
extern __attribute__((visibility("hidden"))) struct om_hs *om_hs_chunks[OM_HS_NCHUNKS];
/* The free list: (ABA tag << 32) | (record + 1); 0 empty. */
extern __attribute__((visibility("hidden"))) uint64_t om_hs_free_head;

static inline struct om_hs *om_hs_at(uint32_t h)
{
	uint32_t i = h - 1;

	return &__atomic_load_n(&om_hs_chunks[i / OM_HS_CHUNK], __ATOMIC_ACQUIRE)[i % OM_HS_CHUNK];
}

/* Map one more chunk: a record of it, or 0 if none is left. */
uint32_t om_hs_grow(void);

/* Inline, as every connect() takes a record and every close of a dialed
 * socket gives one back: a call level is a third of what the pool costs. */
static inline void om_hs_push(uint32_t h)
{
	struct om_hs *r = om_hs_at(h);
	uint64_t old = __atomic_load_n(&om_hs_free_head, __ATOMIC_ACQUIRE), new_;

	do {
		r->next = (uint32_t)old;
		new_ = ((old >> 32) + 1) << 32 | h;
	} while (!__atomic_compare_exchange_n(&om_hs_free_head, &old, new_, 1, __ATOMIC_RELEASE,
					      __ATOMIC_ACQUIRE));
}

/* A fresh, zeroed record: its handle (>= 1), the record in *rp; or 0 if
 * none is left. */
static inline uint32_t om_hs_alloc(struct om_hs **rp)
{
	uint64_t old = __atomic_load_n(&om_hs_free_head, __ATOMIC_ACQUIRE), new_;
	struct om_hs *r;
	uint32_t h;

	do {
		h = (uint32_t)old;
		if (__builtin_expect(!h, 0)) {
			if (!(h = om_hs_grow()))
				return 0;
			r = om_hs_at(h);
			break;
		}
		r = om_hs_at(h);
		new_ = ((old >> 32) + 1) << 32 | __atomic_load_n(&r->next, __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&om_hs_free_head, &old, new_, 1, __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	memset(r, 0, sizeof *r);
	*rp = r;
	return h;
}

static inline void om_hs_free(uint32_t h)
{
	if (h)
		om_hs_push(h);
}

#endif
