/* HTTP proxy requests, as spoken to Tor's HTTPTunnelPort and to ordinary
 * HTTP proxies:
 *
 *   CONNECT host:port HTTP/1.1        (RFC 9110 section 9.3.6), and
 *   GET http://host[:port]/path HTTP/1.1   absolute form (RFC 9112 3.2.2)
 *
 * The request is complete at the end of its request line; header lines
 * that follow are ordinary payload.  A connection that carries several
 * forward requests is classified by the first.  The reply's outcome is its
 * status code: for CONNECT any 2xx is a tunnel; for a forward request any
 * status below 500 but 407 is the origin's (the dial succeeded), and a 5xx
 * is read as the proxy's own, as for CONNECT: proxies report their failures
 * as 500 (tinyproxy), 502, 503 or 504, and no header tells one from an
 * origin's. */
#include "proto/sniff.h"

#include "common/outcome.h"
#include "common/segment_layout.h"

enum {
	H_METHOD = 0, H_SCHEME, H_HOST, H_V6, H_V6_END, H_PORT, H_VERSION,
	HR_PROTO = 0, HR_VERSION, HR_STATUS,
};

#define H_METHOD_MAX 16
#define H_LINE_MAX 8192 /* longest request line we keep following */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* r->cmd: 1 while the method may still be CONNECT, then 1 (CONNECT) or 2
 * (a forward request) once it is known */
int om_http_req_byte(struct om_req *r, uint8_t c)
{
	static const char connect[] = "CONNECT", scheme[] = "http://";

	switch (r->st) {
	case H_METHOD:
		if (c == ' ' && r->left > 0) {
			r->cmd = r->cmd == 1 && r->left == sizeof connect - 1 ? 1 : 2;
			r->st = r->cmd == 1 ? H_HOST : H_SCHEME;
			r->left = 0;
			return OM_SNIFF_MORE;
		}
		if (c < 'A' || c > 'Z' || r->left >= H_METHOD_MAX)
			return OM_SNIFF_NOT_PROXY;
		if (r->left == 0)
			r->cmd = 1;
		if (r->left >= sizeof connect - 1 || c != (uint8_t)connect[r->left])
			r->cmd = 0;
		r->left++;
		return OM_SNIFF_MORE;
	case H_SCHEME: /* origin form ("GET / ...") is no proxy request */
		if (r->left >= sizeof scheme - 1 || lower(c) != scheme[r->left])
			return OM_SNIFF_NOT_PROXY;
		if (++r->left == sizeof scheme - 1) {
			r->st = H_HOST;
			r->left = 0;
		}
		return OM_SNIFF_MORE;
	case H_HOST:
		if (c == '[' && r->hostlen == 0) {
			r->st = H_V6;
			return OM_SNIFF_MORE;
		}
		if (c == ':' && r->hostlen > 0) {
			r->st = H_PORT;
			return OM_SNIFF_MORE;
		}
		if (r->cmd == 2 && (c == '/' || c == ' ' || c == '?') && r->hostlen > 0) {
			r->port = 80; /* http:// without a port */
			r->st = H_VERSION;
			r->left = 0;
			return OM_SNIFF_MORE;
		}
		if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || r->hostlen >= 255)
			return OM_SNIFF_NOT_PROXY;
		om_req_host_byte(r, c);
		return OM_SNIFF_MORE;
	case H_V6:
		if (c == ']' && r->hostlen > 0) {
			r->st = H_V6_END;
			return OM_SNIFF_MORE;
		}
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F') || c == ':' || c == '.') ||
		    r->hostlen >= 64)
			return OM_SNIFF_NOT_PROXY;
		om_req_host_byte(r, c);
		return OM_SNIFF_MORE;
	case H_V6_END:
		if (c == ':') {
			r->st = H_PORT;
			return OM_SNIFF_MORE;
		}
		if (r->cmd == 2 && (c == '/' || c == ' ' || c == '?')) {
			r->port = 80;
			r->st = H_VERSION;
			r->left = 0;
			return OM_SNIFF_MORE;
		}
		return OM_SNIFF_NOT_PROXY;
	case H_PORT:
		if ((c == ' ' || ((c == '/' || c == '?') && r->cmd == 2)) && r->left > 0) {
			r->st = H_VERSION;
			r->left = 0;
			return OM_SNIFF_MORE;
		}
		if (c < '0' || c > '9' || r->left >= 5 ||
		    (uint32_t)r->port * 10 + (c - '0') > 65535)
			return OM_SNIFF_NOT_PROXY;
		r->port = (uint16_t)(r->port * 10 + (c - '0'));
		r->left++;
		return OM_SNIFF_MORE;
	case H_VERSION: /* the rest of the request line */
		if (c == '\n') {
			r->atyp = 0;
			om_req_host_end(r);
			return OM_SNIFF_DONE;
		}
		if (++r->left > H_LINE_MAX)
			return OM_SNIFF_NOT_PROXY;
		return OM_SNIFF_MORE;
	}
	return OM_SNIFF_NOT_PROXY;
}

int om_http_rep_byte(struct om_rep *r, uint8_t c)
{
	switch (r->st) {
	case HR_PROTO:
		if (r->status >= 5 || c != (uint8_t)"HTTP/"[r->status])
			return OM_SNIFF_NOT_PROXY;
		if (++r->status == 5) {
			r->st = HR_VERSION;
			r->status = 0;
		}
		return OM_SNIFF_MORE;
	case HR_VERSION:
		if (c == ' ' && r->status > 0) {
			r->st = HR_STATUS;
			r->status = 0;
			r->method = 0; /* digits seen */
			return OM_SNIFF_MORE;
		}
		if (++r->status > 8)
			return OM_SNIFF_NOT_PROXY;
		return OM_SNIFF_MORE;
	case HR_STATUS:
		if (c < '0' || c > '9')
			return OM_SNIFF_NOT_PROXY;
		r->status = (uint16_t)(r->status * 10 + (c - '0'));
		if (++r->method == 3) {
			r->outcome = om_http_outcome(r->status, r->forward);
			return OM_SNIFF_DONE;
		}
		return OM_SNIFF_MORE;
	}
	return OM_SNIFF_NOT_PROXY;
}
