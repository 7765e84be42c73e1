#include "render.h"

#include <stdio.h>
#include <string.h>

#include "om_revision.h"
#include "om_version.h"
#include "kernel.h"
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
	const struct om_kview *kv;
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

static void family(struct ctx *c, const char *name, const char *type,
		   const char *help)
{
	size_t n = strlen(name);

	/* OpenMetrics names a counter family without its _total suffix */
	if (c->f == OM_FMT_OPENMETRICS && !strcmp(type, "counter") && n > 6 &&
	    !strcmp(name + n - 6, "_total"))
		n -= 6;
	om_buf_printf(c->b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name,
		      help, (int)n, name, type);
}

static void sample(struct ctx *c, const char *name, const char *labels,
		   double v)
{
	int has_seg = c->seg[0] != '\0', has = labels && *labels;

	/* counts print as exact integers, fractions with 9 significant digits */
	om_buf_printf(c->b, v == (double)(uint64_t)v && v < 9.2e18 ? "%s%s%s%s%s%s %.0f\n"
								 : "%s%s%s%s%s%s %.9g\n",
		      name, has_seg || has ? "{" : "", c->seg,
		      has_seg && has ? "," : "", has ? labels : "",
		      has_seg || has ? "}" : "", v);
}

#define FOR_UP(c, s)                                                          \
	for (const struct om_source *s = (c)->src; s < (c)->src + (c)->n; s++) \
		if (s->up && (set_segment(c, s), 1))
/* Series that exist from the first scrape, the segment up or not. */
#define FOR_ALL(c, s)                                                         \
	for (const struct om_source *s = (c)->src; s < (c)->src + (c)->n; s++) \
		if ((set_segment(c, s), 1))

/* One family with a sample per kernel class. */
static void by_kclass(struct ctx *c, const char *name, const char *type, const char *help,
		      const uint64_t v[OM_NKCLASS])
{
	static const char *const kc[] = OM_KCLASS_NAMES;
	char l[40];
	int i;

	family(c, name, type, help);
	for (i = 0; i < OM_NKCLASS; i++) {
		snprintf(l, sizeof l, "class=\"%s\"", kc[i]);
		sample(c, name, l, (double)v[i]);
	}
}

/* The kernel's view (kernel.h): what it lists, and what no attached
 * process accounts for.  Values of the last poll. */
static void kernel_view(struct ctx *c, const struct om_kview *k)
{
	static const char *const kc[] = OM_KCLASS_NAMES;
	char l[80];
	int i, d;

	family(c, "onionmeter_kernel_up", "gauge",
	       "1 if the last poll of the kernel's socket list (sock_diag) succeeded.");
	sample(c, "onionmeter_kernel_up", 0, k->up);
	by_kclass(c, "onionmeter_kernel_connections", "gauge",
		  "TCP connections the kernel lists, held by a process, established or closing, "
		  "by peer: a listed proxy, direct, local.",
		  k->conns);
	by_kclass(c, "onionmeter_kernel_connections_seen_total", "counter",
		  "TCP connections first seen in the kernel's list, by peer class.", k->seen_total);
	family(c, "onionmeter_kernel_connection_bytes", "gauge",
	       "Bytes moved so far by the connections open now (tcp_info), by peer class.");
	for (i = 0; i < OM_NKCLASS; i++)
		for (d = 0; d < OM_NDIR; d++) {
			snprintf(l, sizeof l, "class=\"%s\",direction=\"%s\"", kc[i], om_dir_names[d]);
			sample(c, "onionmeter_kernel_connection_bytes", l, (double)k->bytes[i][d]);
		}
	by_kclass(c, "onionmeter_kernel_udp_sockets", "gauge",
		  "Connected UDP sockets (a peer set with connect()) the kernel lists, held by a "
		  "process, by peer class.",
		  k->udp);
	by_kclass(c, "onionmeter_unseen_connections", "gauge",
		  "Connections the kernel lists that no attached process accounts for: "
		  "what the preload cannot see (Go, static binaries, raw system calls).",
		  k->unseen);
	family(c, "onionmeter_kernel_polls_total", "counter",
	       "Polls of the kernel's socket list that succeeded.");
	sample(c, "onionmeter_kernel_polls_total", 0, (double)k->polls);
	family(c, "onionmeter_kernel_poll_duration_seconds", "gauge",
	       "Time the last poll of the kernel's socket list took.");
	sample(c, "onionmeter_kernel_poll_duration_seconds", 0, k->poll_seconds);
	family(c, "onionmeter_kernel_poll_interval_seconds", "gauge",
	       "Time between polls: --kernel-interval, longer while a poll takes more than "
	       "a twentieth of it.");
	sample(c, "onionmeter_kernel_poll_interval_seconds", 0, k->interval_seconds);
}

static void exposition(struct ctx *c, double scrape_seconds)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	struct om_selfstat ps;
	char l[160];
	int k, i, j;

	family(c, "onionmeter_dials_total", "counter",
	       "Dials (connect() to outcome) by destination class and outcome.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) for (i = 0; i < OM_NOUTCOME; i++) {
		snprintf(l, sizeof l, "class=\"%s\",outcome=\"%s\"", om_class_names[k],
			 om_outcome_names[i]);
		sample(c, "onionmeter_dials_total", l, (double)s->t.dials[k][i]);
	}
	family(c, "onionmeter_dial_duration_seconds", "histogram",
	       "Time from connect() to the dial's outcome.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) {
		uint64_t cum = 0;

		for (i = 0; i <= OM_NBUCKET; i++) {
			cum += s->t.dial_bucket[k][i];
			if (i < OM_NBUCKET)
				snprintf(l, sizeof l, "class=\"%s\",le=\"%g\"",
					 om_class_names[k], (double)bounds[i] / 1e9);
			else
				snprintf(l, sizeof l, "class=\"%s\",le=\"+Inf\"",
					 om_class_names[k]);
			sample(c, "onionmeter_dial_duration_seconds_bucket", l, (double)cum);
		}
		snprintf(l, sizeof l, "class=\"%s\"", om_class_names[k]);
		sample(c, "onionmeter_dial_duration_seconds_sum", l,
		       (double)s->t.dial_sum_ns[k] / 1e9);
		sample(c, "onionmeter_dial_duration_seconds_count", l, (double)cum);
	}
	family(c, "onionmeter_bytes_total", "counter",
	       "Bytes moved through tracked sockets by class and direction.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) for (i = 0; i < OM_NDIR; i++) {
		snprintf(l, sizeof l, "class=\"%s\",direction=\"%s\"", om_class_names[k],
			 om_dir_names[i]);
		sample(c, "onionmeter_bytes_total", l, (double)s->t.bytes[k][i]);
	}
	family(c, "onionmeter_connections", "gauge",
	       "TCP connections open now in live processes, by class.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) {
		snprintf(l, sizeof l, "class=\"%s\"", om_class_names[k]);
		sample(c, "onionmeter_connections", l, (double)s->t.open_now[k]);
	}
	family(c, "onionmeter_accepted_total", "counter",
	       "Inbound connections accepted, by class.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) {
		snprintf(l, sizeof l, "class=\"%s\"", om_class_names[k]);
		sample(c, "onionmeter_accepted_total", l, (double)s->t.accepted[k]);
	}
	family(c, "onionmeter_leaks_total", "counter",
	       "Traffic or lookups that bypassed Tor, by kind and action.");
	FOR_ALL(c, s) for (i = 0; i < OM_NLEAK; i++) for (j = 0; j < OM_NACTION; j++) {
		snprintf(l, sizeof l, "kind=\"%s\",action=\"%s\"", om_leak_names[i],
			 om_action_names[j]);
		sample(c, "onionmeter_leaks_total", l, (double)s->last_leaks[i][j]);
	}
	family(c, "onionmeter_proxy_unreachable_total", "counter",
	       "Connects to a configured proxy endpoint that failed.");
	FOR_UP(c, s) sample(c, "onionmeter_proxy_unreachable_total", 0,
			    (double)s->t.proxy_unreachable);
	family(c, "onionmeter_processes", "gauge",
	       "Live processes attached to the segment.");
	FOR_UP(c, s) sample(c, "onionmeter_processes", 0, (double)s->t.processes);
	family(c, "onionmeter_segment_slots", "gauge",
	       "Process slots in the segment (capacity).");
	FOR_UP(c, s) sample(c, "onionmeter_segment_slots", 0, (double)s->t.slots);
	family(c, "onionmeter_segment_slots_used", "gauge",
	       "Slots ever claimed; dead processes' counts stay in theirs.");
	FOR_UP(c, s) sample(c, "onionmeter_segment_slots_used", 0,
			    (double)s->t.slots_used);
	family(c, "onionmeter_uncounted_processes_total", "counter",
	       "Processes that found the segment but ran uncounted, by reason.");
	FOR_ALL(c, s) for (i = 0; i < OM_NUNCOUNTED; i++) {
		snprintf(l, sizeof l, "reason=\"%s\"", om_uncounted_names[i]);
		sample(c, "onionmeter_uncounted_processes_total", l,
		       (double)s->last_uncounted[i]);
	}
	family(c, "onionmeter_policy_info", "gauge",
	       "1 if a live attached process runs under this policy and enforcement, else 0.");
	FOR_ALL(c, s) for (i = 0; i < OM_NPOLICY; i++) for (j = 0; j < 2; j++) {
		snprintf(l, sizeof l, "policy=\"%s\",enforce=\"%s\"", om_policy_names[i],
			 j ? "true" : "false");
		sample(c, "onionmeter_policy_info", l, s->up && s->t.policy[i][j] ? 1 : 0);
	}
	family(c, "onionmeter_segment_liveness_up", "gauge",
	       "1 if the segment's liveness semaphores can be read (same IPC namespace); "
	       "without them processes and open connections read 0.");
	FOR_UP(c, s) sample(c, "onionmeter_segment_liveness_up", 0, s->t.live_known);
	family(c, "onionmeter_segment_up", "gauge",
	       "1 if the segment is attached and valid, else 0.");
	FOR_ALL(c, s) sample(c, "onionmeter_segment_up", 0, s->up);
	c->seg[0] = '\0';
	if (c->kv)
		kernel_view(c, c->kv);
	family(c, "onionmeter_build_info", "gauge", "Build information; always 1.");
	sample(c, "onionmeter_build_info",
	       "version=\"" OM_VERSION "\",revision=\"" OM_REVISION "\"", 1);
	family(c, "onionmeter_scrape_duration_seconds", "gauge",
	       "Time taken to read the segments for this scrape.");
	sample(c, "onionmeter_scrape_duration_seconds", 0, scrape_seconds);

	om_selfstat_read(&ps);
	if (ps.ok) {
		family(c, "process_cpu_seconds_total", "counter",
		       "Total user and system CPU time spent in seconds.");
		sample(c, "process_cpu_seconds_total", 0, ps.cpu_seconds);
		family(c, "process_resident_memory_bytes", "gauge",
		       "Resident memory size in bytes.");
		sample(c, "process_resident_memory_bytes", 0, ps.resident_bytes);
		family(c, "process_virtual_memory_bytes", "gauge",
		       "Virtual memory size in bytes.");
		sample(c, "process_virtual_memory_bytes", 0, ps.virtual_bytes);
		family(c, "process_open_fds", "gauge", "Number of open file descriptors.");
		sample(c, "process_open_fds", 0, ps.open_fds);
		family(c, "process_max_fds", "gauge",
		       "Maximum number of open file descriptors.");
		sample(c, "process_max_fds", 0, ps.max_fds);
		family(c, "process_start_time_seconds", "gauge",
		       "Start time of the process since unix epoch in seconds.");
		sample(c, "process_start_time_seconds", 0, ps.start_time);
	}
	if (c->f == OM_FMT_OPENMETRICS)
		om_buf_printf(c->b, "# EOF\n");
}

void om_render(struct om_buf *b, enum om_format f, const struct om_source *src,
	       int n, double scrape_seconds, const struct om_kview *kv)
{
	struct ctx c = { .b = b, .f = f, .src = src, .n = n, .kv = kv };

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
