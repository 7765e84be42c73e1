/* The exporter's HTTP/1.1 server on libuv.
 *
 * Defences, because the exporter runs next to a Tor service: a cap on
 * concurrent connections, a cap on the request head size, a deadline to
 * receive each request and another to have its answer read (slow, idle
 * or non-reading clients are dropped), and nothing read from a client
 * while its answer is pending (pipelining gets no more work done than a
 * client reads).  At the cap a new connection evicts the one inactive
 * longest, so no set of clients can lock a scraper out, as long as the
 * scraper's request arrives before the cap's worth of newer connections
 * do (a flood of silent ones evicts a scraper still between its connect
 * and its request: hence a cap in the thousand, not the tens).  A
 * response is built in full before it is written, so no client holds a
 * scrape hostage. */
#ifndef OM_HTTP_H
#define OM_HTTP_H

#include <uv.h>

#include "buf.h"
#include "http_parse.h"

/* At most this many connections; fewer where the descriptor limit
 * cannot be raised to it and OM_HTTP_FD_SPARE more (om_http_init). */
#define OM_HTTP_MAX_CONNS 1024
#define OM_HTTP_FD_SPARE 64
#define OM_HTTP_MAX_REQUEST 8192
#define OM_HTTP_TIMEOUT_MS 10000
#define OM_HTTP_MAX_UNREAD 65536 /* unread answer bytes before a client counts as stalled */

struct om_http_resp {
	int status;
	const char *content_type;
	struct om_buf body;
	const char *allow; /* for 405 */
	const char *challenge; /* for 401: the WWW-Authenticate value */
};

typedef void (*om_http_handler)(const struct om_http_req *req,
				struct om_http_resp *resp, void *arg);

struct om_http_conn;

struct om_http_server {
	uv_loop_t *loop;
	om_http_handler handler;
	void *arg;
	int nconns, max_conns;
	/* open connections, least recently active first */
	struct om_http_conn *idle_head, *idle_tail;
	uv_tcp_t *listeners[16];
	int nlisteners;
};

void om_http_init(struct om_http_server *s, uv_loop_t *loop,
		  om_http_handler handler, void *arg);
/* Listen on "HOST:PORT", "[V6]:PORT" or ":PORT" (every address).  HOST
 * may be a name: every address it resolves to.  Returns 0 or a libuv
 * error. */
int om_http_listen(struct om_http_server *s, const char *addr);
void om_http_close(struct om_http_server *s);

#endif
