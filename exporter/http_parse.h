/* HTTP/1.x request parsing for the exporter: just enough of RFC 9112 to
 * serve scrapes, strict about everything else.  Pure function, no I/O. */
#ifndef OM_HTTP_PARSE_H
#define OM_HTTP_PARSE_H

#include <stddef.h>

enum om_method { OM_M_OTHER, OM_M_GET, OM_M_HEAD };

struct om_http_req {
	enum om_method method;
	const char *path; /* points into the caller's buffer; not terminated */
	size_t path_len;
	int minor;        /* HTTP/1.minor */
	int keep_alive;
	int openmetrics;  /* Accept prefers application/openmetrics-text (q-values) */
	int has_body;     /* Content-Length > 0 or chunked: we refuse those */
	const char *auth; /* the Authorization field's value, or NULL ... */
	size_t auth_len;  /* ... and its length (into the caller's buffer) */
};

/* Returns the length of a complete request head at buf, 0 if more bytes
 * are needed, -1 if malformed. */
long om_http_parse(const char *buf, size_t len, struct om_http_req *req);

#endif
