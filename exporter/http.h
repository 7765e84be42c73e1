/* The exporter's HTTP/1.1 server on libuv.
 *
 * Defences, because the exporter runs next to a Tor service: a cap on
 * concurrent connections, a cap on the request head size, and a deadline
 * to receive each request (slow or idle clients are dropped).  At the cap a
 * new connection evicts the one idle longest, so idle or slow clients can
 * never lock a scraper out.  A response is built in full before it is
 * written, so no client can hold a scrape hostage. */
#ifndef OM_HTTP_H
#define OM_HTTP_H

#include <uv.h>

#include "buf.h"
#include "http_parse.h"

#define OM_HTTP_MAX_CONNS 64
#define OM_HTTP_MAX_REQUEST 8192
#define OM_HTTP_TIMEOUT_MS 10000

struct om_http_resp {
	int status;
	const char *content_type;
	struct om_buf body;
	const char *allow; /* for 405 */
};

typedef void (*om_http_handler)(const struct om_http_req *req,
				struct om_http_resp *resp, void *arg);

struct om_http_conn;

struct om_http_server {
	uv_loop_t *loop;
	om_http_handler handler;
	void *arg;
	int nconns;
	/* open connections, least recently active first */
	struct om_http_conn *idle_head, *idle_tail;
	uv_tcp_t listeners[16];
	int nlisteners;
};

void om_http_init(struct om_http_server *s, uv_loop_t *loop,
		  om_http_handler handler, void *arg);
/* Listen on "HOST:PORT" or "[V6]:PORT".  Returns 0 or a libuv error. */
int om_http_listen(struct om_http_server *s, const char *addr);
void om_http_close(struct om_http_server *s);

/* Parse "HOST:PORT" / "[V6]:PORT" into a sockaddr. */
int om_http_parse_addr(const char *addr, struct sockaddr_storage *ss);

#endif
