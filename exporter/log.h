/* The exporter's log: one logfmt (or JSON) line per event on stderr, in
 * one write() (common/logfmt.h),
 *
 *   ts=2026-11-25T12:00:00.000Z level=info msg="segment up" segment=/onionmeter */
#ifndef OM_XLOG_H
#define OM_XLOG_H

/* level: "debug", "info", "warn" or "error"; then key, value pairs,
 * NULL-terminated. */
void om_xlog(const char *level, const char *msg, ...) __attribute__((sentinel));
/* --log.level (the least level written; default info) and --log.format
 * (logfmt, the default, or json: one object per line).  NULL leaves one
 * as it is; -1 if a value is unknown. */
int om_xlog_config(const char *level, const char *format);

#endif
