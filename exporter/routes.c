/* What the exporter answers, URL by URL: /metrics (Prometheus text, or
 * OpenMetrics when the client prefers it), the landing page, health and
 * readiness, and the opt-in /leaks. */
#include <string.h>
#include <time.h>

#include "app.h"
#include "common/clock.h"
#include "om_version.h"

static void scrape(struct app *a, struct om_buf *b, enum om_format f)
{
	uint64_t t0 = om_mono_ns();
	struct om_views w;

	om_app_collect(a, 0);
	om_app_views(a, &w);
	om_render(b, f, a->src, a->nsrc, (double)(om_mono_ns() - t0) / 1e9, &w);
}

static int path_is(const struct om_http_req *req, const char *p)
{
	size_t n = strlen(p), len = req->path_len;
	const char *q = memchr(req->path, '?', len);

	if (q)
		len = (size_t)(q - req->path); /* ignore a query string */
	return len == n && !memcmp(req->path, p, n);
}

void om_app_handle(const struct om_http_req *req, struct om_http_resp *r, void *arg)
{
	struct app *a = arg;
	int i, ready = 1;

	if (req->method == OM_M_OTHER) {
		r->status = 405;
		r->allow = "GET, HEAD";
		om_buf_printf(&r->body, "405 Method Not Allowed\n");
		return;
	}
	/* every page but the liveness probe, which tells nothing */
	if (a->auth && !path_is(req, "/-/healthy") &&
	    !(req->auth && om_webauth_check(a->auth, req->auth, req->auth_len))) {
		r->status = 401;
		r->challenge = "Basic realm=\"onionmeter\", charset=\"UTF-8\"";
		om_buf_printf(&r->body, "401 Unauthorized\n");
		return;
	}
	if (path_is(req, a->telemetry_path)) {
		int om = req->openmetrics;

		r->content_type = om ? OM_CT_OPENMETRICS : OM_CT_PROMETHEUS;
		scrape(a, &r->body, om ? OM_FMT_OPENMETRICS : OM_FMT_PROMETHEUS);
		if (r->body.oom)
			r->status = 500;
	} else if (path_is(req, "/")) {
		r->content_type = "text/html; charset=utf-8";
		om_buf_printf(&r->body,
			      "<!doctype html><html><head><title>onionmeter exporter</title>"
			      "</head><body><h1>onionmeter exporter %s</h1><ul>"
			      "<li><a href=\"%s\">metrics</a></li>"
			      "<li><a href=\"-/healthy\">healthy</a></li>"
			      "<li><a href=\"-/ready\">ready</a></li>%s</ul></body></html>\n",
			      OM_VERSION, a->telemetry_path + 1,
			      a->leaks_endpoint ? "<li><a href=\"leaks\">leak events</a></li>" : "");
	} else if (a->leaks_endpoint && path_is(req, "/leaks")) {
		r->content_type = "application/json";
		om_app_collect(a, 1);
		om_render_events_json(&r->body, a->src, a->nsrc);
	} else if (path_is(req, "/-/healthy")) {
		om_buf_printf(&r->body, "OK\n");
	} else if (path_is(req, "/-/ready")) {
		om_app_collect(a, 0);
		for (i = 0; i < a->nsrc; i++)
			if (!a->src[i].up) {
				ready = 0;
				om_buf_printf(&r->body, "not ready: %s\n",
					      a->readers[i].error);
			}
		if (ready)
			om_buf_printf(&r->body, "OK\n");
		else
			r->status = 503;
	} else {
		r->status = 404;
		om_buf_printf(&r->body, "404 Not Found; try %s\n", a->telemetry_path);
	}
}

