/* The end of a dial in progress whose socket may live on in another
 * process (closing.c). */
#ifndef OM_CLOSING_H
#define OM_CLOSING_H

#include <stdint.h>

#include "acct/dial.h"
#include "acct/fdtable.h"
#include "acct/handoff.h"
#include "acct/handshake.h"
#include "core/state.h"

struct om_closing {
	uint32_t hs;
	struct om_hand_facts f;
	int family;
	uint16_t sport, dport; /* network order */
	uint8_t src[16], dst[16];
	uint64_t cookie;
	unsigned long ino;
};

/* Could another descriptor or process hold e's socket while its dial is
 * in progress: met midway, dup()ed, or a fork since the dial began? */
static inline int om_closing_shared(const struct om_fd *e)
{
	const struct om_hs *h;

	if (e->dial != OM_DIAL_UP || !e->hs)
		return 0;
	h = om_hs_at(e->hs);
	return h->shared || h->forks != __atomic_load_n(&om_forks, __ATOMIC_RELAXED);
}

/* close() of e, locked, before the real close: 1 if its dial was taken
 * into c (the entry then closes without an outcome), and
 * om_closing_end(c) must follow the real close. */
int om_closing_begin(struct om_fd *e, struct om_closing *c) __attribute__((cold));
void om_closing_end(struct om_closing *c) __attribute__((cold));
/* exit() with e's dial up: 1 if another process holds the socket (the
 * handshake was left to it), 0 if the dial ends here. */
int om_closing_at_exit(struct om_fd *e) __attribute__((cold));

#endif
