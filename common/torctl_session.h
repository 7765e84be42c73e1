/* One conversation with tor's control port, without its transport: the
 * caller delivers each line tor sent and writes each command the session
 * hands back.  The exporter drives it on libuv (exporter/torctl.c),
 * onionmeter-supervise on a plain socket (wrapper/torwatch.c).
 *
 * The control port grants full control of tor, so the session is narrow:
 * the one function that makes commands writes only PROTOCOLINFO,
 * AUTHCHALLENGE, AUTHENTICATE, SETEVENTS and GETINFO, and none with a line
 * break in its arguments.  On a TCP port it authenticates by SAFECOOKIE
 * only, checking tor's HMAC before sending its own, so a process that took
 * the port first learns nothing of the cookie; the cookie itself is sent
 * only over a Unix-domain socket.  A password comes from a file.  Events
 * are handed over as text; nothing here keeps a SOCKS username or
 * password. */
#ifndef OM_TORCTL_SESSION_H
#define OM_TORCTL_SESSION_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct om_tc_session {
	/* set by the caller before om_tc_session_begin */
	int is_unix;               /* the port is a Unix-domain socket */
	const char *password_file; /* or NULL: tor's cookie */
	const char *events;        /* for SETEVENTS, e.g. "STREAM CIRC" */
	const char *status_keys;   /* GETINFO once subscribed, or NULL */
	void *arg;
	/* write one command line (CRLF included): 0, or -1 */
	int (*send)(void *arg, const char *line, size_t len);
	/* an asynchronous event: the text after "650 " */
	void (*event)(void *arg, const char *text, size_t len);
	/* a GETINFO answer: "key=value" (net/listeners/..., status keys) */
	void (*info)(void *arg, const char *key, const char *value);
	/* authenticated and subscribed */
	void (*up)(void *arg);

	/* state */
	int step;
	int in_data, in_event, reply_ok;
	unsigned methods;
	char cookie_file[PATH_MAX];
	uint8_t nonce[32];
	char server_hash[65], server_nonce[65];
	char version[32];
	char error[200]; /* why it failed, for humans */
	int failed;
};

/* Send PROTOCOLINFO (a connection just opened). */
void om_tc_session_begin(struct om_tc_session *s);
/* One line from tor, its line ending stripped.  Afterwards s->failed says
 * whether the conversation is over (s->error why): the caller closes. */
void om_tc_session_line(struct om_tc_session *s, const char *line, size_t len);
/* Is the session subscribed (past its handshake)? */
int om_tc_session_up(const struct om_tc_session *s);

/* A control port's address: HOST:PORT ([V6]:PORT; HOST an IP address or
 * localhost, nothing is looked up) or unix:PATH.  0, or -1 with why set. */
struct sockaddr_storage;
int om_tc_addr(const char *spec, struct sockaddr_storage *sa, unsigned *salen, int *is_unix,
	       const char **why);

/* The verbs a session may write, for tests. */
int om_tc_verb_allowed(const char *verb);

#endif
