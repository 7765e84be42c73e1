/* The shim's own messages.  They go to ONIONMETER_LOG if set, else to
 * stderr, but never into a socket: a daemon that closed fds 0-2 may have
 * fd 2 on a client connection, and no byte the program did not write may
 * reach its peers.  One write() per line, so lines from concurrent
 * processes do not interleave; no stdio, no allocation. */
#ifndef OM_LOG_H
#define OM_LOG_H

/* "onionmeter: " and the strings up to NULL, as one line. */
void om_say(const char *first, ...) __attribute__((sentinel));

/* The same, from a signal handler (no locale, no errno change). */
void om_say_raw(const char *line, unsigned long len);

/* One logfmt line (common/logfmt.h), "onionmeter: ts=... level=LEVEL
 * msg=MSG key=value...", key/value strings up to NULL.
 * At most 10 lines a second per process: the next line written carries
 * suppressed=N for those left out.  Async-signal-safe. */
void om_logfmt(const char *level, const char *msg, ...) __attribute__((sentinel));

#endif
