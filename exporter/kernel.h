/* The kernel's view: every TCP connection of the network namespace, as an
 * unprivileged NETLINK_SOCK_DIAG dump lists it, classified by peer address
 * with the shim's rules (a listed proxy, a local address, or direct), and
 * set against what the attached processes account for.
 *
 * What no preload sees (Go programs, static binaries, io_uring, raw
 * system calls) shows here.  The difference is the blind spot: a
 * connection counts as unseen when the kernel lists it, owned by a process
 * (not orphaned, not waiting in an accept queue), established or closing,
 * in two polls in a row, and more such connections of its class exist than
 * the attached processes hold; and a blind spot is only reported once two
 * consecutive polls agree.  So a connection shorter than about two poll
 * intervals is never called unseen, and the race between reading the
 * segment and the dump never is either. */
#ifndef OM_KERNEL_H
#define OM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/diag_parse.h"
#include "common/segment_layout.h"

enum om_kscope_kind { OM_KSCOPE_NETNS, OM_KSCOPE_UID, OM_KSCOPE_CGROUP };

struct om_kscope {
	enum om_kscope_kind kind;
	uint32_t uid;
	uint64_t cgroup; /* cgroup v2 id: the directory's inode number */
};

/* "netns", "uid=N" or "cgroup=PATH" (a cgroup v2 directory).  0, or -1
 * with why set. */
int om_kscope_parse(const char *s, struct om_kscope *out, const char **why);

/* A set of sockets by cookie (a hash table, kernel.c).  An entry is in
 * the set only if its gen is the set's: emptying the set for the next
 * poll is one increment, not a pass over the table. */
struct om_kset {
	struct om_kentry {
		uint64_t cookie;
		uint32_t gen;
		uint8_t kclass;
		uint8_t owned; /* a process held it, established or closing */
	} *e;
	size_t n, cap, half; /* half: cap / 2, the most entries it takes */
	uint32_t gen;
	int oom;
};

struct om_kview {
	int fd; /* the netlink socket, -1 until the first poll */
	uint32_t seq;
	struct om_config cfg; /* proxies and local networks, from the environment */
	struct om_kscope scope;
	struct om_kset prev, cur; /* every socket of the last poll, of this one */
	uint32_t own[256]; /* the exporter's own socket inodes (listeners, clients) */
	int nown;
	uint64_t ownbits[4]; /* bit (inode % 256) of each: most sockets skip the list */
	/* ... and the far ends of its connections in this namespace, as
	 * the kernel lists them (a Prometheus beside us scraping): never a
	 * blind spot either */
	struct om_kpeer {
		uint8_t family;
		uint16_t sport, dport;
		uint8_t src[16], dst[16];
	} peer[64];
	int npeer;
	/* the last poll */
	int up;
	char error[160];
	uint64_t polls;
	uint64_t sockets;                   /* TCP sockets in the dump, in scope */
	uint64_t conns[OM_NKCLASS];         /* owned, established or closing */
	uint64_t aged[OM_NKCLASS];          /* ... and so in the poll before */
	uint64_t bytes[OM_NKCLASS][OM_NDIR]; /* tcp_info of those */
	uint64_t seen_total[OM_NKCLASS];    /* connections first seen */
	uint64_t seen_new[OM_NKCLASS];      /* ... in the poll under way */
	uint64_t unseen_raw[OM_NKCLASS], unseen[OM_NKCLASS];
	uint64_t udp[OM_NKCLASS]; /* connected UDP sockets a process holds */
	double poll_seconds;
	double interval_seconds; /* until the next poll, set by the caller */
	/* every TCP socket of a poll, in scope or not (Tor's view) */
	om_diag_fn each;
	void *each_arg;
};

/* cfg: the proxies and local networks, as the shim reads them. */
void om_kview_init(struct om_kview *k, const struct om_kscope *scope,
		   const struct om_config *cfg);
/* One dump.  0, or -1 with k->error set (k->up 0). */
int om_kview_poll(struct om_kview *k);
/* After a poll: the attached processes' TCP sockets by class, read before
 * the poll.  single: a one-off look (--once), without the two-poll rules. */
void om_kview_compare(struct om_kview *k, const uint64_t held[OM_NKCLASS], int single);
void om_kview_close(struct om_kview *k);

/* For the fuzzer and tests: begin a poll, account one socket as a poll
 * does, end a poll that went well (this poll becomes the last). */
void om_kview_begin(struct om_kview *k);
void om_kview_account(struct om_kview *k, const struct om_diag_sock *s);
void om_kview_end(struct om_kview *k);

#endif
