/* The dial machine (shim/acct/dial.c) and the classifier (common/), driven
 * directly: no preload, no segment, no socket.  The machine's outputs go
 * to a recorder (tests/unit/acct/dial_out.h) and its clock is the test's,
 * so latencies are exact too. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include "acct/dial.h"
#include "acct/handoff.h"
#include "../check.h"

struct om_config om_cfg;
struct om_recorded om_rec_out;

static int next_fd = 10;

/* A fresh entry, the counters zeroed. */
static struct om_fd *fresh(void)
{
	struct om_fd *e = om_fd_get(next_fd++);

	memset(&om_rec_out, 0, sizeof om_rec_out);
	om_rec_out.decided_fd = -1;
	return e;
}

static void out(struct om_fd *e, const void *b, size_t n)
{
	struct iovec v = { (void *)b, n };

	om_dial_io(e, OM_EGRESS, &v, 1, (ssize_t)n, 0);
}

static void in(struct om_fd *e, const void *b, size_t n)
{
	struct iovec v = { (void *)b, n };

	om_dial_io(e, OM_INGRESS, &v, 1, (ssize_t)n, 0);
}

static const char onion[] = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";

/* SOCKS5 request for onion:80, without greeting: 7 + the name */
static size_t socks5_request(uint8_t *b)
{
	size_t n = strlen(onion);

	b[0] = 5, b[1] = 1, b[2] = 0, b[3] = 3, b[4] = (uint8_t)n;
	memcpy(b + 5, onion, n);
	b[5 + n] = 0, b[6 + n] = 80;
	return 7 + n;
}

static void plain_direct(void)
{
	struct om_fd *e = fresh();

	CHECK_EQ(om_dial_start(e, OM_DEST_DIRECT, 0, 100, 0, 0), 0);
	CHECK_EQ(e->dial, OM_DIAL_UP);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_DIRECT], 1);
	om_rec_out.now = 150;
	out(e, "GET / HTTP/1.1\r\n\r\n", 18); /* not a proxy request: a plain dial */
	CHECK_EQ(om_rec_out.dials[OM_CLASS_DIRECT][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_DIRECT][OM_EGRESS], 18);
	CHECK_EQ(om_rec_out.open[OM_CLASS_DIRECT], 1);
	CHECK_EQ(om_fd_hot(e), OM_HOT_CLASS(OM_CLASS_DIRECT));
	om_dial_close(e);
	CHECK_EQ(om_rec_out.open[OM_CLASS_DIRECT], 0);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_DIRECT], 0);
	CHECK_EQ(om_fd_hot(e), OM_HOT_NONE);
}

/* A SOCKS5 dial to a listed proxy, non-blocking, every message split:
 * onion once the request is whole, success with the reply; the latency
 * from connect() to the reply; every byte credited once, to onion. */
static void socks5_onion_split(void)
{
	struct om_fd *e = fresh();
	uint8_t req[300], reply[10] = { 5, 0, 0, 1 };
	size_t n = socks5_request(req);

	CHECK_EQ(om_dial_start(e, OM_DEST_PROXY, 0, 1000, -1, EINPROGRESS), 0);
	CHECK_EQ(e->dial, OM_DIAL_CONNECTING);
	om_dial_sockopt(e, 0); /* polled writable, SO_ERROR 0: up */
	CHECK_EQ(e->dial, OM_DIAL_UP);
	out(e, "\5\1", 2);
	out(e, "\0", 1);
	in(e, "\5\0", 2);
	out(e, req, 10);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 0);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_EGRESS], 0); /* waits for the class */
	out(e, req + 10, n - 10);
	CHECK_EQ(om_rec_out.decided_cls, OM_CLASS_ONION);
	CHECK_EQ(om_rec_out.requests, 1);
	om_rec_out.now = 1000 + 42000000;
	in(e, reply, 4);
	in(e, reply + 4, 6);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.last_ns, 42000000);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_EGRESS], 3 + n);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_INGRESS], 12);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_PROXIED][OM_EGRESS], 0);
	CHECK_EQ(om_rec_out.open[OM_CLASS_ONION], 1);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_PROXY], 1);
	out(e, "payload", 7); /* settled: the fast path's, but the machine still counts */
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_EGRESS], 3 + n + 7);
	om_dial_close(e);
	CHECK_EQ(om_rec_out.open[OM_CLASS_ONION], 0);
}

/* Another thread read the proxy's replies before the writer's request
 * was seen (the writer's send() had not returned to its wrapper yet):
 * they wait for the request, and the dial ends as onion. */
static void reply_before_request(void)
{
	struct om_fd *e = fresh();
	uint8_t req[300], reply[10] = { 5, 0, 0, 1 };
	size_t n = socks5_request(req);

	om_dial_start(e, OM_DEST_LOCAL, 0, 0, 0, 0); /* found by sniffing, not listed */
	out(e, "\5\1\0", 3);
	in(e, "\5\0", 2);
	in(e, reply, 10);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_LOCAL][OM_OUT_SUCCESS], 0);
	out(e, req, n);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_INGRESS], 12);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_LOCAL][OM_INGRESS], 0);
	om_dial_close(e);
}

static void tor_extended_errors(void)
{
	static const struct { uint8_t code; unsigned outcome; } t[] = {
		{ 0xF0, OM_OUT_ONION_NOT_FOUND }, { 0xF2, OM_OUT_ONION_INTRO_FAILED },
		{ 0xF6, OM_OUT_ONION_BAD_ADDRESS }, { 0xF7, OM_OUT_ONION_INTRO_TIMEOUT },
		{ 0x01, OM_OUT_PROXY_ERROR }, { 0x05, OM_OUT_REFUSED }, { 0x06, OM_OUT_TIMEOUT },
		{ 0x04, OM_OUT_UNREACHABLE }, { 0x02, OM_OUT_DENIED },
	};
	unsigned i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct om_fd *e = fresh();
		uint8_t req[300], reply[10] = { 5, 0, 0, 1 };
		size_t n = socks5_request(req);

		reply[1] = t[i].code;
		om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
		out(e, "\5\1\0", 3);
		in(e, "\5\0", 2);
		out(e, req, n);
		in(e, reply, 10);
		CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][t[i].outcome], 1);
		CHECK_EQ(om_rec_out.open[OM_CLASS_ONION], t[i].outcome == OM_OUT_SUCCESS);
		CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_INGRESS], 12);
		om_dial_close(e);
	}
}

static void http_connect(void)
{
	static const char req[] = "CONNECT 2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:80 "
				  "HTTP/1.1\r\nHost: x\r\n\r\n";
	struct om_fd *e = fresh();

	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, req, sizeof req - 1);
	in(e, "HTTP/1.1 200 Connection established\r\n\r\n", 39);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	om_dial_close(e);
	e = fresh();
	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, req, sizeof req - 1);
	in(e, "HTTP/1.0 502 Bad Gateway\r\n\r\n", 28);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_UNREACHABLE], 1);
	CHECK_EQ(om_rec_out.open[OM_CLASS_ONION], 0);
	om_dial_close(e);
}

/* Failed connects: the outcome from errno; a listed proxy that refuses is
 * a proxied dial and a proxy_unreachable; the socket gauge drops. */
static void refused(void)
{
	struct om_fd *e = fresh();

	om_dial_start(e, OM_DEST_DIRECT, 0, 0, -1, ECONNREFUSED);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_DIRECT][OM_OUT_REFUSED], 1);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_DIRECT], 0);
	CHECK_EQ(om_fd_hot(e), OM_HOT_IGNORE);
	e = fresh();
	om_dial_start(e, OM_DEST_PROXY, 0, 0, -1, EINPROGRESS);
	om_dial_sockopt(e, ECONNREFUSED);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_REFUSED], 1);
	CHECK_EQ(om_rec_out.proxy_unreachable, 1);
	e = fresh();
	om_dial_start(e, OM_DEST_DIRECT, 0, 0, -1, EINPROGRESS);
	om_dial_io(e, OM_INGRESS, 0, 0, -1, ETIMEDOUT); /* learnt from the first read */
	CHECK_EQ(om_rec_out.dials[OM_CLASS_DIRECT][OM_OUT_TIMEOUT], 1);
}

/* Closed before an outcome: aborted; a peer that speaks first (SSH) ends
 * a plain dial; EOF in the middle of a proxy handshake is proxy_error. */
static void aborted_banner_eof(void)
{
	struct om_fd *e = fresh();

	om_dial_start(e, OM_DEST_DIRECT, 0, 0, -1, EINPROGRESS);
	om_dial_close(e);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_DIRECT][OM_OUT_ABORTED], 1);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_DIRECT], 0);
	e = fresh();
	om_dial_start(e, OM_DEST_DIRECT, 0, 0, 0, 0);
	in(e, "SSH-2.0-dropbear\r\n", 18);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_DIRECT][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_DIRECT][OM_INGRESS], 18);
	om_dial_close(e);
	e = fresh();
	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\0", 3);
	om_dial_io(e, OM_INGRESS, 0, 0, 0, 0);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_PROXY_ERROR], 1);
	om_dial_close(e);
	/* connected, never spoken to, then closed: a plain success */
	e = fresh();
	om_dial_start(e, OM_DEST_LOCAL, 0, 0, 0, 0);
	om_dial_close(e);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_LOCAL][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.open[OM_CLASS_LOCAL], 0);
}

/* Replies that end a dial before any request: read at the close.  A
 * SOCKS5 proxy with no acceptable method, or refusing the login. */
static void refused_before_request(void)
{
	struct om_fd *e = fresh();

	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\0", 3);
	in(e, "\5\377", 2);
	om_dial_close(e);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_DENIED], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_PROXIED][OM_INGRESS], 2);
	e = fresh();
	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\2", 3);
	in(e, "\5\2", 2);
	out(e, "\1\1u\1p", 5);
	in(e, "\1\1", 2); /* login refused; the proxy hangs up */
	om_dial_io(e, OM_INGRESS, 0, 0, 0, 0);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_DENIED], 1);
}

/* A handshake that leaves this descriptor before its end (handoff.h): a
 * close while another process may hold the socket detaches it, and it is
 * settled by whoever ends it: here (aborted, its bytes credited once; a
 * refusal the proxy sent first), on a dup of the socket, or in another
 * process image that loads its record. */
static void handed_over(void)
{
	struct om_hand_facts f;
	struct om_hs copy;
	struct om_fd *e = fresh(), *d;
	uint8_t req[300], reply[10] = { 5, 0, 0, 1 };
	size_t n = socks5_request(req);
	uint32_t hs;

	/* settled where it was detached: aborted, pending bytes to proxied */
	om_dial_start(e, OM_DEST_PROXY, 0, 10, 0, 0);
	out(e, "\5\1\0", 3);
	in(e, "\5\0", 2);
	hs = om_dial_detach(e, &f);
	om_dial_close(e);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_ABORTED], 0); /* not yet */
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_PROXY], 0);
	om_rec_out.now = 40;
	CHECK_EQ(om_dial_settle(hs, &f), OM_CLASS_PROXIED);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_ABORTED], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_PROXIED][OM_EGRESS], 3);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_PROXIED][OM_INGRESS], 2);
	CHECK_EQ(om_rec_out.last_ns, 30);

	/* the proxy's refusal, read before the request, decides it */
	e = fresh();
	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\0", 3);
	in(e, "\5\377", 2);
	hs = om_dial_detach(e, &f);
	om_dial_close(e);
	om_dial_settle(hs, &f);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_DENIED], 1);

	/* continued on a dup: one dial, onion, every byte once */
	e = fresh();
	d = om_fd_get(next_fd++);
	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\0", 3);
	d->flags = OM_FDF_TCP | OM_FDF_DECIDED | OM_FDF_PROXY_EP;
	d->dial = OM_DIAL_DONE;
	hs = om_dial_detach(e, &f);
	om_dial_close(e);
	CHECK_EQ(om_dial_take_over(d, hs, &f), 0);
	in(d, "\5\0", 2);
	out(d, req, n);
	in(d, reply, sizeof reply);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_EGRESS], 3 + n);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_INGRESS], 2 + sizeof reply);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_PROXIED][OM_EGRESS], 0);
	CHECK_EQ(om_dial_take_over(d, hs, &f), -1); /* not a dup any more */

	/* resumed from a record in a new image: the request finishes it */
	e = fresh();
	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\0", 3);
	in(e, "\5\0", 2);
	copy = *om_hs_at(e->hs);
	om_dial_facts(e, &f);
	d = om_fd_get(next_fd++);
	CHECK_EQ(om_dial_resume(d, OM_DEST_PROXY, 0, &copy, &f), 0);
	CHECK(om_dial_handshaking(d));
	out(d, req, n);
	in(d, reply, sizeof reply);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_EGRESS], 3 + n);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_INGRESS], 2 + sizeof reply);
	om_dial_ended_elsewhere(e, OM_CLASS_ONION); /* the first holder learns it */
	CHECK_EQ(om_fd_hot(e), OM_HOT_CLASS(OM_CLASS_ONION));
	CHECK_EQ(om_rec_out.dials[OM_CLASS_PROXIED][OM_OUT_ABORTED], 0);
}

/* A signal handler's I/O on a socket whose lock this thread holds: its
 * bytes wait with the others and are credited once. */
static void reentrant(void)
{
	struct om_fd *e = fresh();
	uint8_t req[300], reply[10] = { 5, 0, 0, 1 };
	size_t n = socks5_request(req);

	om_dial_start(e, OM_DEST_PROXY, 0, 0, 0, 0);
	out(e, "\5\1\0", 3);
	om_dial_reentrant(e, OM_EGRESS, 5);
	in(e, "\5\0", 2);
	out(e, req, n);
	in(e, reply, 10);
	CHECK_EQ(om_rec_out.bytes[OM_CLASS_ONION][OM_EGRESS], 3 + 5 + n);
	om_dial_close(e);
}

static void established(void)
{
	struct om_fd *e = fresh();

	om_dial_established(om_out_begin(), e, OM_CLASS_ONION, OM_DEST_LOCAL); /* an onion service's accept */
	CHECK_EQ(om_rec_out.open[OM_CLASS_ONION], 1);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_LOCAL], 1);
	CHECK_EQ(om_fd_hot(e), OM_HOT_CLASS(OM_CLASS_ONION));
	om_dial_close(e);
	CHECK_EQ(om_rec_out.open[OM_CLASS_ONION], 0);
	CHECK_EQ(om_rec_out.socks[OM_KCLASS_LOCAL], 0);
	CHECK_EQ(om_rec_out.dials[OM_CLASS_ONION][OM_OUT_SUCCESS], 0);
}

/* --- the classifier, under configurations read as every component reads them --- */

static const char *const *env_vars;

static const char *env(const char *name)
{
	const char *const *v;
	size_t n = strlen(name);

	for (v = env_vars; v && *v; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			return *v + n + 1;
	return 0;
}

static int warnings;

static void warn(const char *msg)
{
	(void)msg;
	warnings++;
}

static void config(struct om_config *c, const char *const *vars)
{
	memset(c, 0, sizeof *c);
	env_vars = vars;
	warnings = 0;
	om_config_read(c, env, warn);
}

static enum om_dest v4(const struct om_config *c, const char *a, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, a, &s.sin_addr);
	return om_classify_in(c, (struct sockaddr *)&s, sizeof s);
}

static enum om_dest v6(const struct om_config *c, const char *a, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, a, &s.sin6_addr);
	return om_classify_in(c, (struct sockaddr *)&s, sizeof s);
}

static void classifier(void)
{
	static const char *const none[] = { 0 };
	static const char *const empty[] = { "ONIONMETER_PROXIES=", 0 };
	static const char *const garbage[] = { "ONIONMETER_PROXIES=nope", "ONIONMETER_LOCAL_NETS=x/99", 0 };
	static const char *const lists[] = { "ONIONMETER_PROXIES=198.18.0.1:80,unix:/run/x",
					     "ONIONMETER_LOCAL_NETS=198.18.0.0/15,2001:db8::/32", 0 };
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	struct om_config c;

	config(&c, none); /* Tor's usual SocksPorts */
	CHECK_EQ(v4(&c, "127.0.0.1", 9050), OM_DEST_PROXY);
	CHECK_EQ(v4(&c, "127.0.0.1", 9051), OM_DEST_LOCAL);
	/* ports that share a proxy port's bit in the quick test */
	CHECK_EQ(v4(&c, "127.0.0.1", 9050 + 4096), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "127.0.0.2", 9050), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "198.18.0.1", 9150), OM_DEST_DIRECT);
	CHECK_EQ(v4(&c, "127.0.0.1", 9150), OM_DEST_PROXY);
	CHECK_EQ(v6(&c, "::1", 9050), OM_DEST_PROXY);
	CHECK_EQ(v6(&c, "::1", 9050 - 4096), OM_DEST_LOCAL);
	CHECK_EQ(v6(&c, "::ffff:127.0.0.1", 9050), OM_DEST_PROXY); /* v4-mapped */
	CHECK_EQ(v4(&c, "198.18.0.1", 80), OM_DEST_DIRECT);
	CHECK_EQ(v6(&c, "2001:db8::1", 80), OM_DEST_DIRECT);
	strcpy(u.sun_path, "/run/tor/socks");
	CHECK_EQ(om_classify_in(&c, (struct sockaddr *)&u, sizeof u), OM_DEST_PROXY);
	strcpy(u.sun_path, "/run/other");
	CHECK_EQ(om_classify_in(&c, (struct sockaddr *)&u, sizeof u), OM_DEST_NONE);
	CHECK_EQ(warnings, 0);

	config(&c, empty); /* set and empty: no proxy at all */
	CHECK_EQ(c.nproxies, 0);
	CHECK_EQ(v4(&c, "127.0.0.1", 9050), OM_DEST_LOCAL);

	config(&c, garbage); /* said, and the defaults (proxies) or nothing (nets) */
	CHECK_EQ(warnings, 2);
	CHECK_EQ(v4(&c, "127.0.0.1", 9050), OM_DEST_PROXY);
	CHECK_EQ(c.nnets, 0);

	config(&c, lists);
	CHECK_EQ(v4(&c, "198.18.0.1", 80), OM_DEST_PROXY); /* a proxy before a local net */
	CHECK_EQ(v4(&c, "198.18.0.1", 81), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "198.18.0.1", 80 + 4096 * 3), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "127.0.0.1", 80), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "198.19.255.255", 80), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "198.20.0.1", 80), OM_DEST_DIRECT);
	CHECK_EQ(v6(&c, "2001:db8:ffff::1", 443), OM_DEST_LOCAL);
	CHECK_EQ(v4(&c, "127.0.0.1", 9050), OM_DEST_LOCAL); /* the defaults replaced */
	strcpy(u.sun_path, "/run/x");
	CHECK_EQ(om_classify_in(&c, (struct sockaddr *)&u, sizeof u), OM_DEST_PROXY);
	/* the kernel view's name for each */
	{
		struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(80) };

		inet_pton(AF_INET, "198.18.0.1", &s.sin_addr);
		CHECK_EQ(om_kclass_of(&c, (struct sockaddr *)&s, sizeof s), OM_KCLASS_PROXY);
		inet_pton(AF_INET, "198.20.0.1", &s.sin_addr);
		CHECK_EQ(om_kclass_of(&c, (struct sockaddr *)&s, sizeof s), OM_KCLASS_DIRECT);
	}
}

int main(void)
{
	plain_direct();
	socks5_onion_split();
	reply_before_request();
	tor_extended_errors();
	http_connect();
	refused();
	aborted_banner_eof();
	refused_before_request();
	handed_over();
	reentrant();
	established();
	classifier();
	return check_done("dial");
}
