/* The exporter's client of tor's control port, on libuv: the transport
 * for a session (common/torctl_session.h: authentication, and the five
 * read-only verbs that are all it ever sends), the events Tor's view needs
 * handed to it (torview.h), and tor's health (bootstrap, liveness,
 * circuits).  When tor is gone it says so once in the log, reports
 * onionmeter_tor_up 0 and tries again, waiting 1 s, then twice as long
 * each time up to 30 s (at once again after a connection that lasted a
 * minute).  It never keeps, logs or exports an event's SOCKS_USERNAME or
 * SOCKS_PASSWORD. */
#ifndef OM_TORCTL_H
#define OM_TORCTL_H

#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/segment_layout.h"
#include "common/torctl_parse.h"
#include "common/torctl_session.h"
#include "torview.h"

struct om_torctl {
	/* set-up */
	int index;        /* tor number: the label tor="N+1" */
	char name[PATH_MAX + 8]; /* as given: HOST:PORT or unix:PATH */
	int is_unix;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct om_tview *view;
	uv_loop_t *loop;

	/* the connection */
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} conn;
	uv_connect_t connect_req;
	struct om_torctl_write {
		uv_write_t req;
		int busy;
		char buf[640];
	} writes[4];
	uv_timer_t timer; /* reconnect, and the handshake's deadline */
	int open;         /* conn is initialised (until its close callback) */
	char rbuf[65536];
	struct om_tc_lines lines;
	struct om_tc_session sess;
	int down;         /* the connection failed: the rest is not read */
	unsigned backoff_ms;
	uint64_t t_up;    /* when the handshake last finished */
	int stopping;

	/* what is known of tor */
	struct om_tor_status st;
	int logged;        /* the last state logged: -1 none, 0 down, 1 up */
	char error[200];   /* why it is down */
	char logged_error[200];
	uint64_t connects; /* successful handshakes */
};

/* spec: HOST:PORT ([V6]:PORT; HOST an address or localhost) or unix:PATH.
 * 0, or -1 with why set. */
int om_torctl_parse(struct om_torctl *c, const char *spec, const char **why);
/* Start connecting (and keep at it). */
void om_torctl_start(struct om_torctl *c, uv_loop_t *loop, struct om_tview *view, int index,
		     const char *password_file);
/* Close everything; cb is not called. */
void om_torctl_stop(struct om_torctl *c);

/* Set up c's session (om_torctl_start does): the fuzzer's way in. */
void om_torctl_session(struct om_torctl *c, const char *password_file);
/* For the fuzzer and tests: one line from tor, as the connection's reader
 * hands it over (no write happens before the handshake's step wants it). */
void om_torctl_line(struct om_torctl *c, const char *line, size_t len);

#endif
