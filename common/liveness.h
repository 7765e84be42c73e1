/* The liveness semaphore set: one semaphore per slot, raised to 1 with
 * SEM_UNDO by the process holding the slot and dropped by the kernel when
 * that process exits.  Shared by the shim (claims) and the exporter (reads
 * every slot's state with one call). */
#ifndef OM_LIVENESS_H
#define OM_LIVENESS_H

#include <stdint.h>
#include <sys/types.h>

/* Does set id belong to this segment?  It must carry the key the header
 * names, have one semaphore per slot, and belong to the segment file's
 * owner.  A reader in another IPC namespace sees another set (or none)
 * under the same id: this is how it notices.  NULL if usable, else why. */
const char *om_live_check(int id, uint32_t key, uint32_t nslots, uid_t owner);

/* Every slot's semaphore value (nonzero: a live process holds it). */
int om_live_all(int id, unsigned short *vals);
/* Is id, from here, the set with this key and size?  1 or 0. */
int om_live_is(int id, uint32_t key, uint32_t nslots);

/* Create a set of n semaphores for the segment at path, readable as mode
 * says (never writable by group or others); fills key.  Returns the id or
 * -1.  Sets outlive files: a segment removed with rm (by hand, a tmpfiles
 * cleaner, a container runtime) leaves its set until reboot, and at
 * SEMMNI no program on the host can make one.  So the key is the path's
 * (OM_LIVE_KEY_TAG in the top 4 bits, 28 bits of its hash): the set of a
 * previous segment at the same path is removed first if it is ours, was
 * used, no live process holds any of its semaphores, and no file is at
 * path (two processes creating the first segment at once keep theirs).  A path whose key is busy
 * with live holders gets a random key in the same space. */
int om_live_create(uint32_t n, mode_t mode, const char *path, uint32_t *key);
#define OM_LIVE_KEY_TAG 0xAu /* a key >> 28 of this is onionmeter's */
void om_live_remove(int id);

#endif
