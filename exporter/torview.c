#include "torview.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/diag.h"
#include "common/outcome.h"
#include "tv_index.h"
#include "tv_tor.h"

/* One stream and the client's TCP connection that carries it (tor serves
 * one stream per SOCKS or HTTP CONNECT connection).  It lives from NEW
 * until tor closed the stream and the kernel destroyed both sockets, so
 * that the last bytes before a close are counted. */
struct om_tv_ent {
	uint64_t key;                 /* in sidx while the stream lives, else 0 */
	uint64_t cookie, tor_cookie;  /* the client's socket, tor's; 0: not known */
	uint64_t out, in, tor_out;    /* the latest the kernel said */
	uint64_t out_done, in_done;   /* credited so far */
	uint64_t bw_out, bw_in;       /* tor's STREAM_BW, for one not attributed */
	uint64_t t_new, t_outcome;
	uint32_t cgen, tgen;          /* the poll that last listed each socket */
	uint64_t c_seen, t_seen;      /* ... and when */
	uint8_t used, tor, cls, proto, outcome;
	uint8_t counted, opened, closed, pending, noconn;
	uint8_t client_gone, tor_gone, has_tor, unseen; /* unseen: 0 ?, 1 no, 2 yes */
	uint8_t family;
	uint8_t src[16];
	uint16_t sport;
	char onion[57]; /* an onion target's address (for its descriptor's fate) */
};

struct om_tv_gone {
	struct om_diag_sock s;
	uint64_t at; /* 0: free */
};

#define WAIT_NS 10000000000ull  /* a connection not found by then is gone */
#define DECIDE_NS 1000000000ull /* a shim records a socket before tor answers */
#define LOST_NS 5000000000ull   /* a socket missing this long had its notice lost */

int om_tview_init(struct om_tview *v, const struct om_kscope *scope, struct om_reader *readers,
		  int nreaders, const char **why)
{
	uint32_t i;

	memset(v, 0, sizeof *v);
	v->scope = scope;
	v->readers = readers;
	v->nreaders = nreaders;
	v->diag_fd = v->destroy_fd = -1;
	v->e = calloc(OM_TV_MAX, sizeof *v->e);
	v->free_list = calloc(OM_TV_MAX, sizeof *v->free_list);
	v->ring = calloc(OM_TV_RING, sizeof *v->ring);
	/* two cookies per connection, at most half full */
	if (!v->e || !v->free_list || !v->ring || om_tv_idx_init(&v->sidx, 2 * OM_TV_MAX) < 0 ||
	    om_tv_idx_init(&v->cidx, 4 * OM_TV_MAX) < 0 || om_tv_idx_init(&v->pidx, 2 * OM_TV_MAX) < 0) {
		*why = "out of memory";
		om_tview_free(v);
		return -1;
	}
	for (i = 0; i < OM_TV_MAX; i++)
		v->free_list[i] = OM_TV_MAX - 1 - i;
	v->nfree = OM_TV_MAX;
	v->diag_fd = om_diag_open();
	v->destroy_fd = om_diag_destroy_open();
	if (v->diag_fd < 0 || v->destroy_fd < 0) {
		*why = "cannot open NETLINK_SOCK_DIAG, or subscribe to its destroy notices";
		om_tview_free(v);
		return -1;
	}
	return 0;
}

void om_tview_free(struct om_tview *v)
{
	if (v->diag_fd >= 0)
		close(v->diag_fd);
	if (v->destroy_fd >= 0)
		close(v->destroy_fd);
	v->diag_fd = v->destroy_fd = -1;
	free(v->e);
	free(v->free_list);
	free(v->ring);
	om_tv_idx_free(&v->sidx);
	om_tv_idx_free(&v->cidx);
	om_tv_idx_free(&v->pidx);
	v->e = 0, v->free_list = 0, v->ring = 0;
}

static uint64_t now(const struct om_tview *v)
{
	return v->now_ns ? v->now_ns : om_mono_ns();
}

static uint32_t num(const struct om_tview *v, const struct om_tv_ent *e)
{
	return (uint32_t)(e - v->e) + 1;
}

/* --- a connection's sockets: bytes, and the blind-spot verdict --- */

static int seen_by_a_shim(struct om_tview *v, uint64_t cookie)
{
	int i;

	for (i = 0; i < v->nreaders; i++)
		if (om_reader_knows(&v->readers[i], cookie))
			return 1;
	return 0;
}

static void credit(struct om_tview *v, struct om_tv_ent *e)
{
	uint64_t in = e->has_tor ? e->tor_out : e->in, d;

	if (e->out > e->out_done) {
		d = e->out - e->out_done;
		v->bytes[e->cls][OM_EGRESS] += d;
		if (e->unseen == 2)
			v->unseen_bytes[e->cls][OM_EGRESS] += d;
		e->out_done = e->out;
	}
	if (in > e->in_done) {
		d = in - e->in_done;
		v->bytes[e->cls][OM_INGRESS] += d;
		if (e->unseen == 2)
			v->unseen_bytes[e->cls][OM_INGRESS] += d;
		e->in_done = in;
	}
}

/* Seen by a shim or not: asked once the dial has its outcome and the
 * client is gone or a second has passed (a shim records a socket when
 * the program's request is whole, before tor can answer it). */
static void decide(struct om_tview *v, struct om_tv_ent *e)
{
	if (e->unseen || !e->cookie || !e->counted ||
	    (!e->client_gone && now(v) - e->t_outcome < DECIDE_NS))
		return;
	e->unseen = seen_by_a_shim(v, e->cookie) ? 1 : 2;
	if (e->unseen == 2) {
		v->unseen_streams[e->cls][e->outcome]++;
		v->unseen_bytes[e->cls][OM_EGRESS] += e->out_done;
		v->unseen_bytes[e->cls][OM_INGRESS] += e->in_done;
	}
}

/* e waits for its client's socket (found by address and port), or stops. */
static void set_pending(struct om_tview *v, struct om_tv_ent *e, int on)
{
	uint64_t k = om_tv_tkey(e->family, e->src, e->sport);

	if (on == e->pending)
		return;
	e->pending = (uint8_t)on;
	if (on) {
		v->npending++;
		om_tv_idx_put(&v->pidx, k, num(v, e));
	} else {
		v->npending--;
		if (om_tv_idx_find(&v->pidx, k) == num(v, e))
			om_tv_idx_del(&v->pidx, k);
	}
}

static void not_attributed(struct om_tview *v, struct om_tv_ent *e, unsigned why)
{
	v->unattributed[why]++;
	e->noconn = 1;
	v->tor_bytes[e->cls][OM_EGRESS] += e->bw_out;
	v->tor_bytes[e->cls][OM_INGRESS] += e->bw_in;
}

static void ent_free(struct om_tview *v, struct om_tv_ent *e)
{
	credit(v, e);
	if (e->cookie)
		om_tv_idx_del(&v->cidx, e->cookie);
	if (e->tor_cookie)
		om_tv_idx_del(&v->cidx, e->tor_cookie);
	if (e->key)
		om_tv_idx_del(&v->sidx, e->key);
	set_pending(v, e, 0);
	v->free_list[v->nfree++] = num(v, e) - 1;
	memset(e, 0, sizeof *e);
	v->nents--;
}

/* Tor closed the stream and the kernel destroyed what it had found. */
static int done(const struct om_tv_ent *e)
{
	return e->closed && !e->pending && (!e->cookie || e->client_gone) &&
	       (!e->tor_cookie || e->tor_gone);
}

static int in_scope(const struct om_tview *v, const struct om_diag_sock *s)
{
	if (v->scope->kind == OM_KSCOPE_UID)
		return s->uid == v->scope->uid;
	if (v->scope->kind == OM_KSCOPE_CGROUP)
		return s->cgroup == v->scope->cgroup;
	return 1;
}

/* The kernel said this of the client's socket (client) or tor's; gone: in
 * a destroy notice, the socket's last word. */
static void learn(struct om_tview *v, struct om_tv_ent *e, const struct om_diag_sock *s,
		  int client, int gone)
{
	if (client)
		set_pending(v, e, 0);
	if (client) {
		if (!e->cookie && s->cookie && !om_tv_idx_find(&v->cidx, s->cookie)) {
			e->cookie = s->cookie;
			om_tv_idx_put(&v->cidx, s->cookie, num(v, e) << 1 | 1);
		}
		if (s->has_info) {
			uint64_t in = s->bytes_in;

			/* a destroyed socket's state no longer says whether the
			 * peer's FIN is in its count; tor's end, when known, says
			 * in exactly */
			if (gone && in > e->in)
				in--;
			if (s->bytes_out > e->out)
				e->out = s->bytes_out;
			if (in > e->in)
				e->in = in;
		}
		e->cgen = v->gen;
		e->c_seen = now(v);
		e->client_gone |= (uint8_t)gone;
	} else {
		if (!e->tor_cookie && s->cookie && !om_tv_idx_find(&v->cidx, s->cookie)) {
			e->tor_cookie = s->cookie;
			om_tv_idx_put(&v->cidx, s->cookie, num(v, e) << 1);
		}
		if (s->has_info) {
			e->has_tor = 1;
			if (s->bytes_out > e->tor_out)
				e->tor_out = s->bytes_out;
		}
		e->tgen = v->gen;
		e->t_seen = now(v);
		e->tor_gone |= (uint8_t)gone;
	}
	credit(v, e);
	decide(v, e);
}

/* Is s the client's side (1) or tor's (0) of e's connection, or neither
 * (-1)?  The client's address and port, and a listener at the other end. */
static int side(const struct om_tview *v, const struct om_tv_ent *e, const struct om_diag_sock *s)
{
	size_t n = e->family == AF_INET ? 4 : 16;

	if (s->family != e->family)
		return -1;
	if (s->sport == e->sport && !memcmp(s->src, e->src, n) &&
	    om_tv_listening(v, s->family, s->dst, s->dport))
		return 1;
	if (s->dport == e->sport && !memcmp(s->dst, e->src, n) &&
	    om_tv_listening(v, s->family, s->src, s->sport))
		return 0;
	return -1;
}

/* Find e's sockets: in the kernel's list, and among those just destroyed
 * (by cookie, or the newest of the 4-tuple).  Not found: wait for a
 * notice.  -1: the client's is out of scope. */
static int attribute(struct om_tview *v, struct om_tv_ent *e, int http)
{
	struct om_diag_sock s;
	const struct om_tv_listener *ls;
	unsigned i, k;
	int j;

	for (j = 0; j < v->nlisteners && !e->cookie; j++) {
		ls = &v->listeners[j];
		if (ls->tor != e->tor || ls->family != e->family || ls->http != http)
			continue;
		/* a socket in TIME_WAIT is the kernel's remnant: no counts, a
		 * cookie of its own; the socket's last word is its notice */
		if (om_diag_find(v->diag_fd, &v->seq, e->family, e->src, e->sport, ls->addr,
				 ls->port, &s) <= 0 || !s.cookie || s.state == TCP_TIME_WAIT)
			continue;
		if (!in_scope(v, &s))
			return -1;
		learn(v, e, &s, 1, 0);
		if (om_diag_find(v->diag_fd, &v->seq, e->family, ls->addr, ls->port, e->src,
				 e->sport, &s) > 0 && s.state != TCP_TIME_WAIT)
			learn(v, e, &s, 0, 0);
	}
	for (k = 0; k < OM_TV_RING; k++) {
		const struct om_diag_sock *g;

		i = (v->ring_next - 1 - k) % OM_TV_RING; /* newest first */
		if (!v->ring[i].at)
			continue;
		g = &v->ring[i].s;
		j = g->cookie && g->cookie == e->cookie ? 1
		  : g->cookie && g->cookie == e->tor_cookie ? 0 : side(v, e, g);
		if (j < 0 || (j ? e->client_gone || (e->cookie && e->cookie != g->cookie)
				: e->tor_gone || (e->tor_cookie && e->tor_cookie != g->cookie)))
			continue;
		learn(v, e, g, j, 1);
		v->ring[i].at = 0;
	}
	if (!e->cookie)
		set_pending(v, e, 1);
	return 0;
}

/* --- streams --- */

static uint64_t skey(int tor, uint64_t id)
{
	return id * OM_TV_TORS + (uint64_t)tor + 1;
}

static struct om_tv_ent *stream_of(struct om_tview *v, int tor, uint64_t id)
{
	uint64_t key = skey(tor, id);
	uint32_t n = key ? om_tv_idx_find(&v->sidx, key) : 0;

	return n ? &v->e[n - 1] : 0;
}

static void stream_new(struct om_tview *v, int tor, const struct om_tc_stream *ev)
{
	struct om_tv_ent *e;
	uint64_t key = skey(tor, ev->id);

	if (!ev->user || ev->src == OM_TC_SRC_NONE || !key || om_tv_idx_find(&v->sidx, key))
		return; /* tor's own streams (directory fetches), or a repeat */
	if (!v->nfree) {
		v->unattributed[OM_TV_TABLE_FULL]++;
		return;
	}
	e = &v->e[v->free_list[--v->nfree]];
	v->nents++;
	e->used = 1;
	e->key = key;
	e->tor = (uint8_t)tor;
	e->t_new = now(v);
	e->cls = ev->onion ? OM_CLASS_ONION : OM_CLASS_PROXIED;
	e->proto = (uint8_t)ev->proto;
	e->cgen = e->tgen = v->gen;
	if (ev->onion) {
		size_t n = strcspn(ev->host, ".");

		if (n < sizeof e->onion) {
			memcpy(e->onion, ev->host, n);
			e->onion[n] = '\0';
		}
	}
	om_tv_idx_put(&v->sidx, key, num(v, e));
	if (ev->src == OM_TC_SRC_UNIX) {
		not_attributed(v, e, OM_TV_UNIX_PORT);
		return;
	}
	e->family = ev->src_family == 4 ? AF_INET : AF_INET6;
	memcpy(e->src, ev->src_addr, 16);
	e->sport = ev->src_port;
	if (attribute(v, e, ev->proto == OM_TC_HTTPCONNECT) < 0) {
		ent_free(v, e); /* out of scope: not ours to count */
		return;
	}
}

static void count(struct om_tview *v, struct om_tv_ent *e, uint8_t o)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	uint64_t t = now(v), ns = t - e->t_new;
	unsigned i = 0;

	v->streams[e->cls][o]++;
	while (i < OM_NBUCKET && ns > bounds[i])
		i++;
	v->dial_bucket[e->cls][i]++;
	v->dial_sum_ns[e->cls] += ns;
	e->counted = 1;
	e->outcome = o;
	e->t_outcome = t;
	if (o == OM_OUT_SUCCESS) {
		v->open[e->cls]++;
		e->opened = 1;
	}
	decide(v, e);
}

/* Tor is done with the stream; the connection may outlive it. */
static void stream_closed(struct om_tview *v, struct om_tv_ent *e)
{
	if (e->opened)
		v->open[e->cls]--;
	e->opened = 0;
	e->closed = 1;
	om_tv_idx_del(&v->sidx, e->key);
	e->key = 0;
	if (done(e))
		ent_free(v, e);
}

void om_tview_stream(struct om_tview *v, int tor, const struct om_tc_stream *ev)
{
	struct om_tv_ent *e;

	v->events++;
	if (tor < 0 || tor >= OM_TV_TORS)
		return;
	if (ev->status == OM_TC_NEW) {
		stream_new(v, tor, ev);
		return;
	}
	if (!(e = stream_of(v, tor, ev->id)))
		return; /* not followed: from before we connected, tor's own, out of scope */
	switch (ev->status) {
	case OM_TC_SUCCEEDED:
		if (!e->counted)
			count(v, e, OM_OUT_SUCCESS);
		break;
	case OM_TC_FAILED:
		if (!e->counted)
			count(v, e, om_tv_outcome(v, e->proto, e->cls, e->onion, ev));
		break;
	case OM_TC_CLOSED:
		if (!e->counted) /* the client went before tor answered */
			count(v, e, OM_OUT_ABORTED);
		stream_closed(v, e);
		break;
	default:
		break;
	}
}

void om_tview_stream_bw(struct om_tview *v, int tor, uint64_t id, uint64_t written,
			uint64_t read)
{
	struct om_tv_ent *e;

	v->events++;
	if (tor < 0 || tor >= OM_TV_TORS || !(e = stream_of(v, tor, id)))
		return;
	/* written: by the application (tor read it) */
	e->bw_out += written;
	e->bw_in += read;
	if (e->noconn) {
		v->tor_bytes[e->cls][OM_EGRESS] += written;
		v->tor_bytes[e->cls][OM_INGRESS] += read;
	}
}

void om_tview_reset(struct om_tview *v, int tor)
{
	uint32_t i;
	int j, k;

	for (i = 0; i < OM_TV_MAX && v->nents; i++) {
		struct om_tv_ent *e = &v->e[i];

		if (e->used && e->tor == tor && e->key)
			stream_closed(v, e); /* counted or not: tor is gone */
	}
	for (j = k = 0; j < v->nlisteners; j++)
		if (v->listeners[j].tor != tor)
			v->listeners[k++] = v->listeners[j];
	v->nlisteners = k;
}

/* --- the kernel's side --- */

void om_tview_poll_begin(struct om_tview *v)
{
	v->gen++;
}

void om_tview_sock(struct om_tview *v, const struct om_diag_sock *s)
{
	uint32_t n;

	if (!v->nents || !s->cookie || s->state == TCP_TIME_WAIT ||
	    !(n = om_tv_idx_find(&v->cidx, s->cookie)))
		return;
	learn(v, &v->e[(n >> 1) - 1], s, (int)(n & 1), 0);
}

void om_tview_poll_end(struct om_tview *v)
{
	uint64_t t = now(v);
	uint32_t i, left = v->nents;

	for (i = 0; i < OM_TV_MAX && left; i++) {
		struct om_tv_ent *e = &v->e[i];

		if (!e->used)
			continue;
		left--;
		if (e->pending && t - e->t_new > WAIT_NS) {
			set_pending(v, e, 0);
			not_attributed(v, e, OM_TV_GONE);
		}
		/* missing from this poll, and not seen for seconds: gone, its
		 * notice lost (it comes from a work queue, a moment after the
		 * socket left the list) */
		if (e->cookie && !e->client_gone && e->cgen != v->gen && t - e->c_seen > LOST_NS)
			e->client_gone = 1;
		if (e->tor_cookie && !e->tor_gone && e->tgen != v->gen && t - e->t_seen > LOST_NS)
			e->tor_gone = 1;
		decide(v, e);
		if (done(e))
			ent_free(v, e);
	}
}

void om_tview_notice(struct om_tview *v, const struct om_diag_sock *s)
{
	uint32_t n = s->cookie ? om_tv_idx_find(&v->cidx, s->cookie) : 0, i;
	struct om_tv_ent *e;
	int j;

	if (n) {
		e = &v->e[(n >> 1) - 1];
		learn(v, e, s, (int)(n & 1), 1);
		if (done(e))
			ent_free(v, e);
		return;
	}
	/* one whose stream waits for it: the client's side, or tor's */
	for (j = 1; v->npending && j >= 0; j--) {
		n = j ? om_tv_idx_find(&v->pidx, om_tv_tkey(s->family, s->src, s->sport))
		      : om_tv_idx_find(&v->pidx, om_tv_tkey(s->family, s->dst, s->dport));
		e = n ? &v->e[n - 1] : 0;
		if (e && side(v, e, s) == j) {
			learn(v, e, s, j, 1);
			return;
		}
	}
	/* to or from a tor port: its NEW may be on its way */
	if (om_tv_listening(v, s->family, s->dst, s->dport) || om_tv_listening(v, s->family, s->src, s->sport)) {
		i = v->ring_next++ % OM_TV_RING;
		v->ring[i].s = *s;
		v->ring[i].at = now(v);
	}
}

static void on_notice(const struct om_diag_sock *s, void *arg)
{
	om_tview_notice(arg, s);
}

void om_tview_destroyed(struct om_tview *v)
{
	if (om_diag_destroy_read(v->destroy_fd, on_notice, v) < 0)
		v->notices_lost++;
}
