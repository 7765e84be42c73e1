#include "render.h"

#include <stdio.h>
#include <string.h>

#include "common/metrics.h"
#include "kernel.h"
#include "torview.h"
#include "om_revision.h"
#include "om_version.h"
#include "selfstat.h"
#include "text.h"


void om_collect(struct om_source *src, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct om_source *s = &src[i];

		s->up = om_reader_snapshot(s->r, &s->t) == 0;
		if (s->ev && (!s->up || om_reader_events(s->r, s->ev) < 0))
			s->ev->n = 0;
		if (s->up) {
			memcpy(s->last_leaks, s->t.leaks, sizeof s->last_leaks);
			memcpy(s->last_uncounted, s->t.uncounted, sizeof s->last_uncounted);
			s->was_up = 1;
		}
	}
}

struct ctx {
	struct om_buf *b;
	enum om_format f;
	const struct om_source *src;
	int n;
	const struct om_views *views;
	char seg[PATH_MAX + 16]; /* 'segment="..."' label of the current source */
};

/* Label values come from our own tables, except segment names, which are
 * the operator's: escape those per the exposition format. */
static void set_segment(struct ctx *c, const struct om_source *s)
{
	char *o = c->seg, *end = c->seg + sizeof c->seg - 3;
	const char *p;

	c->seg[0] = '\0';
	if (c->n < 2)
		return;
	o += sprintf(o, "segment=\"");
	for (p = s->r->name; *p && o < end - 2; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n') {
			*o++ = '\\';
			*o++ = *p == '\n' ? 'n' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '"';
	*o = '\0';
}

static const struct om_metric_def metrics[OM_NMETRIC] = { OM_METRICS(OM_METRIC_DEF) };

static void family(struct ctx *c, enum om_metric_id id)
{
	const struct om_metric_def *m = &metrics[id];
	size_t n = strlen(m->name);

	/* OpenMetrics names a counter family without its _total suffix */
	if (c->f == OM_FMT_OPENMETRICS && !strcmp(m->type, "counter") && n > 6 &&
	    !strcmp(m->name + n - 6, "_total"))
		n -= 6;
	om_buf_printf(c->b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, m->name, m->help,
		      (int)n, m->name, m->type);
}

/* One sample of family id (suffix: a histogram's _bucket, _sum, _count). */
static void sample_as(struct ctx *c, enum om_metric_id id, const char *suffix,
		      const char *labels, double v)
{
	int has_seg = c->seg[0] != '\0', has = labels && *labels;

	/* counts print as exact integers, fractions with 9 significant digits */
	om_buf_printf(c->b, v == (double)(uint64_t)v && v < 9.2e18 ? "%s%s%s%s%s%s%s %.0f\n"
								 : "%s%s%s%s%s%s%s %.9g\n",
		      metrics[id].name, suffix, has_seg || has ? "{" : "", c->seg,
		      has_seg && has ? "," : "", has ? labels : "", has_seg || has ? "}" : "", v);
}

static void sample(struct ctx *c, enum om_metric_id id, const char *labels, double v)
{
	sample_as(c, id, "", labels, v);
}

/* The name of family id's label number k ("class" of "class,outcome"). */
static void label_name(enum om_metric_id id, int k, char *out, size_t n)
{
	const char *p = metrics[id].labels, *e;

	while (k-- > 0 && (p = strchr(p, ',')))
		p++;
	e = p ? strchr(p, ',') : 0;
	snprintf(out, n, "%.*s", p ? (int)(e ? (size_t)(e - p) : strlen(p)) : 0, p ? p : "");
}

/* A family's samples over one label (n values), or two (n x m, row-major). */
static void by_label(struct ctx *c, enum om_metric_id id, const char *const *names, int n,
		     const uint64_t *v)
{
	char k[32], l[160];
	int i;

	label_name(id, 0, k, sizeof k);
	for (i = 0; i < n; i++) {
		snprintf(l, sizeof l, "%s=\"%s\"", k, names[i]);
		sample(c, id, l, (double)v[i]);
	}
}

static void by_labels(struct ctx *c, enum om_metric_id id, const char *const *names, int n,
		      const char *const *names2, int m, const uint64_t *v)
{
	char k[32], k2[32], l[160];
	int i, j;

	label_name(id, 0, k, sizeof k);
	label_name(id, 1, k2, sizeof k2);
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++) {
			snprintf(l, sizeof l, "%s=\"%s\",%s=\"%s\"", k, names[i], k2, names2[j]);
			sample(c, id, l, (double)v[i * m + j]);
		}
}

#define FOR_UP(c, s)                                                          \
	for (const struct om_source *s = (c)->src; s < (c)->src + (c)->n; s++) \
		if (s->up && (set_segment(c, s), 1))
/* Series that exist from the first scrape, the segment up or not. */
#define FOR_ALL(c, s)                                                         \
	for (const struct om_source *s = (c)->src; s < (c)->src + (c)->n; s++) \
		if ((set_segment(c, s), 1))

static const char *const kclass_names[OM_NKCLASS] = OM_KCLASS_NAMES;

/* The kernel's view (kernel.h): what it lists, and what no attached
 * process accounts for.  Values of the last poll. */
static void kernel_view(struct ctx *c, const struct om_kview *k)
{
	family(c, OM_M_KERNEL_UP);
	sample(c, OM_M_KERNEL_UP, 0, k->up);
	family(c, OM_M_KERNEL_CONNECTIONS);
	by_label(c, OM_M_KERNEL_CONNECTIONS, kclass_names, OM_NKCLASS, k->conns);
	family(c, OM_M_KERNEL_SEEN);
	by_label(c, OM_M_KERNEL_SEEN, kclass_names, OM_NKCLASS, k->seen_total);
	family(c, OM_M_KERNEL_BYTES);
	by_labels(c, OM_M_KERNEL_BYTES, kclass_names, OM_NKCLASS, om_dir_names, OM_NDIR,
		  &k->bytes[0][0]);
	family(c, OM_M_KERNEL_UDP);
	by_label(c, OM_M_KERNEL_UDP, kclass_names, OM_NKCLASS, k->udp);
	family(c, OM_M_UNSEEN);
	by_label(c, OM_M_UNSEEN, kclass_names, OM_NKCLASS, k->unseen);
	family(c, OM_M_KERNEL_POLLS);
	sample(c, OM_M_KERNEL_POLLS, 0, (double)k->polls);
	family(c, OM_M_KERNEL_POLL_DURATION);
	sample(c, OM_M_KERNEL_POLL_DURATION, 0, k->poll_seconds);
	family(c, OM_M_KERNEL_POLL_INTERVAL);
	sample(c, OM_M_KERNEL_POLL_INTERVAL, 0, k->interval_seconds);
}

/* A histogram's samples: n rows of buckets, each row with its own labels
 * (label=values[k]; none if label is NULL). */
static void histogram(struct ctx *c, enum om_metric_id id, const char *label,
		      const char *const *values, int n, const uint64_t *buckets,
		      const uint64_t *sum_ns)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	char l[160], row[96];
	int k, i;

	for (k = 0; k < n; k++) {
		uint64_t cum = 0;

		if (label)
			snprintf(row, sizeof row, "%s=\"%s\",", label, values[k]);
		else
			row[0] = '\0';
		for (i = 0; i <= OM_NBUCKET; i++) {
			cum += buckets[k * (OM_NBUCKET + 1) + i];
			if (i < OM_NBUCKET)
				snprintf(l, sizeof l, "%sle=\"%g\"", row, (double)bounds[i] / 1e9);
			else
				snprintf(l, sizeof l, "%sle=\"+Inf\"", row);
			sample_as(c, id, "_bucket", l, (double)cum);
		}
		if (*row)
			row[strlen(row) - 1] = '\0'; /* the comma */
		sample_as(c, id, "_sum", row, (double)sum_ns[k] / 1e9);
		sample_as(c, id, "_count", row, (double)cum);
	}
}

/* Tor's view (torview.h): streams by target class (onion, proxied), and
 * each tor's health, labelled by its number. */
static const char *const tv_unattr_names[OM_NTV_UNATTR] = OM_TV_UNATTR_NAMES;

/* A per-tor family's value for one tor; negative: not known, no sample. */
static double tor_value(enum om_metric_id id, const struct om_tor_status *t)
{
	switch (id) {
	case OM_M_TOR_UP: return t->up;
	case OM_M_TOR_BOOTSTRAP: return t->bootstrap;
	case OM_M_TOR_LIVENESS: return t->liveness;
	case OM_M_TOR_CIRC_BUILT: return (double)t->circ_built;
	default: return (double)t->circ_failed;
	}
}

/* A family with one sample per tor, labelled tor="N" (N from 1, in
 * --tor-control order). */
static void per_tor(struct ctx *c, enum om_metric_id id, const struct om_views *w)
{
	char l[32];
	int i;

	family(c, id);
	for (i = 0; i < w->ntors; i++) {
		double v = tor_value(id, w->tors[i]);

		if (v < 0)
			continue;
		snprintf(l, sizeof l, "tor=\"%d\"", i + 1);
		sample(c, id, l, v);
	}
}

static void tor_view(struct ctx *c, const struct om_views *w)
{
	const struct om_tview *v = w->tv;
	char n[12];
	int i;

#define TOR_ROWS 2 /* onion and proxied: the first two classes */
	_Static_assert(OM_CLASS_ONION == 0 && OM_CLASS_PROXIED == 1, "tor's classes first");
	per_tor(c, OM_M_TOR_UP, w);
	family(c, OM_M_TOR_STREAMS);
	by_labels(c, OM_M_TOR_STREAMS, om_class_names, TOR_ROWS, om_outcome_names, OM_NOUTCOME,
		  &v->streams[0][0]);
	family(c, OM_M_TOR_DIAL_DURATION);
	histogram(c, OM_M_TOR_DIAL_DURATION, "class", om_class_names, TOR_ROWS,
		  &v->dial_bucket[0][0], v->dial_sum_ns);
	family(c, OM_M_TOR_BYTES);
	by_labels(c, OM_M_TOR_BYTES, om_class_names, TOR_ROWS, om_dir_names, OM_NDIR,
		  &v->bytes[0][0]);
	family(c, OM_M_TOR_OPEN);
	by_label(c, OM_M_TOR_OPEN, om_class_names, TOR_ROWS, v->open);
	family(c, OM_M_TOR_UNSEEN_STREAMS);
	by_labels(c, OM_M_TOR_UNSEEN_STREAMS, om_class_names, TOR_ROWS, om_outcome_names,
		  OM_NOUTCOME, &v->unseen_streams[0][0]);
	family(c, OM_M_TOR_UNSEEN_BYTES);
	by_labels(c, OM_M_TOR_UNSEEN_BYTES, om_class_names, TOR_ROWS, om_dir_names, OM_NDIR,
		  &v->unseen_bytes[0][0]);
	family(c, OM_M_TOR_UNATTRIBUTED);
	by_label(c, OM_M_TOR_UNATTRIBUTED, tv_unattr_names, OM_NTV_UNATTR, v->unattributed);
	family(c, OM_M_TOR_REPORTED_BYTES);
	by_labels(c, OM_M_TOR_REPORTED_BYTES, om_class_names, TOR_ROWS, om_dir_names, OM_NDIR,
		  &v->tor_bytes[0][0]);
	family(c, OM_M_TOR_EVENTS);
	sample(c, OM_M_TOR_EVENTS, 0, (double)v->events);
	per_tor(c, OM_M_TOR_BOOTSTRAP, w);
	per_tor(c, OM_M_TOR_LIVENESS, w);
	per_tor(c, OM_M_TOR_CIRC_BUILT, w);
	per_tor(c, OM_M_TOR_CIRC_FAILED, w);
	family(c, OM_M_TOR_CIRC_BUILD);
	for (i = 0; i < w->ntors; i++) {
		const char *val = n;

		snprintf(n, sizeof n, "%d", i + 1);
		histogram(c, OM_M_TOR_CIRC_BUILD, "tor", &val, 1, w->tors[i]->circ_bucket,
			  &w->tors[i]->circ_sum_ns);
	}
}

static void exposition(struct ctx *c, double scrape_seconds)
{
	static const char *const enforce[] = { "false", "true" };
	struct om_selfstat ps;
	int i, j;

	family(c, OM_M_DIALS);
	FOR_UP(c, s) by_labels(c, OM_M_DIALS, om_class_names, OM_NCLASS, om_outcome_names,
			       OM_NOUTCOME, &s->t.dials[0][0]);
	family(c, OM_M_DIAL_DURATION);
	FOR_UP(c, s) histogram(c, OM_M_DIAL_DURATION, "class", om_class_names, OM_NCLASS,
			       &s->t.dial_bucket[0][0], s->t.dial_sum_ns);
	family(c, OM_M_BYTES);
	FOR_UP(c, s) by_labels(c, OM_M_BYTES, om_class_names, OM_NCLASS, om_dir_names, OM_NDIR,
			       &s->t.bytes[0][0]);
	family(c, OM_M_CONNECTIONS);
	FOR_UP(c, s) by_label(c, OM_M_CONNECTIONS, om_class_names, OM_NCLASS, s->t.open_now);
	family(c, OM_M_ACCEPTED);
	FOR_UP(c, s) by_label(c, OM_M_ACCEPTED, om_class_names, OM_NCLASS, s->t.accepted);
	family(c, OM_M_LEAKS);
	FOR_ALL(c, s) by_labels(c, OM_M_LEAKS, om_leak_names, OM_NLEAK, om_action_names,
				OM_NACTION, &s->last_leaks[0][0]);
	family(c, OM_M_PROXY_UNREACHABLE);
	FOR_UP(c, s) sample(c, OM_M_PROXY_UNREACHABLE, 0, (double)s->t.proxy_unreachable);
	family(c, OM_M_PROCESSES);
	FOR_UP(c, s) sample(c, OM_M_PROCESSES, 0, (double)s->t.processes);
	family(c, OM_M_SLOTS);
	FOR_UP(c, s) sample(c, OM_M_SLOTS, 0, (double)s->t.slots);
	family(c, OM_M_SLOTS_USED);
	FOR_UP(c, s) sample(c, OM_M_SLOTS_USED, 0, (double)s->t.slots_used);
	family(c, OM_M_UNCOUNTED);
	FOR_ALL(c, s) by_label(c, OM_M_UNCOUNTED, om_uncounted_names, OM_NUNCOUNTED,
			       s->last_uncounted);
	family(c, OM_M_POLICY_INFO);
	FOR_ALL(c, s) {
		uint64_t on[OM_NPOLICY][2];

		for (i = 0; i < OM_NPOLICY; i++)
			for (j = 0; j < 2; j++)
				on[i][j] = s->up && s->t.policy[i][j] ? 1 : 0;
		by_labels(c, OM_M_POLICY_INFO, om_policy_names, OM_NPOLICY, enforce, 2, &on[0][0]);
	}
	family(c, OM_M_LIVENESS_UP);
	FOR_UP(c, s) sample(c, OM_M_LIVENESS_UP, 0, s->t.live_known);
	family(c, OM_M_SEGMENT_UP);
	FOR_ALL(c, s) sample(c, OM_M_SEGMENT_UP, 0, s->up);
	c->seg[0] = '\0';
	if (c->views && c->views->kv)
		kernel_view(c, c->views->kv);
	if (c->views && c->views->tv)
		tor_view(c, c->views);
	family(c, OM_M_BUILD_INFO);
	sample(c, OM_M_BUILD_INFO, "version=\"" OM_VERSION "\",revision=\"" OM_REVISION "\"", 1);
	family(c, OM_M_SCRAPE_DURATION);
	sample(c, OM_M_SCRAPE_DURATION, 0, scrape_seconds);

	om_selfstat_read(&ps);
	if (ps.ok) {
		static const enum om_metric_id ids[] = { OM_M_CPU, OM_M_RSS, OM_M_VSZ,
							 OM_M_OPEN_FDS, OM_M_MAX_FDS, OM_M_START_TIME };
		const double v[] = { ps.cpu_seconds, ps.resident_bytes, ps.virtual_bytes,
				     ps.open_fds, ps.max_fds, ps.start_time };

		for (i = 0; i < (int)(sizeof ids / sizeof ids[0]); i++) {
			family(c, ids[i]);
			sample(c, ids[i], 0, v[i]);
		}
	}
	if (c->f == OM_FMT_OPENMETRICS)
		om_buf_printf(c->b, "# EOF\n");
}

void om_render(struct om_buf *b, enum om_format f, const struct om_source *src,
	       int n, double scrape_seconds, const struct om_views *views)
{
	struct ctx c = { .b = b, .f = f, .src = src, .n = n, .views = views };

	switch (f) {
	case OM_FMT_PROMETHEUS:
	case OM_FMT_OPENMETRICS:
		exposition(&c, scrape_seconds);
		break;
	case OM_FMT_JSON:
		om_render_json(b, src, n);
		break;
	case OM_FMT_SUMMARY:
		om_render_summary(b, src, n);
		break;
	}
}
