/* The exporter's state, shared by main.c (set-up, signals, the log of
 * segment changes) and routes.c (what each URL answers). */
#ifndef OM_APP_H
#define OM_APP_H

#include "http.h"
#include "kernel.h"
#include "render.h"
#include "torctl.h"
#include "torview.h"
#include "webauth.h"

#define OM_MAX_ITEMS 16

struct app {
	struct om_reader readers[OM_MAX_ITEMS];
	struct om_source src[OM_MAX_ITEMS];
	struct om_events events[OM_MAX_ITEMS];
	int nsrc;
	int leaks_endpoint;
	const char *telemetry_path; /* --web.telemetry-path, default /metrics */
	struct om_webauth *auth;    /* --web.config.file's users, or NULL */
	/* what the log last said of each segment: -1 nothing yet, 0 down, 1 up */
	int logged[OM_MAX_ITEMS];
	unsigned logged_attaches[OM_MAX_ITEMS];
	char logged_error[OM_MAX_ITEMS][160];
	struct om_http_server srv;
	struct om_kview kv;
	int kernel_on;
	int kernel_logged; /* -1 nothing yet, 0 down, 1 up */
	unsigned long kernel_ms; /* --kernel-interval */
	unsigned kernel_slow;    /* polls in a row spaced out for their length */
	int kernel_said_slow;    /* ... and whether the log said so */
	/* Tor's view (--tor-control) */
	struct om_tview tv;
	struct om_torctl tors[OM_TV_TORS];
	int ntors;
	int tor_on;
	uv_poll_t destroy_poll;
};

/* Snapshot every segment (events too, if on) and log what changed. */
void om_app_collect(struct app *a, int events);
/* Read the segments, then the kernel's list, and compare (single: a
 * one-off look). */
void om_app_kernel(struct app *a, int single);
/* The views to render, as they stand. */
void om_app_views(const struct app *a, struct om_views *w);
/* tor.c: start Tor's view (after --tor-control was parsed into a->tors):
 * 0, or -1 with why set. */
int om_app_tor_start(struct app *a, uv_loop_t *loop, const char *password_file,
		     const char **why);
void om_app_tor_stop(struct app *a);
/* watch.c: --watch, the summary redrawn every `every` seconds until
 * SIGINT or SIGTERM */
int om_watch(struct app *a, double every);
/* routes.c: the HTTP handler */
void om_app_handle(const struct om_http_req *req, struct om_http_resp *r, void *arg);

#endif
