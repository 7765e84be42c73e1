/* The JSON and human views of the segments (--format json, summary), and
 * the leak events alone (/leaks). */
#include "render.h"

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
	}
}

