#include "acct/fdtable.h"

#include <errno.h>
#include <sys/mman.h>

uint8_t om_hot_tab[OM_FD_MAX] __attribute__((aligned(4096)));
struct om_fd_page *om_fd_pages[OM_FD_MAX >> OM_FD_PAGE_SHIFT];
unsigned om_fd_pages_top;

struct om_fd *om_fd_get_slow(int fd)
{
	struct om_fd_page *page, *expect = 0;
	struct om_fd *e = om_fd_peek(fd);
	unsigned idx, i;
	int err;

	if (e || (unsigned)fd >= OM_FD_MAX)
		return e;
	/* mmap, not malloc: this runs inside signal handlers and before
	 * the allocator may be usable.  Losers of the install race unmap.
	 * errno is kept: socket() calls this without saving it. */
	idx = (unsigned)fd >> OM_FD_PAGE_SHIFT;
	err = errno;
	page = mmap(0, sizeof *page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		errno = err;
		return 0;
	}
	for (i = 0; i < OM_FD_PAGE; i++)
		page->e[i].fd = (int32_t)(idx * OM_FD_PAGE + i);
	if (!__atomic_compare_exchange_n(&om_fd_pages[idx], &expect, page, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(page, sizeof *page);
		errno = err;
		page = expect;
	} else {
		unsigned top = __atomic_load_n(&om_fd_pages_top, __ATOMIC_RELAXED);

		while (top < idx + 1 &&
		       !__atomic_compare_exchange_n(&om_fd_pages_top, &top, idx + 1, 1,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	return &page->e[(unsigned)fd & (OM_FD_PAGE - 1)];
}

int om_fd_wipe_on_fork(void)
{
	return madvise(om_hot_tab, sizeof om_hot_tab, MADV_WIPEONFORK);
}

void om_fd_wipe_hot(void)
{
	madvise(om_hot_tab, sizeof om_hot_tab, MADV_DONTNEED);
}
