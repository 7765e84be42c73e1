/* Proxy-protocol parsers: every message fed whole, byte by byte and in
 * every two-way split must give the same verdict. */
#include <string.h>

#include "check.h"
#include "common/segment_layout.h"
#include "proto/sniff.h"

struct req_result {
	int rc;
	size_t used;
	struct om_req r;
};

/* Feed msg split at cut (and byte-wise if cut == 0). */
static struct req_result feed_req(const char *msg, size_t len, size_t cut)
{
	struct req_result res = { 0 };
	size_t off = 0, used;

	while (off < len) {
		size_t n = cut == 0 ? 1 : (off < cut ? cut - off : len - off);

		res.rc = om_req_feed(&res.r, (const uint8_t *)msg + off, n, &used);
		if (res.rc != OM_SNIFF_MORE) {
			res.used = off + used;
			return res;
		}
		off += n;
	}
	res.used = len;
	return res;
}

static void expect_req(const char *what, const char *msg, size_t len, int rc,
		       int onion, size_t used, const char *host, int port)
{
	size_t cut;

	for (cut = 0; cut < len; cut++) {
		struct req_result res = feed_req(msg, len, cut);

		if (res.rc != rc || (rc == OM_SNIFF_DONE &&
				     (res.r.onion != onion || res.used != used ||
				      (host && strcmp(res.r.head, host)) ||
				      (port >= 0 && res.r.port != port)))) {
			fprintf(stderr, "%s: split at %zu: rc %d onion %d used %zu host '%s' port %d\n",
				what, cut, res.rc, res.r.onion, res.used, res.r.head, res.r.port);
			check_failures++;
			return;
		}
	}
}

static int rep_outcome(const char *msg, size_t len, int proto, int forward, size_t cut)
{
	struct om_rep r = { .proto = (uint8_t)proto, .forward = (uint8_t)forward };
	size_t off = 0;

	while (off < len) {
		size_t n = cut == 0 ? 1 : (off < cut ? cut - off : len - off);

		if (om_rep_feed(&r, (const uint8_t *)msg + off, n) == OM_SNIFF_DONE)
			return r.outcome;
		off += n;
	}
	return -1;
}

static void expect_rep_fwd(const char *what, const char *msg, size_t len, int proto,
			   int forward, int outcome)
{
	size_t cut;

	for (cut = 0; cut < len; cut++) {
		int got = rep_outcome(msg, len, proto, forward, cut);

		if (got != outcome) {
			fprintf(stderr, "%s: split at %zu: outcome %d, expected %d\n",
				what, cut, got, outcome);
			check_failures++;
			return;
		}
	}
}

static void expect_rep(const char *what, const char *msg, size_t len, int proto,
		       int outcome)
{
	expect_rep_fwd(what, msg, len, proto, 0, outcome);
}

#define S(lit) lit, sizeof lit - 1

int main(void)
{
	static const char onion56[] =
		"2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion";
	char m[600];
	size_t n, hl = strlen(onion56);
	int code;

	/* SOCKS5 greeting + CONNECT to a domain, pipelined, then payload */
	n = 0;
	memcpy(m, "\x05\x01\x00" "\x05\x01\x00\x03", 7);
	n = 7;
	m[n++] = (char)hl;
	memcpy(m + n, onion56, hl);
	n += hl;
	m[n++] = 0;
	m[n++] = 80;
	memcpy(m + n, "GET /", 5);
	/* head[] keeps a whole v3 onion name */
	expect_req("socks5 onion", m, n + 5, OM_SNIFF_DONE, 1, n, onion56, 80);

	/* Upper case and a trailing dot are still .onion */
	expect_req("socks5 ONION.", S("\x05\x01\x00\x05\x01\x00\x03\x09" "AB.ONION." "\x01\xbb"),
		   OM_SNIFF_DONE, 1, 19, "ab.onion.", 443);
	/* ".onion" alone, "xonion" and "onion.com" are not */
	expect_req("socks5 .onion", S("\x05\x01\x00\x05\x01\x00\x03\x06" ".onion" "\x00\x50"),
		   OM_SNIFF_DONE, 0, 16, 0, 80);
	expect_req("socks5 xonion", S("\x05\x01\x00\x05\x01\x00\x03\x06" "xonion" "\x00\x50"),
		   OM_SNIFF_DONE, 0, 16, 0, 80);
	expect_req("socks5 onion.com", S("\x05\x01\x00\x05\x01\x00\x03\x09" "onion.com" "\x00\x50"),
		   OM_SNIFF_DONE, 0, 19, 0, 80);
	/* IPv4 and IPv6 targets */
	expect_req("socks5 ipv4", S("\x05\x01\x00\x05\x01\x00\x01\xc6\x12\x00\x01\x1f\x90"),
		   OM_SNIFF_DONE, 0, 13, "", 8080);
	expect_req("socks5 ipv6",
		   S("\x05\x02\x00\x02\x05\x01\x00\x04"
		     "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" "\x00\x16"),
		   OM_SNIFF_DONE, 0, 26, "", 22);
	/* username/password sub-negotiation (Tor stream isolation) */
	expect_req("socks5 auth",
		   S("\x05\x01\x02" "\x01\x04user\x04pass" "\x05\x01\x00\x03\x07" "x.onion" "\x00\x50"),
		   OM_SNIFF_DONE, 1, 28, "x.onion", 80);
	expect_req("socks5 empty auth", S("\x05\x01\x02" "\x01\x00\x00" "\x05\x01\x00\x03\x07" "y.onion" "\x00\x50"),
		   OM_SNIFF_DONE, 1, 20, "y.onion", 80);
	/* Not SOCKS: bad nmethods, command, reserved byte, address type */
	expect_req("not: nmethods 0", S("\x05\x00\x05"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: bad cmd", S("\x05\x01\x00\x05\x09"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: bad rsv", S("\x05\x01\x00\x05\x01\x01"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: bad atyp", S("\x05\x01\x00\x05\x01\x00\x07"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: http GET", S("GET / HTTP/1.1\r\n"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: TLS", S("\x16\x03\x01\x02\x00"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	/* Truncated: still waiting */
	expect_req("more: half request", S("\x05\x01\x00\x05\x01\x00\x03\x07" "x.on"),
		   OM_SNIFF_MORE, 0, 0, 0, -1);

	/* SOCKS4 to an address, SOCKS4a to a name */
	expect_req("socks4", S("\x04\x01\x00\x50\xc6\x12\x00\x01" "user\0"),
		   OM_SNIFF_DONE, 0, 13, "", 80);
	expect_req("socks4a onion", S("\x04\x01\x01\xbb\x00\x00\x00\x01" "\0" "abc.onion\0" "payload"),
		   OM_SNIFF_DONE, 1, 19, "abc.onion", 443);
	expect_req("not: socks4 cmd 3", S("\x04\x03"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);

	/* HTTP CONNECT */
	expect_req("connect onion", S("CONNECT abc.onion:443 HTTP/1.1\r\nHost: abc.onion:443\r\n\r\n"),
		   OM_SNIFF_DONE, 1, 32, "abc.onion", 443);
	expect_req("connect v6", S("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n"),
		   OM_SNIFF_DONE, 0, 36, "2001:db8::1", 443);
	expect_req("not: COPY", S("COPY /x HTTP/1.1\r\n"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);

	/* forward requests: absolute form, the request line decides */
	expect_req("forward onion", S("GET http://abc.onion/ HTTP/1.1\r\nHost: abc.onion\r\n\r\n"),
		   OM_SNIFF_DONE, 1, 32, "abc.onion", 80);
	expect_req("forward port", S("POST http://Example.COM:8080/x?y HTTP/1.0\r\n"),
		   OM_SNIFF_DONE, 0, 43, "example.com", 8080);
	expect_req("forward no path", S("HEAD http://x.onion HTTP/1.1\r\n"),
		   OM_SNIFF_DONE, 1, 30, "x.onion", 80);
	expect_req("forward query", S("GET http://x.onion?q=1 HTTP/1.1\r\n"),
		   OM_SNIFF_DONE, 1, 33, "x.onion", 80);
	expect_req("forward v6", S("GET http://[2001:db8::1]/ HTTP/1.1\r\n"),
		   OM_SNIFF_DONE, 0, 36, "2001:db8::1", 80);
	expect_req("forward v6 port", S("GET HTTP://[::1]:81/ HTTP/1.1\r\n"),
		   OM_SNIFF_DONE, 0, 31, "::1", 81);
	expect_req("not: origin form", S("GET / HTTP/1.1\r\n"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: https scheme", S("GET https://x.onion/ HTTP/1.1\r\n"),
		   OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: userinfo", S("GET http://u@x.onion/ HTTP/1.1\r\n"),
		   OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: lower-case method", S("get http://x.onion/ HTTP/1.1\r\n"),
		   OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: connect no port", S("CONNECT host HTTP/1.1\r\n"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);
	expect_req("not: connect port 70000", S("CONNECT h:70000 HTTP/1.1\r\n"), OM_SNIFF_NOT_PROXY, 0, 0, 0, -1);

	/* SOCKS5 replies: every defined code, with and without auth */
	{
		static const struct { uint8_t code; int outcome; } map[] = {
			{ 0x00, OM_OUT_SUCCESS }, { 0x01, OM_OUT_PROXY_ERROR },
			{ 0x02, OM_OUT_DENIED }, { 0x03, OM_OUT_UNREACHABLE },
			{ 0x04, OM_OUT_UNREACHABLE }, { 0x05, OM_OUT_REFUSED },
			{ 0x06, OM_OUT_TIMEOUT }, { 0x07, OM_OUT_PROXY_ERROR },
			{ 0x08, OM_OUT_PROXY_ERROR }, { 0xF0, OM_OUT_ONION_NOT_FOUND },
			{ 0xF1, OM_OUT_ONION_INVALID_DESCRIPTOR },
			{ 0xF2, OM_OUT_ONION_INTRO_FAILED },
			{ 0xF3, OM_OUT_ONION_RENDEZVOUS_FAILED },
			{ 0xF4, OM_OUT_ONION_AUTH_REQUIRED },
			{ 0xF5, OM_OUT_ONION_AUTH_FAILED },
			{ 0xF6, OM_OUT_ONION_BAD_ADDRESS },
			{ 0xF7, OM_OUT_ONION_INTRO_TIMEOUT }, { 0xF8, OM_OUT_PROXY_ERROR },
		};
		size_t i;

		for (i = 0; i < sizeof map / sizeof map[0]; i++) {
			char rep[] = "\x05\x00" "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00";
			char arep[] = "\x05\x02" "\x01\x00" "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00";

			rep[3] = (char)map[i].code;
			arep[5] = (char)map[i].code;
			expect_rep("socks5 reply", rep, sizeof rep - 1, OM_PROTO_SOCKS5, map[i].outcome);
			expect_rep("socks5 auth reply", arep, sizeof arep - 1, OM_PROTO_SOCKS5,
				   map[i].outcome);
		}
	}
	expect_rep("socks5 auth failed", S("\x05\x02\x01\x01"), OM_PROTO_SOCKS5, OM_OUT_DENIED);
	expect_rep("socks5 no method", S("\x05\xff"), OM_PROTO_SOCKS5, OM_OUT_DENIED);
	expect_rep("socks5 garbage", S("HTTP/1.1 400"), OM_PROTO_SOCKS5, OM_OUT_PROXY_ERROR);
	expect_rep("socks4 granted", S("\x00\x5a\x00\x00\x00\x00\x00\x00"), OM_PROTO_SOCKS4, OM_OUT_SUCCESS);
	expect_rep("socks4 rejected", S("\x00\x5b\x00\x00\x00\x00\x00\x00"), OM_PROTO_SOCKS4, OM_OUT_ERROR);
	expect_rep("socks4 identd", S("\x00\x5c"), OM_PROTO_SOCKS4, OM_OUT_DENIED);
	expect_rep("http 200", S("HTTP/1.1 200 Connection established\r\n\r\n"), OM_PROTO_HTTP, OM_OUT_SUCCESS);
	expect_rep("http 407", S("HTTP/1.0 407 Proxy Auth\r\n"), OM_PROTO_HTTP, OM_OUT_DENIED);
	expect_rep("http 504", S("HTTP/1.1 504 Gateway Timeout\r\n"), OM_PROTO_HTTP, OM_OUT_TIMEOUT);
	expect_rep("http 500", S("HTTP/1.1 500 x\r\n"), OM_PROTO_HTTP, OM_OUT_PROXY_ERROR);
	expect_rep("http garbage", S("SSH-2.0"), OM_PROTO_HTTP, OM_OUT_PROXY_ERROR);
	/* a forward request's status is the origin's, bar the proxy's own */
	expect_rep_fwd("forward 404", S("HTTP/1.1 404 Not Found\r\n"), OM_PROTO_HTTP, 1, OM_OUT_SUCCESS);
	expect_rep_fwd("forward 301", S("HTTP/1.1 301 Moved\r\n"), OM_PROTO_HTTP, 1, OM_OUT_SUCCESS);
	expect_rep_fwd("forward 500", S("HTTP/1.1 500 Unable to connect\r\n"), OM_PROTO_HTTP, 1,
		       OM_OUT_PROXY_ERROR);
	expect_rep_fwd("forward 403", S("HTTP/1.1 403 x\r\n"), OM_PROTO_HTTP, 1, OM_OUT_SUCCESS);
	expect_rep_fwd("forward 407", S("HTTP/1.1 407 Auth\r\n"), OM_PROTO_HTTP, 1, OM_OUT_DENIED);
	expect_rep_fwd("forward 502", S("HTTP/1.0 502 Bad Gateway\r\n"), OM_PROTO_HTTP, 1, OM_OUT_UNREACHABLE);
	expect_rep_fwd("forward 503", S("HTTP/1.0 503 x\r\n"), OM_PROTO_HTTP, 1, OM_OUT_UNREACHABLE);
	expect_rep_fwd("forward 504", S("HTTP/1.1 504 x\r\n"), OM_PROTO_HTTP, 1, OM_OUT_TIMEOUT);
	expect_rep("connect 404", S("HTTP/1.1 404 x\r\n"), OM_PROTO_HTTP, OM_OUT_PROXY_ERROR);

	/* A hostile stream never finishes a SOCKS4 user id: bounded */
	memset(m, 'A', sizeof m);
	memcpy(m, "\x04\x01\x00\x50\x01\x02\x03\x04", 8);
	code = feed_req(m, sizeof m, 0).rc;
	CHECK_EQ(code, OM_SNIFF_NOT_PROXY);
	return check_done("test_sniff");
}
