/* onionmeter-exporter: serve a segment's counters to Prometheus. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "app.h"
#include "common/config.h"
#include "common/segpath.h"
#include "log.h"
#include "options.h"
#include "om_revision.h"
#include "om_version.h"

#define WATCH_MS 5000 /* how often segments are looked at between scrapes */




static void log_changes(struct app *a)
{
	char slots[24];
	int i;

	for (i = 0; i < a->nsrc; i++) {
		const struct om_source *s = &a->src[i];
		const struct om_reader *r = &a->readers[i];

		if (s->up && a->logged[i] == 1 && r->attaches != a->logged_attaches[i]) {
			snprintf(slots, sizeof slots, "%llu", (unsigned long long)s->t.slots);
			om_xlog("info", "segment replaced", "segment", r->name, "slots", slots,
				(char *)0);
		} else if (s->up && a->logged[i] != 1) {
			snprintf(slots, sizeof slots, "%llu", (unsigned long long)s->t.slots);
			om_xlog("info", "segment up", "segment", r->name, "slots", slots, (char *)0);
		} else if (!s->up && (a->logged[i] != 0 ||
				      strncmp(a->logged_error[i], r->error, sizeof a->logged_error[i] - 1))) {
			om_xlog("warn", "segment down", "segment", r->name, "reason", r->error,
				(char *)0);
			{
				size_t n = strnlen(r->error, sizeof a->logged_error[i] - 1);

				memcpy(a->logged_error[i], r->error, n);
				a->logged_error[i][n] = '\0';
			}
		}
		a->logged[i] = s->up;
		a->logged_attaches[i] = r->attaches;
	}
}

static int log_on;

static void warn_config(const char *msg)
{
	om_xlog("warn", msg, (char *)0);
}

static void sum_held(const struct app *a, uint64_t held[OM_NKCLASS])
{
	int i, c;

	memset(held, 0, sizeof(uint64_t) * OM_NKCLASS);
	for (i = 0; i < a->nsrc; i++)
		for (c = 0; a->src[i].up && c < OM_NKCLASS; c++)
			held[c] += a->src[i].t.socks_open[c];
}

void om_app_kernel(struct app *a, int single)
{
	uint64_t held[OM_NKCLASS];

	/* the segments first: a connection closed in between is then only
	 * missing from the kernel's side, never a false blind spot */
	om_app_collect(a, 0);
	sum_held(a, held);
	if (a->tor_on)
		om_tview_poll_begin(&a->tv);
	if (om_kview_poll(&a->kv) == 0) {
		om_kview_compare(&a->kv, held, single);
		if (a->tor_on) /* a whole poll: what it missed is gone */
			om_tview_poll_end(&a->tv);
	}
	if (log_on && a->kv.up != a->kernel_logged) {
		if (a->kv.up)
			om_xlog("info", "kernel view up", (char *)0);
		else
			om_xlog("warn", "kernel view down", "reason", a->kv.error, (char *)0);
		a->kernel_logged = a->kv.up;
	}
}

void om_app_collect(struct app *a, int events)
{
	int i;

	for (i = 0; i < a->nsrc; i++)
		a->src[i].ev = events ? &a->events[i] : 0;
	om_collect(a->src, a->nsrc);
	if (log_on)
		log_changes(a);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, 0);
}

static void on_stop(uv_signal_t *s, int signum)
{
	struct app *a = s->data;

	om_xlog("info", "shutting down", "signal", signum == SIGINT ? "INT" : "TERM", (char *)0);
	/* stop accepting, drop clients; in-flight responses are small */
	om_http_close(&a->srv);
	uv_walk(s->loop, close_walk, 0);
}

/* SIGHUP: let go of every segment and attach afresh, as after a
 * replacement (the operator moved or recreated one). */
static void on_hup(uv_signal_t *s, int signum)
{
	struct app *a = s->data;
	int i;

	(void)signum;
	om_xlog("info", "re-opening segments", "signal", "HUP", (char *)0);
	for (i = 0; i < a->nsrc; i++) {
		om_reader_close(&a->readers[i]);
		a->logged[i] = -1;
	}
	om_app_collect(a, 0);
}

static void on_watch(uv_timer_t *t)
{
	om_app_collect(t->data, 0);
}

/* The next poll: --kernel-interval, or twenty times the last poll's
 * length if that is longer, so that the kernel's view never takes more
 * than 5% of a core, however many sockets the namespace holds. */
static uint64_t kernel_next_ms(struct app *a)
{
	double slow = a->kv.poll_seconds * 1000.0 * 20.0;
	uint64_t ms = slow > (double)a->kernel_ms ? (uint64_t)slow : a->kernel_ms;

	/* said when it lasts: one long poll (the first, cold; a busy moment
	 * on a loaded host) is not news */
	a->kernel_slow = ms > a->kernel_ms ? a->kernel_slow + 1 : 0;
	if (log_on && ((a->kernel_slow == 2 && !a->kernel_said_slow) ||
		       (!a->kernel_slow && a->kernel_said_slow))) {
		char v[32];

		a->kernel_said_slow = a->kernel_slow > 0;
		snprintf(v, sizeof v, "%llu", (unsigned long long)ms);
		om_xlog(ms > a->kernel_ms ? "warn" : "info",
			ms > a->kernel_ms ? "kernel view slowed: polls are long" : "kernel view at its interval",
			"interval_ms", v, (char *)0);
	}
	a->kv.interval_seconds = (double)ms / 1000.0;
	return ms;
}

static void on_kernel(uv_timer_t *t)
{
	struct app *a = t->data;

	om_app_kernel(a, 0);
	uv_timer_start(t, on_kernel, kernel_next_ms(a), 0);
}

static int once(struct app *a, enum om_format fmt, int report, const struct om_run *run,
		int fail_on_leak)
{
	struct om_procs *procs[OM_MAX_ITEMS] = { 0 };
	struct om_buf b = { 0 };
	int i, down = 0;

	if (report) {
		om_app_collect(a, 1);
		for (i = 0; i < a->nsrc; i++)
			if (a->src[i].up && (procs[i] = malloc(sizeof *procs[i])) &&
			    om_reader_procs(&a->readers[i], procs[i]) < 0)
				procs[i]->n = 0;
		om_render_report(&b, a->src, a->nsrc, procs, run, report == 2);
		for (i = 0; i < a->nsrc; i++)
			free(procs[i]);
	} else {
		if (a->kernel_on)
			om_app_kernel(a, 1);
		om_app_collect(a, fmt == OM_FMT_JSON || fmt == OM_FMT_SUMMARY);
		struct om_views w;

		/* the humans' and JSON views name each process */
		for (i = 0; (fmt == OM_FMT_JSON || fmt == OM_FMT_SUMMARY) && i < a->nsrc; i++)
			if (a->src[i].up && (procs[i] = malloc(sizeof *procs[i])) &&
			    om_reader_procs(&a->readers[i], procs[i]) == 0)
				a->src[i].procs = procs[i];
		om_app_views(a, &w);
		om_render(&b, fmt, a->src, a->nsrc, 0, &w);
		for (i = 0; i < a->nsrc; i++) {
			a->src[i].procs = 0;
			free(procs[i]);
		}
		for (i = 0; i < a->nsrc; i++)
			if (!a->src[i].up) {
				fprintf(stderr, "onionmeter-exporter: segment %s is down: %s\n",
					a->readers[i].name, a->readers[i].error);
				down = 1;
			}
	}
	if (b.oom) {
		fprintf(stderr, "onionmeter-exporter: out of memory\n");
		return 1;
	}
	fwrite(b.p, 1, b.len, stdout);
	om_buf_free(&b);
	if (fflush(stdout) != 0)
		return 1;
	/* a run that never attached has no segment: a report, not an error */
	if (fail_on_leak && om_leak_total(a->src, a->nsrc))
		return 3;
	return down;
}

int main(int argc, char **argv)
{
	enum { O_RUN_COMMAND = 256, O_RUN_EXIT, O_RUN_UNSEEN, O_FAIL_ON_LEAK, O_KINTERVAL,
	       O_KSCOPE, O_TOR_CONTROL, O_TOR_PASSWORD, O_OWNER, O_WEBCONF, O_TELEMETRY, O_LOGLEVEL, O_LOGFORMAT, O_WATCH };
	static const struct option opts[] = {
		{ "listen", required_argument, 0, 'l' },
		{ "web.listen-address", required_argument, 0, 'l' },
		{ "segment", required_argument, 0, 's' },
		{ "once", no_argument, 0, 'o' },
		{ "remove", no_argument, 0, 'R' },
		{ "format", required_argument, 0, 'f' },
		{ "run-command", required_argument, 0, O_RUN_COMMAND },
		{ "run-exit", required_argument, 0, O_RUN_EXIT },
		{ "run-unseen", required_argument, 0, O_RUN_UNSEEN },
		{ "fail-on-leak", no_argument, 0, O_FAIL_ON_LEAK },
		{ "leaks-endpoint", no_argument, 0, 'L' },
		{ "kernel-interval", required_argument, 0, O_KINTERVAL },
		{ "kernel-scope", required_argument, 0, O_KSCOPE },
		{ "tor-control", required_argument, 0, O_TOR_CONTROL },
		{ "tor-password-file", required_argument, 0, O_TOR_PASSWORD },
		{ "segment-owner", required_argument, 0, O_OWNER },
		{ "web.config.file", required_argument, 0, O_WEBCONF },
		{ "web.telemetry-path", required_argument, 0, O_TELEMETRY },
		{ "log.level", required_argument, 0, O_LOGLEVEL },
		{ "log.format", required_argument, 0, O_LOGFORMAT },
		{ "watch", optional_argument, 0, O_WATCH },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	static struct app app;
	static struct om_config cfg;
	const char *listen[OM_MAX_ITEMS], *segs[OM_MAX_ITEMS];
	int nlisten = 0, nsegs = 0, once_mode = 0, remove = 0, report = 0, fail_on_leak = 0;
	int opt, i, j, rc, nowners = 0;
	uid_t owners[8];
	struct om_run run = { 0, -1, 0, 0 };
	struct om_kscope scope = { OM_KSCOPE_NETNS, 0, 0 };
	unsigned long kinterval = 500;
	const char *why, *tor_password = 0, *webconf = 0;
	static struct om_webauth auth;
	double watch_s = 0;
	char *end;
	enum om_format fmt = OM_FMT_PROMETHEUS;
	uv_signal_t sigterm, sigint, sighup;
	uv_timer_t watch, kernel;
	uv_loop_t *loop;

	while ((opt = getopt_long(argc, argv, "l:s:f:hV", opts, 0)) != -1) {
		switch (opt) {
		case 'l':
			if (nlisten == OM_MAX_ITEMS)
				goto too_many;
			listen[nlisten++] = optarg;
			break;
		case 's':
			if (nsegs == OM_MAX_ITEMS)
				goto too_many;
			segs[nsegs++] = optarg;
			break;
		case 'o':
			once_mode = 1;
			break;
		case 'R':
			remove = 1;
			break;
		case 'L':
			app.leaks_endpoint = 1;
			break;
		case 'f':
			if (om_opt_format(optarg, &fmt, &report) < 0) {
				fprintf(stderr, "onionmeter-exporter: unknown format '%s' (want "
					"prometheus, openmetrics, json, summary, report or "
					"report-json)\n", optarg);
				return 2;
			}
			break;
		case O_RUN_COMMAND:
			run.command = optarg;
			break;
		case O_RUN_EXIT:
			if (om_opt_exit(optarg, &run) < 0) {
				fprintf(stderr, "onionmeter-exporter: --run-exit wants a status "
					"(0-255) or signal:N, not '%s'\n", optarg);
				return 2;
			}
			break;
		case O_RUN_UNSEEN:
			run.unseen = optarg;
			break;
		case O_FAIL_ON_LEAK:
			fail_on_leak = 1;
			break;
		case O_KINTERVAL:
			kinterval = strtoul(optarg, &end, 10);
			if (!*optarg || *end || kinterval > 3600000) {
				fprintf(stderr, "onionmeter-exporter: --kernel-interval wants "
					"milliseconds (0 turns the kernel view off), not '%s'\n", optarg);
				return 2;
			}
			break;
		case O_KSCOPE:
			if (om_kscope_parse(optarg, &scope, &why) < 0) {
				fprintf(stderr, "onionmeter-exporter: --kernel-scope %s: %s\n",
					optarg, why);
				return 2;
			}
			break;
		case O_TOR_CONTROL:
			if (om_opt_tor_add(&app, optarg) < 0)
				return 2;
			break;
		case O_TOR_PASSWORD:
			tor_password = optarg;
			break;
		case O_WATCH:
			watch_s = optarg ? strtod(optarg, &end) : 1.0;
			if (optarg && (*end || end == optarg || !(watch_s >= 0.1 && watch_s <= 3600))) {
				fprintf(stderr, "onionmeter-exporter: --watch=%s: want seconds from "
					"0.1 to 3600\n", optarg);
				return 2;
			}
			break;
		case O_WEBCONF:
			webconf = optarg;
			break;
		case O_TELEMETRY:
			if (optarg[0] != '/' || strpbrk(optarg, "?# \t") || !strcmp(optarg, "/") ||
			    !strncmp(optarg, "/-/", 3)) {
				fprintf(stderr, "onionmeter-exporter: --web.telemetry-path %s: want an "
					"absolute path other than /, /-/... and without ?, # or blanks\n",
					optarg);
				return 2;
			}
			app.telemetry_path = optarg;
			break;
		case O_LOGLEVEL:
			if (om_xlog_config(optarg, 0) < 0) {
				fprintf(stderr, "onionmeter-exporter: --log.level %s: want debug, info, "
					"warn or error\n", optarg);
				return 2;
			}
			break;
		case O_LOGFORMAT:
			if (om_xlog_config(0, optarg) < 0) {
				fprintf(stderr, "onionmeter-exporter: --log.format %s: want logfmt or "
					"json\n", optarg);
				return 2;
			}
			break;
		case O_OWNER:
			if (nowners == (int)(sizeof owners / sizeof owners[0]) ||
			    om_opt_owner(optarg, &owners[nowners]) < 0) {
				fprintf(stderr, "onionmeter-exporter: --segment-owner %s: %s\n", optarg,
					nowners == (int)(sizeof owners / sizeof owners[0])
						? "at most 8" : "no such user");
				return 2;
			}
			nowners++;
			break;
		case 'h':
			fputs(om_usage, stdout);
			return 0;
		case 'V':
			printf("onionmeter-exporter %s (revision %s)\n", OM_VERSION, OM_REVISION);
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
	if ((report || fail_on_leak) && !once_mode) {
		fprintf(stderr, "onionmeter-exporter: --format report and --fail-on-leak "
			"need --once\n");
		return 2;
	}
	/* the environment as the shim reads it: its segment, its proxies */
	om_config_read(&cfg, om_env_plain, warn_config);
	/* the environment's tors are for a running exporter; --once and
	 * --remove leave them alone */
	if (!app.ntors && !once_mode && !remove && !watch_s && kinterval && om_opt_tor_env(&app) < 0)
		return 2;
	if (app.ntors && (once_mode || remove || !kinterval)) {
		fprintf(stderr, "onionmeter-exporter: --tor-control needs the kernel's list "
			"(--kernel-interval above 0) and a running exporter (not --once "
			"or --remove)\n");
		return 2;
	}
	if (tor_password && !app.ntors) {
		fprintf(stderr, "onionmeter-exporter: --tor-password-file without --tor-control\n");
		return 2;
	}
	if (!nsegs)
		segs[nsegs++] = cfg.segment;
	for (i = 0; i < nsegs; i++) {
		if (om_reader_init(&app.readers[i], segs[i]) < 0) {
			fprintf(stderr, "onionmeter-exporter: --segment %s: %s\n",
				segs[i], app.readers[i].error);
			return 2;
		}
		for (j = 0; j < nowners; j++)
			om_reader_trust(&app.readers[i], owners[j]);
		app.src[i].r = &app.readers[i];
		app.logged[i] = -1;
	}
	app.nsrc = nsegs;
	app.kernel_on = kinterval > 0;
	app.kernel_ms = kinterval;
	app.kernel_logged = -1;
	om_kview_init(&app.kv, &scope, &cfg);
	app.kv.interval_seconds = (double)kinterval / 1000.0;

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
	if (once_mode)
		return once(&app, fmt, report, &run, fail_on_leak);
	if (watch_s > 0)
		return om_watch(&app, watch_s);

	if (!app.telemetry_path)
		app.telemetry_path = "/metrics";
	if (webconf) {
		char err[512];

		if (om_webauth_load(&auth, webconf, err, sizeof err) < 0) {
			fprintf(stderr, "onionmeter-exporter: --web.config.file %s\n", err);
			return 2;
		}
		app.auth = &auth;
	}
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	om_http_init(&app.srv, loop, om_app_handle, &app);
	if (!nlisten)
		listen[nlisten++] = OM_DEFAULT_LISTEN;
	for (i = 0; i < nlisten; i++) {
		rc = om_http_listen(&app.srv, listen[i]);
		if (rc < 0) {
			om_xlog("error", "cannot listen", "address", listen[i], "err", uv_strerror(rc),
				"hint", rc == UV_EADDRINUSE ? "another exporter running?"
				: rc == UV_EINVAL ? "want HOST:PORT, [V6]:PORT or :PORT" : "",
				(char *)0);
			return 1;
		}
	}
	uv_signal_init(loop, &sigterm);
	uv_signal_init(loop, &sigint);
	uv_signal_init(loop, &sighup);
	sigterm.data = sigint.data = sighup.data = &app;
	uv_signal_start(&sigterm, on_stop, SIGTERM);
	uv_signal_start(&sigint, on_stop, SIGINT);
	uv_signal_start(&sighup, on_hup, SIGHUP);
	for (i = 0; i < nlisten; i++)
		om_xlog("info", "listening", "address", listen[i], "version", OM_VERSION,
			"revision", OM_REVISION, "path", app.telemetry_path,
			"auth", app.auth ? "basic" : "none", (char *)0);
	log_on = 1;
	om_app_collect(&app, 0);
	if (app.ntors && om_app_tor_start(&app, loop, tor_password, &why) < 0) {
		om_xlog("error", "cannot start Tor's view", "reason", why, (char *)0);
		return 1;
	}
	if (app.kernel_on) {
		om_app_kernel(&app, 0);
		uv_timer_init(loop, &kernel);
		kernel.data = &app;
		uv_timer_start(&kernel, on_kernel, kernel_next_ms(&app), 0);
	} else {
		uv_timer_init(loop, &watch);
		watch.data = &app;
		uv_timer_start(&watch, on_watch, WATCH_MS, WATCH_MS);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	for (i = 0; i < app.nsrc; i++)
		om_reader_close(&app.readers[i]);
	om_app_tor_stop(&app);
	om_kview_close(&app.kv);
	uv_loop_close(loop);
	om_xlog("info", "stopped", (char *)0);
	return 0;

too_many:
	fprintf(stderr, "onionmeter-exporter: at most %d --listen and %d --segment\n",
		OM_MAX_ITEMS, OM_MAX_ITEMS);
	return 2;
}
