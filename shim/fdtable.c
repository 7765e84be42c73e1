#include "fdtable.h"

#include <sys/mman.h>

struct om_fd_page *om_fd_pages[OM_FD_MAX >> OM_FD_PAGE_SHIFT];
uint8_t om_hot_low[OM_FD_LOW];

uint8_t om_hot_high(int fd)
{
	struct om_fd_page *page;

	if ((unsigned)fd >= OM_FD_MAX)
		return OM_HOT_IGNORE;
	page = __atomic_load_n(&om_fd_pages[(unsigned)fd >> OM_FD_PAGE_SHIFT],
			       __ATOMIC_ACQUIRE);
	return page ? __atomic_load_n(&page->hot[(unsigned)fd & (OM_FD_PAGE - 1)],
				      __ATOMIC_RELAXED)
		    : OM_HOT_NONE;
}

struct om_fd *om_fd_get(int fd)
{
	struct om_fd_page *page, *expect = 0;
	struct om_fd *e = om_fd_peek(fd);
	unsigned idx, i;

	if (e || (unsigned)fd >= OM_FD_MAX)
		return e;
	/* mmap, not malloc: this runs inside signal handlers and before
	 * the allocator may be usable.  Losers of the install race unmap. */
	idx = (unsigned)fd >> OM_FD_PAGE_SHIFT;
	page = mmap(0, sizeof *page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 0;
	for (i = 0; i < OM_FD_PAGE; i++) {
		unsigned f = idx * OM_FD_PAGE + i;

		page->e[i].hotp = f < OM_FD_LOW ? &om_hot_low[f] : &page->hot[i];
	}
	if (!__atomic_compare_exchange_n(&om_fd_pages[idx], &expect, page, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(page, sizeof *page);
		page = expect;
	}
	return &page->e[(unsigned)fd & (OM_FD_PAGE - 1)];
}
