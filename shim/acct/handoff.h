/* Handshakes in hand-off: a proxy handshake that more than one process
 * may continue (a parent sends the greeting, the child it execs the
 * request; bash's exec 3<>/dev/tcp with a dd for each step).  Its state
 * is copied, after each step, into the segment's table (segment_layout.h,
 * struct om_hand) under the socket's cookie; the next holder to speak on
 * the socket, in whatever process image, continues from there, and only
 * the one that ends the dial counts its outcome.
 *
 * Only dials the program speaks a proxy protocol on are copied (a
 * configured proxy, or bytes shaped like a request): a plain dial ends at
 * its first byte. */
#ifndef OM_HANDOFF_H
#define OM_HANDOFF_H

#include <stdint.h>

#include "acct/handshake.h"

/* What the dial machine keeps outside its handshake record. */
struct om_hand_facts {
	uint8_t cls;   /* enum om_class */
	uint8_t flags; /* OM_FDF_PROXY_EP, OM_FDF_REQ_DONE, OM_FDF_DECIDED */
};

/* One step's hold on an entry: from om_hand_begin to om_hand_end. */
struct om_hand_step {
	struct om_hand *x; /* locked entry, or NULL */
	uint64_t cookie;
};

enum om_hand_rc {
	OM_HAND_NONE,  /* not in the table (never copied, or evicted): carry on alone */
	OM_HAND_SAME,  /* the table holds this very state */
	OM_HAND_NEWER, /* another process moved it on: h and *f now hold its state */
	OM_HAND_ENDED, /* another process ended the dial: *f has its class */
};

/* The kernel's cookie for fd's socket, or 0. */
uint64_t om_sock_cookie(int fd);

/* Before a step on a dial copied to the table (h->cookie set): lock its
 * entry into s and bring h and *f up to it.  Never waits long: a holder
 * that died in its step leaves the entry locked, and the dial carries on
 * alone (OM_HAND_NONE). */
int om_hand_begin(struct om_hs *h, struct om_hand_facts *f, struct om_hand_step *s);
/* After the step, the dial still in progress: write h and f back
 * (claiming an entry for fd's socket if it has none), release s. */
void om_hand_put(int fd, struct om_hs *h, const struct om_hand_facts *f,
		 struct om_hand_step *s);
/* After the step, the dial ended with class cls: mark the entry done,
 * release s. */
void om_hand_done(struct om_hand_step *s, unsigned cls);
/* A socket met without its dial: the table's state for cookie, locked
 * into s (OM_HAND_NEWER: h and *f filled; OM_HAND_ENDED: *f has the
 * class), or OM_HAND_NONE. */
int om_hand_find(uint64_t cookie, struct om_hs *h, struct om_hand_facts *f,
		 struct om_hand_step *s);
/* Release s unchanged. */
void om_hand_release(struct om_hand_step *s);

#endif
