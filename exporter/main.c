/* onionmeter-exporter: serve a segment's counters to Prometheus. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "http.h"
#include "om_version.h"
#include "render.h"

#define DEFAULT_LISTEN "127.0.0.1:9477"
#define DEFAULT_SEGMENT "/onionmeter"
#define MAX_ITEMS 16

static const char usage[] =
"Usage: onionmeter-exporter [OPTION]...\n"
"Serve the counters that libonionmeter.so writes to a shared-memory segment\n"
"as Prometheus metrics.  The segment is only ever read.\n"
"\n"
"  -l, --listen ADDR     listen on ADDR (HOST:PORT or [V6]:PORT); may be\n"
"                        repeated; default " DEFAULT_LISTEN "\n"
"  -s, --segment NAME    read segment NAME: /NAME for POSIX shared memory\n"
"                        (/dev/shm/NAME) or an absolute file path; may be\n"
"                        repeated (series then carry a segment label);\n"
"                        default $ONIONMETER_SEGMENT or " DEFAULT_SEGMENT "\n"
"      --once            print one exposition to stdout and exit; exit\n"
"                        status 1 if any segment is down\n"
"  -f, --format FMT      output of --once: prometheus (default),\n"
"                        openmetrics, json or summary (json and summary\n"
"                        include the recent leak events)\n"
"      --remove          delete each segment (its file and its liveness\n"
"                        semaphores) and exit; refused while a live process\n"
"                        still counts into it\n"
"      --leaks-endpoint  serve the recent leak events as JSON on /leaks.\n"
"                        Off by default: events hold destination addresses\n"
"                        and names, which /metrics never shows\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"Endpoints: /metrics (Prometheus text, or OpenMetrics 1.0 when the Accept\n"
"header asks for it), / (landing page), /-/healthy, /-/ready (200 once\n"
"every segment is attached), /leaks with --leaks-endpoint.  A segment that does not exist yet is waited\n"
"for and reported as onionmeter_segment_up 0.\n"
"\n"
"Examples:\n"
"  onionmeter-exporter\n"
"  onionmeter-exporter --listen 0.0.0.0:9477 --segment /shared/onionmeter.seg\n"
"  onionmeter-exporter --once --format summary\n";

struct app {
	struct om_reader readers[MAX_ITEMS];
	struct om_source src[MAX_ITEMS];
	struct om_events events[MAX_ITEMS];
	int nsrc;
	int leaks_endpoint;
};

static void want_events(struct app *a, int on)
{
	int i;

	for (i = 0; i < a->nsrc; i++)
		a->src[i].ev = on ? &a->events[i] : 0;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void scrape(struct app *a, struct om_buf *b, enum om_format f)
{
	double t0 = mono();

	om_collect(a->src, a->nsrc);
	om_render(b, f, a->src, a->nsrc, mono() - t0);
}

static int path_is(const struct om_http_req *req, const char *p)
{
	size_t n = strlen(p), len = req->path_len;
	const char *q = memchr(req->path, '?', len);

	if (q)
		len = (size_t)(q - req->path); /* ignore a query string */
	return len == n && !memcmp(req->path, p, n);
}

static void handle(const struct om_http_req *req, struct om_http_resp *r,
		   void *arg)
{
	struct app *a = arg;
	int i, ready = 1;

	if (req->method == OM_M_OTHER) {
		r->status = 405;
		r->allow = "GET, HEAD";
		om_buf_printf(&r->body, "405 Method Not Allowed\n");
		return;
	}
	if (path_is(req, "/metrics")) {
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
			      "<li><a href=\"metrics\">metrics</a></li>"
			      "<li><a href=\"-/healthy\">healthy</a></li>"
			      "<li><a href=\"-/ready\">ready</a></li>%s</ul></body></html>\n",
			      OM_VERSION,
			      a->leaks_endpoint ? "<li><a href=\"leaks\">leak events</a></li>" : "");
	} else if (a->leaks_endpoint && path_is(req, "/leaks")) {
		r->content_type = "application/json";
		want_events(a, 1);
		om_collect(a->src, a->nsrc);
		om_render_events_json(&r->body, a->src, a->nsrc);
		want_events(a, 0);
	} else if (path_is(req, "/-/healthy")) {
		om_buf_printf(&r->body, "OK\n");
	} else if (path_is(req, "/-/ready")) {
		om_collect(a->src, a->nsrc);
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
		om_buf_printf(&r->body, "404 Not Found; try /metrics\n");
	}
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	/* stop accepting, drop clients; in-flight responses are small */
	uv_walk(s->loop, close_walk, 0);
}

static int parse_format(const char *s, enum om_format *f)
{
	static const char *const names[] = { "prometheus", "openmetrics", "json",
					     "summary" };
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*f = (enum om_format)i;
			return 0;
		}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, 0, 'l' },
		{ "segment", required_argument, 0, 's' },
		{ "once", no_argument, 0, 'o' },
		{ "remove", no_argument, 0, 'R' },
		{ "format", required_argument, 0, 'f' },
		{ "leaks-endpoint", no_argument, 0, 'L' },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	static struct app app;
	const char *listen[MAX_ITEMS], *segs[MAX_ITEMS];
	int nlisten = 0, nsegs = 0, once = 0, remove = 0, opt, i, rc;
	enum om_format fmt = OM_FMT_PROMETHEUS;
	struct om_http_server srv;
	uv_signal_t sigterm, sigint;
	uv_loop_t *loop;

	while ((opt = getopt_long(argc, argv, "l:s:f:hV", opts, 0)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisten == MAX_ITEMS)
				goto too_many;
			listen[nlisten++] = optarg;
			break;
		case 's':
			if (nsegs == MAX_ITEMS)
				goto too_many;
			segs[nsegs++] = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'R':
			remove = 1;
			break;
		case 'L':
			app.leaks_endpoint = 1;
			break;
		case 'f':
			if (parse_format(optarg, &fmt) < 0) {
				fprintf(stderr, "onionmeter-exporter: unknown format '%s' "
					"(want prometheus, openmetrics, json or summary)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("onionmeter-exporter %s\n", OM_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'onionmeter-exporter --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "onionmeter-exporter: unexpected argument '%s'\n"
			"Try 'onionmeter-exporter --help'.\n", argv[optind]);
		return 2;
	}
	if (!nsegs) {
		const char *e = getenv("ONIONMETER_SEGMENT");

		segs[nsegs++] = e && *e ? e : DEFAULT_SEGMENT;
	}
	for (i = 0; i < nsegs; i++) {
		if (om_reader_init(&app.readers[i], segs[i]) < 0) {
			fprintf(stderr, "onionmeter-exporter: --segment %s: %s\n",
				segs[i], app.readers[i].error);
			return 2;
		}
		app.src[i].r = &app.readers[i];
	}
	app.nsrc = nsegs;

	if (remove) {
		int failed = 0;

		for (i = 0; i < app.nsrc; i++)
			if (om_reader_remove(&app.readers[i]) < 0) {
				fprintf(stderr, "onionmeter-exporter: --remove: %s\n",
					app.readers[i].error);
				failed = 1;
			}
		return failed;
	}
	if (once) {
		struct om_buf b = { 0 };
		int down = 0;

		want_events(&app, fmt == OM_FMT_JSON || fmt == OM_FMT_SUMMARY);
		scrape(&app, &b, fmt);
		for (i = 0; i < app.nsrc; i++)
			if (!app.src[i].up) {
				fprintf(stderr, "onionmeter-exporter: segment %s is down: %s\n",
					app.readers[i].name, app.readers[i].error);
				down = 1;
			}
		if (b.oom) {
			fprintf(stderr, "onionmeter-exporter: out of memory\n");
			return 1;
		}
		fwrite(b.p, 1, b.len, stdout);
		om_buf_free(&b);
		return fflush(stdout) != 0 || down;
	}

	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	om_http_init(&srv, loop, handle, &app);
	if (!nlisten)
		listen[nlisten++] = DEFAULT_LISTEN;
	for (i = 0; i < nlisten; i++) {
		rc = om_http_listen(&srv, listen[i]);
		if (rc < 0) {
			fprintf(stderr, "onionmeter-exporter: cannot listen on %s: %s%s\n",
				listen[i], uv_strerror(rc),
				rc == UV_EADDRINUSE ? " (another exporter running?)" : "");
			return 1;
		}
	}
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_signal_init(loop, &sigint);
	uv_signal_start(&sigint, on_signal, SIGINT);
	fprintf(stderr, "onionmeter-exporter %s: serving", OM_VERSION);
	for (i = 0; i < nlisten; i++)
		fprintf(stderr, " http://%s/metrics", listen[i]);
	fprintf(stderr, " for segment(s)");
	for (i = 0; i < nsegs; i++)
		fprintf(stderr, " %s", segs[i]);
	fprintf(stderr, "\n");
	uv_run(loop, UV_RUN_DEFAULT);
	for (i = 0; i < app.nsrc; i++)
		om_reader_close(&app.readers[i]);
	uv_loop_close(loop);
	return 0;

too_many:
	fprintf(stderr, "onionmeter-exporter: at most %d --listen and %d --segment\n",
		MAX_ITEMS, MAX_ITEMS);
	return 2;
}
