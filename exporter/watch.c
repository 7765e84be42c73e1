/* --watch: the summary redrawn in place every interval, for a leak hunt
 * watched rather than re-run: the classes with their rates since the last
 * frame, the busiest processes, the latest leak events.  On a terminal
 * each frame clears the screen (two ANSI escapes, no curses); into a pipe
 * or a file each frame is plain lines and a blank one. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "common/clock.h"
#include "text.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* bytes per second since the last frame; a counter that went back (the
 * segment was replaced) reads 0 */
static double rate(uint64_t now, uint64_t then, int have, double dt)
{
	return have && dt > 0 && now >= then ? (double)(now - then) / dt : 0;
}

static void frame(struct om_buf *b, struct app *a, struct om_procs *procs, struct om_totals *prev,
		  int have_prev, double dt, double every)
{
	char when[32];
	int i, k;

	om_event_time(when, sizeof when, om_clock_ns(CLOCK_REALTIME));
	om_buf_printf(b, "onionmeter %s   every %gs, Ctrl-C to stop\n", when, every);
	for (i = 0; i < a->nsrc; i++) {
		const struct om_source *s = &a->src[i];
		const struct om_totals *t = &s->t;
		uint64_t leaks = 0;
		int j, first;

		if (!s->up) {
			om_buf_printf(b, "\nsegment %s: down: %s\n", s->r->name, s->r->error);
			continue;
		}
		om_buf_printf(b, "\nsegment %s: %llu live process(es)\n", s->r->name,
			      (unsigned long long)t->processes);
		om_buf_printf(b, "  %-8s %12s %12s %12s %12s %5s\n", "class", "egress", "ingress",
			      "out/s", "in/s", "open");
		for (k = 0; k < OM_NCLASS; k++) {
			char o[32], in[32], ro[32], ri[32];
			double so = rate(t->bytes[k][OM_EGRESS], prev[i].bytes[k][OM_EGRESS], have_prev, dt);
			double si = rate(t->bytes[k][OM_INGRESS], prev[i].bytes[k][OM_INGRESS], have_prev, dt);

			om_human_bytes(o, sizeof o, t->bytes[k][OM_EGRESS]);
			om_human_bytes(in, sizeof in, t->bytes[k][OM_INGRESS]);
			om_human_bytes(ro, sizeof ro, (uint64_t)so);
			om_human_bytes(ri, sizeof ri, (uint64_t)si);
			om_buf_printf(b, "  %-8s %12s %12s %12s %12s %5llu\n", om_class_names[k], o, in,
				      ro, ri, (unsigned long long)t->open_now[k]);
		}
		for (k = 0; k < OM_NLEAK; k++)
			for (j = 0; j < OM_NACTION; j++)
				leaks += t->leaks[k][j];
		om_buf_printf(b, "  leaks: %llu\n", (unsigned long long)leaks);
		if (procs && om_reader_procs(&a->readers[i], procs) == 0)
			om_text_procs(b, procs, 10);
		first = s->ev && s->ev->n > 5 ? s->ev->n - 5 : 0;
		for (j = first; s->ev && j < s->ev->n; j++) {
			const struct om_event *e = &s->ev->ev[j];
			char dest[300], t_[32], comm[80];

			if (j == first)
				om_buf_printf(b, "  latest leaks:\n");
			om_event_dest(dest, sizeof dest, e);
			om_event_time(t_, sizeof t_, e->time_ns);
			om_text_str(comm, sizeof comm, e->comm[0] ? e->comm : "?");
			om_buf_printf(b, "    %s %-16s %-8s pid %u (%s) -> %s\n", t_, om_leak_names[e->kind],
				      om_action_names[e->action], e->pid, comm, dest);
		}
	}
}

int om_watch(struct app *a, double every)
{
	static struct om_totals prev[OM_MAX_ITEMS];
	struct om_procs *procs = malloc(sizeof *procs);
	int tty = isatty(1), have_prev = 0, i;
	uint64_t last = 0;

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGPIPE, SIG_DFL);
	while (!stop) {
		struct om_buf b = { 0 };
		struct timespec ts;
		uint64_t now = om_mono_ns();

		om_app_collect(a, 1);
		if (tty)
			om_buf_printf(&b, "\033[H\033[J"); /* home, clear below */
		frame(&b, a, procs, prev, have_prev, (double)(now - last) / 1e9, every);
		if (!tty)
			om_buf_printf(&b, "\n");
		if (b.oom || fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
			om_buf_free(&b);
			break;
		}
		om_buf_free(&b);
		for (i = 0; i < a->nsrc; i++)
			prev[i] = a->src[i].t;
		have_prev = 1;
		last = now;
		ts.tv_sec = (time_t)every;
		ts.tv_nsec = (long)((every - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, 0);
	}
	free(procs);
	return 0;
}
