/* Proxy-protocol sniffing: recognise the request a program writes to a proxy
 * (SOCKS4, SOCKS4a, SOCKS5, HTTP CONNECT and forward requests) and the reply
 * it reads back.
 *
 * Both parsers are incremental state machines fed the bytes exactly as the
 * program moved them, in any split.  They keep a few dozen bytes of state
 * and never buffer a message, so a hostile peer cannot make them read out of
 * bounds or grow.  Parsers live in socks.c and http_proxy.c. */
#ifndef OM_SNIFF_H
#define OM_SNIFF_H

#include <stddef.h>
#include <stdint.h>

enum om_proto { OM_PROTO_NONE, OM_PROTO_SOCKS4, OM_PROTO_SOCKS5, OM_PROTO_HTTP };

enum om_sniff_rc {
	OM_SNIFF_MORE,      /* need more bytes */
	OM_SNIFF_DONE,      /* request complete (req) / outcome known (rep) */
	OM_SNIFF_NOT_PROXY, /* these bytes are not a proxy request */
};

#define OM_HOST_HEAD 63 /* a v3 onion name is 62 characters */

struct om_req {
	uint8_t proto; /* enum om_proto, set by the first byte */
	uint8_t st;    /* parser state, protocol specific */
	uint16_t left; /* bytes left in the current field */
	uint8_t cmd;
	uint8_t atyp;  /* 0 host name, 4 IPv4, 6 IPv6 */
	uint8_t onion; /* result: the target host is *.onion */
	uint8_t hlen;  /* bytes of host name kept in head[] */
	uint16_t hostlen; /* full host name length seen */
	uint16_t port;
	uint8_t addr[16];   /* IPv4/IPv6 target */
	char tail[8];       /* last 8 host chars, lower case, ring by hostlen */
	char head[OM_HOST_HEAD + 1]; /* first host chars, for leak events */
};

struct om_rep {
	uint8_t proto;
	uint8_t st;
	uint8_t method; /* SOCKS5 method chosen by the proxy */
	uint8_t outcome;
	uint16_t status; /* HTTP status code being read */
	uint8_t forward; /* HTTP: the request was a forward request, not CONNECT */
	uint8_t pad;
};

/* Feed bytes the program wrote.  *used is how many bytes of b were looked
 * at: on DONE, the rest is payload. */
int om_req_feed(struct om_req *r, const uint8_t *b, size_t n, size_t *used);
/* Feed bytes the program read.  On DONE, r->outcome is an enum om_outcome. */
int om_rep_feed(struct om_rep *r, const uint8_t *b, size_t n);

/* A parser state written by another process (the hand-off table): 0 if
 * the parsers can run from it, lengths clamped; -1 if it is none of
 * theirs.  Every index the parsers use is bounds-checked from any state. */
int om_sniff_state_check(struct om_req *req, struct om_rep *rep);

/* Internal: one protocol each. */
int om_socks_req_byte(struct om_req *r, uint8_t c);
int om_socks_rep_byte(struct om_rep *r, uint8_t c);
int om_http_req_byte(struct om_req *r, uint8_t c);
int om_http_rep_byte(struct om_rep *r, uint8_t c);

/* Shared by both request parsers: account one host-name byte. */
void om_req_host_byte(struct om_req *r, uint8_t c);
/* Decide r->onion once the host name is complete. */
void om_req_host_end(struct om_req *r);

#endif
