/* One logfmt line, built whole in a fixed buffer so that it goes out in
 * one write() and stays whole next to other writers of the same stderr:
 *
 *   ts=2026-12-05T12:00:00.123Z level=warn msg=refused kind=udp dest=198.18.0.1:53
 *
 * as Prometheus's own servers write it, so Loki, journald and grep read
 * every component's lines alike.  A value is bare when it can be, else
 * quoted, with \" \\ \n \r \t and \xNN for other bytes outside printable
 * ASCII (names and reasons come from operators, segments and programs).
 * No stdio, no allocation, no lock: the shim builds lines in signal
 * handlers. */
#ifndef OM_LOGFMT_H
#define OM_LOGFMT_H

#include <stddef.h>
#include <stdint.h>

/* A line being built in the caller's buffer (the shim's is small: it may
 * be on a signal stack). */
struct om_logline {
	char *buf;
	size_t cap, n;
};

/* Into buf (cap bytes, at least 64): PREFIX (may be ""), then ts=, level=
 * and msg=; the time is CLOCK_REALTIME in ns. */
void om_logline_start(struct om_logline *l, char *buf, size_t cap, const char *prefix,
		      uint64_t now_ns, const char *level, const char *msg);
/* " key=value"; a NULL value is empty. */
void om_logline_kv(struct om_logline *l, const char *key, const char *value);
/* Ends the line with "\n" (a cut line still ends so); its length. */
size_t om_logline_end(struct om_logline *l);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of now_ns (CLOCK_REALTIME), without gmtime's
 * lock; out holds 25 bytes. */
void om_utc(char out[25], uint64_t now_ns);

#endif
