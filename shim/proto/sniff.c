/* Dispatch sniffed bytes to the protocol parsers; host-name bookkeeping. */
#include "proto/sniff.h"

#include "common/segment_layout.h"

void om_req_host_byte(struct om_req *r, uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		c = (uint8_t)(c - 'A' + 'a');
	if (r->hlen < OM_HOST_HEAD)
		r->head[r->hlen++] = (char)c;
	r->tail[r->hostlen & 7] = (char)c;
	if (r->hostlen < UINT16_MAX)
		r->hostlen++;
}

void om_req_host_end(struct om_req *r)
{
	static const char suffix[] = ".onion";
	unsigned n = r->hostlen, k;

	r->head[r->hlen] = '\0';
	if (n > 0 && r->tail[(n - 1) & 7] == '.')
		n--; /* fully qualified "x.onion." */
	if (n < sizeof suffix) /* need at least one label before .onion */
		return;
	for (k = 0; k < sizeof suffix - 1; k++)
		if (r->tail[(n - 6 + k) & 7] != suffix[k])
			return;
	r->onion = 1;
}

int om_req_feed(struct om_req *r, const uint8_t *b, size_t n, size_t *used)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int rc;

		if (r->proto == OM_PROTO_NONE) {
			if (b[i] == 5)
				r->proto = OM_PROTO_SOCKS5;
			else if (b[i] == 4)
				r->proto = OM_PROTO_SOCKS4;
			else if (b[i] >= 'A' && b[i] <= 'Z') /* an HTTP method */
				r->proto = OM_PROTO_HTTP;
			else {
				*used = i + 1;
				return OM_SNIFF_NOT_PROXY;
			}
		}
		rc = r->proto == OM_PROTO_HTTP ? om_http_req_byte(r, b[i])
					       : om_socks_req_byte(r, b[i]);
		if (rc != OM_SNIFF_MORE) {
			*used = i + 1;
			return rc;
		}
	}
	*used = n;
	return OM_SNIFF_MORE;
}

int om_rep_feed(struct om_rep *r, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int rc = r->proto == OM_PROTO_HTTP ? om_http_rep_byte(r, b[i])
						   : om_socks_rep_byte(r, b[i]);
		if (rc == OM_SNIFF_DONE)
			return rc;
		if (rc == OM_SNIFF_NOT_PROXY) {
			r->outcome = OM_OUT_PROXY_ERROR;
			return OM_SNIFF_DONE;
		}
	}
	return OM_SNIFF_MORE;
}

int om_sniff_state_check(struct om_req *req, struct om_rep *rep)
{
	if (req->proto > OM_PROTO_HTTP || rep->proto > OM_PROTO_HTTP ||
	    rep->outcome >= OM_NOUTCOME || req->hlen > OM_HOST_HEAD)
		return -1;
	req->onion = req->onion != 0;
	req->head[OM_HOST_HEAD] = '\0';
	return 0;
}
