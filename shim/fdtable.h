/* The fd table: per-fd tracking state, found in O(1) with no lock.
 *
 * Two levels: a static array of page pointers (zero-fill BSS, so untouched
 * parts cost no memory) and pages of OM_FD_PAGE entries mapped on first use.
 * Pages are never freed, so a pointer read from the table stays valid; an
 * entry is recycled in place when its fd number is.  Memory grows with the
 * highest fd numbers in use, one page per 256 fds. */
#ifndef OM_FDTABLE_H
#define OM_FDTABLE_H

#include <stdint.h>

#include "sniff.h"

#define OM_FD_PAGE_SHIFT 8
#define OM_FD_PAGE (1u << OM_FD_PAGE_SHIFT)
#define OM_FD_MAX (1u << 22) /* fds above this are passed through untracked */

/* om_fd.hot: the one byte the I/O fast path reads. */
#define OM_HOT_NONE 0      /* never seen: classify on first use */
#define OM_HOT_IGNORE 0x40 /* seen: not a socket we count (file, pipe, unix) */
#define OM_HOT_DGRAM 0x41  /* unconnected UDP: counted datagram by datagram */
#define OM_HOT_SLOW 0x80   /* dial or handshake in progress: take slow path */
/* otherwise: class + 1, nothing pending, count bytes and go */

struct om_fd {
	uint8_t hot;
	uint8_t busy;  /* slow-path trylock; never waited on */
	uint8_t cls;   /* enum om_class, provisional until decided */
	uint8_t flags; /* OM_FDF_* */
	uint8_t dial;  /* OM_DIAL_* */
	uint8_t pad[3];
	uint64_t t0;      /* connect() started, CLOCK_MONOTONIC ns */
	uint64_t t_up;    /* TCP connection established */
	uint64_t pend[2]; /* bytes seen before the class was decided */
	struct om_req req;
	struct om_rep rep;
};

extern struct om_fd *om_fd_pages[OM_FD_MAX >> OM_FD_PAGE_SHIFT];

/* The entry for fd if its page exists, else NULL.  Hot path. */
static inline struct om_fd *om_fd_peek(int fd)
{
	struct om_fd *page;

	if (__builtin_expect((unsigned)fd >= OM_FD_MAX, 0))
		return 0;
	page = __atomic_load_n(&om_fd_pages[(unsigned)fd >> OM_FD_PAGE_SHIFT],
			       __ATOMIC_ACQUIRE);
	return page ? &page[(unsigned)fd & (OM_FD_PAGE - 1)] : 0;
}

/* The entry for fd, mapping its page if needed; NULL if out of range or
 * out of memory (the socket then simply goes untracked). */
struct om_fd *om_fd_get(int fd);

#endif
