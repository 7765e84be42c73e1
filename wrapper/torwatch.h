/* The run's streams through tor, for onionmeter-run --report: a control
 * connection (common/torctl_session.h: the five read-only verbs only)
 * subscribed to STREAM events, keeping the target of each client stream
 * by the client's address and port, so that a connection to tor's port
 * the report names says where it went: "onion NAME.onion:PORT" or
 * "exit HOST:PORT".  Blocking only while it connects (2 s at most). */
#ifndef OM_TORWATCH_H
#define OM_TORWATCH_H

#include <stddef.h>

#include "common/diag_parse.h"

struct om_torwatch;

/* NULL, with why in err, if tor cannot be reached or refuses us. */
struct om_torwatch *om_torwatch_open(const char *spec, const char *password_file, char *err,
				     size_t errlen);
/* Read what tor sent since (never blocks). */
void om_torwatch_poll(struct om_torwatch *w);
/* s, a client's socket to tor's port: its stream's target into out, as
 * "onion HOST:PORT" or "exit HOST:PORT"; 0, or -1 if tor named none. */
int om_torwatch_target(const struct om_torwatch *w, const struct om_diag_sock *s, char *out,
		       size_t n);
void om_torwatch_close(struct om_torwatch *w);

#endif
