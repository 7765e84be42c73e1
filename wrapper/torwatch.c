#include "torwatch.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/torctl_parse.h"
#include "common/torctl_session.h"

#define TARGETS 1024   /* the most recent client streams */
#define OPEN_MS 2000   /* connect and handshake, at most */

struct target {
	int family; /* 4 or 6; 0: free */
	uint8_t addr[16];
	uint16_t port;
	int onion;
	char host[OM_TC_HOST_MAX];
	uint16_t dport;
};

struct om_torwatch {
	int fd;
	struct om_tc_session sess;
	struct om_tc_lines lines;
	struct target t[TARGETS];
	unsigned next;
};

static int send_line(void *arg, const char *line, size_t len)
{
	struct om_torwatch *w = arg;

	while (len) {
		ssize_t n = send(w->fd, line, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { w->fd, POLLOUT, 0 };

			if (poll(&p, 1, OPEN_MS) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

static void event(void *arg, const char *text, size_t len)
{
	struct om_torwatch *w = arg;
	struct om_tc_stream e;
	struct target *t;

	if (len < 7 || memcmp(text, "STREAM ", 7) || om_tc_stream(text, len, &e) < 0 ||
	    e.status != OM_TC_NEW || e.src != OM_TC_SRC_INET)
		return;
	t = &w->t[w->next++ % TARGETS];
	t->family = e.src_family;
	memcpy(t->addr, e.src_addr, 16);
	t->port = e.src_port;
	t->onion = e.onion;
	memcpy(t->host, e.host, sizeof t->host);
	t->dport = e.port;
}

static void on_line(const char *line, size_t len, void *arg)
{
	struct om_torwatch *w = arg;

	om_tc_session_line(&w->sess, line, len);
}

/* Read what is there; wait up to ms for the first bytes.  -1: tor is gone
 * or spoke nonsense. */
static int pump(struct om_torwatch *w, int ms)
{
	char buf[16384];
	struct pollfd p = { w->fd, POLLIN, 0 };

	if (ms && poll(&p, 1, ms) <= 0)
		return 0;
	for (;;) {
		ssize_t n = recv(w->fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		if (om_tc_lines_feed(&w->lines, buf, (size_t)n, on_line, w) < 0 || w->sess.failed)
			return -1;
	}
}

struct om_torwatch *om_torwatch_open(const char *spec, const char *password_file, char *err,
				     size_t errlen)
{
	struct om_torwatch *w = calloc(1, sizeof *w);
	struct sockaddr_storage sa;
	struct pollfd p;
	unsigned salen;
	int is_unix, soerr = 0;
	socklen_t sl = sizeof soerr;
	const char *why;
	uint64_t end;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return 0;
	}
	if (om_tc_addr(spec, &sa, &salen, &is_unix, &why) < 0) {
		snprintf(err, errlen, "%s: %s", spec, why);
		free(w);
		return 0;
	}
	w->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (w->fd < 0 || (connect(w->fd, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS)) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		goto fail;
	}
	p.fd = w->fd;
	p.events = POLLOUT;
	if (poll(&p, 1, OPEN_MS) <= 0 || getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
	    soerr) {
		snprintf(err, errlen, "%s: %s", spec, soerr ? strerror(soerr) : "no answer");
		goto fail;
	}
	w->sess.is_unix = is_unix;
	w->sess.password_file = password_file;
	w->sess.events = "STREAM";
	w->sess.arg = w;
	w->sess.send = send_line;
	w->sess.event = event;
	om_tc_session_begin(&w->sess);
	end = om_mono_ns() + (uint64_t)OPEN_MS * 1000000;
	while (!w->sess.failed && !om_tc_session_up(&w->sess) && om_mono_ns() < end)
		if (pump(w, 100) < 0)
			break;
	if (!om_tc_session_up(&w->sess)) {
		snprintf(err, errlen, "%s: %s", spec,
			 w->sess.failed ? w->sess.error : "tor did not finish the handshake");
		goto fail;
	}
	return w;
fail:
	if (w->fd >= 0)
		close(w->fd);
	free(w);
	return 0;
}

void om_torwatch_poll(struct om_torwatch *w)
{
	if (w && w->fd >= 0 && pump(w, 0) < 0) {
		close(w->fd); /* what was learnt stays */
		w->fd = -1;
	}
}

int om_torwatch_target(const struct om_torwatch *w, const struct om_diag_sock *s, char *out,
		       size_t n)
{
	unsigned k;
	int fam = s->family == AF_INET ? 4 : 6;

	if (!w)
		return -1;
	for (k = 0; k < TARGETS; k++) { /* newest first: ports are reused */
		const struct target *t = &w->t[(w->next - 1 - k) % TARGETS];

		if (t->family == fam && t->port == s->sport &&
		    !memcmp(t->addr, s->src, fam == 4 ? 4 : 16)) {
			snprintf(out, n, strchr(t->host, ':') ? "%s [%s]:%u" : "%s %s:%u",
				 t->onion ? "onion" : "exit", t->host, t->dport);
			return 0;
		}
	}
	return -1;
}

void om_torwatch_close(struct om_torwatch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
