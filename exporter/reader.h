/* Read-only view of one segment, and the totals a scrape reports.
 *
 * The segment is untrusted input: it is mapped PROT_READ, its geometry is
 * validated once at attach and copied, nothing read from it later is used as
 * an index or length, and a SIGBUS from a file truncated under us aborts
 * the snapshot instead of the process. */
#ifndef OM_READER_H
#define OM_READER_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "segment_layout.h"

struct om_totals {
	uint64_t bytes[OM_NCLASS][OM_NDIR];
	uint64_t dials[OM_NCLASS][OM_NOUTCOME];
	uint64_t dial_bucket[OM_NCLASS][OM_NBUCKET + 1];
	uint64_t dial_sum_ns[OM_NCLASS];
	uint64_t open_now[OM_NCLASS]; /* live slots only */
	uint64_t accepted[OM_NCLASS];
	uint64_t leaks[OM_NLEAK][OM_NACTION];
	uint64_t proxy_unreachable;
	uint64_t processes; /* live slots */
	uint64_t slots, slots_used, attach_failures;
};

/* One leak event, copied out of the ring and validated. */
struct om_event {
	uint64_t pos; /* ring position: order of recording */
	uint64_t time_ns;
	uint32_t pid;
	uint8_t kind, action, family;
	uint16_t port;
	uint8_t addr[16];
	char name[64];
	char comm[16];
};

struct om_events {
	int n; /* oldest first */
	struct om_event ev[OM_RING_ENTRIES];
};

struct om_reader {
	char name[PATH_MAX]; /* as given on the command line */
	char path[PATH_MAX];
	const struct om_header *hdr;
	size_t size;
	uint32_t nslots; /* copied at attach; never re-read */
	int fd;
	dev_t dev;
	ino_t ino;
	char error[PATH_MAX + 160]; /* why it is not up, for humans */
};

int om_reader_init(struct om_reader *r, const char *name);
/* Attach if needed (segment created or replaced since), then sum.  Returns
 * 0 and fills t if the segment is up, else -1 with r->error set. */
int om_reader_snapshot(struct om_reader *r, struct om_totals *t);
void om_reader_close(struct om_reader *r);

/* Copy the valid, complete events out of the ring, oldest first. */
int om_reader_events(struct om_reader *r, struct om_events *out);
void om_events_from(const void *map, size_t len, struct om_events *out);

/* Exposed for the fuzzer: validate and sum a mapped image of len bytes;
 * liveness probes are skipped when fd < 0 (every slot counts as dead). */
int om_reader_sum(const void *map, size_t len, int fd, struct om_totals *t,
		  const char **why);

#endif
