/* Turning segment totals into text: Prometheus 0.0.4, OpenMetrics 1.0,
 * JSON, and a human summary. */
#ifndef OM_RENDER_H
#define OM_RENDER_H

#include "buf.h"
#include "reader.h"

enum om_format { OM_FMT_PROMETHEUS, OM_FMT_OPENMETRICS, OM_FMT_JSON, OM_FMT_SUMMARY };

struct om_source {
	struct om_reader *r;
	struct om_totals t;
	struct om_events *ev; /* leak events; NULL where not wanted */
	int up;
};

#define OM_CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define OM_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Snapshot every source, then render them in one pass. */
void om_collect(struct om_source *src, int n);
void om_render(struct om_buf *b, enum om_format f, const struct om_source *src,
	       int n, double scrape_seconds);
/* The leak events alone, as JSON (the opt-in /leaks endpoint). */
void om_render_events_json(struct om_buf *b, const struct om_source *src, int n);

#endif
