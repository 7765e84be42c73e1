#include "render.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include "om_version.h"
#include "selfstat.h"

static const char *const class_names[] = OM_CLASS_NAMES;
static const char *const outcome_names[] = OM_OUTCOME_NAMES;
static const char *const leak_names[] = OM_LEAK_NAMES;
static const char *const action_names[] = OM_ACTION_NAMES;
static const char *const policy_names[] = OM_POLICY_NAMES;
static const char *const uncounted_names[] = OM_UNCOUNTED_NAMES;
static const char *const dir_names[] = { "ingress", "egress" };

void om_collect(struct om_source *src, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		src[i].up = om_reader_snapshot(src[i].r, &src[i].t) == 0;
		if (src[i].ev && (!src[i].up || om_reader_events(src[i].r, src[i].ev) < 0))
			src[i].ev->n = 0;
	}
}

struct ctx {
	struct om_buf *b;
	enum om_format f;
	const struct om_source *src;
	int n;
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

static void exposition(struct ctx *c, double scrape_seconds)
{
	static const uint64_t bounds[OM_NBUCKET] = OM_BUCKET_BOUNDS_NS;
	struct om_selfstat ps;
	char l[160];
	int k, i, j;

	family(c, "onionmeter_dials_total", "counter",
	       "Dials (connect() to outcome) by destination class and outcome.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) for (i = 0; i < OM_NOUTCOME; i++) {
		snprintf(l, sizeof l, "class=\"%s\",outcome=\"%s\"", class_names[k],
			 outcome_names[i]);
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
					 class_names[k], (double)bounds[i] / 1e9);
			else
				snprintf(l, sizeof l, "class=\"%s\",le=\"+Inf\"",
					 class_names[k]);
			sample(c, "onionmeter_dial_duration_seconds_bucket", l, (double)cum);
		}
		snprintf(l, sizeof l, "class=\"%s\"", class_names[k]);
		sample(c, "onionmeter_dial_duration_seconds_sum", l,
		       (double)s->t.dial_sum_ns[k] / 1e9);
		sample(c, "onionmeter_dial_duration_seconds_count", l, (double)cum);
	}
	family(c, "onionmeter_bytes_total", "counter",
	       "Bytes moved through tracked sockets by class and direction.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) for (i = 0; i < OM_NDIR; i++) {
		snprintf(l, sizeof l, "class=\"%s\",direction=\"%s\"", class_names[k],
			 dir_names[i]);
		sample(c, "onionmeter_bytes_total", l, (double)s->t.bytes[k][i]);
	}
	family(c, "onionmeter_connections", "gauge",
	       "TCP connections open now in live processes, by class.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) {
		snprintf(l, sizeof l, "class=\"%s\"", class_names[k]);
		sample(c, "onionmeter_connections", l, (double)s->t.open_now[k]);
	}
	family(c, "onionmeter_accepted_total", "counter",
	       "Inbound connections accepted, by class.");
	FOR_UP(c, s) for (k = 0; k < OM_NCLASS; k++) {
		snprintf(l, sizeof l, "class=\"%s\"", class_names[k]);
		sample(c, "onionmeter_accepted_total", l, (double)s->t.accepted[k]);
	}
	family(c, "onionmeter_leaks_total", "counter",
	       "Traffic or lookups that bypassed Tor, by kind and action.");
	FOR_UP(c, s) for (i = 0; i < OM_NLEAK; i++) for (j = 0; j < OM_NACTION; j++) {
		snprintf(l, sizeof l, "kind=\"%s\",action=\"%s\"", leak_names[i],
			 action_names[j]);
		sample(c, "onionmeter_leaks_total", l, (double)s->t.leaks[i][j]);
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
	FOR_UP(c, s) for (i = 0; i < OM_NUNCOUNTED; i++) {
		snprintf(l, sizeof l, "reason=\"%s\"", uncounted_names[i]);
		sample(c, "onionmeter_uncounted_processes_total", l, (double)s->t.uncounted[i]);
	}
	family(c, "onionmeter_policy_info", "gauge",
	       "1 for each leak policy in force among live attached processes.");
	FOR_UP(c, s) for (i = 0; i < OM_NPOLICY; i++) for (j = 0; j < 2; j++) {
		if (!s->t.policy[i][j])
			continue;
		snprintf(l, sizeof l, "policy=\"%s\",enforce=\"%s\"", policy_names[i],
			 j ? "true" : "false");
		sample(c, "onionmeter_policy_info", l, 1);
	}
	family(c, "onionmeter_segment_liveness_up", "gauge",
	       "1 if the segment's liveness semaphores can be read (same IPC namespace); "
	       "without them processes and open connections read 0.");
	FOR_UP(c, s) sample(c, "onionmeter_segment_liveness_up", 0, s->t.live_known);
	family(c, "onionmeter_segment_up", "gauge",
	       "1 if the segment is attached and valid, else 0.");
	for (const struct om_source *s = c->src; s < c->src + c->n; s++) {
		set_segment(c, s);
		sample(c, "onionmeter_segment_up", 0, s->up);
	}
	c->seg[0] = '\0';
	family(c, "onionmeter_build_info", "gauge", "Build information; always 1.");
	sample(c, "onionmeter_build_info", "version=\"" OM_VERSION "\"", 1);
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

/* Strings from the segment are anyone's bytes: every byte outside
 * printable ASCII is escaped, so the output is valid UTF-8 JSON and a
 * terminal shows no control sequence. */
static void json_str(struct om_buf *b, const char *s)
{
	om_buf_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			om_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			om_buf_printf(b, "\\u%04x", ch);
		else
			om_buf_put(b, s, 1);
	}
	om_buf_put(b, "\"", 1);
}

/* The same for a human: \xNN for anything not printable ASCII. */
static void text_str(char *out, size_t n, const char *s)
{
	size_t o = 0;

	for (; *s && o + 5 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static void event_dest(char *out, size_t n, const struct om_event *e)
{
	char a[64];

	if (e->family == 4 || e->family == 6) {
		inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof a);
		snprintf(out, n, e->family == 6 ? "[%s]:%u" : "%s:%u", a, e->port);
	} else {
		text_str(out, n, e->name);
		if (e->truncated && strlen(out) + 4 < n)
			strcat(out, "...");
	}
}

static void event_time(char *out, size_t n, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void json_events(struct om_buf *b, const struct om_events *ev)
{
	char dest[300], when[32];
	int i;

	om_buf_printf(b, "[");
	for (i = 0; ev && i < ev->n; i++) {
		const struct om_event *e = &ev->ev[i];

		event_dest(dest, sizeof dest, e);
		event_time(when, sizeof when, e->time_ns);
		om_buf_printf(b, "%s{\"time\":\"%s\",\"pid\":%u,\"program\":", i ? "," : "",
			      when, e->pid);
		json_str(b, e->comm);
		om_buf_printf(b, ",\"kind\":\"%s\",\"action\":\"%s\",\"destination\":",
			      leak_names[e->kind], action_names[e->action]);
		json_str(b, dest);
		om_buf_printf(b, "}");
	}
	om_buf_printf(b, "]");
}

void om_render_events_json(struct om_buf *b, const struct om_source *src, int n)
{
	int i;

	om_buf_printf(b, "{\"segments\":[");
	for (i = 0; i < n; i++) {
		om_buf_printf(b, "%s{\"name\":", i ? "," : "");
		json_str(b, src[i].r->name);
		om_buf_printf(b, ",\"events\":");
		json_events(b, src[i].ev);
		om_buf_printf(b, "}");
	}
	om_buf_printf(b, "]}\n");
}

static void json(struct ctx *c)
{
	int k, i, j;

	om_buf_printf(c->b, "{\"version\":\"%s\",\"segments\":[", OM_VERSION);
	for (const struct om_source *s = c->src; s < c->src + c->n; s++) {
		const struct om_totals *t = &s->t;

		om_buf_printf(c->b, "%s{\"name\":", s == c->src ? "" : ",");
		json_str(c->b, s->r->name);
		om_buf_printf(c->b, ",\"up\":%s", s->up ? "true" : "false");
		if (!s->up) {
			om_buf_printf(c->b, ",\"error\":");
			json_str(c->b, s->r->error);
			om_buf_printf(c->b, "}");
			continue;
		}
		om_buf_printf(c->b,
			      ",\"processes\":%llu,\"slots\":%llu,\"slots_used\":%llu,"
			      "\"uncounted\":%llu,\"proxy_unreachable\":%llu,"
			      "\"classes\":{",
			      (unsigned long long)t->processes, (unsigned long long)t->slots,
			      (unsigned long long)t->slots_used,
			      (unsigned long long)(t->uncounted[0] + t->uncounted[1]),
			      (unsigned long long)t->proxy_unreachable);
		for (k = 0; k < OM_NCLASS; k++) {
			om_buf_printf(c->b,
				      "%s\"%s\":{\"ingress_bytes\":%llu,\"egress_bytes\":%llu,"
				      "\"connections\":%llu,\"accepted\":%llu,\"dials\":{",
				      k ? "," : "", class_names[k],
				      (unsigned long long)t->bytes[k][OM_INGRESS],
				      (unsigned long long)t->bytes[k][OM_EGRESS],
				      (unsigned long long)t->open_now[k],
				      (unsigned long long)t->accepted[k]);
			for (i = 0; i < OM_NOUTCOME; i++)
				om_buf_printf(c->b, "%s\"%s\":%llu", i ? "," : "",
					      outcome_names[i],
					      (unsigned long long)t->dials[k][i]);
			om_buf_printf(c->b, "}}");
		}
		om_buf_printf(c->b, "},\"leaks\":{");
		for (i = 0; i < OM_NLEAK; i++) {
			om_buf_printf(c->b, "%s\"%s\":{", i ? "," : "", leak_names[i]);
			for (j = 0; j < OM_NACTION; j++)
				om_buf_printf(c->b, "%s\"%s\":%llu", j ? "," : "",
					      action_names[j],
					      (unsigned long long)t->leaks[i][j]);
			om_buf_printf(c->b, "}");
		}
		om_buf_printf(c->b, "}");
		if (s->ev) {
			om_buf_printf(c->b, ",\"events\":");
			json_events(c->b, s->ev);
		}
		om_buf_printf(c->b, "}");
	}
	om_buf_printf(c->b, "]}\n");
}

static void human_bytes(char *out, size_t n, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
}

static void summary(struct ctx *c)
{
	char in[32], out[32];
	int k, i, j;

	for (const struct om_source *s = c->src; s < c->src + c->n; s++) {
		const struct om_totals *t = &s->t;
		uint64_t nleaks = 0;

		if (!s->up) {
			om_buf_printf(c->b, "segment %s: down: %s\n", s->r->name,
				      s->r->error);
			continue;
		}
		om_buf_printf(c->b,
			      "segment %s: %llu live process(es), %llu of %llu slots used\n",
			      s->r->name, (unsigned long long)t->processes,
			      (unsigned long long)t->slots_used,
			      (unsigned long long)t->slots);
		om_buf_printf(c->b, "  %-8s %12s %12s %5s  %s\n", "class", "egress",
			      "ingress", "open", "dials");
		for (k = 0; k < OM_NCLASS; k++) {
			human_bytes(out, sizeof out, t->bytes[k][OM_EGRESS]);
			human_bytes(in, sizeof in, t->bytes[k][OM_INGRESS]);
			om_buf_printf(c->b, "  %-8s %12s %12s %5llu ", class_names[k], out,
				      in, (unsigned long long)t->open_now[k]);
			for (i = 0, j = 0; i < OM_NOUTCOME; i++)
				if (t->dials[k][i])
					om_buf_printf(c->b, " %s=%llu", outcome_names[i],
						      (unsigned long long)t->dials[k][i]),
						j++;
			om_buf_printf(c->b, "%s\n", j ? "" : " -");
		}
		for (i = 0; i < OM_NLEAK; i++)
			for (j = 0; j < OM_NACTION; j++)
				if (t->leaks[i][j]) {
					om_buf_printf(c->b, "  leak %s %s: %llu\n",
						      leak_names[i], action_names[j],
						      (unsigned long long)t->leaks[i][j]);
					nleaks += t->leaks[i][j];
				}
		if (!nleaks)
			om_buf_printf(c->b, "  leaks: none\n");
		for (i = 0; s->ev && i < s->ev->n; i++) {
			const struct om_event *e = &s->ev->ev[i];
			char dest[300], when[32], comm[80];

			event_dest(dest, sizeof dest, e);
			event_time(when, sizeof when, e->time_ns);
			text_str(comm, sizeof comm, e->comm[0] ? e->comm : "?");
			om_buf_printf(c->b, "    %s  %-16s %-8s pid %u (%s) -> %s\n", when,
				      leak_names[e->kind], action_names[e->action], e->pid,
				      comm, dest);
		}
		if (t->proxy_unreachable)
			om_buf_printf(c->b, "  proxy unreachable: %llu\n",
				      (unsigned long long)t->proxy_unreachable);
	}
}

void om_render(struct om_buf *b, enum om_format f, const struct om_source *src,
	       int n, double scrape_seconds)
{
	struct ctx c = { .b = b, .f = f, .src = src, .n = n };

	switch (f) {
	case OM_FMT_PROMETHEUS:
	case OM_FMT_OPENMETRICS:
		exposition(&c, scrape_seconds);
		break;
	case OM_FMT_JSON:
		json(&c);
		break;
	case OM_FMT_SUMMARY:
		summary(&c);
		break;
	}
}
