/* Where the shim writes counts: this thread's byte block, and the slot's
 * process block.
 *
 * A thread takes a free byte block of its process's slot on first use and
 * keeps it in TLS.  Being the block's only writer it updates with a single
 * non-locked add: atomic with respect to signal handlers on the same thread
 * (interrupts land between instructions) and, being an aligned 64-bit
 * store, never torn for a reader on another CPU.  Threads beyond the
 * private blocks share the slot's last block with locked adds.  Events
 * (dials, connections, leaks) are rare next to bytes and go to the process
 * block with locked adds from any thread. */
#ifndef OM_COUNTERS_H
#define OM_COUNTERS_H

#include <stdint.h>

#include "core/state.h"

/* This thread's private block, or NULL: not taken yet, or the thread
 * shares the overflow block (om_tls_shared) and must use atomic adds. */
extern __thread struct om_tblock *om_tls_blk OM_TLS;
extern __thread uint8_t om_tls_shared OM_TLS;

/* Slow path: this thread's block (taking one if needed); NULL while the
 * shim is off.  Attaches if nobody has. */
struct om_tblock *om_blk_acquire(void);
/* Slow path of the byte count: no private block in TLS.  Returns n, so a
 * caller can tail-call it. */
uint64_t om_count_bytes_slow(unsigned cls, int dir, uint64_t n);
/* Thread exit, fork child: give the block back / forget it. */
void om_blk_forget(void);

/* om_ready() first: in a fork child it re-attaches and forgets the
 * parent's block this thread still points at. */
static inline struct om_tblock *om_blk(void)
{
	struct om_tblock *b;

	if (__builtin_expect(om_ready(), 1) && __builtin_expect((b = om_tls_blk) != 0, 1))
		return b;
	return om_blk_acquire();
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

/* Count n bytes of class cls in this thread's block (slow paths). */
static inline void om_count_bytes(unsigned cls, int dir, uint64_t n)
{
	struct om_tblock *b;

	if (__builtin_expect(om_ready(), 1) && __builtin_expect((b = om_tls_blk) != 0, 1))
		om_add_private(&b->bytes[cls][dir], n);
	else
		om_count_bytes_slow(cls, dir, n);
}

/* The process block, or NULL while the shim is off. */
static inline struct om_pblock *om_pblk(void)
{
	return om_ready() ? &om_proc.me->p : 0;
}

static inline void om_padd(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* A dial ended: its outcome, and its latency in the histogram, into p
 * (om_pblk()).  Inline: it is part of every close of a dialed socket. */
static inline void om_count_dial(struct om_pblock *p, unsigned cls, unsigned outcome,
				 uint64_t ns)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	unsigned i = 0;

	if (!p)
		return;
	while (i < OM_NBUCKET && ns > bounds[i])
		i++;
	om_padd(&p->dials[cls][outcome], 1);
	om_padd(&p->dial_bucket[cls][i], 1);
	om_padd(&p->dial_sum_ns[cls], ns);
}

/* TCP sockets this process counts as held (in the sockets gauge): a fork
 * child's starts as its parent's, so it knows whether it inherited any. */
extern __attribute__((visibility("hidden"))) long om_socks_counted;

#endif
