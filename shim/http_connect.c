/* HTTP CONNECT (RFC 9110 §9.3.6), as spoken to Tor's HTTPTunnelPort and to
 * ordinary HTTP proxies: "CONNECT host:port HTTP/1.1\r\n".  The request is
 * complete at the end of its request line; header lines that follow are
 * ordinary payload.  The reply's outcome is its status code. */
#include "sniff.h"

#include "segment_layout.h"

enum {
	H_METHOD = 0, H_HOST, H_V6, H_V6_END, H_PORT, H_VERSION,
	HR_PROTO = 0, HR_VERSION, HR_STATUS,
};

#define H_LINE_MAX 1024 /* longest request line we keep following */

int om_http_req_byte(struct om_req *r, uint8_t c)
{
	static const char method[] = "CONNECT ";

	switch (r->st) {
	case H_METHOD:
		if (c != (uint8_t)method[r->left])
			return OM_SNIFF_NOT_PROXY;
		if (++r->left == sizeof method - 1) {
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
		if (c <= ' ' || c >= 0x7f || r->hostlen >= 255)
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
		if (c != ':')
			return OM_SNIFF_NOT_PROXY;
		r->st = H_PORT;
		return OM_SNIFF_MORE;
	case H_PORT:
		if (c == ' ' && r->left > 0) {
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
	case H_VERSION:
		if (r->left < 5 && c != (uint8_t)"HTTP/"[r->left])
			return OM_SNIFF_NOT_PROXY;
		if (c == '\n') {
			r->cmd = 1;
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

static uint8_t http_outcome(unsigned status)
{
	if (status >= 200 && status < 300)
		return OM_OUT_SUCCESS;
	switch (status) {
	case 401:
	case 403:
	case 407: return OM_OUT_DENIED;
	case 502:
	case 503: return OM_OUT_UNREACHABLE;
	case 504: return OM_OUT_TIMEOUT;
	}
	return OM_OUT_PROXY_ERROR;
}

int om_http_rep_byte(struct om_rep *r, uint8_t c)
{
	switch (r->st) {
	case HR_PROTO:
		if (c != (uint8_t)"HTTP/"[r->status])
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
			r->outcome = http_outcome(r->status);
			return OM_SNIFF_DONE;
		}
		return OM_SNIFF_MORE;
	}
	return OM_SNIFF_NOT_PROXY;
}
