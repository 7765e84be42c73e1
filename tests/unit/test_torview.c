/* Tor's view without tor: the control protocol's parser on lines tor
 * writes (0.4.9), and the view over real loopback connections, the
 * kernel's list and its destroy notices standing in for a tor client's
 * SocksPort.  Ground truth is what this program wrote and read. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/diag.h"
#include "common/torctl_parse.h"
#include "torview.h"

static int failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
			failed = 1;                                                  \
		}                                                                    \
	} while (0)
#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		unsigned long long a_ = (a), b_ = (b);                               \
		if (a_ != b_) {                                                      \
			fprintf(stderr, "%s:%d: %s is %llu, want %llu\n", __FILE__, __LINE__, #a, \
				a_, b_);                                             \
			failed = 1;                                                  \
		}                                                                    \
	} while (0)

/* --- the parser --- */

static int nlines;
static char last[64];
static void on_line(const char *l, size_t n, void *arg)
{
	(void)arg;
	nlines++;
	snprintf(last, sizeof last, "%.*s", (int)n, l);
}

static void parser(void)
{
	struct om_tc_lines *l = calloc(1, sizeof *l);
	struct om_tc_line rl;
	struct om_tc_stream s;
	struct om_tc_circ c;
	uint64_t id, w, r;
	char v[16], act[16], addr[64], big[OM_TC_LINE_MAX + 10];
	const char *t;

	/* lines: CRLF or LF, split anywhere; too long: -1 */
	CHECK(om_tc_lines_feed(l, "250-A\r", 6, on_line, 0) == 0 && nlines == 0);
	CHECK(om_tc_lines_feed(l, "\n250 OK\n", 8, on_line, 0) == 0 && nlines == 2);
	CHECK(!strcmp(last, "250 OK"));
	memset(big, 'x', sizeof big);
	CHECK(om_tc_lines_feed(l, big, sizeof big, on_line, 0) == -1);
	free(l);

	CHECK(om_tc_line("650 STREAM 1", 12, &rl) == 0 && rl.code == 650 && rl.sep == ' ');
	CHECK(om_tc_line("25O OK", 6, &rl) == -1);
	CHECK(om_tc_line("250", 3, &rl) == -1);

	/* values: plain, quoted with escapes, only whole keys, cut to fit */
	t = "A=1 XKEY=2 KEY=\"a b\\\"c\\\\\" Z=\"\\101\\n\"";
	CHECK(om_tc_value(t, strlen(t), "KEY", v, sizeof v) == 6 && !strcmp(v, "a b\"c\\"));
	CHECK(om_tc_value(t, strlen(t), "Z", v, sizeof v) == 2 && !strcmp(v, "A\n"));
	CHECK(om_tc_value(t, strlen(t), "EY", v, sizeof v) == -1);
	CHECK(om_tc_value(t, strlen(t), "A", v, 1) == 0 && !v[0]);

	/* a client's stream, as tor 0.4.9 announces it; SOCKS credentials
	 * are in the line and nowhere in what the parser keeps */
	t = "STREAM 42 NEW 0 ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuv.ONION:80 "
	    "SOURCE_ADDR=127.0.0.1:40512 PURPOSE=USER SOCKS_USERNAME=\"alice\" "
	    "SOCKS_PASSWORD=\"secret\" CLIENT_PROTOCOL=SOCKS5 NYM_EPOCH=0 SESSION_GROUP=-4 "
	    "ISO_FIELDS=SOCKS_USERNAME,SOCKS_PASSWORD,CLIENTADDR,SESSION_GROUP,NYM_EPOCH";
	CHECK(om_tc_stream(t, strlen(t), &s) == 0);
	CHECK(s.id == 42 && s.status == OM_TC_NEW && s.circ == 0 && s.port == 80 && s.onion);
	CHECK(!strcmp(s.host, "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuv.onion"));
	CHECK(s.user && s.proto == OM_TC_SOCKS5 && s.src == OM_TC_SRC_INET && s.src_family == 4 &&
	      s.src_port == 40512);
	CHECK(!memmem(&s, sizeof s, "secret", 6) && !memmem(&s, sizeof s, "alice", 5));
	t = "STREAM 43 NEW 0 [2001:db8::1]:443 SOURCE_ADDR=[::1]:5000 PURPOSE=USER "
	    "CLIENT_PROTOCOL=HTTPCONNECT";
	CHECK(om_tc_stream(t, strlen(t), &s) == 0 && !s.onion && s.port == 443 &&
	      !strcmp(s.host, "2001:db8::1") && s.src_family == 6 && s.src_port == 5000 &&
	      s.proto == OM_TC_HTTPCONNECT);
	t = "STREAM 44 NEW 0 example.com:80 SOURCE_ADDR=/run/tor/socks:0 PURPOSE=USER";
	CHECK(om_tc_stream(t, strlen(t), &s) == 0 && s.src == OM_TC_SRC_UNIX);
	t = "STREAM 45 NEW 0 1.2.3.4:9030 PURPOSE=DIR_FETCH";
	CHECK(om_tc_stream(t, strlen(t), &s) == 0 && !s.user && s.src == OM_TC_SRC_NONE);
	t = "STREAM 46 FAILED 7 198.18.0.1:81 REASON=END REMOTE_REASON=CONNECTREFUSED";
	CHECK(om_tc_stream(t, strlen(t), &s) == 0 && s.status == OM_TC_FAILED && s.circ == 7 &&
	      !strcmp(s.reason, "END") && !strcmp(s.remote_reason, "CONNECTREFUSED"));
	CHECK(om_tc_stream("STREAM x NEW 0 a:1", 18, &s) == -1);
	CHECK(om_tc_stream("STREAM 1 NEW", 12, &s) == -1);
	CHECK(om_host_is_onion("x.onion.", 8) && om_host_is_onion("X.OnIoN", 7) &&
	      !om_host_is_onion(".onion", 6) && !om_host_is_onion("onion", 5) &&
	      !om_host_is_onion("x.onion.com", 11));

	t = "STREAM_BW 42 1000 2000 2026-12-05T07:36:25.813736";
	CHECK(om_tc_stream_bw(t, strlen(t), &id, &w, &r) == 0 && id == 42 && w == 1000 && r == 2000);
	CHECK(om_tc_stream_bw("STREAM_BW 1 -5 2", 16, &id, &w, &r) == -1);
	t = "CIRC 7 BUILT $AAAA~r1,$BBBB~r2 BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL "
	    "TIME_CREATED=2026-12-05T07:36:25.500000";
	CHECK(om_tc_circ(t, strlen(t), &c) == 0 && c.id == 7 && c.built && !c.failed &&
	      c.created_us % 1000000 == 500000);
	t = "STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=85 TAG=ap_conn_done SUMMARY=\"x y\"";
	CHECK(om_tc_bootstrap(t, strlen(t)) == 85);
	CHECK(om_tc_bootstrap("STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=101", 43) == -1);
	CHECK(om_tc_liveness("NETWORK_LIVENESS UP", 19) == 1 &&
	      om_tc_liveness("NETWORK_LIVENESS DOWN", 21) == 0);
	t = "HS_DESC FAILED abcdef NO_AUTH $AAAA~r1 XYZ REASON=NOT_FOUND";
	CHECK(om_tc_hs_desc(t, strlen(t), act, sizeof act, addr, sizeof addr) == 0 &&
	      !strcmp(act, "FAILED") && !strcmp(addr, "abcdef"));
}

/* --- the view, over real sockets --- */

static struct om_tview v;
static const struct om_kscope netns = { OM_KSCOPE_NETNS, 0, 0 };

static void event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event(const char *fmt, ...)
{
	char t[512];
	struct om_tc_stream s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	if (om_tc_stream(t, strlen(t), &s) < 0) {
		fprintf(stderr, "bad event: %s\n", t);
		exit(1);
	}
	om_tview_stream(&v, 0, &s);
}

static void on_sock(const struct om_diag_sock *s, void *arg)
{
	om_tview_sock(arg, s);
}

/* One kernel poll, as the exporter makes it. */
static void kpoll(void)
{
	char err[128];
	int fd = om_diag_open();

	om_tview_poll_begin(&v);
	CHECK(om_diag_dump(fd, &v.seq, AF_INET, IPPROTO_TCP, on_sock, &v, err, sizeof err) == 0);
	om_tview_poll_end(&v);
	close(fd);
}

/* Read destroy notices until fn says enough (the kernel sends them from
 * a work queue, a moment after the close). */
static int wait_notices(int (*enough)(void))
{
	int i;

	for (i = 0; i < 1000 && !enough(); i++) {
		struct pollfd p = { v.destroy_fd, POLLIN, 0 };

		poll(&p, 1, 100);
		om_tview_destroyed(&v);
	}
	return enough();
}

static int no_entries(void)
{
	kpoll();
	return v.nents == 0;
}

static unsigned ring_before;
static int two_more(void)
{
	return v.ring_next >= ring_before + 2;
}

static int listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
		perror("listener");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* A client connection to port, and tor's end of it. */
static void dial(uint16_t port, int lfd, int *cfd, int *sfd, uint16_t *cport)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;

	*cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*cfd, (struct sockaddr *)&a, sizeof a) < 0 || (*sfd = accept(lfd, 0, 0)) < 0 ||
	    getsockname(*cfd, (struct sockaddr *)&a, &n) < 0) {
		perror("dial");
		exit(1);
	}
	*cport = ntohs(a.sin_port);
}

static void put(int fd, size_t n)
{
	static char buf[65536];

	while (n) {
		ssize_t w = write(fd, buf, n < sizeof buf ? n : sizeof buf);

		if (w <= 0) {
			perror("write");
			exit(1);
		}
		n -= (size_t)w;
	}
}

static void get(int fd, size_t n)
{
	static char buf[65536];

	while (n) {
		ssize_t r = read(fd, buf, n < sizeof buf ? n : sizeof buf);

		if (r <= 0) {
			perror("read");
			exit(1);
		}
		n -= (size_t)r;
	}
}

static void view(void)
{
	const char *why;
	uint16_t port, cport[3];
	int lfd, cfd[3], sfd[3], i;
	char list[64];

	if (om_tview_init(&v, &netns, 0, 0, &why) < 0) {
		fprintf(stderr, "SKIP: %s\n", why);
		exit(77);
	}
	lfd = listener(&port);
	snprintf(list, sizeof list, "\"127.0.0.1:%u\" \"unix:/run/tor/socks\"", port);
	om_tview_listeners(&v, 0, list, 0);
	CHECK_EQ(v.nlisteners, 1);

	/* 1. an onion stream: request, answer, data both ways, close; bytes
	 *    exact to the last byte before the close, open gauge back to 0 */
	dial(port, lfd, &cfd[0], &sfd[0], &cport[0]);
	put(cfd[0], 300);
	get(sfd[0], 300);
	event("STREAM 1 NEW 0 abc.onion:80 SOURCE_ADDR=127.0.0.1:%u PURPOSE=USER "
	      "CLIENT_PROTOCOL=SOCKS5", cport[0]);
	CHECK_EQ(v.nents, 1);
	CHECK_EQ(v.npending, 0);
	event("STREAM 1 SENTCONNECT 5 abc.onion:80");
	event("STREAM 1 SUCCEEDED 5 abc.onion:80");
	CHECK_EQ(v.streams[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	CHECK_EQ(v.open[OM_CLASS_ONION], 1);
	put(sfd[0], 5000);
	get(cfd[0], 5000);
	kpoll();
	CHECK_EQ(v.bytes[OM_CLASS_ONION][OM_EGRESS], 300);
	CHECK_EQ(v.bytes[OM_CLASS_ONION][OM_INGRESS], 5000);
	put(cfd[0], 77); /* after the last poll */
	get(sfd[0], 77);
	put(sfd[0], 11);
	get(cfd[0], 11);
	close(cfd[0]);
	close(sfd[0]);
	event("STREAM 1 CLOSED 5 abc.onion:80 REASON=DONE");
	CHECK_EQ(v.open[OM_CLASS_ONION], 0);
	CHECK(wait_notices(no_entries));
	CHECK_EQ(v.bytes[OM_CLASS_ONION][OM_EGRESS], 377);
	CHECK_EQ(v.bytes[OM_CLASS_ONION][OM_INGRESS], 5011);
	/* no segment is read: no shim saw it, a blind spot */
	CHECK_EQ(v.unseen_streams[OM_CLASS_ONION][OM_OUT_SUCCESS], 1);
	CHECK_EQ(v.unseen_bytes[OM_CLASS_ONION][OM_EGRESS], 377);
	CHECK_EQ(v.unattributed[OM_TV_GONE], 0);

	/* 2. a client gone before tor's NEW is read (a malformed onion fails
	 *    in under 5 ms): found among the destroyed sockets */
	dial(port, lfd, &cfd[1], &sfd[1], &cport[1]);
	put(cfd[1], 62);
	get(sfd[1], 62);
	put(sfd[1], 12);
	get(cfd[1], 12);
	close(cfd[1]);
	close(sfd[1]);
	ring_before = v.ring_next;
	CHECK(wait_notices(two_more));
	event("STREAM 2 NEW 0 bad.onion:80 SOURCE_ADDR=127.0.0.1:%u PURPOSE=USER "
	      "CLIENT_PROTOCOL=SOCKS5", cport[1]);
	event("STREAM 2 FAILED 0 bad.onion:80 REASON=TORPROTOCOL");
	event("STREAM 2 CLOSED 0 bad.onion:80 REASON=TORPROTOCOL");
	CHECK(wait_notices(no_entries));
	CHECK_EQ(v.streams[OM_CLASS_ONION][OM_OUT_ONION_BAD_ADDRESS], 1);
	CHECK_EQ(v.bytes[OM_CLASS_ONION][OM_EGRESS], 377 + 62);
	CHECK_EQ(v.bytes[OM_CLASS_ONION][OM_INGRESS], 5011 + 12);

	/* 3. outcomes as tor answers them: an exit's refusal, a missing
	 *    descriptor, an HTTP CONNECT timeout, SOCKS4, and a client that
	 *    left before any answer; a Unix-domain port is not attributed */
	dial(port, lfd, &cfd[2], &sfd[2], &cport[2]);
	event("STREAM 3 NEW 0 198.18.0.1:81 SOURCE_ADDR=127.0.0.1:%u PURPOSE=USER "
	      "CLIENT_PROTOCOL=SOCKS5", cport[2]);
	event("STREAM 3 FAILED 9 198.18.0.1:81 REASON=END REMOTE_REASON=CONNECTREFUSED");
	CHECK_EQ(v.streams[OM_CLASS_PROXIED][OM_OUT_REFUSED], 1);
	event("STREAM 3 CLOSED 9 198.18.0.1:81 REASON=END REMOTE_REASON=CONNECTREFUSED");
	close(cfd[2]);
	close(sfd[2]);
	CHECK(wait_notices(no_entries));

	om_tview_hs_desc(&v, "FAILED", "wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd", "NOT_FOUND");
	event("STREAM 4 NEW 0 wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd.onion:80 SOURCE_ADDR=/run/tor/socks:0 PURPOSE=USER "
	      "CLIENT_PROTOCOL=SOCKS5");
	event("STREAM 4 FAILED 0 wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd.onion:80 REASON=RESOLVEFAILED");
	event("STREAM 4 CLOSED 0 wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd.onion:80 REASON=RESOLVEFAILED");
	CHECK_EQ(v.streams[OM_CLASS_ONION][OM_OUT_ONION_NOT_FOUND], 1);
	CHECK_EQ(v.unattributed[OM_TV_UNIX_PORT], 1);
	om_tview_hs_desc(&v, "RECEIVED", "wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd", "");
	event("STREAM 5 NEW 0 wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd.onion:80 SOURCE_ADDR=/run/tor/socks:0 PURPOSE=USER "
	      "CLIENT_PROTOCOL=SOCKS5");
	om_tview_stream_bw(&v, 0, 5, 40, 2);
	event("STREAM 5 FAILED 0 wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd.onion:80 REASON=RESOLVEFAILED");
	event("STREAM 5 CLOSED 0 wv6xmtt4cql5sx3sslyjxr3p6inatpjcqjwrrhxq2pbbmgqpymkyd4yd.onion:80 REASON=RESOLVEFAILED");
	CHECK_EQ(v.streams[OM_CLASS_ONION][OM_OUT_ONION_INTRO_FAILED], 1);
	CHECK_EQ(v.tor_bytes[OM_CLASS_ONION][OM_EGRESS], 40);
	CHECK_EQ(v.tor_bytes[OM_CLASS_ONION][OM_INGRESS], 2);
	event("STREAM 6 NEW 0 x.org:443 SOURCE_ADDR=/p:0 PURPOSE=USER CLIENT_PROTOCOL=HTTPCONNECT");
	event("STREAM 6 FAILED 3 x.org:443 REASON=TIMEOUT");
	event("STREAM 6 CLOSED 3 x.org:443 REASON=TIMEOUT");
	CHECK_EQ(v.streams[OM_CLASS_PROXIED][OM_OUT_TIMEOUT], 1);
	event("STREAM 7 NEW 0 x.org:80 SOURCE_ADDR=/p:0 PURPOSE=USER CLIENT_PROTOCOL=SOCKS4");
	event("STREAM 7 FAILED 3 x.org:80 REASON=END REMOTE_REASON=EXITPOLICY");
	event("STREAM 7 CLOSED 3 x.org:80");
	CHECK_EQ(v.streams[OM_CLASS_PROXIED][OM_OUT_ERROR], 1);
	event("STREAM 8 NEW 0 x.org:80 SOURCE_ADDR=/p:0 PURPOSE=USER CLIENT_PROTOCOL=SOCKS5");
	event("STREAM 8 CLOSED 0 x.org:80 REASON=MISC");
	CHECK_EQ(v.streams[OM_CLASS_PROXIED][OM_OUT_ABORTED], 1);
	/* tor's own streams, repeats, strangers: nothing */
	event("STREAM 9 NEW 0 1.2.3.4:80 PURPOSE=DIR_FETCH");
	event("STREAM 99 SUCCEEDED 3 x.org:80");
	CHECK_EQ(v.nents, 0);

	/* 4. a client whose socket is never found: counted, then given up */
	event("STREAM 10 NEW 0 x.org:80 SOURCE_ADDR=127.0.0.1:1 PURPOSE=USER CLIENT_PROTOCOL=SOCKS5");
	CHECK_EQ(v.npending, 1);
	event("STREAM 10 SUCCEEDED 3 x.org:80");
	event("STREAM 10 CLOSED 3 x.org:80");
	v.now_ns = om_mono_ns() + 60000000000ull;
	kpoll();
	v.now_ns = 0;
	CHECK_EQ(v.unattributed[OM_TV_GONE], 1);
	CHECK_EQ(v.nents, 0);

	/* 5. a reconnect ends tor's streams and forgets its ports */
	for (i = 0; i < 100; i++)
		event("STREAM %d NEW 0 x.org:80 SOURCE_ADDR=/p:0 PURPOSE=USER "
		      "CLIENT_PROTOCOL=SOCKS5", 100 + i);
	om_tview_reset(&v, 0);
	CHECK_EQ(v.nents, 0);
	CHECK_EQ(v.nlisteners, 0);
	close(lfd);
	om_tview_free(&v);
}

int main(void)
{
	parser();
	view();
	if (!failed)
		printf("ok: torctl parser and Tor's view\n");
	return failed;
}
