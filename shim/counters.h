/* Per-thread counter blocks: the only place the shim writes counts.
 *
 * A thread takes a private block of its process's slot on first use and
 * keeps it in TLS.  Being the block's only writer it updates with a single
 * non-locked add instruction: atomic with respect to signal handlers on the
 * same thread (interrupts land between instructions) and, being an aligned
 * 64-bit store, never torn for a reader on another CPU.  Threads beyond the
 * private blocks share the slot's last block with locked atomic adds. */
#ifndef OM_COUNTERS_H
#define OM_COUNTERS_H

#include <stdint.h>

#include "segment_layout.h"

#define OM_TLS __attribute__((tls_model("initial-exec")))

/* This thread's private block, or NULL: not taken yet, or the thread
 * shares the overflow block (om_tls_shared) and must use atomic adds. */
extern __thread struct om_block *om_tls_blk OM_TLS;
extern __thread uint8_t om_tls_shared OM_TLS;

/* Slow path: take a block for this thread (or the shared one); NULL while
 * the shim is off. */
struct om_block *om_blk_acquire(void);
/* Slow path of om_count_bytes: no private block in TLS.  Returns n, so a
 * caller can tail-call it. */
uint64_t om_count_bytes_slow(unsigned cls, int dir, uint64_t n);
/* Thread exit and fork child: give the block back / forget it. */
void om_blk_forget(void);

static inline struct om_block *om_blk(void)
{
	struct om_block *b = om_tls_blk;

	return __builtin_expect(b != 0, 1) ? b : om_blk_acquire();
}

/* Add to a counter of a block this thread owns alone: one instruction. */
static inline void om_add_private(uint64_t *p, uint64_t n)
{
#if defined(__x86_64__)
	__asm__ volatile("addq %1, %0" : "+m"(*p) : "er"(n));
#else
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
#endif
}

/* Add to a counter of the block om_blk() returned. */
static inline void om_add(uint64_t *p, uint64_t n)
{
	if (__builtin_expect(!om_tls_shared, 1))
		om_add_private(p, n);
	else
		__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* The I/O fast path: count n bytes of class cls. */
static inline void om_count_bytes(unsigned cls, int dir, uint64_t n)
{
	struct om_block *b = om_tls_blk;

	if (__builtin_expect(b != 0, 1))
		om_add_private(&b->bytes[cls][dir], n);
	else
		om_count_bytes_slow(cls, dir, n);
}

void om_count_dial(struct om_block *b, unsigned cls, unsigned outcome,
		   uint64_t ns);

#endif
