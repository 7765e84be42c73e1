/* The exporter's log: one logfmt line per event on stderr,
 *
 *   ts=2026-11-25T12:00:00.000Z level=info msg="segment up" segment=/onionmeter
 *
 * as Prometheus's own servers write it, so Loki, journald and grep read it
 * alike.  Values are quoted when they need it; bytes outside printable
 * ASCII are escaped (segment names and reasons are the operator's or the
 * segment's). */
#ifndef OM_XLOG_H
#define OM_XLOG_H

/* level: "info", "warn" or "error"; then key, value pairs, NULL-terminated. */
void om_xlog(const char *level, const char *msg, ...) __attribute__((sentinel));

#endif
