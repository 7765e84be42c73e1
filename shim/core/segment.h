/* The writer's side of the segment: open it (or create it) under the trust
 * rules, map it, claim a slot, settle the slot's gauges.
 *
 * Trust: the segment is input from whoever can write the file.  It is
 * accepted only from this process's effective user or root, only as a
 * regular file reached without following a symlink, and never when group
 * or others may write it.  Its header is read once, through pread() into
 * private memory, checked against the file's real size, and never read
 * again: every offset the shim uses comes from its private om_geom.  No fd
 * is kept after attach; the mapping holds the file. */
#ifndef OM_SEGMENT_H
#define OM_SEGMENT_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/segment_layout.h"

struct om_seg {
	char *map;        /* MAP_SHARED mapping of the whole file, or NULL */
	size_t size;      /* == g.size */
	struct om_geom g; /* private, validated once */
	int sem_id;
	uint32_t sem_key;
	volatile int detached; /* the mapping was replaced by private memory */
	char path[PATH_MAX];
};

/* Open (creating with mode and nslots if missing), check and map.  On
 * success the file stays open in *fd for om_seg_claim.  On failure -1 with
 * a reason in why. */
int om_seg_map(struct om_seg *s, const char *path, mode_t mode, uint32_t nslots,
	       int *fd, const char **why);

/* Claim a slot for this process: the one it held before exec if any, else
 * a free one; allocate its pages (through fd, or by touching them when
 * fd < 0, as in a fork child) and settle its gauges.  Fills *slot. */
int om_seg_claim(struct om_seg *s, int fd, uint32_t *slot, const char **why);

/* The process's System V undo list was replaced (unshare or setns with
 * CLONE_SYSVSEM or CLONE_NEWIPC): the kernel applied its SEM_UNDO as at
 * exit, and the slot reads free while we live.  Hold it again: 0, or -1
 * if this segment's set is not reachable from here (another IPC
 * namespace) or another process took the slot meanwhile. */
int om_seg_rehold(struct om_seg *s, uint32_t slot);

/* Give the slot back (the process goes on uncounted). */
void om_seg_release(struct om_seg *s, uint32_t slot);

static inline struct om_slot *om_seg_slot(const struct om_seg *s, uint32_t i)
{
	return (struct om_slot *)(s->map + s->g.slots_off + (uint64_t)i * s->g.slot_size);
}

static inline struct om_header *om_seg_hdr(const struct om_seg *s)
{
	return (struct om_header *)s->map;
}

#endif
