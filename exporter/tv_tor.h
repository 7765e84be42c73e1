/* Tor's view: what tor says of itself, kept in the view (torview.h) --
 * the ports it listens on, what it last learnt of onion services'
 * descriptors -- and the reply a client got for a stream's end. */
#ifndef OM_TV_TOR_H
#define OM_TV_TOR_H

#include <stdint.h>

#include "torview.h"

/* Is ADDR:PORT one of the tors' SOCKS or HTTP CONNECT ports? */
int om_tv_listening(const struct om_tview *v, int family, const uint8_t *addr, uint16_t port);

/* The outcome, in the shim's names, of a stream tor closed (event e) that
 * a client opened with proto (OM_TC_*) to a target of class cls; onion: an
 * onion target's address (its descriptor's fate decides between "not
 * found" and "introduction failed"). */
uint8_t om_tv_outcome(const struct om_tview *v, uint8_t proto, uint8_t cls, const char *onion,
		      const struct om_tc_stream *e);

#endif
