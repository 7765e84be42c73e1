/* The fd table: per-fd tracking state, found in O(1) with no lock.
 *
 * The hot byte, the one thing the I/O fast path reads, lives in a flat
 * array indexed by fd (zero-fill BSS: untouched parts cost nothing), so
 * finding it is a compare and one load for every fd below OM_FD_MAX.  The
 * kernel wipes that array in a fork child, which is how a child made by
 * any kind of fork sees every fd as "never seen" until it has claimed its
 * own slot.
 *
 * The rest of a socket's state is a 16-byte entry in pages of 256 entries
 * mapped on first use and never freed, so a pointer read from the table
 * stays valid; an entry is recycled in place when its fd number is.  What
 * only a dial in progress needs (parser states, bytes waiting for the
 * class) is a handshake record (handshake.h), held only until the dial
 * ends. */
#ifndef OM_FDTABLE_H
#define OM_FDTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OM_FD_PAGE_SHIFT 8
#define OM_FD_PAGE (1u << OM_FD_PAGE_SHIFT)
#define OM_FD_MAX (1u << 20) /* fds at or above this pass through untracked */

/* One bit per state.  IGNORE is the sign bit, so one test of
 * IGNORE|COUNT sorts a call three ways: negative passes through, zero
 * takes the general path, anything else is counted.  The class sits in
 * the low bits of a counted fd's byte. */
#define OM_HOT_NONE 0      /* never seen: classify on first use */
#define OM_HOT_COUNT 0x10  /* | class: nothing pending, count bytes and go */
#define OM_HOT_DGRAM 0x20  /* unconnected UDP: counted datagram by datagram */
#define OM_HOT_SLOW 0x40   /* dial or handshake in progress: take slow path */
#define OM_HOT_IGNORE 0x80 /* not a socket we count (file, pipe, unix) */
#define OM_HOT_QUIET (OM_HOT_IGNORE | OM_HOT_DGRAM) /* no per-fd counting */
#define OM_HOT_CLASS(cls) ((uint8_t)(OM_HOT_COUNT | (cls)))
#define OM_HOT_CLS(h) ((unsigned)(h) & (OM_HOT_COUNT - 1u))

struct om_fd {
	uint32_t busy;  /* slow-path lock: holder's token, 0 free */
	uint32_t hs;    /* handshake record + 1, 0 none */
	int32_t fd;     /* this entry's fd number */
	uint8_t cls;    /* enum om_class, provisional until decided */
	uint8_t flags;  /* OM_FDF_* */
	uint8_t dial;   /* OM_DIAL_* */
	uint8_t sotype; /* SOCK_STREAM/SOCK_DGRAM as socket() made it, or 0 */
};
_Static_assert(sizeof(struct om_fd) == 16, "an fd entry is 16 bytes");

struct om_fd_page {
	struct om_fd e[OM_FD_PAGE];
};

extern __attribute__((visibility("hidden"))) uint8_t om_hot_tab[OM_FD_MAX];
extern __attribute__((visibility("hidden"))) struct om_fd_page *om_fd_pages[OM_FD_MAX >> OM_FD_PAGE_SHIFT];
/* One past the highest page ever installed: walks stop there. */
extern __attribute__((visibility("hidden"))) unsigned om_fd_pages_top;

/* The hot byte of fd; out of range counts as ignored. */
static inline uint8_t om_hot(int fd)
{
	if (__builtin_expect((unsigned)fd < OM_FD_MAX, 1))
		return __atomic_load_n(&om_hot_tab[fd], __ATOMIC_RELAXED);
	return OM_HOT_IGNORE;
}

static inline uint8_t om_fd_hot(const struct om_fd *e)
{
	return __atomic_load_n(&om_hot_tab[e->fd], __ATOMIC_RELAXED);
}

static inline void om_fd_set_hot(struct om_fd *e, uint8_t h)
{
	__atomic_store_n(&om_hot_tab[e->fd], h, __ATOMIC_RELEASE);
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
struct om_fd *om_fd_get_slow(int fd);
static inline struct om_fd *om_fd_get(int fd)
{
	struct om_fd *e = om_fd_peek(fd);

	return __builtin_expect(e != 0, 1) ? e : om_fd_get_slow(fd);
}

/* Is everything but the fd number and the class zero?  Two loads, as a
 * new descriptor's entry asks it on every socket() and accept(). */
static inline int om_fd_blank(const struct om_fd *e)
{
	union {
		uint8_t b[4];
		uint32_t w;
	} cls_only = { { 0xff, 0, 0, 0 } };
	uint64_t busy_hs;
	uint32_t rest;

	_Static_assert(offsetof(struct om_fd, hs) == offsetof(struct om_fd, busy) + 4 &&
		       offsetof(struct om_fd, sotype) == offsetof(struct om_fd, cls) + 3,
		       "om_fd_blank reads busy+hs and cls..sotype as words");
	memcpy(&busy_hs, &e->busy, sizeof busy_hs);
	memcpy(&rest, &e->cls, sizeof rest);
	return !(busy_hs | (rest & ~cls_only.w));
}

/* Wipe everything but the fd number (the hot byte is separate). */
static inline void om_fd_clear(struct om_fd *e)
{
	e->busy = 0;
	e->hs = 0;
	e->cls = e->flags = e->dial = e->sotype = 0;
}

/* Ask the kernel to zero the hot bytes in fork children; 0 if it will. */
int om_fd_wipe_on_fork(void);
/* Zero them now (fork child, where the kernel cannot). */
void om_fd_wipe_hot(void);

#endif
