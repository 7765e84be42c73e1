/* SOCKS4, SOCKS4a and SOCKS5 (RFC 1928, RFC 1929), one byte at a time.
 *
 * The request side sees what the program writes: the SOCKS5 greeting, an
 * optional username/password sub-negotiation (Tor uses it for stream
 * isolation), and the request.  The greeting and the sub-negotiation are
 * told apart by their version byte (5 vs 1), so the parser needs nothing
 * from the reply side even when the program pipelines everything. */
#include "proto/sniff.h"

#include "common/outcome.h"
#include "common/segment_layout.h"

enum {
	/* SOCKS5 request side; state 0 is "saw version byte" */
	S5_NMETHODS = 1, S5_METHODS, S5_NEXT, S5_AUTH_ULEN, S5_AUTH_USER,
	S5_AUTH_PLEN, S5_AUTH_PASS, S5_CMD, S5_RSV, S5_ATYP, S5_ADDR,
	S5_DLEN, S5_DNAME, S5_PORT,
	/* SOCKS4 request side */
	S4_CMD = 1, S4_PORT, S4_IP, S4_USER, S4_HOST,
};

static int req_done(struct om_req *r)
{
	if (r->atyp == 0)
		om_req_host_end(r);
	return OM_SNIFF_DONE;
}

static int socks5_req(struct om_req *r, uint8_t c)
{
	switch (r->st) {
	case 0: /* version byte already checked by the dispatcher */
		r->st = S5_NMETHODS;
		return OM_SNIFF_MORE;
	case S5_NMETHODS:
		if (c == 0)
			return OM_SNIFF_NOT_PROXY;
		r->left = c;
		r->st = S5_METHODS;
		return OM_SNIFF_MORE;
	case S5_METHODS:
		if (--r->left == 0)
			r->st = S5_NEXT;
		return OM_SNIFF_MORE;
	case S5_NEXT:
		if (c == 1)
			r->st = S5_AUTH_ULEN;
		else if (c == 5)
			r->st = S5_CMD;
		else
			return OM_SNIFF_NOT_PROXY;
		return OM_SNIFF_MORE;
	case S5_AUTH_ULEN:
	case S5_AUTH_PLEN:
		r->left = c;
		r->st = c ? r->st + 1 : (r->st == S5_AUTH_ULEN ? S5_AUTH_PLEN : S5_NEXT);
		return OM_SNIFF_MORE;
	case S5_AUTH_USER:
	case S5_AUTH_PASS:
		if (--r->left == 0)
			r->st = r->st == S5_AUTH_USER ? S5_AUTH_PLEN : S5_NEXT;
		return OM_SNIFF_MORE;
	case S5_CMD:
		/* CONNECT, BIND, UDP ASSOCIATE, Tor's RESOLVE and RESOLVE_PTR */
		if (!(c >= 1 && c <= 3) && c != 0xF0 && c != 0xF1)
			return OM_SNIFF_NOT_PROXY;
		r->cmd = c;
		r->st = S5_RSV;
		return OM_SNIFF_MORE;
	case S5_RSV:
		if (c != 0)
			return OM_SNIFF_NOT_PROXY;
		r->st = S5_ATYP;
		return OM_SNIFF_MORE;
	case S5_ATYP:
		if (c == 1 || c == 4) {
			r->atyp = c == 1 ? 4 : 6;
			r->left = c == 1 ? 4 : 16;
			r->st = S5_ADDR;
		} else if (c == 3) {
			r->atyp = 0;
			r->st = S5_DLEN;
		} else {
			return OM_SNIFF_NOT_PROXY;
		}
		return OM_SNIFF_MORE;
	case S5_ADDR:
		/* a state loaded from the hand-off table is checked here too */
		if (r->left == 0 || r->left > (r->atyp == 4 ? 4 : 16))
			return OM_SNIFF_NOT_PROXY;
		r->addr[(r->atyp == 4 ? 4 : 16) - r->left] = c;
		if (--r->left == 0) {
			r->st = S5_PORT;
			r->left = 2;
		}
		return OM_SNIFF_MORE;
	case S5_DLEN:
		if (c == 0)
			return OM_SNIFF_NOT_PROXY;
		r->left = c;
		r->st = S5_DNAME;
		return OM_SNIFF_MORE;
	case S5_DNAME:
		om_req_host_byte(r, c);
		if (--r->left == 0) {
			r->st = S5_PORT;
			r->left = 2;
		}
		return OM_SNIFF_MORE;
	case S5_PORT:
		r->port = (uint16_t)(r->port << 8 | c);
		return --r->left == 0 ? req_done(r) : OM_SNIFF_MORE;
	}
	return OM_SNIFF_NOT_PROXY;
}

static int socks4_req(struct om_req *r, uint8_t c)
{
	switch (r->st) {
	case 0:
		r->st = S4_CMD;
		return OM_SNIFF_MORE;
	case S4_CMD:
		if (c != 1 && c != 2)
			return OM_SNIFF_NOT_PROXY;
		r->cmd = c;
		r->st = S4_PORT;
		r->left = 2;
		return OM_SNIFF_MORE;
	case S4_PORT:
		r->port = (uint16_t)(r->port << 8 | c);
		if (--r->left == 0) {
			r->st = S4_IP;
			r->left = 4;
		}
		return OM_SNIFF_MORE;
	case S4_IP:
		if (r->left == 0 || r->left > 4)
			return OM_SNIFF_NOT_PROXY;
		r->addr[4 - r->left] = c;
		if (--r->left == 0) {
			r->atyp = 4;
			r->st = S4_USER;
		}
		return OM_SNIFF_MORE;
	case S4_USER:
		if (c != 0) {
			/* user ids are short; a long run is not SOCKS4 */
			return ++r->left > 255 ? OM_SNIFF_NOT_PROXY : OM_SNIFF_MORE;
		}
		/* SOCKS4a: address 0.0.0.x, x != 0, means "host name follows" */
		if (r->addr[0] == 0 && r->addr[1] == 0 && r->addr[2] == 0 &&
		    r->addr[3] != 0) {
			r->atyp = 0;
			r->st = S4_HOST;
			return OM_SNIFF_MORE;
		}
		return req_done(r);
	case S4_HOST:
		if (c == 0)
			return r->hostlen ? req_done(r) : OM_SNIFF_NOT_PROXY;
		if (r->hostlen >= 255)
			return OM_SNIFF_NOT_PROXY;
		om_req_host_byte(r, c);
		return OM_SNIFF_MORE;
	}
	return OM_SNIFF_NOT_PROXY;
}

int om_socks_req_byte(struct om_req *r, uint8_t c)
{
	return r->proto == OM_PROTO_SOCKS5 ? socks5_req(r, c) : socks4_req(r, c);
}

/* Reply side. */
enum {
	R5_VER = 0, R5_METHOD, R5_AUTH_VER, R5_AUTH_STATUS, R5_REP_VER, R5_REP,
	R4_VN = 0, R4_CD,
};

static int rep_outcome(struct om_rep *r, uint8_t outcome)
{
	r->outcome = outcome;
	return OM_SNIFF_DONE;
}

static int socks5_rep(struct om_rep *r, uint8_t c)
{
	switch (r->st) {
	case R5_VER:
		if (c != 5)
			return OM_SNIFF_NOT_PROXY;
		r->st = R5_METHOD;
		return OM_SNIFF_MORE;
	case R5_METHOD:
		r->method = c;
		if (c == 0x00)
			r->st = R5_REP_VER;
		else if (c == 0x02)
			r->st = R5_AUTH_VER;
		else if (c == 0xFF) /* no acceptable method: turned away */
			return rep_outcome(r, OM_OUT_DENIED);
		else /* GSSAPI & co: cannot follow the exchange */
			return rep_outcome(r, OM_OUT_PROXY_ERROR);
		return OM_SNIFF_MORE;
	case R5_AUTH_VER:
		if (c != 1)
			return OM_SNIFF_NOT_PROXY;
		r->st = R5_AUTH_STATUS;
		return OM_SNIFF_MORE;
	case R5_AUTH_STATUS:
		if (c != 0)
			return rep_outcome(r, OM_OUT_DENIED);
		r->st = R5_REP_VER;
		return OM_SNIFF_MORE;
	case R5_REP_VER:
		if (c != 5)
			return OM_SNIFF_NOT_PROXY;
		r->st = R5_REP;
		return OM_SNIFF_MORE;
	case R5_REP:
		return rep_outcome(r, om_socks5_outcome(c));
	}
	return OM_SNIFF_NOT_PROXY;
}

static int socks4_rep(struct om_rep *r, uint8_t c)
{
	int o;

	if (r->st == R4_VN) {
		if (c != 0 && c != 4) /* 0 per spec; some servers echo 4 */
			return OM_SNIFF_NOT_PROXY;
		r->st = R4_CD;
		return OM_SNIFF_MORE;
	}
	o = om_socks4_outcome(c);
	return o < 0 ? OM_SNIFF_NOT_PROXY : rep_outcome(r, (uint8_t)o);
}

int om_socks_rep_byte(struct om_rep *r, uint8_t c)
{
	return r->proto == OM_PROTO_SOCKS5 ? socks5_rep(r, c) : socks4_rep(r, c);
}
