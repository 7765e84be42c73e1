/* The JSON and human views of the segments (--format json, summary), and
 * the leak events alone (/leaks). */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "om_version.h"
#include "text.h"

static void json_events(struct om_buf *b, const struct om_events *ev)
{
	char dest[300], when[32];
	int i;

	om_buf_printf(b, "[");
	for (i = 0; ev && i < ev->n; i++) {
		const struct om_event *e = &ev->ev[i];

		om_event_dest(dest, sizeof dest, e);
		om_event_time(when, sizeof when, e->time_ns);
		om_buf_printf(b, "%s{\"time\":\"%s\",\"pid\":%u,\"program\":", i ? "," : "",
			      when, e->pid);
		om_json_str(b, e->comm);
		om_buf_printf(b, ",\"kind\":\"%s\",\"action\":\"%s\",\"destination\":",
			      om_leak_names[e->kind], om_action_names[e->action]);
		om_json_str(b, dest);
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
		om_json_str(b, src[i].r->name);
		om_buf_printf(b, ",\"events\":");
		json_events(b, src[i].ev);
		om_buf_printf(b, "}");
	}
	om_buf_printf(b, "]}\n");
}

/* "processes":...,"classes":{...},"leaks":{...}: a segment's totals, as
 * --format json and the run report's JSON both give them. */
void om_json_totals(struct om_buf *b, const struct om_totals *t)
{
	int k, i, j;

	om_buf_printf(b,
		      "\"processes\":%llu,\"slots\":%llu,\"slots_used\":%llu,"
		      "\"uncounted\":%llu,\"proxy_unreachable\":%llu,"
		      "\"classes\":{",
		      (unsigned long long)t->processes, (unsigned long long)t->slots,
		      (unsigned long long)t->slots_used,
		      (unsigned long long)(t->uncounted[0] + t->uncounted[1]),
		      (unsigned long long)t->proxy_unreachable);
	for (k = 0; k < OM_NCLASS; k++) {
		om_buf_printf(b,
			      "%s\"%s\":{\"ingress_bytes\":%llu,\"egress_bytes\":%llu,"
			      "\"connections\":%llu,\"accepted\":%llu,\"dials\":{",
			      k ? "," : "", om_class_names[k],
			      (unsigned long long)t->bytes[k][OM_INGRESS],
			      (unsigned long long)t->bytes[k][OM_EGRESS],
			      (unsigned long long)t->open_now[k],
			      (unsigned long long)t->accepted[k]);
		for (i = 0; i < OM_NOUTCOME; i++)
			om_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", om_outcome_names[i],
				      (unsigned long long)t->dials[k][i]);
		om_buf_printf(b, "}}");
	}
	om_buf_printf(b, "},\"leaks\":{");
	for (i = 0; i < OM_NLEAK; i++) {
		om_buf_printf(b, "%s\"%s\":{", i ? "," : "", om_leak_names[i]);
		for (j = 0; j < OM_NACTION; j++)
			om_buf_printf(b, "%s\"%s\":%llu", j ? "," : "", om_action_names[j],
				      (unsigned long long)t->leaks[i][j]);
		om_buf_printf(b, "}");
	}
	om_buf_printf(b, "}");
}

/* The per-class table of the summary and the report. */
void om_text_classes(struct om_buf *b, const struct om_totals *t)
{
	char in[32], out[32];
	int k, i, j;

	om_buf_printf(b, "  %-8s %12s %12s %5s  %s\n", "class", "egress", "ingress", "open",
		      "dials");
	for (k = 0; k < OM_NCLASS; k++) {
		om_human_bytes(out, sizeof out, t->bytes[k][OM_EGRESS]);
		om_human_bytes(in, sizeof in, t->bytes[k][OM_INGRESS]);
		om_buf_printf(b, "  %-8s %12s %12s %5llu ", om_class_names[k], out, in,
			      (unsigned long long)t->open_now[k]);
		for (i = 0, j = 0; i < OM_NOUTCOME; i++)
			if (t->dials[k][i])
				om_buf_printf(b, " %s=%llu", om_outcome_names[i],
					      (unsigned long long)t->dials[k][i]),
					j++;
		om_buf_printf(b, "%s\n", j ? "" : " -");
	}
}

static uint64_t slot_total(const struct om_proc_info *p)
{
	uint64_t t = 0;
	int c;

	for (c = 0; c < OM_NCLASS; c++)
		t += p->bytes[c][OM_EGRESS] + p->bytes[c][OM_INGRESS];
	return t;
}

static void json_procs(struct om_buf *b, const struct om_procs *ps)
{
	int i, c, first = 1;

	om_buf_printf(b, ",\"processes\":[");
	for (i = 0; i < ps->n; i++) {
		const struct om_proc_info *p = &ps->p[i];

		if (!p->live && !slot_total(p))
			continue;
		om_buf_printf(b, "%s{\"pid\":%u,\"live\":%s,\"program\":", first ? "" : ",",
			      p->pid, p->live ? "true" : "false");
		om_json_str(b, p->comm);
		om_buf_printf(b, ",\"command\":");
		om_json_str(b, p->cmd);
		om_buf_printf(b, ",\"bytes\":{");
		for (c = 0; c < OM_NCLASS; c++)
			om_buf_printf(b, "%s\"%s\":{\"egress\":%llu,\"ingress\":%llu}", c ? "," : "",
				      om_class_names[c],
				      (unsigned long long)p->bytes[c][OM_EGRESS],
				      (unsigned long long)p->bytes[c][OM_INGRESS]);
		om_buf_printf(b, "},\"connections\":{");
		for (c = 0; c < OM_NCLASS; c++)
			om_buf_printf(b, "%s\"%s\":%llu", c ? "," : "", om_class_names[c],
				      (unsigned long long)p->open[c]);
		om_buf_printf(b, "}}");
		first = 0;
	}
	om_buf_printf(b, "]");
}

static int busier(const void *x, const void *y)
{
	const struct om_proc_info *a = *(const struct om_proc_info *const *)x;
	const struct om_proc_info *b = *(const struct om_proc_info *const *)y;
	uint64_t ta = slot_total(a), tb = slot_total(b);

	if (a->live != b->live)
		return b->live - a->live;
	return ta < tb ? 1 : ta > tb ? -1 : 0;
}

void om_text_procs(struct om_buf *b, const struct om_procs *ps, int max)
{
	const struct om_proc_info *order[OM_SLOTS_MAX];
	int i, c, n = 0;

	for (i = 0; i < ps->n && n < (int)OM_SLOTS_MAX; i++)
		if (ps->p[i].live || slot_total(&ps->p[i]))
			order[n++] = &ps->p[i];
	if (!n)
		return;
	qsort(order, (size_t)n, sizeof order[0], busier);
	om_buf_printf(b, "  processes (per slot: its bytes over every holder, the last named):\n");
	om_buf_printf(b, "  %7s %-4s %-16s %-8s %12s %12s %5s\n", "pid", "live", "program", "class",
		      "egress", "ingress", "open");
	for (i = 0; i < n && (!max || i < max); i++) {
		const struct om_proc_info *p = order[i];
		char comm[80], in[32], out[32];
		int shown = 0;

		om_text_str(comm, sizeof comm, p->comm[0] ? p->comm : "?");
		for (c = 0; c < OM_NCLASS; c++) {
			if (!p->bytes[c][OM_EGRESS] && !p->bytes[c][OM_INGRESS] && !p->open[c])
				continue;
			om_human_bytes(out, sizeof out, p->bytes[c][OM_EGRESS]);
			om_human_bytes(in, sizeof in, p->bytes[c][OM_INGRESS]);
			om_buf_printf(b, "  %7u %-4s %-16s %-8s %12s %12s %5llu\n", p->pid,
				      p->live ? "yes" : "no", comm, om_class_names[c], out, in,
				      (unsigned long long)p->open[c]);
			shown = 1;
		}
		if (!shown)
			om_buf_printf(b, "  %7u %-4s %-16s %-8s %12s %12s %5s\n", p->pid,
				      p->live ? "yes" : "no", comm, "-", "-", "-", "-");
	}
	if (max && n > max)
		om_buf_printf(b, "  ... %d more\n", n - max);
}

void om_render_json(struct om_buf *b, const struct om_source *src, int n)
{
	om_buf_printf(b, "{\"version\":\"%s\",\"segments\":[", OM_VERSION);
	for (const struct om_source *s = src; s < src + n; s++) {
		const struct om_totals *t = &s->t;

		om_buf_printf(b, "%s{\"name\":", s == src ? "" : ",");
		om_json_str(b, s->r->name);
		om_buf_printf(b, ",\"up\":%s", s->up ? "true" : "false");
		if (!s->up) {
			om_buf_printf(b, ",\"error\":");
			om_json_str(b, s->r->error);
			om_buf_printf(b, "}");
			continue;
		}
		om_buf_printf(b, ",");
		om_json_totals(b, t);
		if (s->ev) {
			om_buf_printf(b, ",\"events\":");
			json_events(b, s->ev);
		}
		if (s->procs)
			json_procs(b, s->procs);
		om_buf_printf(b, "}");
	}
	om_buf_printf(b, "]}\n");
}

void om_render_summary(struct om_buf *b, const struct om_source *src, int n)
{
	int i, j;

	for (const struct om_source *s = src; s < src + n; s++) {
		const struct om_totals *t = &s->t;
		uint64_t nleaks = 0;

		if (!s->up) {
			om_buf_printf(b, "segment %s: down: %s\n", s->r->name,
				      s->r->error);
			continue;
		}
		om_buf_printf(b,
			      "segment %s: %llu live process(es), %llu of %llu slots used\n",
			      s->r->name, (unsigned long long)t->processes,
			      (unsigned long long)t->slots_used,
			      (unsigned long long)t->slots);
		om_text_classes(b, t);
		for (i = 0; i < OM_NLEAK; i++)
			for (j = 0; j < OM_NACTION; j++)
				if (t->leaks[i][j]) {
					om_buf_printf(b, "  leak %s %s: %llu\n",
						      om_leak_names[i], om_action_names[j],
						      (unsigned long long)t->leaks[i][j]);
					nleaks += t->leaks[i][j];
				}
		if (!nleaks)
			om_buf_printf(b, "  leaks: none\n");
		for (i = 0; s->ev && i < s->ev->n; i++) {
			const struct om_event *e = &s->ev->ev[i];
			char dest[300], when[32], comm[80];

			om_event_dest(dest, sizeof dest, e);
			om_event_time(when, sizeof when, e->time_ns);
			om_text_str(comm, sizeof comm, e->comm[0] ? e->comm : "?");
			om_buf_printf(b, "    %s  %-16s %-8s pid %u (%s) -> %s\n", when,
				      om_leak_names[e->kind], om_action_names[e->action], e->pid,
				      comm, dest);
		}
		if (t->proxy_unreachable)
			om_buf_printf(b, "  proxy unreachable: %llu\n",
				      (unsigned long long)t->proxy_unreachable);
		if (s->procs)
			om_text_procs(b, s->procs, 0);
	}
}

