/* Tor's view: every stream a tor client carries, from its control port
 * (torctl.c), classed by its target (a .onion: onion; anything else: the
 * exit's, proxied) and counted with the shim's label values, so that one
 * query sums what the shim, the kernel and tor see.
 *
 * A stream's NEW event names the client's address (SOURCE_ADDR); the
 * client's TCP connection to tor's port is looked up in the kernel's list
 * (sock_diag, by 4-tuple: cookie, uid, cgroup), so --kernel-scope applies
 * and bytes come from the kernel, exact: out is what the client's socket
 * sent, in is what tor's end of the same loopback connection sent it
 * (tcp_info), both up to their close (the kernel's destroy notices).  The
 * SOCKS or HTTP handshake is in them, as the shim counts it.  A stream
 * whose socket no shim recorded (the segments' socket records) is counted
 * apart as well: the blind spot, split by class.
 *
 * Not attributed, and counted so: a Unix-domain SocksPort (tor names no
 * client), a connection gone before it was found, a full table.  Such a
 * stream still counts by class and outcome; its bytes are tor's own count
 * (STREAM_BW: payload only), kept apart.  Streams open before the
 * exporter connected are never counted (tor names no client for them).
 *
 * Outcomes are the shim's names for the reply tor gave the client (SOCKS5
 * with ExtendedErrors, SOCKS4, HTTP CONNECT), from the event's REASON and
 * REMOTE_REASON as tor maps them (relay.c, connection_edge.c); an onion's
 * "resolve failed" is onion_not_found until its descriptor arrived,
 * onion_intro_failed after. */
#ifndef OM_TORVIEW_H
#define OM_TORVIEW_H

#include <stdint.h>

#include "common/diag_parse.h"
#include "common/reader.h"
#include "common/segment_layout.h"
#include "kernel.h"
#include "common/torctl_parse.h"
#include "tv_index.h"

#define OM_TV_MAX 32768 /* connections followed at once */
#define OM_TV_TORS 8    /* tor instances */
#define OM_TV_LISTENERS 32
#define OM_TV_ONIONS 256 /* onion addresses whose descriptor tor has */
#define OM_TV_RING 1024  /* sockets destroyed before their stream's NEW */

enum om_tv_unattr { OM_TV_UNIX_PORT, OM_TV_GONE, OM_TV_TABLE_FULL, OM_NTV_UNATTR };
#define OM_TV_UNATTR_NAMES { "unix_port", "gone", "table_full" }

struct om_tv_listener {
	int tor;
	int family; /* AF_INET, AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
	int http; /* an HTTPTunnelPort */
};

/* What the exporter knows of one tor's health (torctl.c keeps it). */
struct om_tor_status {
	int up;        /* authenticated and subscribed */
	int bootstrap; /* percent, -1 unknown */
	int liveness;  /* 1 up, 0 down, -1 unknown */
	uint64_t circ_built, circ_failed;
	uint64_t circ_bucket[OM_NBUCKET + 1];
	uint64_t circ_sum_ns;
};

struct om_tv_ent;
struct om_tv_gone;

struct om_tview {
	/* what the view counted (the exporter serves these) */
	uint64_t streams[OM_NCLASS][OM_NOUTCOME];
	uint64_t unseen_streams[OM_NCLASS][OM_NOUTCOME];
	uint64_t bytes[OM_NCLASS][OM_NDIR];
	uint64_t unseen_bytes[OM_NCLASS][OM_NDIR];
	uint64_t tor_bytes[OM_NCLASS][OM_NDIR]; /* STREAM_BW, for streams not attributed */
	uint64_t open[OM_NCLASS];
	uint64_t dial_bucket[OM_NCLASS][OM_NBUCKET + 1];
	uint64_t dial_sum_ns[OM_NCLASS];
	uint64_t unattributed[OM_NTV_UNATTR];
	uint64_t events;       /* stream events handled */
	uint64_t notices_lost; /* times the kernel's destroy notices overran */

	/* where tors listen (GETINFO net/listeners/socks and httptunnel) */
	struct om_tv_listener listeners[OM_TV_LISTENERS];
	int nlisteners;
	/* what tors last learnt of onion services' descriptors, the most
	 * recent 256: a state byte, then the 56-character address */
	char onions[OM_TV_ONIONS][1 + 56 + 1];
	unsigned onion_next;

	/* the kernel: a netlink socket for lookups, one for destroy notices,
	 * the scope, the segments whose records name the sockets shims saw */
	int diag_fd, destroy_fd;
	uint32_t seq;
	const struct om_kscope *scope;
	struct om_reader *readers;
	int nreaders;

	/* the connections followed */
	struct om_tv_ent *e;
	uint32_t *free_list, nfree;
	uint32_t nents, npending;
	struct om_tv_index sidx, cidx; /* by stream, by socket cookie */
	struct om_tv_index pidx;       /* waiting for a socket: by its address */
	struct om_tv_gone *ring;
	unsigned ring_next;
	uint32_t gen; /* kernel polls begun */
	uint64_t now_ns; /* the clock, for tests; 0: the real one */
};

/* 0, or -1 (out of memory, or no netlink socket: why says).  readers may
 * change their segments later; the array must outlive the view. */
int om_tview_init(struct om_tview *v, const struct om_kscope *scope, struct om_reader *readers,
		  int nreaders, const char **why);
void om_tview_free(struct om_tview *v);

/* From tor number tor's control connection (torctl.c): a listener list
 * (GETINFO net/listeners/..., the quoted list after '='), a STREAM or
 * STREAM_BW event, an HS_DESC event; and its loss (its streams end
 * uncounted if they had no outcome yet, its listeners are forgotten). */
void om_tview_listeners(struct om_tview *v, int tor, const char *list, int http);
void om_tview_stream(struct om_tview *v, int tor, const struct om_tc_stream *e);
void om_tview_stream_bw(struct om_tview *v, int tor, uint64_t id, uint64_t written,
			uint64_t read);
/* why: the event's REASON (NOT_FOUND, ...), or "". */
void om_tview_hs_desc(struct om_tview *v, const char *action, const char *address,
		      const char *why);
void om_tview_reset(struct om_tview *v, int tor);

/* From the kernel view's poll: its start, each TCP socket, its end (a
 * followed socket missing from a whole poll is gone). */
void om_tview_poll_begin(struct om_tview *v);
void om_tview_sock(struct om_tview *v, const struct om_diag_sock *s);
void om_tview_poll_end(struct om_tview *v);
/* The destroy notices queued (call when destroy_fd is readable). */
void om_tview_destroyed(struct om_tview *v);
/* For the fuzzer and tests: one destroy notice. */
void om_tview_notice(struct om_tview *v, const struct om_diag_sock *s);

#endif
