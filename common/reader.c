#include "common/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/liveness.h"
#include "common/segpath.h"

int om_reader_init(struct om_reader *r, const char *name)
{
	memset(r, 0, sizeof *r);
	r->sem_id = -1;
	snprintf(r->name, sizeof r->name, "%s", name);
	if (om_seg_path(name, r->path, sizeof r->path) < 0) {
		snprintf(r->error, sizeof r->error,
			 "segment name must be /NAME or an absolute path");
		return -1;
	}
	return 0;
}

int om_reader_trust(struct om_reader *r, uid_t uid)
{
	if (r->ntrust >= (int)(sizeof r->trust / sizeof r->trust[0]))
		return -1;
	r->trust[r->ntrust++] = uid;
	return 0;
}

const char *om_reader_untrusted(const struct om_reader *r, const char *path,
				const struct stat *st, char *why, size_t n)
{
	char dir[PATH_MAX];
	struct stat ds;
	const char *slash;
	size_t len;
	int i;

	if (st->st_mode & 0022) {
		snprintf(why, n, "writable by group or others (mode %04o): anyone could "
			 "falsify it (refused)", (unsigned)(st->st_mode & 07777));
		return why;
	}
	if (st->st_uid == 0 || st->st_uid == geteuid())
		return 0;
	for (i = 0; i < r->ntrust; i++)
		if (st->st_uid == r->trust[i])
			return 0;
	/* the directory: only its owner could have named this file */
	slash = strrchr(path, '/');
	len = slash == path ? 1 : slash ? (size_t)(slash - path) : 0;
	if (len && len < sizeof dir) {
		memcpy(dir, path, len);
		dir[len] = '\0';
		if (stat(dir, &ds) == 0 && !(ds.st_mode & 0022) && ds.st_uid == st->st_uid)
			return 0;
	}
	snprintf(why, n, "owned by uid %u, in a directory others can write: anyone may "
		 "have planted it (refused; trusted are root, uid %u, the directory's "
		 "owner, and users given with --segment-owner)",
		 (unsigned)st->st_uid, (unsigned)geteuid());
	return why;
}

void om_reader_close(struct om_reader *r)
{
	if (r->map)
		munmap((void *)r->map, r->g.size);
	r->map = 0;
}

static int attach(struct om_reader *r)
{
	struct om_header h;
	struct om_geom g;
	struct stat st;
	const char *why = 0;
	char trust_why[300];
	void *map;
	int fd;

	fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(r->error, sizeof r->error, "%s: %s%s", r->path, strerror(errno),
			 errno == ENOENT ? " (no process has attached yet)"
			 : errno == ELOOP ? " (a symbolic link: refused)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		why = "not a regular file (refused)";
	else if ((why = om_reader_untrusted(r, r->path, &st, trust_why, sizeof trust_why)))
		;
	else if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
		why = "segment is smaller than its header";
	else
		why = om_layout_check(&h, (uint64_t)st.st_size, &g);
	if (why) {
		snprintf(r->error, sizeof r->error, "%s: %s", r->path, why);
		close(fd);
		return -1;
	}
	map = mmap(0, (size_t)g.size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(r->error, sizeof r->error, "%s: mmap: %s", r->path, strerror(errno));
		return -1;
	}
	om_reader_close(r);
	r->map = map;
	r->g = g;
	r->hwm_seen = 0;
	r->mapped_in = 0;
	r->sem_id = h.sem_id;
	r->sem_key = h.sem_key;
	r->owner = st.st_uid;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->attaches++;
	return 0;
}

/* Re-attach when the path now names another file (segment recreated). */
static int current(struct om_reader *r)
{
	struct stat st;

	if (r->map && stat(r->path, &st) == 0 && st.st_dev == r->dev && st.st_ino == r->ino)
		return 0;
	return attach(r);
}

static sigjmp_buf *volatile bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	if (bus_jmp)
		siglongjmp(*bus_jmp, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Add cells of a counter read from the segment to the same counter in t. */
static void add_cells(uint64_t *to, const uint64_t *from, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		to[i] += ld(&from[i]);
}

static void sum_pblock(const struct om_pblock *p, struct om_totals *t, int64_t gauge[],
		       int64_t socks[])
{
	int c;

#define OM_SUM_SUM(field) \
	add_cells((uint64_t *)&t->field, (const uint64_t *)&p->field, sizeof p->field / 8);
#define OM_SUM_LIVE(field)
#define OM_SUM(field, dims, how) OM_SUM_##how(field)
	OM_PBLOCK_COUNTERS(OM_SUM)
	for (c = 0; c < OM_NCLASS; c++)
		gauge[c] = (int64_t)(ld(&p->opened[c]) - ld(&p->closed[c]));
	for (c = 0; c < OM_NKCLASS; c++)
		socks[c] = (int64_t)(ld(&p->socks_opened[c]) - ld(&p->socks_closed[c]));
}

void om_reader_sum(const char *map, const struct om_geom *g,
		   const unsigned short *live, struct om_totals *t, uint64_t *hwm_seen)
{
	const struct om_header *h = (const void *)map;
	uint64_t n = ld(&h->slots_hwm);
	uint32_t i, k, c;

	memset(t, 0, sizeof *t);
	if (n < *hwm_seen) /* untrusted: a mark that shrank would hide counts */
		n = *hwm_seen;
	if (n > g->nslots)
		n = g->nslots;
	*hwm_seen = n;
	t->slots = g->nslots;
	t->live_known = live != 0;
	for (i = 0; i < OM_NUNCOUNTED; i++)
		t->uncounted[i] = ld(&h->uncounted[i]);
	for (i = 0; i < n; i++) {
		const struct om_slot *s =
			(const void *)(map + g->slots_off + (uint64_t)i * g->slot_size);
		uint64_t claims = ld(&s->head.claims);
		uint32_t nt = __atomic_load_n(&s->head.tblocks_hwm, __ATOMIC_RELAXED);
		int64_t gauge[OM_NCLASS], socks[OM_NKCLASS];
		uint8_t pol, enf;

		if (!claims)
			continue;
		t->slots_used++;
		pol = __atomic_load_n(&s->head.policy, __ATOMIC_RELAXED);
		enf = __atomic_load_n(&s->head.enforce, __ATOMIC_RELAXED);
		if (pol < OM_NPOLICY)
			t->policy_seen[pol][enf ? 1 : 0]++;
		sum_pblock(&s->p, t, gauge, socks);
		if (nt > OM_TBLOCKS)
			nt = OM_TBLOCKS;
		for (k = 0; k < nt; k++) {
			const struct om_tblock *b = &s->t[k];

			if (!ld(&b->used))
				continue;
			for (c = 0; c < OM_NCLASS; c++) {
				t->bytes[c][OM_INGRESS] += ld(&b->bytes[c][OM_INGRESS]);
				t->bytes[c][OM_EGRESS] += ld(&b->bytes[c][OM_EGRESS]);
			}
		}
		if (!live || !live[i])
			continue;
		t->processes++;
		if (pol < OM_NPOLICY)
			t->policy[pol][enf ? 1 : 0]++;
		/* a new holder settles its predecessor's gauges first */
		if (ld(&s->head.settled) != claims)
			continue;
		for (c = 0; c < OM_NCLASS; c++)
			if (gauge[c] > 0)
				t->open_now[c] += (uint64_t)gauge[c];
		for (c = 0; c < OM_NKCLASS; c++)
			if (socks[c] > 0)
				t->socks_open[c] += (uint64_t)socks[c];
	}
}

/* Run fn over the mapping with SIGBUS caught: a file truncated under us
 * turns into an error for this scrape, never a crash. */
static int guarded(struct om_reader *r, int (*fn)(struct om_reader *, void *), void *arg)
{
	struct sigaction sa, old;
	sigjmp_buf jb;
	int rc;

	if (current(r) < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigbus;
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(jb, 1)) {
		bus_jmp = 0;
		sigaction(SIGBUS, &old, 0);
		snprintf(r->error, sizeof r->error, "%s: segment was truncated under us", r->path);
		om_reader_close(r);
		return -1;
	}
	bus_jmp = &jb;
	rc = fn(r, arg);
	bus_jmp = 0;
	sigaction(SIGBUS, &old, 0);
	return rc;
}

/* Fill the page tables of the slots in use in one call: a first read of
 * 4,093 slots otherwise takes a fault per page, most of a --once run
 * (12,000 faults, 45 ms here).  Only what grew since.  A kernel without
 * MADV_POPULATE_READ (before 5.14: EINVAL) faults as before, and is not
 * asked again until the next attach: any failure stops it there. */
static void map_in(struct om_reader *r)
{
#ifdef MADV_POPULATE_READ
	const struct om_header *h = (const void *)r->map;
	uint64_t n = __atomic_load_n(&h->slots_hwm, __ATOMIC_RELAXED), end;

	if (n > r->g.nslots)
		n = r->g.nslots;
	end = r->g.slots_off + n * r->g.slot_size; /* page aligned: slot_size is */
	if (end > r->mapped_in)
		r->mapped_in = madvise((char *)r->map + r->mapped_in, end - r->mapped_in,
				       MADV_POPULATE_READ) == 0 ? end : UINT64_MAX;
#else
	(void)r;
#endif
}

static int snapshot(struct om_reader *r, void *arg)
{
	unsigned short live[OM_LIVE_MAX];

	map_in(r);

	r->live_error = om_live_check(r->sem_id, r->sem_key, r->g.nslots, r->owner);
	if (!r->live_error && om_live_all(r->sem_id, live) < 0)
		r->live_error = "cannot read the liveness semaphores";
	om_reader_sum(r->map, &r->g, r->live_error ? 0 : live, arg, &r->hwm_seen);
	r->error[0] = '\0';
	return 0;
}

int om_reader_snapshot(struct om_reader *r, struct om_totals *t)
{
	return guarded(r, snapshot, t);
}

static int by_pos(const void *a, const void *b)
{
	const struct om_event *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void om_events_from(const char *map, const struct om_geom *g, struct om_events *out)
{
	const struct om_ring_entry *ring = (const void *)(map + g->ring_off);
	unsigned i;

	out->n = 0;
	for (i = 0; i < OM_RING_ENTRIES; i++) {
		struct om_ring_entry copy;
		struct om_event *e = &out->ev[out->n];
		uint64_t s1 = __atomic_load_n(&ring[i].seq, __ATOMIC_ACQUIRE), s2;

		if (s1 == 0 || (s1 & 1))
			continue; /* never written, or being written */
		memcpy(&copy, &ring[i], sizeof copy);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&ring[i].seq, __ATOMIC_RELAXED);
		if (s1 != s2 || copy.kind >= OM_NLEAK || copy.action >= OM_NACTION ||
		    (copy.family != 0 && copy.family != 4 && copy.family != 6))
			continue; /* torn or nonsense: drop it */
		e->pos = s1 / 2 - 1;
		e->time_ns = copy.time_ns;
		e->pid = copy.pid;
		e->kind = copy.kind;
		e->action = copy.action;
		e->family = copy.family;
		e->truncated = (copy.flags & OM_EVF_TRUNCATED) != 0;
		e->port = copy.port;
		memcpy(e->addr, copy.addr, sizeof e->addr);
		memcpy(e->name, copy.name, sizeof e->name);
		e->name[sizeof e->name - 1] = '\0';
		memcpy(e->comm, copy.comm, sizeof e->comm);
		e->comm[sizeof e->comm - 1] = '\0';
		out->n++;
	}
	qsort(out->ev, (size_t)out->n, sizeof out->ev[0], by_pos);
}

static int events(struct om_reader *r, void *arg)
{
	om_events_from(r->map, &r->g, arg);
	return 0;
}

int om_reader_events(struct om_reader *r, struct om_events *out)
{
	out->n = 0;
	return guarded(r, events, out);
}

static void copy_str(char *dst, const char *src, size_t n)
{
	size_t i;

	memcpy(dst, src, n);
	dst[n - 1] = '\0';
	for (i = 0; i < n && dst[i]; i++)
		;
	memset(dst + i, 0, n - i);
}

void om_procs_from(const char *map, const struct om_geom *g, uint64_t hwm_seen,
		   const unsigned short *live, struct om_procs *out)
{
	uint64_t i, n = hwm_seen < g->nslots ? hwm_seen : g->nslots;

	out->n = 0;
	for (i = 0; i < n; i++) {
		const struct om_slot *s = (const void *)(map + g->slots_off + i * g->slot_size);
		struct om_proc_info *p = &out->p[out->n];

		if (!__atomic_load_n(&s->head.claims, __ATOMIC_RELAXED))
			continue;
		p->pid = (uint32_t)__atomic_load_n(&s->head.pid, __ATOMIC_RELAXED);
		copy_str(p->comm, s->head.comm, sizeof p->comm);
		copy_str(p->cmd, s->cmd, sizeof p->cmd);
		p->live = live && live[i];
		memset(p->socks, 0, sizeof p->socks);
		memset(p->bytes, 0, sizeof p->bytes);
		memset(p->open, 0, sizeof p->open);
		for (unsigned t = 0; t < OM_TBLOCKS; t++)
			for (int c = 0; c < OM_NCLASS; c++)
				for (int d = 0; d < OM_NDIR; d++)
					p->bytes[c][d] += ld(&s->t[t].bytes[c][d]);
		if (p->live && __atomic_load_n(&s->head.settled, __ATOMIC_RELAXED) ==
				       __atomic_load_n(&s->head.claims, __ATOMIC_RELAXED)) {
			int c;

			for (c = 0; c < OM_NKCLASS; c++) {
				int64_t n = (int64_t)(ld(&s->p.socks_opened[c]) - ld(&s->p.socks_closed[c]));

				p->socks[c] = n > 0 ? (uint64_t)n : 0;
			}
			for (c = 0; c < OM_NCLASS; c++) {
				int64_t n = (int64_t)(ld(&s->p.opened[c]) - ld(&s->p.closed[c]));

				p->open[c] = n > 0 ? (uint64_t)n : 0;
			}
		}
		out->n++;
	}
}

static int procs(struct om_reader *r, void *arg)
{
	const struct om_header *h = (const void *)r->map;
	unsigned short live[OM_LIVE_MAX];
	uint64_t hwm = ld(&h->slots_hwm);
	int known = !om_live_check(r->sem_id, r->sem_key, r->g.nslots, r->owner) &&
		    om_live_all(r->sem_id, live) == 0;

	/* untrusted, as in a snapshot: the mark only grows, and is clamped */
	if (hwm > r->hwm_seen)
		r->hwm_seen = hwm < r->g.nslots ? hwm : r->g.nslots;

	om_procs_from(r->map, &r->g, r->hwm_seen, known ? live : 0, arg);
	return 0;
}

int om_reader_procs(struct om_reader *r, struct om_procs *out)
{
	out->n = 0;
	return guarded(r, procs, out);
}

unsigned om_recs_find(const char *map, const struct om_geom *g, uint64_t cookie)
{
	const struct om_rec *t = (const struct om_rec *)(map + g->recs_off);
	uint32_t h = om_rec_home(cookie), k;

	for (k = 0; cookie && k < OM_REC_PROBE; k++) {
		const struct om_rec *e = &t[(h + k) % OM_NRECS];
		uint8_t cls;

		if (__atomic_load_n(&e->cookie, __ATOMIC_ACQUIRE) != cookie)
			continue;
		cls = __atomic_load_n(&e->cls, __ATOMIC_ACQUIRE);
		return cls >= 1 && cls <= OM_NCLASS ? cls : 0; /* untrusted */
	}
	return 0;
}

static int knows(struct om_reader *r, void *arg)
{
	return om_recs_find(r->map, &r->g, *(const uint64_t *)arg) != 0;
}

int om_reader_knows(struct om_reader *r, uint64_t cookie)
{
	return guarded(r, knows, &cookie) > 0;
}

int om_reader_remove(struct om_reader *r)
{
	struct om_totals t;

	if (om_reader_snapshot(r, &t) < 0)
		return -1;
	if (!t.live_known) {
		snprintf(r->error, sizeof r->error, "%s: %s; not removed", r->path, r->live_error);
		return -1;
	}
	if (t.processes) {
		snprintf(r->error, sizeof r->error,
			 "%s: %llu live process(es) still count into it; not removed", r->path,
			 (unsigned long long)t.processes);
		return -1;
	}
	if (semctl(r->sem_id, 0, IPC_RMID) < 0 || unlink(r->path) < 0) {
		snprintf(r->error, sizeof r->error, "%s: %s", r->path, strerror(errno));
		return -1;
	}
	om_reader_close(r);
	return 0;
}
