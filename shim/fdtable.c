#include "fdtable.h"

#include <sys/mman.h>

struct om_fd *om_fd_pages[OM_FD_MAX >> OM_FD_PAGE_SHIFT];

struct om_fd *om_fd_get(int fd)
{
	struct om_fd *page, *expect = 0;
	unsigned idx;

	if ((unsigned)fd >= OM_FD_MAX)
		return 0;
	page = om_fd_peek(fd);
	if (page)
		return page;
	/* mmap, not malloc: this runs inside signal handlers and before
	 * the allocator may be usable.  Losers of the install race unmap. */
	idx = (unsigned)fd >> OM_FD_PAGE_SHIFT;
	page = mmap(0, OM_FD_PAGE * sizeof(struct om_fd), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 0;
	if (!__atomic_compare_exchange_n(&om_fd_pages[idx], &expect, page, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(page, OM_FD_PAGE * sizeof(struct om_fd));
		page = expect;
	}
	return &page[(unsigned)fd & (OM_FD_PAGE - 1)];
}
