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
#define OM_FD_LOW (1u << 16) /* fds below this keep their hot byte in om_hot_low */

/* The hot byte: the one thing the I/O fast path reads.  For the fds nearly
 * every program uses (below OM_FD_LOW) it lives in one flat zero-filled
 * array, so finding it is a compare and one load; above that, in a dense
 * array at the start of each page. */
#define OM_HOT_NONE 0      /* never seen: classify on first use */
#define OM_HOT_COUNT 0x10  /* | class: nothing pending, count bytes and go */
#define OM_HOT_DGRAM 0x20  /* unconnected UDP: counted datagram by datagram */
#define OM_HOT_SLOW 0x40   /* dial or handshake in progress: take slow path */
#define OM_HOT_IGNORE 0x80 /* not a socket we count (file, pipe, unix) */
#define OM_HOT_QUIET (OM_HOT_IGNORE | OM_HOT_DGRAM) /* no per-fd counting */
/* One bit per state.  IGNORE is the sign bit, so one test of
 * IGNORE|COUNT sorts a call three ways: negative passes through, zero
 * takes the general path, anything else is counted.  The class sits in
 * the low bits of a counted fd's byte. */
#define OM_HOT_CLASS(cls) ((uint8_t)(OM_HOT_COUNT | (cls)))
#define OM_HOT_CLS(h) ((unsigned)(h) & (OM_HOT_COUNT - 1u))

struct om_fd {
	uint8_t *hotp; /* this fd's byte in its page's hot[] */
	uint8_t busy;  /* slow-path trylock; never waited on */
	uint8_t cls;   /* enum om_class, provisional until decided */
	uint8_t flags; /* OM_FDF_* */
	uint8_t dial;  /* OM_DIAL_* */
	uint8_t sotype; /* SOCK_STREAM/SOCK_DGRAM as socket() made it, or 0 */
	uint8_t pad[3];
	uint64_t t0;      /* connect() started, CLOCK_MONOTONIC ns */
	uint64_t t_up;    /* TCP connection established */
	uint64_t pend[2]; /* bytes seen before the class was decided */
	struct om_req req;
	struct om_rep rep;
};

struct om_fd_page {
	uint8_t hot[OM_FD_PAGE]; /* used for fds >= OM_FD_LOW only */
	struct om_fd e[OM_FD_PAGE];
};

extern __attribute__((visibility("hidden"))) struct om_fd_page *om_fd_pages[OM_FD_MAX >> OM_FD_PAGE_SHIFT];
extern __attribute__((visibility("hidden"))) uint8_t om_hot_low[OM_FD_LOW];

uint8_t om_hot_high(int fd);

/* The hot byte of fd.  Out of range counts as ignored; an fd whose entry
 * was never made has never been seen. */
static inline uint8_t om_hot(int fd)
{
	if (__builtin_expect((unsigned)fd < OM_FD_LOW, 1))
		return __atomic_load_n(&om_hot_low[fd], __ATOMIC_RELAXED);
	return om_hot_high(fd);
}

static inline uint8_t om_fd_hot(const struct om_fd *e)
{
	return __atomic_load_n(e->hotp, __ATOMIC_RELAXED);
}

static inline void om_fd_set_hot(struct om_fd *e, uint8_t h)
{
	__atomic_store_n(e->hotp, h, __ATOMIC_RELEASE);
}

/* Wipe an entry's state (its hot byte is separate and untouched). */
static inline void om_fd_clear(struct om_fd *e)
{
	uint8_t *hotp = e->hotp;

	__builtin_memset(e, 0, sizeof *e);
	e->hotp = hotp;
}

/* The entry for fd if its page exists, else NULL. */
static inline struct om_fd *om_fd_peek(int fd)
{
	struct om_fd_page *page;

	if (__builtin_expect((unsigned)fd >= OM_FD_MAX, 0))
		return 0;
	page = __atomic_load_n(&om_fd_pages[(unsigned)fd >> OM_FD_PAGE_SHIFT],
			       __ATOMIC_ACQUIRE);
	return page ? &page->e[(unsigned)fd & (OM_FD_PAGE - 1)] : 0;
}

/* The entry for fd, mapping its page if needed; NULL if out of range or
 * out of memory (the socket then simply goes untracked). */
struct om_fd *om_fd_get(int fd);

#endif
