#include "http.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>

#include "common/clock.h"

struct om_http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct om_http_server *srv;
	struct om_http_conn *prev, *next; /* srv's activity list */
	size_t len;
	int closing, writing, keep_alive;
	uint64_t stall_ms; /* when its current answer started */
	char req[OM_HTTP_MAX_REQUEST];
};

struct wreq {
	uv_write_t w;
	struct om_http_conn *c;
	char *head;
	struct om_buf body;
};

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Error";
}

static void unlink_conn(struct om_http_conn *c)
{
	struct om_http_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else if (s->idle_head == c)
		s->idle_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else if (s->idle_tail == c)
		s->idle_tail = c->prev;
	c->prev = c->next = 0;
}

/* Move c to the most-recently-active end of the list. */
static void touch(struct om_http_conn *c)
{
	struct om_http_server *s = c->srv;

	unlink_conn(c);
	c->prev = s->idle_tail;
	if (s->idle_tail)
		s->idle_tail->next = c;
	else
		s->idle_head = c;
	s->idle_tail = c;
}

static void on_closed(uv_handle_t *h)
{
	struct om_http_conn *c = h->data;

	/* both handles point at c; free after the second one closes */
	if (++c->closing == 3) {
		c->srv->nconns--;
		free(c);
	}
}

static void conn_close(struct om_http_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	unlink_conn(c);
	uv_close((uv_handle_t *)&c->tcp, on_closed);
	uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void on_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void process(struct om_http_conn *c);

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void resume(struct om_http_conn *c);

static uint64_t mono_ms(void)
{
	return om_mono_ns() / 1000000;
}

static void on_written(uv_write_t *w, int status)
{
	struct wreq *wr = (struct wreq *)w;
	struct om_http_conn *c = wr->c;

	free(wr->head);
	om_buf_free(&wr->body);
	free(wr);
	if (c->closing)
		return; /* cancelled by a close: c goes in on_closed */
	if (status < 0 || !c->keep_alive) {
		conn_close(c);
		return;
	}
	resume(c);
}

/* Answers the client has not read yet, still in the kernel. */
static int unread(struct om_http_conn *c)
{
	uv_os_fd_t fd;
	int n = 0;

	return uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && ioctl(fd, SIOCOUTQ, &n) == 0 ? n : 0;
}

static void on_drain_check(uv_timer_t *t)
{
	struct om_http_conn *c = t->data;

	if (mono_ms() - c->stall_ms >= OM_HTTP_TIMEOUT_MS)
		conn_close(c); /* one timeout to read its answers: gone */
	else
		resume(c);
}

/* An answer is out.  A client that does not read it keeps the state of
 * one being answered (nothing more read from it, the write deadline
 * running) until the kernel's queue to it drains. */
static void resume(struct om_http_conn *c)
{
	if (unread(c) > OM_HTTP_MAX_UNREAD) {
		if (!c->writing)
			c->stall_ms = mono_ms();
		c->writing = 1;
		uv_timer_start(&c->timer, on_drain_check, 50, 0);
		return;
	}
	c->writing = 0;
	touch(c); /* it read our answer: an active client */
	uv_timer_start(&c->timer, on_timeout, OM_HTTP_TIMEOUT_MS, 0);
	if (c->len < sizeof c->req)
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	process(c); /* a pipelined request may already be buffered */
}

static void respond(struct om_http_conn *c, int head_only, struct om_http_resp *r)
{
	struct wreq *wr = calloc(1, sizeof *wr);
	uv_buf_t bufs[2];
	int n;

	if (!wr || r->body.oom) {
		free(wr);
		om_buf_free(&r->body);
		conn_close(c);
		return;
	}
	wr->c = c;
	wr->body = r->body;
	n = asprintf(&wr->head,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%s%s%s%s%s%s"
		     "X-Content-Type-Options: nosniff\r\nConnection: %s\r\n\r\n",
		     r->status, reason(r->status),
		     r->content_type ? r->content_type : "text/plain; charset=utf-8",
		     r->body.len, r->allow ? "Allow: " : "", r->allow ? r->allow : "",
		     r->allow ? "\r\n" : "", r->challenge ? "WWW-Authenticate: " : "",
		     r->challenge ? r->challenge : "", r->challenge ? "\r\n" : "",
		     c->keep_alive ? "keep-alive" : "close");
	if (n < 0) {
		om_buf_free(&wr->body);
		free(wr);
		conn_close(c);
		return;
	}
	bufs[0] = uv_buf_init(wr->head, (unsigned)n);
	bufs[1] = uv_buf_init(wr->body.p ? wr->body.p : "", head_only ? 0 : (unsigned)wr->body.len);
	c->writing = 1;
	c->stall_ms = mono_ms();
	/* Nothing more is read from a client until it has read this answer,
	 * and it has one timeout to do so: a client that sends and never
	 * reads costs one answer and then its connection. */
	uv_read_stop((uv_stream_t *)&c->tcp);
	uv_timer_start(&c->timer, on_timeout, OM_HTTP_TIMEOUT_MS, 0);
	if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, bufs, 2, on_written) < 0) {
		c->writing = 0;
		free(wr->head);
		om_buf_free(&wr->body);
		free(wr);
		conn_close(c);
	}
}

static void error_resp(struct om_http_conn *c, int status)
{
	struct om_http_resp r = { .status = status };

	c->keep_alive = 0;
	om_buf_printf(&r.body, "%d %s\n", status, reason(status));
	respond(c, 0, &r);
}

static void process(struct om_http_conn *c)
{
	struct om_http_req req;
	struct om_http_resp r = { .status = 200 };
	long n;

	if (c->closing || c->writing || c->len == 0)
		return;
	n = om_http_parse(c->req, c->len, &req);
	if (n == 0) {
		if (c->len >= sizeof c->req)
			error_resp(c, 431);
		return;
	}
	if (n < 0 || req.has_body) {
		error_resp(c, 400);
		return;
	}
	c->keep_alive = req.keep_alive;
	touch(c); /* a complete request: this client is not idle */
	c->srv->handler(&req, &r, c->srv->arg);
	memmove(c->req, c->req + n, c->len - (size_t)n);
	c->len -= (size_t)n;
	respond(c, req.method == OM_M_HEAD, &r);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct om_http_conn *c = h->data;

	(void)hint;
	*buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof c->req - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct om_http_conn *c = s->data;

	(void)buf;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (c->len >= sizeof c->req)
		uv_read_stop(s); /* process() answers 431 if no request fits */
	process(c);
}

/* Has the client sent bytes we have not read yet (a request on its way)? */
static int pending(struct om_http_conn *c)
{
	uv_os_fd_t fd;
	int n = 0;

	return uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && ioctl(fd, FIONREAD, &n) == 0 &&
	       n > 0;
}

/* At the cap a newcomer is always let in, and the connection inactive
 * longest goes: first one that is neither being answered nor has a
 * request waiting in the kernel (so a flood of silent connections evicts
 * its own, not a scraper whose request has just arrived), then one not
 * being answered, then any.  No set of clients can keep a fresh scrape
 * out, and none can hold a slot past one timeout. */
static int make_room(struct om_http_server *s)
{
	struct om_http_conn *c;

	if (s->nconns < s->max_conns)
		return 1;
	for (c = s->idle_head; c && (c->writing || pending(c)); c = c->next)
		;
	if (!c)
		for (c = s->idle_head; c && c->writing; c = c->next)
			;
	if (!c)
		c = s->idle_head;
	if (!c)
		return 0;
	conn_close(c);
	return 1;
}

static void refuse(struct om_http_server *s, uv_stream_t *l)
{
	/* accept and reset: leaving it queued would keep it waiting */
	uv_tcp_t *tmp = malloc(sizeof *tmp);

	if (tmp && uv_tcp_init(s->loop, tmp) == 0) {
		if (uv_accept(l, (uv_stream_t *)tmp) == 0)
			uv_tcp_close_reset(tmp, (uv_close_cb)free);
		else
			uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
	} else {
		free(tmp);
	}
}

static void on_connection(uv_stream_t *l, int status)
{
	struct om_http_server *s = l->data;
	struct om_http_conn *c;

	if (status < 0)
		return;
	if (!make_room(s) || !(c = calloc(1, sizeof *c))) {
		refuse(s, l);
		return;
	}
	c->srv = s;
	s->nconns++;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	touch(c);
	if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_start(&c->timer, on_timeout, OM_HTTP_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* Split "HOST:PORT", "[V6]:PORT" or ":PORT" (HOST empty). */
static int split_addr(const char *addr, char *host, size_t cap, int *port)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	long p;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (!rb || rb[1] != ':' || rb == addr + 1)
			return UV_EINVAL;
		h = addr + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return UV_EINVAL;
		hl = (size_t)(colon - addr);
	}
	if (hl >= cap)
		return UV_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || p < 0 || p > 65535)
		return UV_EINVAL;
	*port = (int)p;
	return 0;
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* Each listener is its own allocation: a handle that failed to bind is
 * still closing when the next one is set up. */
static int listen_one(struct om_http_server *s, const struct sockaddr *sa, unsigned flags)
{
	uv_tcp_t *t;
	int rc;

	if (s->nlisteners >= (int)(sizeof s->listeners / sizeof s->listeners[0]))
		return UV_ENOBUFS;
	if (!(t = malloc(sizeof *t)))
		return UV_ENOMEM;
	uv_tcp_init(s->loop, t);
	t->data = s;
	rc = uv_tcp_bind(t, sa, flags);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)t, 128, on_connection);
	if (rc < 0) {
		uv_close((uv_handle_t *)t, free_handle);
		return rc;
	}
	s->listeners[s->nlisteners++] = t;
	return 0;
}

/* Room for OM_HTTP_MAX_CONNS connections and the rest of the exporter:
 * the soft descriptor limit raised toward that (1,024 is a common soft
 * limit, with a far higher hard one), and the cap lowered where it
 * cannot be. */
static int conn_cap(void)
{
	const rlim_t want = OM_HTTP_MAX_CONNS + OM_HTTP_FD_SPARE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= want)
		return OM_HTTP_MAX_CONNS;
	if (rl.rlim_max > rl.rlim_cur) {
		struct rlimit up = { rl.rlim_max < want ? rl.rlim_max : want, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = up.rlim_cur;
	}
	if (rl.rlim_cur >= want)
		return OM_HTTP_MAX_CONNS;
	return rl.rlim_cur > 2 * OM_HTTP_FD_SPARE ? (int)(rl.rlim_cur - OM_HTTP_FD_SPARE)
						  : OM_HTTP_FD_SPARE / 4;
}

void om_http_init(struct om_http_server *s, uv_loop_t *loop,
		  om_http_handler handler, void *arg)
{
	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->handler = handler;
	s->arg = arg;
	s->max_conns = conn_cap();
}

int om_http_listen(struct om_http_server *s, const char *addr)
{
	struct addrinfo hints, *res, *ai;
	struct sockaddr_storage ss;
	char host[256], port_s[8];
	int port, rc, ok = 0;

	rc = split_addr(addr, host, sizeof host, &port);
	if (rc < 0)
		return rc;
	if (!host[0]) {
		/* ":PORT": every address; dual-stack, or IPv4 where IPv6 is off */
		uv_ip6_addr("::", port, (struct sockaddr_in6 *)&ss);
		if (listen_one(s, (struct sockaddr *)&ss, 0) == 0)
			return 0;
		uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&ss);
		return listen_one(s, (struct sockaddr *)&ss, 0);
	}
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) == 0)
		return listen_one(s, (struct sockaddr *)&ss, 0);
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) == 0)
		return listen_one(s, (struct sockaddr *)&ss, UV_TCP_IPV6ONLY);
	/* a host name: every address it has (localhost: 127.0.0.1 and ::1) */
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port_s, sizeof port_s, "%d", port);
	if (getaddrinfo(host, port_s, &hints, &res) != 0)
		return UV_EAI_NONAME;
	rc = UV_EAI_NONAME;
	for (ai = res; ai; ai = ai->ai_next) {
		int r = listen_one(s, ai->ai_addr,
				   ai->ai_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);

		if (r == 0)
			ok = 1;
		else if (r != UV_EADDRNOTAVAIL && r != UV_EAFNOSUPPORT)
			rc = r; /* worth saying; a family the host lacks is not */
	}
	freeaddrinfo(res);
	return ok ? 0 : rc;
}

void om_http_close(struct om_http_server *s)
{
	int i;

	for (i = 0; i < s->nlisteners; i++)
		uv_close((uv_handle_t *)s->listeners[i], free_handle);
	s->nlisteners = 0;
}
