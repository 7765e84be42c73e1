/* The liveness semaphore set: one semaphore per slot, raised to 1 with
 * SEM_UNDO by the process holding the slot and dropped by the kernel when
 * that process exits.  Shared by the shim (claims) and the exporter (reads
 * every slot's state with one call).
 *
 * After the slots' semaphores, one per group of OM_LIVE_GROUP slots: how
 * many of the group's slots are held, raised and dropped in the same
 * semop as the slot's, and undone with it.  A new process finds a group
 * with room from these (64 values at most) and then a slot in that group,
 * instead of reading every slot's value.  Only a hint: anyone able to
 * write the set can set it to anything, and then the claim reads every
 * slot as before. */
#ifndef OM_LIVENESS_H
#define OM_LIVENESS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/segment_layout.h"

/* Does set id belong to this segment?  It must carry the key the header
 * names, have om_live_nsems(nslots) semaphores, and belong to the segment
 * file's owner.  A reader in another IPC namespace sees another set (or
 * none) under the same id: this is how it notices.  NULL if usable, else
 * why. */
const char *om_live_check(int id, uint32_t key, uint32_t nslots, uid_t owner);

#define OM_LIVE_GROUP 64u

static inline uint32_t om_live_groups(uint32_t nslots)
{
	return (nslots + OM_LIVE_GROUP - 1) / OM_LIVE_GROUP;
}

/* The set's size for nslots slots, and the most any segment has. */
static inline uint32_t om_live_nsems(uint32_t nslots)
{
	return nslots + om_live_groups(nslots);
}
#define OM_LIVE_MAX (OM_SLOTS_MAX + OM_SLOTS_MAX / OM_LIVE_GROUP)
_Static_assert(OM_SLOTS_MAX / OM_LIVE_GROUP <= 64, "a claim keeps the groups in one word");

/* Every semaphore's value, into vals[OM_LIVE_MAX]: slot i's at i (nonzero:
 * a live process holds it), then the groups' counts. */
int om_live_all(int id, unsigned short *vals);
/* Take slot i if no one holds it (0; -1 with errno EAGAIN if held), and
 * let it go; both with SEM_UNDO, the group's count with the slot. */
int om_live_take(int id, uint32_t nslots, uint32_t i);
void om_live_drop(int id, uint32_t nslots, uint32_t i);
/* Is id, from here, the set with this key and size?  1 or 0. */
int om_live_is(int id, uint32_t key, uint32_t nslots);

/* Create the set for a segment of nslots slots at path, readable as mode
 * says (never writable by group or others); fills key.  Returns the id or
 * -1.  Sets outlive files: a segment removed with rm (by hand, a tmpfiles
 * cleaner, a container runtime) leaves its set until reboot, and at
 * SEMMNI no program on the host can make one.  So the key is the path's
 * (OM_LIVE_KEY_TAG in the top 4 bits, 28 bits of its hash): the set of a
 * previous segment at the same path is removed first if it is ours, was
 * used, no live process holds any of its semaphores, and no file is at
 * path (two processes creating the first segment at once keep theirs).  A path whose key is busy
 * with live holders gets a random key in the same space. */
int om_live_create(uint32_t nslots, mode_t mode, const char *path, uint32_t *key);
#define OM_LIVE_KEY_TAG 0xAu /* a key >> 28 of this is onionmeter's */
void om_live_remove(int id);

#endif
