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

/* Decimal text of v in buf (at least 21 bytes); returns buf. */
char *om_udec(char *buf, unsigned long long v);

#endif
