#include "torctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/sha256.h"
#include "log.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define STEADY_NS 60000000000ull /* up this long: a loss is retried at once */
#define HANDSHAKE_MS 10000 /* a tor that does not answer by then is not one */

static void schedule(struct om_torctl *c);
static void fail(struct om_torctl *c, const char *why);

/* --- set-up --- */

int om_torctl_parse(struct om_torctl *c, const char *spec, const char **why)
{
	unsigned len;

	memset(c, 0, sizeof *c);
	c->st.bootstrap = c->st.liveness = -1;
	c->logged = -1;
	if (strlen(spec) >= sizeof c->name) {
		*why = "too long";
		return -1;
	}
	strcpy(c->name, spec);
	if (om_tc_addr(spec, &c->sa, &len, &c->is_unix, why) < 0)
		return -1;
	c->salen = len;
	return 0;
}

/* --- the session's transport --- */

static void on_written(uv_write_t *w, int status)
{
	struct om_torctl_write *slot = w->data;
	struct om_torctl *c = w->handle->data;

	slot->busy = 0;
	if (status < 0 && c->open && !c->down)
		fail(c, uv_strerror(status));
}

/* The session's writer: up to four commands in flight (it sends one per
 * reply). */
static int send_line(void *arg, const char *line, size_t len)
{
	struct om_torctl *c = arg;
	struct om_torctl_write *w = 0;
	unsigned i;
	uv_buf_t b;

	if (!c->open)
		return 0; /* the fuzzer and tests: nowhere to write */
	for (i = 0; i < sizeof c->writes / sizeof c->writes[0] && !w; i++)
		if (!c->writes[i].busy)
			w = &c->writes[i];
	if (!w || len > sizeof w->buf)
		return -1;
	memcpy(w->buf, line, len);
	b = uv_buf_init(w->buf, (unsigned)len);
	w->req.data = w;
	if (uv_write(&w->req, &c->conn.s, &b, 1, on_written) < 0)
		return -1;
	w->busy = 1;
	return 0;
}

static void up(void *arg)
{
	struct om_torctl *c = arg;
	char n[24];

	c->st.up = 1;
	c->connects++;
	c->t_up = om_mono_ns();
	c->error[0] = '\0';
	if (c->loop)
		uv_timer_stop(&c->timer);
	snprintf(n, sizeof n, "%d", c->index + 1);
	if (c->logged != 1)
		om_xlog("info", "tor control up", "tor", n, "address", c->name, "version",
			c->sess.version, (char *)0);
	c->logged = 1;
	c->logged_error[0] = '\0';
}

static void info(void *arg, const char *key, const char *value)
{
	struct om_torctl *c = arg;
	char v[8];

	if (!strcmp(key, "net/listeners/socks"))
		om_tview_listeners(c->view, c->index, value, 0);
	else if (!strcmp(key, "net/listeners/httptunnel"))
		om_tview_listeners(c->view, c->index, value, 1);
	else if (!strcmp(key, "status/bootstrap-phase") &&
		 om_tc_value(value, strlen(value), "PROGRESS", v, sizeof v) > 0)
		c->st.bootstrap = atoi(v) >= 0 && atoi(v) <= 100 ? atoi(v) : -1;
	else if (!strcmp(key, "network-liveness"))
		c->st.liveness = !strcmp(value, "up") ? 1 : !strcmp(value, "down") ? 0 : -1;
}

/* --- events --- */

static void circ(struct om_torctl *c, const struct om_tc_circ *e)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	struct timespec ts;
	int64_t us;
	uint64_t ns;
	unsigned i = 0;

	if (e->failed)
		c->st.circ_failed++;
	if (!e->built)
		return;
	c->st.circ_built++;
	if (e->created_us < 0)
		return;
	/* TIME_CREATED is tor's wall clock, on this machine */
	clock_gettime(CLOCK_REALTIME, &ts);
	us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - e->created_us;
	ns = us > 0 ? (uint64_t)us * 1000 : 0;
	while (i < OM_NBUCKET && ns > bounds[i])
		i++;
	c->st.circ_bucket[i]++;
	c->st.circ_sum_ns += ns;
}

static void event(void *arg, const char *t, size_t n)
{
	struct om_torctl *c = arg;
	struct om_tc_stream s;
	struct om_tc_circ ci;
	uint64_t id, w, r;
	char action[16], addr[64], why[32];
	int k;

	if (n > 7 && !memcmp(t, "STREAM ", 7)) {
		if (om_tc_stream(t, n, &s) == 0)
			om_tview_stream(c->view, c->index, &s);
	} else if (n > 10 && !memcmp(t, "STREAM_BW ", 10)) {
		if (om_tc_stream_bw(t, n, &id, &w, &r) == 0)
			om_tview_stream_bw(c->view, c->index, id, w, r);
	} else if (n > 5 && !memcmp(t, "CIRC ", 5)) {
		if (om_tc_circ(t, n, &ci) == 0)
			circ(c, &ci);
	} else if ((k = om_tc_bootstrap(t, n)) >= 0) {
		c->st.bootstrap = k;
	} else if ((k = om_tc_liveness(t, n)) >= 0) {
		c->st.liveness = k;
	} else if (om_tc_hs_desc(t, n, action, sizeof action, addr, sizeof addr) == 0) {
		if (om_tc_value(t, n, "REASON", why, sizeof why) < 0)
			why[0] = '\0';
		om_tview_hs_desc(c->view, action, addr, why);
	}
}

void om_torctl_line(struct om_torctl *c, const char *line, size_t len)
{
	om_tc_session_line(&c->sess, line, len);
	if (c->sess.failed && !c->down)
		fail(c, c->sess.error);
}

/* --- the connection --- */

static void log_down(struct om_torctl *c)
{
	char n[24];

	if (c->logged == 0 && !strcmp(c->logged_error, c->error))
		return;
	snprintf(n, sizeof n, "%d", c->index + 1);
	om_xlog(c->logged == 1 ? "warn" : "error", "tor control down", "tor", n, "address",
		c->name, "reason", c->error, (char *)0);
	c->logged = 0;
	snprintf(c->logged_error, sizeof c->logged_error, "%s", c->error);
}

static void on_closed(uv_handle_t *h)
{
	struct om_torctl *c = h->data;

	c->open = 0;
	memset(c->writes, 0, sizeof c->writes);
	if (!c->stopping)
		schedule(c);
}

/* The connection ends: its streams end with it, and we try again later. */
static void fail(struct om_torctl *c, const char *why)
{
	if (why != c->error)
		snprintf(c->error, sizeof c->error, "%s", why);
	if (c->view) /* its streams, and the listeners it named */
		om_tview_reset(c->view, c->index);
	/* a port that drops us soon after the handshake is not retried at once */
	if (c->st.up && om_mono_ns() - c->t_up > STEADY_NS)
		c->backoff_ms = 0;
	c->st.up = 0;
	c->down = 1;
	log_down(c);
	if (c->open && !uv_is_closing(&c->conn.h)) {
		uv_read_stop(&c->conn.s);
		uv_close(&c->conn.h, on_closed);
	} else if (!c->open && c->loop && !c->stopping) {
		schedule(c);
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct om_torctl *c = h->data;

	(void)hint;
	*b = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void feed_line(const char *line, size_t len, void *arg)
{
	struct om_torctl *c = arg;

	if (!c->down) /* after a failure, the rest is not read */
		om_torctl_line(c, line, len);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct om_torctl *c = s->data;

	if (n == UV_EOF) {
		fail(c, "tor closed the connection");
		return;
	}
	if (n < 0) {
		fail(c, uv_strerror((int)n));
		return;
	}
	if (om_tc_lines_feed(&c->lines, b->base, (size_t)n, feed_line, c) < 0 && !c->down)
		fail(c, "a line longer than 16 KiB: not tor's control protocol");
}

static void on_connect(uv_connect_t *req, int status)
{
	struct om_torctl *c = req->data;

	if (status < 0) {
		snprintf(c->error, sizeof c->error, "cannot connect: %s", uv_strerror(status));
		fail(c, c->error);
		return;
	}
	c->lines.n = 0;
	if (uv_read_start(&c->conn.s, on_alloc, on_read) < 0) {
		fail(c, "cannot read from tor");
		return;
	}
	om_tc_session_begin(&c->sess);
	if (c->sess.failed)
		fail(c, c->sess.error);
}

static void on_deadline(uv_timer_t *t)
{
	struct om_torctl *c = t->data;

	if (!c->st.up)
		fail(c, "tor did not finish the handshake in 10 s");
}

static void on_retry(uv_timer_t *t)
{
	struct om_torctl *c = t->data;
	int rc;

	c->connect_req.data = c;
	if (c->is_unix) {
		uv_pipe_init(c->loop, &c->conn.pipe, 0);
		c->open = 1;
		c->conn.h.data = c;
		uv_pipe_connect(&c->connect_req, &c->conn.pipe,
				((struct sockaddr_un *)&c->sa)->sun_path, on_connect);
		rc = 0;
	} else {
		uv_tcp_init(c->loop, &c->conn.tcp);
		c->open = 1;
		c->conn.h.data = c;
		rc = uv_tcp_connect(&c->connect_req, &c->conn.tcp, (struct sockaddr *)&c->sa,
				    on_connect);
	}
	c->down = 0;
	if (rc < 0) {
		snprintf(c->error, sizeof c->error, "cannot connect: %s", uv_strerror(rc));
		fail(c, c->error);
		return;
	}
	uv_timer_start(&c->timer, on_deadline, HANDSHAKE_MS, 0);
}

static void schedule(struct om_torctl *c)
{
	unsigned ms = c->backoff_ms ? c->backoff_ms : BACKOFF_MIN_MS;

	c->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
	uv_timer_start(&c->timer, on_retry, ms, 0);
}

/* What Tor's view needs: streams (and their bytes as tor counts them, for
 * those no socket can be found for), circuits, bootstrap, liveness, and
 * onion descriptors' fate (for the onion outcomes). */
#define EVENTS "STREAM STREAM_BW CIRC STATUS_CLIENT NETWORK_LIVENESS HS_DESC"

void om_torctl_session(struct om_torctl *c, const char *password_file)
{
	struct om_tc_session *s = &c->sess;

	memset(s, 0, sizeof *s);
	s->is_unix = c->is_unix;
	s->password_file = password_file;
	s->events = EVENTS;
	s->status_keys = "status/bootstrap-phase network-liveness";
	s->arg = c;
	s->send = send_line;
	s->event = event;
	s->info = info;
	s->up = up;
}

void om_torctl_start(struct om_torctl *c, uv_loop_t *loop, struct om_tview *view, int index,
		     const char *password_file)
{
	c->loop = loop;
	c->view = view;
	c->index = index;
	om_torctl_session(c, password_file);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	uv_timer_start(&c->timer, on_retry, 0, 0);
}

void om_torctl_stop(struct om_torctl *c)
{
	c->stopping = 1;
	if (c->loop) {
		uv_timer_stop(&c->timer);
		if (!uv_is_closing((uv_handle_t *)&c->timer))
			uv_close((uv_handle_t *)&c->timer, 0);
	}
	if (c->open && !uv_is_closing(&c->conn.h))
		uv_close(&c->conn.h, 0);
}
