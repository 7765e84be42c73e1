/* onionmeter shared-memory segment layout, version 2.
 *
 * This header is the whole contract between the preload library (the only
 * writer) and the exporter (a reader that trusts nothing it reads).  Change
 * anything below and OM_LAYOUT_VERSION must change with it.
 *
 *   [header, 4 KiB] [slot 0] [slot 1] ... [slot n-1] [leak ring]
 *
 * A slot belongs to at most one live process, proven by an OFD write lock on
 * the slot's first byte (the "claim" lock) that the kernel drops when the
 * process dies.  A second lock on the slot's second byte (the "live" lock) is
 * taken only after the claimer has settled the gauges it inherited, so a
 * reader that sees "live" can trust the slot's gauges.  A mapping pins the
 * open file description it was made from, and so its locks: the locks last
 * as long as the process keeps the segment mapped, even if the program
 * closes the fd, and a fork child must remap through its own description.  Counters in a slot are
 * cumulative across every process that ever held it: a dead process's counts
 * stay where they are and the totals never go backwards.
 *
 * Inside a slot each thread owns one counter block (single writer, updated
 * with one non-locked read-modify-write instruction); threads beyond the
 * private blocks share the last block with atomic adds.
 */
#ifndef OM_SEGMENT_LAYOUT_H
#define OM_SEGMENT_LAYOUT_H

#include <stdint.h>

#define OM_MAGIC 0x5254454d4e4f494fULL /* "OIONMETR" little-endian */
#define OM_LAYOUT_VERSION 2u
#define OM_HEADER_SIZE 4096u

#define OM_SLOTS_DEFAULT 128u
#define OM_SLOTS_MAX 4096u
#define OM_BLOCKS_PER_SLOT 17u /* 16 private + 1 shared overflow block */
#define OM_RING_ENTRIES 256u

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

/* Dial latency buckets, upper bounds in nanoseconds.  Onion dials take
 * seconds, loopback dials microseconds: 1 ms .. 120 s covers both. */
#define OM_NBUCKET 16
#define OM_BUCKET_BOUNDS_NS                                                   \
	{ 1000000ULL, 2500000ULL, 5000000ULL, 10000000ULL, 25000000ULL,       \
	  50000000ULL, 100000000ULL, 250000000ULL, 500000000ULL,              \
	  1000000000ULL, 2500000000ULL, 5000000000ULL, 10000000000ULL,        \
	  30000000000ULL, 60000000000ULL, 120000000000ULL }

/* One thread's counters.  Every field is a 64-bit word that only grows. */
struct om_block {
	uint64_t owner; /* 0 free, else owner token; CAS only */
	uint64_t used;  /* nonzero once any thread has written here */
	uint64_t bytes[OM_NCLASS][OM_NDIR];
	uint64_t opened[OM_NCLASS]; /* connections established */
	uint64_t closed[OM_NCLASS]; /* ... and closed; gauge = opened-closed */
	uint64_t accepted[OM_NCLASS];
	uint64_t dials[OM_NCLASS][OM_NOUTCOME];
	uint64_t dial_bucket[OM_NCLASS][OM_NBUCKET + 1]; /* last: > 120 s */
	uint64_t dial_sum_ns[OM_NCLASS];
	uint64_t leaks[OM_NLEAK][OM_NACTION];
	uint64_t proxy_unreachable;
	uint64_t reserved[7];
};

struct om_slot_head {
	uint64_t claims;   /* times this slot was claimed; only grows */
	uint64_t pid;      /* last claimer, for humans; never a label */
	uint64_t start_ns; /* CLOCK_REALTIME of the last claim */
	char comm[16];     /* last claimer's program name, NUL padded */
	uint64_t reserved[3];
};

struct om_slot {
	struct om_slot_head head;
	struct om_block blocks[OM_BLOCKS_PER_SLOT];
};

/* Leak event ring entry; written under a per-entry sequence word (odd while
 * being written) so a reader can drop torn entries. */
struct om_ring_entry {
	uint64_t seq;
	uint64_t time_ns; /* CLOCK_REALTIME */
	uint32_t pid;
	uint8_t kind;   /* enum om_leak */
	uint8_t action; /* enum om_action */
	uint8_t family; /* 0 name, 4 IPv4, 6 IPv6 */
	uint8_t pad;
	uint16_t port;
	uint8_t pad2[6];
	uint8_t addr[16];
	char name[64]; /* host name (a v3 onion is 62), NUL padded */
	char comm[16];
};

struct om_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size; /* total bytes of the segment */
	uint32_t nslots;
	uint32_t nblocks;
	uint32_t slot_size;
	uint32_t block_size;
	uint64_t slots_off;
	uint64_t ring_off;
	uint32_t ring_entries;
	uint32_t ring_entry_size;
	uint64_t created_ns;
	uint64_t ready;           /* 1 once fully initialised (release store) */
	uint64_t ring_head;       /* next ring position; fetch_add */
	uint64_t attach_failures; /* processes that found no free slot */
	uint64_t slots_hwm;       /* slots [0, hwm) were ever claimed; readers
				   * never touch the rest (untrusted: clamp) */
	uint64_t reserved[15];
};

_Static_assert(sizeof(struct om_block) % 64 == 0, "block is whole cache lines");
_Static_assert(sizeof(struct om_slot_head) == 64, "slot head is one line");
_Static_assert(sizeof(struct om_ring_entry) == 128, "ring entry size");
_Static_assert(sizeof(struct om_header) <= OM_HEADER_SIZE, "header fits");

static inline uint64_t om_layout_size(uint32_t nslots)
{
	return (uint64_t)OM_HEADER_SIZE + (uint64_t)nslots * sizeof(struct om_slot) +
	       (uint64_t)OM_RING_ENTRIES * sizeof(struct om_ring_entry);
}

/* Byte offsets the OFD locks sit on (within the slot, so no lock ever lies
 * past end of file on filesystems that dislike that). */
static inline uint64_t om_claim_lock_off(uint32_t slot)
{
	return OM_HEADER_SIZE + (uint64_t)slot * sizeof(struct om_slot);
}
static inline uint64_t om_live_lock_off(uint32_t slot)
{
	return om_claim_lock_off(slot) + 1;
}

/* Validate a header against this build's layout.  Used by both sides: the
 * shim before writing, the exporter before reading.  Returns NULL if the
 * segment is usable, else a reason for a human.  len is the mapped size. */
static inline const char *om_layout_check(const struct om_header *h,
					  uint64_t len)
{
	if (len < OM_HEADER_SIZE)
		return "segment is smaller than its header";
	if (h->magic != OM_MAGIC)
		return "not an onionmeter segment (bad magic)";
	if (h->version != OM_LAYOUT_VERSION)
		return "segment layout version differs from this build (a segment left by another version: remove it once no process uses it, or choose another name)";
	if (h->header_size != OM_HEADER_SIZE ||
	    h->slot_size != sizeof(struct om_slot) ||
	    h->block_size != sizeof(struct om_block) ||
	    h->nblocks != OM_BLOCKS_PER_SLOT ||
	    h->ring_entries != OM_RING_ENTRIES ||
	    h->ring_entry_size != sizeof(struct om_ring_entry))
		return "segment geometry differs from this build";
	if (h->nslots == 0 || h->nslots > OM_SLOTS_MAX)
		return "segment slot count out of range";
	if (h->size != om_layout_size(h->nslots) || h->size > len)
		return "segment size does not match its header (truncated?)";
	if (h->slots_off != OM_HEADER_SIZE ||
	    h->ring_off != OM_HEADER_SIZE + (uint64_t)h->nslots * sizeof(struct om_slot))
		return "segment offsets are inconsistent";
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

#endif
