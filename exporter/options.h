/* The exporter's command line (options.c). */
#ifndef OM_OPTIONS_H
#define OM_OPTIONS_H

#include <sys/types.h>

#include "app.h"

#define OM_DEFAULT_LISTEN "127.0.0.1:9477"

extern const char om_usage[]; /* --help */

/* One --tor-control ADDR into a's tors: 0, or -1 (said on stderr). */
int om_opt_tor_add(struct app *a, const char *spec);
/* ONIONMETER_TOR_CONTROL, a comma-separated list, as --tor-control. */
int om_opt_tor_env(struct app *a);
/* --format: 0, or -1 if unknown; report: 1 report, 2 report-json */
int om_opt_format(const char *s, enum om_format *f, int *report);
/* --run-exit: a status 0-255 or signal:N; 0, or -1 */
int om_opt_exit(const char *s, struct om_run *run);
/* --segment-owner: a user name or a uid; 0, or -1 */
int om_opt_owner(const char *s, uid_t *uid);

#endif
