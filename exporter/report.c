/* The report of one run, for onionmeter-run --report and --report-json:
 *
 *   verdict: 3 leaks of 2 kinds under onion-only (enforced): 3 blocked
 *
 * then each segment's traffic and its leak events grouped by kind, action,
 * destination and program, with counts: 300 lookups of one name are one
 * line.  The ring keeps the last OM_RING_ENTRIES events; the counters are
 * complete, and the difference is said. */
#include "render.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct group {
	uint8_t kind, action, truncated;
	char dest[300];
	char who[OM_CMD_LEN * 4 + 32]; /* command line (escaped), or program name */
	uint32_t pids[4];
	int npids, more_pids;
	uint64_t count, first_ns, last_ns;
};

/* A line of onionmeter-supervise's file (unseen.h): bounded fields. */
struct blind {
	long pid;
	int unseen, attached;
	unsigned long long accounted, held;
	char kclass[16], dest[320], comm[32], cmd[OM_CMD_LEN * 4];
};

#define MAX_BLIND 256

static int read_blind(const char *path, struct blind *out)
{
	FILE *f;
	char line[2048];
	int n = 0;

	if (!path || !(f = fopen(path, "re")))
		return 0;
	while (n < MAX_BLIND && fgets(line, sizeof line, f)) {
		char *field[9], *p = line, *nl = strchr(line, '\n');
		struct blind *b = &out[n];
		int k;

		if (nl)
			*nl = '\0';
		for (k = 0; k < 9 && p; k++) {
			field[k] = p;
			if ((p = strchr(p, '\t')))
				*p++ = '\0';
		}
		if (k < 9)
			continue;
		b->pid = strtol(field[0], 0, 10);
		b->unseen = field[1][0] == '1';
		b->attached = field[2][0] == '1';
		b->accounted = strtoull(field[3], 0, 10);
		b->held = strtoull(field[4], 0, 10);
		om_text_str(b->kclass, sizeof b->kclass, field[5]);
		om_text_str(b->dest, sizeof b->dest, field[6]);
		om_text_str(b->comm, sizeof b->comm, field[7]);
		om_text_str(b->cmd, sizeof b->cmd, field[8]);
		n++;
	}
	fclose(f);
	return n;
}

static int blind_count(const struct blind *x, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += x[i].unseen;
	return k;
}

static void blind_text(struct om_buf *b, const struct blind *x, int n)
{
	int i;

	if (!n)
		return;
	om_buf_printf(b, "the kernel's view of the run (connections its processes held for "
			 "250 ms or more):\n");
	for (i = 0; i < n; i++) {
		om_buf_printf(b, "  pid %ld %s -> %s %s: %s\n", x[i].pid, x[i].comm, x[i].kclass,
			      x[i].dest, x[i].unseen ? "NOT SEEN by the shim" : "seen");
		if (!x[i].unseen)
			continue;
		if (x[i].attached)
			om_buf_printf(b, "      attached, accounts for %llu of the %llu %s connection%s "
					 "it holds (a socket made past libc?)\n",
				      x[i].accounted, x[i].held, x[i].kclass, x[i].held == 1 ? "" : "s");
		else
			om_buf_printf(b, "      never attached (a Go, static or setuid program, "
					 "or one run without the preload)\n");
		if (x[i].cmd[0])
			om_buf_printf(b, "      %s\n", x[i].cmd);
	}
}

static void blind_json(struct om_buf *b, const struct blind *x, int n)
{
	int i;

	om_buf_printf(b, ",\"kernel\":[");
	for (i = 0; i < n; i++) {
		om_buf_printf(b, "%s{\"pid\":%ld,\"seen\":%s,\"program\":", i ? "," : "", x[i].pid,
			      x[i].unseen ? "false" : "true");
		om_json_str(b, x[i].comm);
		om_buf_printf(b, ",\"command\":");
		om_json_str(b, x[i].cmd);
		om_buf_printf(b, ",\"attached\":%s,\"accounted\":%llu,\"held\":%llu,\"class\":",
			      x[i].attached ? "true" : "false", x[i].accounted, x[i].held);
		om_json_str(b, x[i].kclass);
		om_buf_printf(b, ",\"destination\":");
		om_json_str(b, x[i].dest);
		om_buf_printf(b, "}");
	}
	om_buf_printf(b, "]");
}

uint64_t om_leak_total(const struct om_source *src, int n)
{
	uint64_t total = 0;
	int i, k, a;

	for (i = 0; i < n; i++)
		for (k = 0; src[i].up && k < OM_NLEAK; k++)
			for (a = 0; a < OM_NACTION; a++)
				total += src[i].t.leaks[k][a];
	return total;
}

static void who(char *out, size_t n, const struct om_event *e, const struct om_procs *procs)
{
	int i;

	for (i = 0; procs && i < procs->n; i++)
		if (procs->p[i].pid == e->pid && procs->p[i].cmd[0] &&
		    !strncmp(procs->p[i].comm, e->comm, sizeof e->comm)) {
			om_text_str(out, n, procs->p[i].cmd);
			return;
		}
	om_text_str(out, n, e->comm[0] ? e->comm : "?");
}

/* Events grouped, in the order each group first appeared.  Returns the
 * number of groups (at most ev->n). */
static int group(const struct om_events *ev, const struct om_procs *procs, struct group *g)
{
	int i, j, k, ng = 0;

	for (i = 0; ev && i < ev->n; i++) {
		const struct om_event *e = &ev->ev[i];
		struct group cand;

		memset(&cand, 0, sizeof cand);
		cand.kind = e->kind;
		cand.action = e->action;
		cand.truncated = e->truncated;
		om_event_dest(cand.dest, sizeof cand.dest, e);
		who(cand.who, sizeof cand.who, e, procs);
		for (j = 0; j < ng; j++)
			if (g[j].kind == cand.kind && g[j].action == cand.action &&
			    !strcmp(g[j].dest, cand.dest) && !strcmp(g[j].who, cand.who))
				break;
		if (j == ng) {
			g[ng++] = cand;
			g[j].first_ns = e->time_ns;
		}
		g[j].count++;
		g[j].last_ns = e->time_ns;
		for (k = 0; k < g[j].npids && g[j].pids[k] != e->pid; k++)
			;
		if (k == g[j].npids) {
			if (k < 4)
				g[j].pids[g[j].npids++] = e->pid;
			else
				g[j].more_pids = 1;
		}
	}
	return ng;
}

static const char *sig_name(int sig)
{
	static char buf[16];

#ifdef __GLIBC__
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev) {
		snprintf(buf, sizeof buf, "SIG%s", abbrev);
		return buf;
	}
#endif
	snprintf(buf, sizeof buf, "signal %d", sig);
	return buf;
}

/* "3 leaks of 2 kinds under onion-only (enforced): 3 blocked" */
static void verdict(struct om_buf *b, const struct om_source *src, int n, int blind)
{
	uint64_t total = om_leak_total(src, n), blocked = 0, seen[OM_NPOLICY][2];
	int i, k, kinds = 0, policies = 0;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < n; i++) {
		if (!src[i].up)
			continue;
		for (k = 0; k < OM_NPOLICY; k++) {
			seen[k][0] += src[i].t.policy_seen[k][0];
			seen[k][1] += src[i].t.policy_seen[k][1];
		}
	}
	for (k = 0; k < OM_NLEAK; k++) {
		uint64_t m = 0;

		for (i = 0; i < n; i++)
			if (src[i].up) {
				m += src[i].t.leaks[k][OM_ACT_OBSERVED] + src[i].t.leaks[k][OM_ACT_BLOCKED];
				blocked += src[i].t.leaks[k][OM_ACT_BLOCKED];
			}
		kinds += m > 0;
	}
	if (!total)
		om_buf_printf(b, "no leaks");
	else
		om_buf_printf(b, "%llu leak%s of %d kind%s", (unsigned long long)total,
			      total == 1 ? "" : "s", kinds, kinds == 1 ? "" : "s");
	for (k = 0; k < OM_NPOLICY; k++)
		for (i = 0; i < 2; i++)
			if (seen[k][i])
				om_buf_printf(b, "%s%s%s", policies++ ? " and " : " under ",
					      om_policy_names[k], i ? " (enforced)" : "");
	if (!policies)
		om_buf_printf(b, " (no process attached)");
	if (total)
		om_buf_printf(b, ": %llu blocked, %llu let through", (unsigned long long)blocked,
			      (unsigned long long)(total - blocked));
	if (blind)
		om_buf_printf(b, "; %d connection%s the shim could not see", blind,
			      blind == 1 ? "" : "s");
}

static uint64_t dropped(const struct om_source *s)
{
	uint64_t total = om_leak_total(s, 1), kept = s->ev ? (uint64_t)s->ev->n : 0;

	return total > kept ? total - kept : 0;
}

static void text(struct om_buf *b, const struct om_source *src, int n,
		 struct om_procs *const *procs, const struct om_run *run, struct group *g,
		 const struct blind *bl, int nbl)
{
	int i, j, k;

	om_buf_printf(b, "onionmeter report\n");
	if (run->command) {
		size_t cap = strlen(run->command) * 4 + 1;
		char *c = malloc(cap);

		if (c) {
			char *w, *line = strdup(run->command);

			/* one line for a human: tabs and newlines read as spaces */
			for (w = line; w && *w; w++)
				if (*w == '\n' || *w == '\t' || *w == '\r')
					*w = ' ';
			om_text_cmd(c, cap, line ? line : run->command);
			free(line);
			om_buf_printf(b, "  command: %s\n", c);
			free(c);
		}
	}
	if (run->exited == 1)
		om_buf_printf(b, "  exit: status %d\n", run->code);
	else if (run->exited == 0)
		om_buf_printf(b, "  exit: killed by %s\n", sig_name(run->code));
	om_buf_printf(b, "verdict: ");
	verdict(b, src, n, blind_count(bl, nbl));
	om_buf_printf(b, "\n");
	for (i = 0; i < n; i++) {
		const struct om_source *s = &src[i];
		uint64_t d;
		int ng;

		if (!s->up) {
			om_buf_printf(b, "segment %s: down: %s\n", s->r->name, s->r->error);
			continue;
		}
		om_buf_printf(b, "segment %s: %llu process slot(s) used\n", s->r->name,
			      (unsigned long long)s->t.slots_used);
		om_text_classes(b, &s->t);
		ng = group(s->ev, procs ? procs[i] : 0, g);
		if (ng)
			om_buf_printf(b, "  leaks (same kind, action, destination and program "
					 "grouped, oldest first):\n");
		for (j = 0; j < ng; j++) {
			char t0[32], t1[32];

			om_event_time(t0, sizeof t0, g[j].first_ns);
			om_event_time(t1, sizeof t1, g[j].last_ns);
			om_buf_printf(b, "    %llu x %s %s -> %s%s\n", (unsigned long long)g[j].count,
				      om_leak_names[g[j].kind], om_action_names[g[j].action],
				      g[j].dest,
				      g[j].truncated ? " (name cut at 63 characters)" : "");
			om_buf_printf(b, "        by %s (pid", g[j].who);
			for (k = 0; k < g[j].npids; k++)
				om_buf_printf(b, "%s %u", k ? "," : "", g[j].pids[k]);
			om_buf_printf(b, "%s) %s%s%s\n", g[j].more_pids ? ", ..." : "", t0,
				      g[j].count > 1 ? " .. " : "", g[j].count > 1 ? t1 : "");
		}
		if ((d = dropped(s)))
			om_buf_printf(b,
				      "  %llu earlier event(s) not kept: the ring holds the last %u; "
				      "the counts are complete\n",
				      (unsigned long long)d, OM_RING_ENTRIES);
	}
	blind_text(b, bl, nbl);
}

static void json(struct om_buf *b, const struct om_source *src, int n,
		 struct om_procs *const *procs, const struct om_run *run, struct group *g,
		 const struct blind *bl, int nbl)
{
	struct om_buf v = { 0 };
	int i, j, k;

	om_buf_printf(b, "{\"command\":");
	if (run->command)
		om_json_str(b, run->command);
	else
		om_buf_printf(b, "null");
	if (run->exited == 1)
		om_buf_printf(b, ",\"exit\":{\"status\":%d}", run->code);
	else if (run->exited == 0)
		om_buf_printf(b, ",\"exit\":{\"signal\":%d,\"name\":\"%s\"}", run->code,
			      sig_name(run->code));
	else
		om_buf_printf(b, ",\"exit\":null");
	verdict(&v, src, n, blind_count(bl, nbl));
	om_buf_printf(b, ",\"verdict\":");
	om_json_str(b, v.oom ? "" : v.p ? v.p : "");
	om_buf_free(&v);
	om_buf_printf(b, ",\"leaks\":%llu,\"segments\":[",
		      (unsigned long long)om_leak_total(src, n));
	for (i = 0; i < n; i++) {
		const struct om_source *s = &src[i];
		int ng;

		om_buf_printf(b, "%s{\"name\":", i ? "," : "");
		om_json_str(b, s->r->name);
		om_buf_printf(b, ",\"up\":%s,", s->up ? "true" : "false");
		if (!s->up) {
			om_buf_printf(b, "\"error\":");
			om_json_str(b, s->r->error);
			om_buf_printf(b, "}");
			continue;
		}
		om_json_totals(b, &s->t);
		om_buf_printf(b, ",\"policies\":[");
		for (j = 0, ng = 0; j < OM_NPOLICY; j++)
			for (k = 0; k < 2; k++)
				if (s->t.policy_seen[j][k])
					om_buf_printf(b, "%s{\"policy\":\"%s\",\"enforce\":%s}",
						      ng++ ? "," : "", om_policy_names[j],
						      k ? "true" : "false");
		om_buf_printf(b, "],\"events\":[");
		ng = group(s->ev, procs ? procs[i] : 0, g);
		for (j = 0; j < ng; j++) {
			char t0[32], t1[32];

			om_event_time(t0, sizeof t0, g[j].first_ns);
			om_event_time(t1, sizeof t1, g[j].last_ns);
			om_buf_printf(b, "%s{\"kind\":\"%s\",\"action\":\"%s\",\"count\":%llu,"
					 "\"destination\":",
				      j ? "," : "", om_leak_names[g[j].kind],
				      om_action_names[g[j].action], (unsigned long long)g[j].count);
			om_json_str(b, g[j].dest);
			om_buf_printf(b, ",\"truncated\":%s,\"program\":",
				      g[j].truncated ? "true" : "false");
			om_json_str(b, g[j].who);
			om_buf_printf(b, ",\"pids\":[");
			for (k = 0; k < g[j].npids; k++)
				om_buf_printf(b, "%s%u", k ? "," : "", g[j].pids[k]);
			om_buf_printf(b, "],\"first\":\"%s\",\"last\":\"%s\"}", t0, t1);
		}
		om_buf_printf(b, "],\"events_dropped\":%llu}", (unsigned long long)dropped(s));
	}
	om_buf_printf(b, "]");
	blind_json(b, bl, nbl);
	om_buf_printf(b, "}\n");
}

void om_render_report(struct om_buf *b, const struct om_source *src, int n,
		      struct om_procs *const *procs, const struct om_run *run, int as_json)
{
	struct group *g = malloc(sizeof *g * OM_RING_ENTRIES);
	struct blind *bl = malloc(sizeof *bl * MAX_BLIND);
	int nbl;

	if (!g || !bl) {
		free(g);
		free(bl);
		b->oom = 1;
		return;
	}
	nbl = read_blind(run->unseen, bl);
	if (as_json)
		json(b, src, n, procs, run, g, bl, nbl);
	else
		text(b, src, n, procs, run, g, bl, nbl);
	free(g);
	free(bl);
}
