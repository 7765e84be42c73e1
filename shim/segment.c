/* Segment creation, validation and slot claiming for the writer side.
 *
 * Creation publishes atomically: the creator fills a private temporary file
 * and link()s it to the final name, so a concurrent opener either finds no
 * file or a complete one; link() failing with EEXIST means another process
 * won and we use its segment.  The whole file is allocated up front so a full
 * tmpfs fails here, not as SIGBUS inside the program later. */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "real.h"

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keep our fd out of the way of programs that expect low numbers (daemons
 * reopening 0-2, select() users), near the top of the table. */
static int move_high(int fd)
{
	struct rlimit rl;
	long base = 512;
	int nfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		base = rl.rlim_cur > 256 ? (long)rl.rlim_cur - 64 : (long)rl.rlim_cur / 2;
	nfd = OM_REAL(fcntl)(fd, F_DUPFD_CLOEXEC, (int)base);
	if (nfd < 0)
		return fd;
	OM_REAL(close)(fd);
	return nfd;
}

static void put_dec(char *p, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof tmp);
	while (n)
		*p++ = tmp[--n];
	*p = '\0';
}

static int create(const char *path, mode_t mode, uint32_t nslots,
		  const char **why)
{
	char tmp[PATH_MAX + 32];
	size_t n = strlen(path);
	uint64_t size = om_layout_size(nslots);
	struct om_header *h;
	int fd, rc, won;

	if (n + 24 > sizeof tmp) {
		*why = "segment path too long";
		return -1;
	}
	memcpy(tmp, path, n);
	/* pid alone can collide across PID namespaces sharing a volume */
	memcpy(tmp + n, ".new.", 5);
	put_dec(tmp + n + 5, (unsigned long)getpid() * 1000003u ^
				     (unsigned long)now_ns(CLOCK_MONOTONIC));
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*why = "cannot create segment file";
		return -1;
	}
	fchmod(fd, mode); /* exactly as configured, whatever the umask */
	rc = posix_fallocate(fd, 0, (off_t)size);
	if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL)
		goto fail_space;
	if (rc != 0 && ftruncate(fd, (off_t)size) != 0)
		goto fail_space;
	h = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail_space;
	h->version = OM_LAYOUT_VERSION;
	h->header_size = OM_HEADER_SIZE;
	h->size = size;
	h->nslots = nslots;
	h->nblocks = OM_BLOCKS_PER_SLOT;
	h->slot_size = sizeof(struct om_slot);
	h->block_size = sizeof(struct om_block);
	h->slots_off = OM_HEADER_SIZE;
	h->ring_off = OM_HEADER_SIZE + (uint64_t)nslots * sizeof(struct om_slot);
	h->ring_entries = OM_RING_ENTRIES;
	h->ring_entry_size = sizeof(struct om_ring_entry);
	h->created_ns = now_ns(CLOCK_REALTIME);
	__atomic_store_n(&h->magic, OM_MAGIC, __ATOMIC_RELEASE);
	__atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
	munmap(h, size);
	won = link(tmp, path) == 0;
	rc = errno;
	unlink(tmp);
	OM_REAL(close)(fd);
	if (!won && rc != EEXIST) {
		*why = "cannot publish segment file (link failed)";
		return -1;
	}
	return 0;

fail_space:
	unlink(tmp);
	OM_REAL(close)(fd);
	*why = "cannot allocate segment (filesystem full?)";
	return -1;
}

int om_seg_open(struct om_seg *s, const char *path, mode_t mode,
		uint32_t nslots, const char **why)
{
	struct stat st;
	struct om_header *h;
	int fd, tries;

	s->hdr = 0;
	s->fd = -1;
	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			break;
		if (errno != ENOENT) {
			*why = errno == EACCES ? "no permission to open segment"
					       : "cannot open segment";
			return -1;
		}
		if (create(path, mode, nslots, why) < 0)
			return -1;
	}
	if (fd < 0) {
		*why = "segment keeps disappearing";
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < OM_HEADER_SIZE) {
		OM_REAL(close)(fd);
		*why = "segment is not a regular file of sane size";
		return -1;
	}
	h = mmap(0, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		OM_REAL(close)(fd);
		*why = "cannot map segment";
		return -1;
	}
	if (!__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE))
		*why = "segment was never completely initialised";
	else
		*why = om_layout_check(h, (uint64_t)st.st_size);
	if (*why) {
		munmap(h, (size_t)st.st_size);
		OM_REAL(close)(fd);
		return -1;
	}
	s->hdr = h;
	s->size = (size_t)st.st_size;
	s->fd = move_high(fd);
	memcpy(s->path, path, strnlen(path, sizeof s->path - 1));
	s->path[sizeof s->path - 1] = '\0';
	return 0;
}

static void read_comm(char comm[16])
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	memset(comm, 0, 16);
	if (fd < 0)
		return;
	n = OM_REAL(read)(fd, comm, 15);
	OM_REAL(close)(fd);
	while (n > 0 && (comm[n - 1] == '\n' || comm[n - 1] == '\0'))
		comm[--n] = '\0';
}

int om_seg_claim(struct om_seg *s, const char **why)
{
	struct om_header *h = s->hdr;
	struct om_slot *slots = (struct om_slot *)((char *)h + h->slots_off);
	uint32_t n = h->nslots, i, b, c;

	/* Lowest free slot first: dead processes' slots are reused before
	 * fresh ones, so the slots in use (and the scrape) stay as few as the
	 * most processes ever alive at once. */
	for (i = 0; i < n; i++)
		if (om_seg_lock(s->fd, om_claim_lock_off(i)) == 0)
			goto claimed;
	__atomic_fetch_add(&h->attach_failures, 1, __ATOMIC_RELAXED);
	*why = "no free slot in segment (all claimed by live processes)";
	return -1;

claimed:
	/* The claim lock makes us the only writer.  Readers ignore this
	 * slot's gauges until the live lock below, so settling them needs no
	 * ordering beyond the kernel's lock. */
	s->slot = i;
	s->me = &slots[i];
	for (b = 0; b < OM_BLOCKS_PER_SLOT; b++) {
		struct om_block *blk = &s->me->blocks[b];

		__atomic_store_n(&blk->owner, 0, __ATOMIC_RELAXED);
		for (c = 0; c < OM_NCLASS; c++)
			__atomic_store_n(&blk->closed[c],
					 __atomic_load_n(&blk->opened[c], __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->me->head.pid, (uint64_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&s->me->head.start_ns, now_ns(CLOCK_REALTIME), __ATOMIC_RELAXED);
	read_comm(s->me->head.comm);
	__atomic_fetch_add(&s->me->head.claims, 1, __ATOMIC_RELEASE);
	{
		uint64_t hwm = __atomic_load_n(&h->slots_hwm, __ATOMIC_RELAXED);

		while (hwm < i + 1 &&
		       !__atomic_compare_exchange_n(&h->slots_hwm, &hwm, i + 1, 1,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	if (om_seg_lock(s->fd, om_live_lock_off(i)) != 0) {
		*why = "cannot take the slot's live lock";
		return -1;
	}
	return 0;
}

int om_seg_reclaim_in_child(struct om_seg *s, const char **why)
{
	char proc[40] = "/proc/self/fd/";
	int fd;

	/* Reopening through /proc gives a new open file description of the
	 * same inode even if the path was unlinked or replaced since. */
	put_dec(proc + 14, (unsigned long)s->fd);
	fd = open(proc, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(s->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*why = "cannot reopen segment after fork";
		return -1;
	}
	/* A mapping pins the open file description it was made from, and
	 * with it every OFD lock on it: the inherited mapping would keep the
	 * parent's slot looking alive after the parent died.  Remap in place
	 * (same address, so every pointer into it stays valid) through our
	 * own description, and replace the inherited fd under its number. */
	if (mmap(s->hdr, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED) {
		OM_REAL(close)(fd);
		*why = "cannot remap segment after fork";
		return -1;
	}
	if (OM_REAL(dup3)(fd, s->fd, O_CLOEXEC) < 0) {
		OM_REAL(close)(fd);
		*why = "cannot replace segment fd after fork";
		return -1;
	}
	OM_REAL(close)(fd);
	return om_seg_claim(s, why);
}

void om_seg_detach(struct om_seg *s)
{
	if (s->hdr)
		munmap(s->hdr, s->size);
	if (s->fd >= 0)
		OM_REAL(close)(s->fd);
	s->hdr = 0;
	s->fd = -1;
	s->me = 0;
}
