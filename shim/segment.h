/* Attaching the shim to the shared-memory segment: create or open it,
 * claim a slot, re-claim after fork. */
#ifndef OM_SEGMENT_H
#define OM_SEGMENT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "segment_layout.h"

struct om_seg {
	struct om_header *hdr;
	size_t size;
	int fd; /* O_RDWR|O_CLOEXEC, moved high; carries our OFD locks */
	uint32_t slot;
	struct om_slot *me;
	char path[PATH_MAX];
};

/* Map a segment name to a path: "/name" (one slash, as shm_open takes) is
 * /dev/shm/name; any other absolute path is used as is.  -1 if invalid. */
int om_seg_path(const char *name, char *out, size_t outlen);

/* Open the segment at path, creating it (mode, nslots) if missing.  Fills
 * s->hdr/size/fd.  On failure returns -1 with a reason in why. */
int om_seg_open(struct om_seg *s, const char *path, mode_t mode,
		uint32_t nslots, const char **why);

/* Claim a free slot and settle the gauges the last holder left behind. */
int om_seg_claim(struct om_seg *s, const char **why);

/* In a fork child: get our own open file description (the inherited one
 * carries the parent's locks) and claim a slot of our own. */
int om_seg_reclaim_in_child(struct om_seg *s, const char **why);

void om_seg_detach(struct om_seg *s);

/* OFD lock helpers, also used by tests: 1 if someone holds a write lock on
 * byte off (seen from fd), 0 if not, -1 on error. */
int om_seg_lock(int fd, uint64_t off);
int om_seg_locked(int fd, uint64_t off);

#endif
