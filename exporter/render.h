/* Turning segment totals into text: Prometheus 0.0.4, OpenMetrics 1.0,
 * JSON, and a human summary. */
#ifndef OM_RENDER_H
#define OM_RENDER_H

#include "buf.h"
#include "common/reader.h"

enum om_format { OM_FMT_PROMETHEUS, OM_FMT_OPENMETRICS, OM_FMT_JSON, OM_FMT_SUMMARY };

struct om_source {
	struct om_reader *r;
	struct om_totals t;
	struct om_events *ev; /* leak events; NULL where not wanted */
	struct om_procs *procs; /* each slot's last holder; NULL where not wanted */
	int up;
	/* What the last scrape that found the segment up read.  While it is
	 * down, the leak and uncounted counters repeat these (zeros before it
	 * was ever up): a series that vanished or fell to 0 and came back
	 * would read as a reset, and increase() would report the old leaks as
	 * new ones; one that appeared only with the first leak would read as
	 * no increase at all. */
	uint64_t last_leaks[OM_NLEAK][OM_NACTION];
	uint64_t last_uncounted[OM_NUNCOUNTED];
	int was_up;
};

#define OM_CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define OM_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Snapshot every source, then render them in one pass. */
void om_collect(struct om_source *src, int n);
/* The exporter's own views, each NULL when off: the kernel's last poll,
 * Tor's view and each tor's health. */
struct om_kview;
struct om_tview;
struct om_tor_status;
struct om_views {
	const struct om_kview *kv;
	const struct om_tview *tv;
	const struct om_tor_status *tors[8];
	int ntors;
};
void om_render(struct om_buf *b, enum om_format f, const struct om_source *src,
	       int n, double scrape_seconds, const struct om_views *views);
/* The leak events alone, as JSON (the opt-in /leaks endpoint). */
void om_render_events_json(struct om_buf *b, const struct om_source *src, int n);
/* summary.c */
void om_render_json(struct om_buf *b, const struct om_source *src, int n);
void om_render_summary(struct om_buf *b, const struct om_source *src, int n);
void om_json_totals(struct om_buf *b, const struct om_totals *t);
/* The per-process lines of the summary: every live slot and every slot
 * that moved bytes, its last holder named.  max: at most this many
 * (0: all), the busiest first. */
void om_text_procs(struct om_buf *b, const struct om_procs *p, int max);
void om_text_classes(struct om_buf *b, const struct om_totals *t);

/* report.c: the report of one run (onionmeter-run --report): a verdict,
 * the traffic, and the leak events grouped.  procs[i] names the processes
 * of src[i] (or NULL); src[i].ev must hold its events. */
struct om_run {
	const char *command; /* the command line, quoted for a shell; or NULL */
	int exited;          /* 1: code is an exit status; 0: a signal; -1: unknown */
	int code;
	const char *unseen;  /* onionmeter-supervise's file of connections the
				kernel listed and the shim did not account for */
};
void om_render_report(struct om_buf *b, const struct om_source *src, int n,
		      struct om_procs *const *procs, const struct om_run *run, int json);
/* Leaks counted in the segments that are up. */
uint64_t om_leak_total(const struct om_source *src, int n);

#endif
