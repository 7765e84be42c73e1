/* The exporter's log: one logfmt line per event on stderr, in one
 * write() (common/logfmt.h),
 *
 *   ts=2026-11-25T12:00:00.000Z level=info msg="segment up" segment=/onionmeter */
#ifndef OM_XLOG_H
#define OM_XLOG_H

/* level: "info", "warn" or "error"; then key, value pairs, NULL-terminated. */
void om_xlog(const char *level, const char *msg, ...) __attribute__((sentinel));

#endif
