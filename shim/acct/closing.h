/* The end of a dial in progress whose socket may live on in another
 * process (closing.c). */
#ifndef OM_CLOSING_H
#define OM_CLOSING_H

#include <stdint.h>

#include "acct/fdtable.h"
#include "acct/handoff.h"

struct om_closing {
	uint32_t hs;
	struct om_hand_facts f;
	int family;
	uint16_t sport, dport; /* network order */
	uint8_t src[16], dst[16];
	uint64_t cookie;
	unsigned long ino;
};

/* close() of e, locked, before the real close: 1 if its dial was taken
 * into c (the entry then closes without an outcome), and
 * om_closing_end(c) must follow the real close. */
int om_closing_begin(struct om_fd *e, struct om_closing *c);
void om_closing_end(struct om_closing *c);
/* exit() with e's dial up: 1 if another process holds the socket (the
 * handshake was left to it), 0 if the dial ends here. */
int om_closing_at_exit(struct om_fd *e);

#endif
