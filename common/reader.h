/* Read-only view of one segment, and the totals a scrape reports.
 *
 * The segment is untrusted input.  It is opened without following a
 * symlink, only as a regular file, mapped PROT_READ; its header is copied
 * and validated once per attach, and from then on the reader works from
 * its private geometry: nothing read from the segment later (a slot count,
 * a mark, a length) is used as an index or size without clamping to it.
 * A SIGBUS from a file truncated under us ends the scrape with the segment
 * down instead of the process, and a file replaced at the path is noticed
 * and re-attached.  Liveness is one semctl(GETALL) on the segment's
 * semaphore set, checked to be the set the header names. */
#ifndef OM_READER_H
#define OM_READER_H

#include <limits.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/segment_layout.h"

struct om_totals {
	/* the process block's SUM counters (OM_PBLOCK_COUNTERS), over slots */
#define OM_TOTALS_FIELD_SUM(field, dims) uint64_t field dims;
#define OM_TOTALS_FIELD_LIVE(field, dims)
#define OM_TOTALS_FIELD(field, dims, how) OM_TOTALS_FIELD_##how(field, dims)
	OM_PBLOCK_COUNTERS(OM_TOTALS_FIELD)
	uint64_t bytes[OM_NCLASS][OM_NDIR]; /* the thread blocks' */
	uint64_t open_now[OM_NCLASS]; /* opened - closed, live slots only */
	uint64_t socks_open[OM_NKCLASS]; /* TCP sockets held, by peer; live slots only */
	uint64_t processes; /* live slots */
	uint64_t slots, slots_used;
	uint64_t uncounted[OM_NUNCOUNTED];
	uint64_t policy[OM_NPOLICY][2]; /* live processes by policy, enforce */
	uint64_t policy_seen[OM_NPOLICY][2]; /* every slot's last holder, live or not */
	int live_known; /* 0: the liveness semaphores cannot be read */
};

/* One leak event, copied out of the ring and validated. */
struct om_event {
	uint64_t pos; /* ring position: order of recording */
	uint64_t time_ns;
	uint32_t pid;
	uint8_t kind, action, family, truncated;
	uint16_t port;
	uint8_t addr[16];
	char name[64];
	char comm[16];
};

struct om_events {
	int n; /* oldest first */
	struct om_event ev[OM_RING_ENTRIES];
};

/* The last holder of each slot ever claimed: who the events' pids were. */
struct om_proc_info {
	uint32_t pid;
	int live;
	uint64_t socks[OM_NKCLASS]; /* TCP sockets it holds now by peer, if live */
	/* the slot's bytes, over every process that held it (a slot is
	 * reused: the counts stay for the next holder), and the connections
	 * open now if live */
	uint64_t bytes[OM_NCLASS][OM_NDIR];
	uint64_t open[OM_NCLASS];
	char comm[16];
	char cmd[OM_CMD_LEN]; /* its command line, NULs made spaces; may be empty */
};

struct om_procs {
	int n;
	struct om_proc_info p[OM_SLOTS_MAX];
};

struct om_reader {
	char name[PATH_MAX]; /* as given on the command line */
	char path[PATH_MAX];
	const char *map;
	struct om_geom g; /* copied at attach; never re-read */
	int sem_id;
	uint32_t sem_key;
	uid_t owner;
	uint64_t hwm_seen; /* slots ever claimed grow only: a smaller mark is a lie */
	uint64_t mapped_in; /* bytes of the mapping whose page tables are filled;
			     * UINT64_MAX: the kernel cannot, not asked again */
	dev_t dev;
	ino_t ino;
	unsigned attaches; /* successful attaches: a change while up is a replacement */
	uid_t trust[8]; /* owners trusted beside root and our euid (--segment-owner) */
	int ntrust;
	char error[PATH_MAX + 160]; /* why it is not up, for humans */
	const char *live_error;     /* why liveness is unknown, or NULL */
};

int om_reader_init(struct om_reader *r, const char *name);
/* Whose segment is read.  A segment is trusted if no one but its owner
 * could have put it at its path: not writable by group or others, and
 * owned by root, by us, by a uid given here, or by the owner of a
 * directory that only that owner can write (a systemd RuntimeDirectory).
 * In a directory anyone can write (/dev/shm, /tmp) any other owner may be
 * an attacker who planted a valid segment before the victims came. */
int om_reader_trust(struct om_reader *r, uid_t uid);
/* Why the file st at path is not trusted, or NULL. */
const char *om_reader_untrusted(const struct om_reader *r, const char *path,
				const struct stat *st, char *why, size_t n);
/* Attach if needed (segment created or replaced since), then sum.  Returns
 * 0 and fills t if the segment is up, else -1 with r->error set. */
int om_reader_snapshot(struct om_reader *r, struct om_totals *t);
void om_reader_close(struct om_reader *r);

/* Delete the segment: its liveness semaphores and its file, once no live
 * process holds a slot.  0, or -1 with r->error set. */
int om_reader_remove(struct om_reader *r);

/* Copy the valid, complete events out of the ring, oldest first. */
int om_reader_events(struct om_reader *r, struct om_events *out);
/* The last holder of every slot ever claimed. */
int om_reader_procs(struct om_reader *r, struct om_procs *out);

/* Does the segment hold a record of the socket with this cookie, that is,
 * did a shim decide its class (a proxied or onion dial, an accepted onion
 * service connection)?  1 or 0; 0 if the segment is down. */
int om_reader_knows(struct om_reader *r, uint64_t cookie);

/* Pure parts, exposed for the fuzzer and tests: sum an image whose
 * geometry g was validated (om_layout_check) for at least g->size bytes;
 * live[i] is slot i's semaphore, or live is NULL (every slot dead). */
void om_reader_sum(const char *map, const struct om_geom *g,
		   const unsigned short *live, struct om_totals *t, uint64_t *hwm_seen);
void om_events_from(const char *map, const struct om_geom *g, struct om_events *out);
/* The recorded class + 1 of cookie's socket in an image, or 0. */
unsigned om_recs_find(const char *map, const struct om_geom *g, uint64_t cookie);
void om_procs_from(const char *map, const struct om_geom *g, uint64_t hwm_seen,
		   const unsigned short *live, struct om_procs *out);

#endif
