/* Segment creation, validation and slot claiming for the writer side.
 *
 * Creation publishes atomically: the creator fills a private temporary file
 * and link()s it to the final name, so a concurrent opener either finds no
 * file or a complete one; link() failing with EEXIST means another process
 * won and we use its segment.  The file is sparse: only the header, the pid
 * table, the socket records and the ring are allocated up front (they are
 * shared by every holder); each process allocates its own slot when it
 * claims it, and fails cleanly there if the filesystem is full.  So the
 * first process pays the same for 4096 slots as for 8. */
#include "core/segment.h"

#include <errno.h>
#include <fcntl.h>
#if defined(__SSE2__) && !defined(OM_NO_SIMD)
#include <emmintrin.h>
#endif
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/liveness.h"
#include "core/real.h"

static void put_hex(char *p, uint64_t v)
{
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		p[i] = "0123456789abcdef"[v & 15];
	p[16] = '\0';
}

static int alloc_range(int fd, uint64_t off, uint64_t len)
{
	int rc = posix_fallocate(fd, (off_t)off, (off_t)len);

	return rc == 0 || rc == EOPNOTSUPP || rc == EINVAL ? 0 : -1;
}

static int create(const char *path, mode_t mode, uint32_t nslots,
		  const char **why)
{
	static char tmp[PATH_MAX + 32]; /* attach is serialized; small stacks */
	size_t n = strlen(path);
	struct om_header h;
	struct om_geom g;
	struct rlimit fsize;
	int fd, won, err;

	if (n + 24 > sizeof tmp) {
		*why = "segment path too long";
		return -1;
	}
	/* growing a file past RLIMIT_FSIZE raises SIGXFSZ, which kills the
	 * program: its limit is looked at before anything is created.  A
	 * segment that exists is only ever allocated within its size, which
	 * the limit does not touch. */
	om_geom_compute(nslots, &g);
	if (getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY &&
	    fsize.rlim_cur < g.size) {
		*why = "the file size limit (ulimit -f, RLIMIT_FSIZE) is below the segment's size: "
		       "not created (a program without that limit creates it)";
		return -1;
	}
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".new.", 5);
	/* pid alone can collide across PID namespaces sharing a volume */
	put_hex(tmp + n + 5, (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^
				     om_mono_ns());
	fd = OM_REAL(open)(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*why = errno == EACCES ? "no permission to create the segment file"
				       : "cannot create the segment file";
		return -1;
	}
	/* exactly as configured whatever the umask, but never writable by
	 * anyone else: they could falsify every count */
	fchmod(fd, mode & 0644);
	memset(&h, 0, sizeof h);
	h.magic = OM_MAGIC;
	h.version = OM_LAYOUT_VERSION;
	h.header_size = OM_HEADER_SIZE;
	h.size = g.size;
	h.nslots = nslots;
	h.slot_size = g.slot_size;
	h.tblocks = OM_TBLOCKS;
	h.tblock_size = sizeof(struct om_tblock);
	h.pblock_size = sizeof(struct om_pblock);
	h.nrecs = OM_NRECS;
	h.pidtab_off = g.pidtab_off;
	h.slots_off = g.slots_off;
	h.recs_off = g.recs_off;
	h.ring_off = g.ring_off;
	h.ring_entries = OM_RING_ENTRIES;
	h.ring_entry_size = sizeof(struct om_ring_entry);
	h.hand_off = g.hand_off;
	h.nhand = OM_NHAND;
	h.hand_size = sizeof(struct om_hand);
	h.pidx_off = g.pidx_off;
	h.npidx = g.npidx;
	h.created_ns = om_clock_ns(CLOCK_REALTIME);
	h.ready = 1;
	h.sem_id = -1;
	if (ftruncate(fd, (off_t)g.size) != 0 || alloc_range(fd, 0, g.slots_off) < 0 ||
	    alloc_range(fd, g.recs_off, g.size - g.recs_off) < 0) {
		*why = "cannot allocate the segment (filesystem full?)";
		goto fail;
	}
	h.sem_id = om_live_create(nslots, mode, path, &h.sem_key);
	if (h.sem_id < 0) {
		*why = "cannot create the liveness semaphores (System V IPC unavailable or at its limit)";
		goto fail;
	}
	if (pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
		*why = "cannot write the segment header";
		goto fail;
	}
	won = link(tmp, path) == 0;
	err = errno;
	unlink(tmp);
	OM_REAL(close)(fd);
	if (!won) {
		om_live_remove(h.sem_id);
		if (err != EEXIST) {
			*why = "cannot publish the segment file (link failed)";
			return -1;
		}
	}
	return 0;

fail:
	om_live_remove(h.sem_id);
	unlink(tmp);
	OM_REAL(close)(fd);
	return -1;
}

static const char *open_error(int err)
{
	switch (err) {
	case EACCES:
	case EPERM: return "no permission to open the segment";
	case ELOOP: return "the segment path is a symbolic link (refused)";
	case EISDIR: return "the segment path is a directory";
	case ENOTDIR: return "a component of the segment path is not a directory";
	}
	return "cannot open the segment";
}

int om_seg_map(struct om_seg *s, const char *path, mode_t mode, uint32_t nslots,
	       int *fdp, const char **why)
{
	struct om_header h;
	struct stat st;
	void *map;
	int fd = -1, tries;

	for (tries = 0; tries < 3; tries++) {
		/* O_NONBLOCK: a FIFO planted at the path must not hang us */
		fd = OM_REAL(open)(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
		if (fd >= 0 || errno != ENOENT)
			break;
		/* a setuid or setgid program's segment would be its owner's
		 * (root's, mode 0600): every later program of the user would
		 * be locked out of it.  It counts into one that exists. */
		if (getauxval(AT_SECURE)) {
			*why = "a setuid or setgid program does not create the segment "
			       "(it would be the program owner's and lock the user's programs out)";
			return -1;
		}
		if (create(path, mode, nslots, why) < 0)
			return -1;
	}
	if (fd < 0) {
		*why = errno == ENOENT ? "segment keeps disappearing" : open_error(errno);
		return -1;
	}
	*why = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		*why = "the segment path is not a regular file (refused)";
	else if (st.st_uid != geteuid() && st.st_uid != 0)
		*why = "the segment file belongs to another user (refused)";
	else if (st.st_mode & 0022)
		*why = "the segment file is writable by group or others (refused: anyone could falsify it)";
	else if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		*why = "segment is smaller than its header";
	else
		*why = om_layout_check(&h, (uint64_t)st.st_size, &s->g);
	if (!*why)
		*why = om_live_check(h.sem_id, h.sem_key, s->g.nslots, st.st_uid);
	if (*why) {
		OM_REAL(close)(fd);
		return -1;
	}
	map = mmap(0, (size_t)s->g.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		OM_REAL(close)(fd);
		*why = "cannot map the segment";
		return -1;
	}
	s->map = map;
	s->size = (size_t)s->g.size;
	s->sem_id = h.sem_id;
	s->sem_key = h.sem_key;
	s->detached = 0;
	memcpy(s->path, path, strnlen(path, sizeof s->path - 1));
	s->path[sizeof s->path - 1] = '\0';
	*fdp = fd;
	return 0;
}

int om_seg_rehold(struct om_seg *s, uint32_t slot)
{
	if (!om_live_is(s->sem_id, s->sem_key, s->g.nslots))
		return -1;
	/* still held: a thread's new list left the process's shared one */
	if (semctl(s->sem_id, (int)slot, GETVAL) == 1)
		return semctl(s->sem_id, (int)slot, GETPID) == (int)getpid() ? 0 : -1;
	return om_live_take(s->sem_id, s->g.nslots, slot);
}

void om_seg_release(struct om_seg *s, uint32_t slot)
{
	om_live_drop(s->sem_id, s->g.nslots, slot);
}

static uint32_t *pid_table(struct om_seg *s)
{
	return (uint32_t *)(s->map + s->g.pidtab_off);
}

static uint32_t *pid_index(struct om_seg *s)
{
	return (uint32_t *)(s->map + s->g.pidx_off);
}

/* Does pid hold slot i?  The semaphore says, not the segment. */
static int holds(struct om_seg *s, uint32_t i, uint32_t pid)
{
	return semctl(s->sem_id, (int)i, GETVAL) == 1 && semctl(s->sem_id, (int)i, GETPID) == (int)pid;
}

/* Index entry j names slot e - 1 for pid (segment_layout.h): the first of
 * pid's window that is unused, stale or already ours.  A window with none
 * (about never: the index is at most half full of live entries) marks the
 * index, and look-ups that miss walk the pid table from then on. */
static void pidx_put(struct om_seg *s, uint32_t slot, uint32_t pid)
{
	uint32_t *x = pid_index(s), *pids = pid_table(s), mask = s->g.npidx - 1;
	uint32_t home = om_pidx_home(pid, mask), k, j, e, owner;

	for (k = 0; k < OM_PIDX_PROBE; k++) {
		j = (home + k) & mask;
		e = __atomic_load_n(&x[j], __ATOMIC_RELAXED);
		for (;;) {
			if (e == slot + 1)
				return; /* our slot: ours now, in our window */
			if (e && e <= s->g.nslots) {
				owner = __atomic_load_n(&pids[e - 1], __ATOMIC_RELAXED);
				if (((j - om_pidx_home(owner, mask)) & mask) < OM_PIDX_PROBE)
					break; /* its slot's pid may still want it */
			}
			if (__atomic_compare_exchange_n(&x[j], &e, slot + 1, 0, __ATOMIC_RELEASE,
							__ATOMIC_RELAXED))
				return;
		}
	}
	__atomic_store_n(&om_seg_hdr(s)->pidx_full, 1, __ATOMIC_RELAXED);
}

/* Slot is ours now, and was pid's: pid's entries for it are gone. */
static void pidx_forget(struct om_seg *s, uint32_t slot, uint32_t pid)
{
	uint32_t *x = pid_index(s), mask = s->g.npidx - 1, home = om_pidx_home(pid, mask), k, e;

	for (k = 0; k < OM_PIDX_PROBE; k++) {
		e = slot + 1;
		__atomic_compare_exchange_n(&x[(home + k) & mask], &e, OM_PIDX_GONE, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
}

/* After exec the process still holds the slot its old image claimed (the
 * kernel undoes SEM_UNDO only at exit): found through the pid index, and
 * believed only where the semaphore itself says we hold it. */
static int held_since_exec(struct om_seg *s, uint32_t hwm, uint32_t *slot)
{
	const uint32_t *x = pid_index(s), *pids = pid_table(s);
	uint32_t pid = (uint32_t)getpid(), mask = s->g.npidx - 1, k, e, i;

	for (k = 0; k < OM_PIDX_PROBE; k++) {
		e = __atomic_load_n(&x[(om_pidx_home(pid, mask) + k) & mask], __ATOMIC_ACQUIRE);
		if (!e)
			break; /* never used: the window ends here */
		if (e <= s->g.nslots && __atomic_load_n(&pids[e - 1], __ATOMIC_RELAXED) == pid &&
		    holds(s, e - 1, pid)) {
			*slot = e - 1;
			return 1;
		}
	}
	if (!__atomic_load_n(&om_seg_hdr(s)->pidx_full, __ATOMIC_RELAXED))
		return 0;
	for (i = 0; i < hwm; i++)
		if (__atomic_load_n(&pids[i], __ATOMIC_RELAXED) == pid && holds(s, i, pid)) {
			*slot = i;
			return 1;
		}
	return 0;
}

/* Bit j set where v[j] == x, j < n <= 64: the same work wherever the
 * first such value is, so that attach costs the same however many slots
 * are held (eight values a step with SSE2; -DOM_NO_SIMD builds the
 * portable loop alone, to test it). */
static uint64_t lanes_eq(const unsigned short *v, uint32_t n, unsigned short x)
{
	uint64_t m = 0;
	uint32_t j = 0;
#if defined(__SSE2__) && !defined(OM_NO_SIMD)
	const __m128i xs = _mm_set1_epi16((short)x);

	for (; j + 8 <= n; j += 8) {
		__m128i eq = _mm_cmpeq_epi16(_mm_loadu_si128((const void *)(v + j)), xs);

		m |= (uint64_t)(_mm_movemask_epi8(_mm_packs_epi16(eq, eq)) & 0xFF) << j;
	}
#endif
	for (; j < n; j++)
		m |= (uint64_t)(v[j] == x) << j;
	return m;
}

/* Try the free slots of the groups in room, lowest first: 0 and *slot
 * if one was taken, 1 if none could be, -1 on error. */
static int take_in(struct om_seg *s, const unsigned short *v, uint64_t room, uint32_t *slot)
{
	uint32_t n = s->g.nslots, from, i;
	uint64_t free;

	for (; room; room &= room - 1) {
		from = (uint32_t)__builtin_ctzll(room) * OM_LIVE_GROUP;
		free = lanes_eq(v + from, n - from < OM_LIVE_GROUP ? n - from : OM_LIVE_GROUP, 0);
		for (; free; free &= free - 1) {
			i = from + (uint32_t)__builtin_ctzll(free);
			if (om_live_take(s->sem_id, n, i) == 0) {
				*slot = i;
				return 0;
			}
			if (errno != EAGAIN)
				return -1;
		}
	}
	return 1;
}

/* The lowest free slot: dead processes' slots are reused before fresh
 * ones, so the slots a reader scans stay as few as the most processes ever
 * alive at once.  One semctl to see them all, one semop per attempt; a lost
 * race costs another attempt.  The groups' counts say which groups have a
 * free slot; only the first such group's values are read, and both reads
 * are the same work wherever the slot is.  If the counts lie (only the
 * set's owner can make them), the groups they call full are read after.
 * 0, or 1 if every slot is held, -1 on error. */
static int take_free(struct om_seg *s, uint32_t *slot)
{
	/* static: claims are serialized by attach, which may run in a signal
	 * handler on a small stack; 8 KiB here would overflow SIGSTKSZ */
	static unsigned short vals[OM_LIVE_MAX];
	uint32_t n = s->g.nslots, ng = om_live_groups(n);
	uint64_t all = ng == 64 ? ~0ULL : (1ULL << ng) - 1, room;
	int round, rc;

	for (round = 0; round < 3; round++) {
		if (om_live_all(s->sem_id, vals) < 0)
			return -1;
		/* the groups but the last hold OM_LIVE_GROUP slots each; the
		 * last, perhaps fewer, is always looked at */
		room = (~lanes_eq(vals + n, ng - 1, OM_LIVE_GROUP) | 1ULL << (ng - 1)) & all;
		if ((rc = take_in(s, vals, room, slot)) <= 0 ||
		    (rc = take_in(s, vals, all & ~room, slot)) <= 0)
			return rc;
	}
	return 1;
}

/* Fault in every page of the slot, so that a full filesystem shows here
 * (as SIGBUS, which the guard turns into a clean detach) and not later in
 * the middle of the program's I/O.  Adding 0 changes no counter. */
static void touch_pages(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += OM_PAGE)
		__atomic_fetch_add((uint64_t *)(p + off), 0, __ATOMIC_RELAXED);
}

int om_seg_claim(struct om_seg *s, int fd, uint32_t *slot, const char **why)
{
	struct om_header *h = om_seg_hdr(s);
	uint64_t hwm = __atomic_load_n(&h->slots_hwm, __ATOMIC_RELAXED);
	uint32_t i, pid;

	if (hwm > s->g.nslots) /* untrusted: only ever narrows */
		hwm = s->g.nslots;
	/* fd < 0: a fork child on its parent's mapping, a process too new to
	 * hold a slot; the pid table walk is for an exec'd image */
	if (fd < 0 || !held_since_exec(s, (uint32_t)hwm, &i)) {
		int rc = take_free(s, &i);

		if (rc) {
			__atomic_fetch_add(&h->uncounted[OM_UNC_NO_SLOT], 1, __ATOMIC_RELAXED);
			*why = rc > 0 ? "no free slot in the segment (all held by live processes; "
					"a new segment made with a larger ONIONMETER_SLOTS has room)"
				      : "cannot claim a slot (the liveness semaphores refused)";
			return -1;
		}
	}
	if (fd >= 0 && alloc_range(fd, s->g.slots_off + (uint64_t)i * s->g.slot_size,
				   s->g.slot_size) < 0) {
		om_seg_release(s, i);
		__atomic_fetch_add(&h->uncounted[OM_UNC_NO_SPACE], 1, __ATOMIC_RELAXED);
		*why = "cannot allocate a slot (filesystem full?)";
		return -1;
	}
	if (fd < 0)
		touch_pages((char *)om_seg_slot(s, i), s->g.slot_size);
	/* how this process finds its slot again after exec: the last
	 * holder's entries go, the pid goes in before the entry, so that
	 * whoever judges the entry sees it */
	pid = __atomic_load_n(pid_table(s) + i, __ATOMIC_RELAXED);
	if (pid != (uint32_t)getpid())
		pidx_forget(s, i, pid);
	__atomic_store_n(pid_table(s) + i, (uint32_t)getpid(), __ATOMIC_RELEASE);
	pidx_put(s, i, (uint32_t)getpid());
	while (hwm < i + 1u &&
	       !__atomic_compare_exchange_n(&h->slots_hwm, &hwm, i + 1u, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		if (hwm > s->g.nslots)
			break;
	*slot = i;
	return 0;
}
