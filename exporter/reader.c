#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segment.h"

int om_reader_init(struct om_reader *r, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	snprintf(r->name, sizeof r->name, "%s", name);
	if (om_seg_path(name, r->path, sizeof r->path) < 0) {
		snprintf(r->error, sizeof r->error,
			 "segment name must be /NAME or an absolute path");
		return -1;
	}
	return 0;
}

void om_reader_close(struct om_reader *r)
{
	if (r->hdr)
		munmap((void *)r->hdr, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->hdr = 0;
	r->fd = -1;
}

static int attach(struct om_reader *r)
{
	struct stat st;
	const char *why;
	void *map;
	int fd;

	fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		snprintf(r->error, sizeof r->error, "%s: %s%s", r->path,
			 strerror(errno),
			 errno == ENOENT ? " (no process has attached yet)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)OM_HEADER_SIZE ||
	    (uint64_t)st.st_size > om_layout_size(OM_SLOTS_MAX)) {
		snprintf(r->error, sizeof r->error,
			 "%s: not a segment file (wrong type or size)", r->path);
		close(fd);
		return -1;
	}
	map = mmap(0, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(r->error, sizeof r->error, "%s: mmap: %s", r->path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	why = om_layout_check(map, (uint64_t)st.st_size);
	if (why) {
		snprintf(r->error, sizeof r->error, "%s: %s", r->path, why);
		munmap(map, (size_t)st.st_size);
		close(fd);
		return -1;
	}
	om_reader_close(r);
	r->hdr = map;
	r->size = (size_t)st.st_size;
	r->nslots = r->hdr->nslots;
	r->fd = fd;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	return 0;
}

/* Re-attach when the path now names another file (segment recreated). */
static int current(struct om_reader *r)
{
	struct stat st;

	if (r->hdr && stat(r->path, &st) == 0 && st.st_dev == r->dev &&
	    st.st_ino == r->ino)
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

static void sum_block(const struct om_block *b, struct om_totals *t,
		      int64_t *gauge)
{
	int c, i;

	for (c = 0; c < OM_NCLASS; c++) {
		for (i = 0; i < OM_NDIR; i++)
			t->bytes[c][i] += ld(&b->bytes[c][i]);
		for (i = 0; i < OM_NOUTCOME; i++)
			t->dials[c][i] += ld(&b->dials[c][i]);
		for (i = 0; i <= OM_NBUCKET; i++)
			t->dial_bucket[c][i] += ld(&b->dial_bucket[c][i]);
		t->dial_sum_ns[c] += ld(&b->dial_sum_ns[c]);
		t->accepted[c] += ld(&b->accepted[c]);
		gauge[c] += (int64_t)(ld(&b->opened[c]) - ld(&b->closed[c]));
	}
	for (i = 0; i < OM_NLEAK; i++) {
		t->leaks[i][0] += ld(&b->leaks[i][0]);
		t->leaks[i][1] += ld(&b->leaks[i][1]);
	}
	t->proxy_unreachable += ld(&b->proxy_unreachable);
}

int om_reader_sum(const void *map, size_t len, int fd, struct om_totals *t,
		  const char **why)
{
	const struct om_header *h = map;
	const struct om_slot *slots;
	uint64_t hwm;
	uint32_t n, i, k;

	memset(t, 0, sizeof *t);
	*why = om_layout_check(h, len);
	if (*why)
		return -1;
	n = h->nslots;
	hwm = ld(&h->slots_hwm);
	if (hwm < n) /* untrusted: only ever narrows the scan */
		n = (uint32_t)hwm;
	slots = (const void *)((const char *)map + OM_HEADER_SIZE);
	t->slots = h->nslots;
	t->attach_failures = ld(&h->attach_failures);
	for (i = 0; i < n; i++) {
		const struct om_slot *s = &slots[i];
		int64_t gauge[OM_NCLASS] = { 0 };
		int live, c;

		if (!ld(&s->head.claims))
			continue;
		t->slots_used++;
		live = fd >= 0 && om_seg_locked(fd, om_live_lock_off(i)) == 1;
		for (k = 0; k < OM_BLOCKS_PER_SLOT; k++)
			if (ld(&s->blocks[k].used))
				sum_block(&s->blocks[k], t, gauge);
		if (!live)
			continue;
		t->processes++;
		for (c = 0; c < OM_NCLASS; c++)
			if (gauge[c] > 0)
				t->open_now[c] += (uint64_t)gauge[c];
	}
	return 0;
}

/* Run fn over the mapping with SIGBUS caught: a file truncated under us
 * turns into an error for this scrape, never a crash. */
static int guarded(struct om_reader *r, int (*fn)(struct om_reader *, void *),
		   void *arg)
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
		snprintf(r->error, sizeof r->error,
			 "%s: segment was truncated under us", r->path);
		om_reader_close(r);
		return -1;
	}
	bus_jmp = &jb;
	rc = fn(r, arg);
	bus_jmp = 0;
	sigaction(SIGBUS, &old, 0);
	return rc;
}

static int snapshot(struct om_reader *r, void *arg)
{
	struct om_totals *t = arg;
	const char *why = 0;

	/* Sum within the size we validated at attach, whatever the header
	 * says now: a writer cannot widen our reads. */
	if (om_reader_sum(r->hdr, r->size, r->fd, t, &why) == 0 && t->slots != r->nslots)
		why = "segment geometry changed under us";
	if (why) {
		snprintf(r->error, sizeof r->error, "%s: %s", r->path, why);
		om_reader_close(r);
		return -1;
	}
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

/* Only called on a mapping that passed om_layout_check for len. */
void om_events_from(const void *map, size_t len, struct om_events *out)
{
	const struct om_header *h = map;
	const struct om_ring_entry *ring;
	unsigned i;

	out->n = 0;
	if (om_layout_check(h, len))
		return;
	ring = (const void *)((const char *)map + h->ring_off);
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
	om_events_from(r->hdr, r->size, arg);
	return 0;
}

int om_reader_events(struct om_reader *r, struct om_events *out)
{
	out->n = 0;
	return guarded(r, events, out);
}
