/* onionmeter shared-memory segment layout, version 7.
 *
 * This header is the whole contract between the preload library (the only
 * writer) and the exporter (a reader that trusts nothing it reads).  Change
 * anything below and OM_LAYOUT_VERSION must change with it.
 *
 *   [header, 4 KiB] [pid table] [slot 0] ... [slot n-1] [socket records] [leak ring]
 *   [handshakes in hand-off] [pid index]
 *
 * Every offset and size follows from the slot count alone (om_geom_compute):
 * a header whose fields disagree with that computation is refused, and both
 * sides work from their own private copy of the geometry, never from the
 * header again.  The segment is untrusted input to both of them.
 *
 * Liveness is not in the file.  A System V semaphore set made with the
 * segment holds one semaphore per slot; a process claims slot i by raising
 * semaphore i from 0 to 1 with SEM_UNDO, and the kernel undoes that when
 * the process exits, however it exits.  After them, one per 64 slots counts
 * the group's held slots, moved in the same semop (liveness.h; version 7).
 * Readers learn every slot's liveness with one semctl(GETALL) and cannot
 * change it without write permission on the set.  The header names the
 * set by id and by a random key, so a reader in another IPC namespace
 * notices that it sees a different set.
 *
 * Counters in a slot are cumulative across every process that ever held it:
 * a dead process's counts stay, the next holder adds on top, and totals
 * never go backwards.  Byte counts live in per-thread blocks (one writer
 * each, a plain add); everything else in the slot's process block, updated
 * with atomic adds.  The open-connections gauge is opened - closed; a new
 * holder first sets closed = opened and only then marks the slot settled,
 * so a reader never sees a dead process's connections as open. */
#ifndef OM_SEGMENT_LAYOUT_H
#define OM_SEGMENT_LAYOUT_H

#include <stdint.h>

#define OM_MAGIC 0x5254454d4e4f494fULL /* "OIONMETR" little-endian */
#define OM_LAYOUT_VERSION 7u
#define OM_HEADER_SIZE 4096u
#define OM_PAGE 4096u /* regions are aligned to this; also the largest slot granule */

#define OM_SLOTS_DEFAULT 128u
#define OM_SLOTS_MAX 4096u
#define OM_TBLOCKS 64u /* per-thread byte blocks per slot; the last is shared */
#define OM_RING_ENTRIES 256u
#define OM_NRECS 4096u /* socket records (class of a socket across processes) */
#define OM_NHAND 1024u /* proxy handshakes visible to every holder of their socket */

enum om_class {
	OM_CLASS_ONION,
	OM_CLASS_PROXIED,
	OM_CLASS_DIRECT,
	OM_CLASS_LOCAL,
	OM_NCLASS
};

enum om_dir { OM_INGRESS, OM_EGRESS, OM_NDIR };

enum om_outcome {
	OM_OUT_SUCCESS,
	OM_OUT_REFUSED,
	OM_OUT_TIMEOUT,
	OM_OUT_UNREACHABLE,
	OM_OUT_DENIED,
	OM_OUT_PROXY_ERROR,
	OM_OUT_ABORTED,
	OM_OUT_ERROR,
	OM_OUT_ONION_NOT_FOUND,          /* SOCKS5 0xF0 */
	OM_OUT_ONION_INVALID_DESCRIPTOR, /* 0xF1 */
	OM_OUT_ONION_INTRO_FAILED,       /* 0xF2 */
	OM_OUT_ONION_RENDEZVOUS_FAILED,  /* 0xF3 */
	OM_OUT_ONION_AUTH_REQUIRED,      /* 0xF4 */
	OM_OUT_ONION_AUTH_FAILED,        /* 0xF5 */
	OM_OUT_ONION_BAD_ADDRESS,        /* 0xF6 */
	OM_OUT_ONION_INTRO_TIMEOUT,      /* 0xF7 */
	OM_NOUTCOME
};

enum om_leak {
	OM_LEAK_DIRECT_CONNECT,
	OM_LEAK_PROXIED_CLEARNET,
	OM_LEAK_UDP,
	OM_LEAK_DNS,
	OM_LEAK_ONION_DNS,
	OM_NLEAK
};

enum om_action { OM_ACT_OBSERVED, OM_ACT_BLOCKED, OM_NACTION };

/* Where a socket's peer is, as the kernel's view can tell without seeing
 * the conversation: a listed proxy, another address, or a local one.  The
 * shim keeps a gauge of its TCP sockets by these, for the exporter to
 * compare with the kernel's. */
enum om_kclass { OM_KCLASS_PROXY, OM_KCLASS_DIRECT, OM_KCLASS_LOCAL, OM_NKCLASS };

enum om_policy { OM_POLICY_AUDIT, OM_POLICY_TOR_ONLY, OM_POLICY_ONION_ONLY, OM_NPOLICY };

/* Why a process that found this segment ran uncounted (those that could
 * say so: a process refused by the segment cannot write to it). */
enum om_uncounted {
	OM_UNC_NO_SLOT,  /* every slot held by a live process */
	OM_UNC_NO_SPACE, /* the filesystem could not hold the process's slot */
	OM_NUNCOUNTED
};
#define OM_UNCOUNTED_MAX 8 /* room in the header */

/* Dial latency buckets, upper bounds in nanoseconds.  Onion dials take
 * seconds, loopback dials microseconds: 1 ms .. 120 s covers both. */
#define OM_NBUCKET 16
#define OM_BUCKET_BOUNDS_NS                                                   \
	{ 1000000ULL, 2500000ULL, 5000000ULL, 10000000ULL, 25000000ULL,       \
	  50000000ULL, 100000000ULL, 250000000ULL, 500000000ULL,              \
	  1000000000ULL, 2500000000ULL, 5000000000ULL, 10000000000ULL,        \
	  30000000000ULL, 60000000000ULL, 120000000000ULL }

/* One thread's byte counters.  Written by one thread with plain adds. */
struct om_tblock {
	uint64_t owner; /* 0 free, else a small per-process token; never an address */
	uint64_t used;  /* nonzero once any thread has written here */
	uint64_t bytes[OM_NCLASS][OM_NDIR];
	uint64_t reserved[6];
};

/* The process's event counters: connection and dial events, leaks.  Any
 * thread of the holder adds to them atomically.  One table, in layout
 * order: it makes this block, the reader's totals and their sum
 * (common/reader.c).  X(field, dimensions, how): SUM counters are summed
 * over every slot, live or dead; LIVE ones are halves of a gauge, read in
 * live slots only (opened - closed).  The offsetof asserts below pin
 * layout version 4: a change here that moves them is a new version. */
#define OM_PBLOCK_COUNTERS(X)                                                 \
	X(opened, [OM_NCLASS], LIVE)      /* connections established ... */   \
	X(closed, [OM_NCLASS], LIVE)      /* ... and closed */                \
	X(accepted, [OM_NCLASS], SUM)                                          \
	X(dials, [OM_NCLASS][OM_NOUTCOME], SUM)                                \
	X(dial_bucket, [OM_NCLASS][OM_NBUCKET + 1], SUM) /* last: > 120 s */   \
	X(dial_sum_ns, [OM_NCLASS], SUM)                                       \
	X(leaks, [OM_NLEAK][OM_NACTION], SUM)                                  \
	X(proxy_unreachable, , SUM)                                            \
	/* TCP sockets connected or accepted, by peer (enum om_kclass), and     \
	 * closed: every connection the process holds, failed or mid-handshake \
	 * dials included, as the kernel lists them */                         \
	X(socks_opened, [OM_NKCLASS], LIVE)                                    \
	X(socks_closed, [OM_NKCLASS], LIVE)

struct om_pblock {
#define OM_PBLOCK_FIELD(field, dims, how) uint64_t field dims;
	OM_PBLOCK_COUNTERS(OM_PBLOCK_FIELD)
#undef OM_PBLOCK_FIELD
	uint64_t reserved[3];
};

struct om_slot_head {
	uint64_t claims;   /* times this slot was claimed; only grows */
	uint64_t settled;  /* equals claims once the holder settled the gauges */
	uint64_t pid;      /* last claimer, for humans; never a label */
	uint64_t start_ns; /* CLOCK_REALTIME of the last claim */
	char comm[16];     /* last claimer's program name, NUL padded */
	uint8_t policy;    /* enum om_policy in force in the holder */
	uint8_t enforce;
	uint8_t pad[2];
	uint32_t tblocks_hwm; /* thread blocks [0, hwm) were ever used (untrusted: clamp) */
	uint64_t reserved;
};

#define OM_CMD_LEN 128

struct om_slot {
	struct om_slot_head head;
	struct om_pblock p;
	struct om_tblock t[OM_TBLOCKS];
	/* the last claimer's command line, NULs made spaces, cut to fit; for
	 * humans (the report), never a label */
	char cmd[OM_CMD_LEN];
};

/* A socket's class, for a process that receives it (SCM_RIGHTS, exec,
 * fork) and cannot tell it from the peer address.  Keyed by the kernel's
 * socket cookie, which is never reused while the system runs. */
struct om_rec {
	uint64_t cookie; /* 0 free; CAS to claim */
	uint32_t stamp;  /* insertion order, to pick a victim when full */
	uint8_t cls;     /* enum om_class, + 1 (0: being written) */
	uint8_t flags;
	uint16_t pad;
};

/* A cookie's record lies within OM_REC_PROBE entries of its home (cookies
 * count up: mixed, so that neighbours spread). */
#define OM_REC_PROBE 16
static inline uint32_t om_rec_home(uint64_t cookie)
{
	return (uint32_t)((cookie * 0x9e3779b97f4a7c15ULL) >> 52) % OM_NRECS;
}

/* A proxy handshake in progress, by socket cookie, for whichever process
 * holds the socket next: a handshake can be split between a parent and the
 * child it execs (bash's exec 3<>/dev/tcp, then dd for each step).  The
 * process doing a step locks the entry (lock: its thread id; a step is
 * short, a preempted one is waited for, up to half a second), loads a
 * newer state (seq), and writes its own back.  DONE:
 * the dial's outcome was counted, by whoever ended it; the others only
 * learn the class.  The state is parser state: a reader clamps every
 * length and index in it before use (shim/acct/handoff.c). */
struct om_hand {
	uint64_t cookie; /* 0 free; CAS to claim */
	uint32_t lock;
	uint32_t seq;
	uint32_t stamp; /* last write, to pick a victim when full */
	uint8_t state;  /* OM_HAND_* */
	uint8_t cls;    /* enum om_class, provisional until DONE */
	uint8_t flags;  /* the dial's OM_FDF_PROXY_EP, OM_FDF_REQ_DONE, OM_FDF_DECIDED */
	uint8_t stash_len;
	uint64_t t0, t_up;
	uint64_t pend[2];
	uint8_t req[100]; /* struct om_req */
	uint8_t rep[8];   /* struct om_rep */
	uint8_t stash[64];
	uint8_t pad[28];
};
enum { OM_HAND_FREE, OM_HAND_OPEN, OM_HAND_DONE };

/* The pid index: how an exec'd image finds the slot its old image claimed
 * (SEM_UNDO keeps it held across exec) without walking the pid table.
 * uint32_t entries, slot + 1 (0: never used), open addressing from the
 * pid's home over OM_PIDX_PROBE entries.  Entries are never emptied (a
 * look-up ends at an unused one): whoever claims a slot from another pid
 * turns that pid's entries for it into OM_PIDX_GONE, which an insert
 * reuses, as it does an entry whose slot's pid table entry names a pid
 * whose window does not hold it.  A hit is believed only where the slot's
 * semaphore says this pid holds it. */
#define OM_PIDX_PROBE 32u
#define OM_PIDX_GONE 0xFFFFFFFFu
static inline uint32_t om_pidx_home(uint32_t pid, uint32_t mask)
{
	return (uint32_t)(((uint64_t)pid * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}
#define OM_HAND_PROBE 8
static inline uint32_t om_hand_home(uint64_t cookie)
{
	return (uint32_t)((cookie * 0x9e3779b97f4a7c15ULL) >> 54) % OM_NHAND;
}

/* Leak event ring entry; written under a per-entry sequence word (odd while
 * being written) so a reader can drop torn entries. */
struct om_ring_entry {
	uint64_t seq;
	uint64_t time_ns; /* CLOCK_REALTIME */
	uint32_t pid;
	uint8_t kind;   /* enum om_leak */
	uint8_t action; /* enum om_action */
	uint8_t family; /* 0 name, 4 IPv4, 6 IPv6 */
	uint8_t flags;  /* OM_EVF_* */
	uint16_t port;
	uint8_t pad2[6];
	uint8_t addr[16];
	char name[64]; /* host name (a v3 onion is 62), NUL padded */
	char comm[16];
};
#define OM_EVF_TRUNCATED 1 /* the name was longer than name[] holds */

struct om_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size; /* total bytes of the segment */
	uint32_t nslots;
	uint32_t slot_size;
	uint32_t tblocks;
	uint32_t tblock_size;
	uint32_t pblock_size;
	uint32_t nrecs;
	uint64_t pidtab_off;
	uint64_t slots_off;
	uint64_t recs_off;
	uint64_t ring_off;
	uint32_t ring_entries;
	uint32_t ring_entry_size;
	uint64_t created_ns;
	uint32_t sem_key; /* the liveness semaphore set: its key ... */
	int32_t sem_id;   /* ... and id */
	uint64_t ready;   /* 1 once fully initialised */
	/* Written by every holder; never used as an index or size unclamped. */
	uint64_t ring_head;       /* next ring position; fetch_add */
	uint64_t slots_hwm;       /* slots [0, hwm) were ever claimed */
	uint64_t uncounted[OM_UNCOUNTED_MAX]; /* enum om_uncounted */
	uint64_t hand_off; /* version 5 */
	uint32_t nhand;
	uint32_t hand_size;
	uint64_t pidx_off; /* version 6 */
	uint32_t npidx;
	uint32_t pidx_full; /* an entry found no place: a look-up that misses walks */
	uint64_t reserved[12];
};

_Static_assert(sizeof(struct om_tblock) == 128, "thread block is two lines");
_Static_assert(sizeof(struct om_pblock) % 64 == 0, "process block is whole lines");
/* layout version 4's process block, field by field */
_Static_assert(sizeof(struct om_pblock) == 1344, "v4: process block size");
_Static_assert(__builtin_offsetof(struct om_pblock, accepted) == 64, "v4: accepted");
_Static_assert(__builtin_offsetof(struct om_pblock, dials) == 96, "v4: dials");
_Static_assert(__builtin_offsetof(struct om_pblock, dial_bucket) == 608, "v4: dial_bucket");
_Static_assert(__builtin_offsetof(struct om_pblock, dial_sum_ns) == 1152, "v4: dial_sum_ns");
_Static_assert(__builtin_offsetof(struct om_pblock, leaks) == 1184, "v4: leaks");
_Static_assert(__builtin_offsetof(struct om_pblock, proxy_unreachable) == 1264, "v4: proxy_unreachable");
_Static_assert(__builtin_offsetof(struct om_pblock, socks_opened) == 1272, "v4: socks_opened");
_Static_assert(__builtin_offsetof(struct om_pblock, socks_closed) == 1296, "v4: socks_closed");
_Static_assert(sizeof(struct om_slot) == 9728, "v4: slot size");
_Static_assert(sizeof(struct om_slot_head) == 64, "slot head is one line");
_Static_assert(sizeof(struct om_rec) == 16, "socket record size");
_Static_assert(sizeof(struct om_hand) == 256, "hand-off entry size");
_Static_assert(sizeof(struct om_ring_entry) == 128, "ring entry size");
_Static_assert(sizeof(struct om_header) <= OM_HEADER_SIZE, "header fits");
_Static_assert(OM_NUNCOUNTED <= OM_UNCOUNTED_MAX, "uncounted reasons fit");

/* Where everything is, computed from the slot count alone. */
struct om_geom {
	uint32_t nslots;
	uint32_t slot_size; /* sizeof(struct om_slot) rounded up to OM_PAGE */
	uint64_t pidtab_off, slots_off, recs_off, ring_off, hand_off, pidx_off, size;
	uint32_t npidx; /* a power of two, at least twice nslots */
};

#define OM_ROUND_PAGE(x) (((uint64_t)(x) + OM_PAGE - 1) / OM_PAGE * OM_PAGE)

static inline void om_geom_compute(uint32_t nslots, struct om_geom *g)
{
	g->nslots = nslots;
	g->slot_size = (uint32_t)OM_ROUND_PAGE(sizeof(struct om_slot));
	g->pidtab_off = OM_HEADER_SIZE;
	g->slots_off = g->pidtab_off + OM_ROUND_PAGE((uint64_t)nslots * sizeof(uint32_t));
	g->recs_off = g->slots_off + (uint64_t)nslots * g->slot_size;
	g->ring_off = g->recs_off + OM_ROUND_PAGE((uint64_t)OM_NRECS * sizeof(struct om_rec));
	g->hand_off = g->ring_off +
		      OM_ROUND_PAGE((uint64_t)OM_RING_ENTRIES * sizeof(struct om_ring_entry));
	g->pidx_off = g->hand_off + OM_ROUND_PAGE((uint64_t)OM_NHAND * sizeof(struct om_hand));
	for (g->npidx = 16; g->npidx < 2 * nslots; g->npidx <<= 1)
		;
	g->size = g->pidx_off + OM_ROUND_PAGE((uint64_t)g->npidx * sizeof(uint32_t));
}

/* Validate a header (a private copy of it) against this build's layout and
 * the file's real size.  Used by both sides, once, at attach.  Returns NULL
 * and fills g if the segment is usable, else a reason for a human. */
static inline const char *om_layout_check(const struct om_header *h,
					  uint64_t file_size, struct om_geom *g)
{
	if (file_size < OM_HEADER_SIZE)
		return "segment is smaller than its header";
	if (h->magic != OM_MAGIC)
		return "not an onionmeter segment (bad magic)";
	if (h->version != OM_LAYOUT_VERSION)
		return "segment layout version differs from this build (a segment left by another version: remove it once no process uses it, or choose another name)";
	if (!h->ready)
		return "segment was never completely initialised";
	if (h->nslots == 0 || h->nslots > OM_SLOTS_MAX)
		return "segment slot count out of range";
	om_geom_compute(h->nslots, g);
	if (h->header_size != OM_HEADER_SIZE || h->slot_size != g->slot_size ||
	    h->tblocks != OM_TBLOCKS || h->tblock_size != sizeof(struct om_tblock) ||
	    h->pblock_size != sizeof(struct om_pblock) || h->nrecs != OM_NRECS ||
	    h->ring_entries != OM_RING_ENTRIES ||
	    h->ring_entry_size != sizeof(struct om_ring_entry) || h->nhand != OM_NHAND ||
	    h->hand_size != sizeof(struct om_hand))
		return "segment geometry differs from this build";
	if (h->pidtab_off != g->pidtab_off || h->slots_off != g->slots_off ||
	    h->recs_off != g->recs_off || h->ring_off != g->ring_off || h->hand_off != g->hand_off ||
	    h->pidx_off != g->pidx_off || h->npidx != g->npidx)
		return "segment offsets are inconsistent";
	if (h->size != g->size || file_size < g->size)
		return "segment size does not match its header (truncated?)";
	return 0;
}

/* Label values, indexed by the enums above.  The exporter prints these. */
#define OM_CLASS_NAMES { "onion", "proxied", "direct", "local" }
#define OM_OUTCOME_NAMES                                                      \
	{ "success", "refused", "timeout", "unreachable", "denied",           \
	  "proxy_error", "aborted", "error", "onion_not_found",               \
	  "onion_invalid_descriptor", "onion_intro_failed",                   \
	  "onion_rendezvous_failed", "onion_auth_required",                   \
	  "onion_auth_failed", "onion_bad_address", "onion_intro_timeout" }
#define OM_LEAK_NAMES                                                         \
	{ "direct_connect", "proxied_clearnet", "udp", "dns", "onion_dns" }
#define OM_ACTION_NAMES { "observed", "blocked" }
#define OM_POLICY_NAMES { "audit", "tor-only", "onion-only" }
#define OM_KCLASS_NAMES { "proxy", "direct", "local" }
#define OM_UNCOUNTED_NAMES { "no_free_slot", "no_space" }

#endif
