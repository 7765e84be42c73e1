#include "tv_tor.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/outcome.h"

/* --- where tors listen (GETINFO net/listeners/socks and httptunnel) --- */

int om_tv_listening(const struct om_tview *v, int family, const uint8_t *addr, uint16_t port)
{
	int i;

	for (i = 0; i < v->nlisteners; i++)
		if (v->listeners[i].family == family && v->listeners[i].port == port &&
		    !memcmp(v->listeners[i].addr, addr, family == AF_INET ? 4 : 16))
			return 1;
	return 0;
}

void om_tview_listeners(struct om_tview *v, int tor, const char *list, int http)
{
	const char *p = list;

	/* "127.0.0.1:9050" "[::1]:9050" "unix:/run/tor/socks" */
	while (*p && v->nlisteners < OM_TV_LISTENERS) {
		struct om_tv_listener *ls = &v->listeners[v->nlisteners];
		const char *q = strchr(p, '"'), *end;
		char a[80], *colon, *stop;
		unsigned long port;
		size_t n;

		if (!q || !(end = strchr(q + 1, '"')))
			break;
		p = end + 1;
		n = (size_t)(end - q - 1);
		if (n >= sizeof a || !n)
			continue;
		memcpy(a, q + 1, n);
		a[n] = '\0';
		if (!strncmp(a, "unix:", 5) || !(colon = strrchr(a, ':')))
			continue;
		port = strtoul(colon + 1, &stop, 10);
		if (*stop || colon[1] < '0' || colon[1] > '9' || !port || port > 65535)
			continue;
		*colon = '\0';
		memset(ls, 0, sizeof *ls);
		if (a[0] == '[' && colon > a + 1 && colon[-1] == ']') {
			colon[-1] = '\0';
			if (inet_pton(AF_INET6, a + 1, ls->addr) != 1)
				continue;
			ls->family = AF_INET6;
		} else if (inet_pton(AF_INET, a, ls->addr) == 1) {
			ls->family = AF_INET;
		} else {
			continue;
		}
		ls->tor = tor;
		ls->port = (uint16_t)port;
		ls->http = http;
		if (!om_tv_listening(v, ls->family, ls->addr, ls->port))
			v->nlisteners++;
	}
}

/* --- what tors learnt of onion services' descriptors (HS_DESC) --- */

void om_tview_hs_desc(struct om_tview *v, const char *action, const char *address,
		      const char *why)
{
	char st = !strcmp(action, "RECEIVED") ? 'R'
		: !strcmp(action, "FAILED") && !strcmp(why, "NOT_FOUND") ? 'N' : 0;
	unsigned i;

	if (!st || strlen(address) + 1 >= sizeof v->onions[0])
		return;
	for (i = 0; i < OM_TV_ONIONS; i++)
		if (v->onions[i][0] && !strcmp(v->onions[i] + 1, address)) {
			v->onions[i][0] = st;
			return;
		}
	i = v->onion_next++ % OM_TV_ONIONS;
	v->onions[i][0] = st;
	strcpy(v->onions[i] + 1, address);
}

/* tor's end reasons (control-spec 4.1.2): the SOCKS5 reply
 * (stream_end_reason_to_socks5_response) and the HTTP CONNECT status
 * (connection_ap_handshake_socks_reply) tor sends for each */
static const struct reason {
	const char *name;
	uint8_t socks5;
	uint16_t http;
} reasons[] = {
	{ "MISC", 0x01, 500 },            { "RESOLVEFAILED", 0x04, 404 },
	{ "CONNECTREFUSED", 0x05, 403 },  { "EXITPOLICY", 0x02, 403 },
	{ "DESTROY", 0x01, 502 },         { "DONE", 0x05, 502 },
	{ "TIMEOUT", 0x06, 504 },         { "NOROUTE", 0x04, 404 },
	{ "HIBERNATING", 0x01, 502 },     { "INTERNAL", 0x01, 502 },
	{ "RESOURCELIMIT", 0x01, 502 },   { "CONNRESET", 0x05, 403 },
	{ "TORPROTOCOL", 0x01, 502 },     { "ENTRYPOLICY", 0x02, 403 },
	{ "NOTDIRECTORY", 0x01, 500 },
};

static const struct reason *reason(const char *name)
{
	unsigned i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (!strcmp(reasons[i].name, name))
			return &reasons[i];
	return &reasons[0]; /* anything else: tor's general failure */
}

/* What tor last learnt of an onion service's descriptor: 'R' received,
 * 'N' not found on a directory, 0 nothing. */
static char onion_state(const struct om_tview *v, const char *addr)
{
	unsigned i;

	for (i = 0; i < OM_TV_ONIONS; i++)
		if (v->onions[i][0] && !strcmp(v->onions[i] + 1, addr))
			return v->onions[i][0];
	return 0;
}

uint8_t om_tv_outcome(const struct om_tview *v, uint8_t proto, uint8_t cls, const char *onion,
		      const struct om_tc_stream *e)
{
	/* "END": the far side ended the stream, and said why */
	const struct reason *r = reason(!strcmp(e->reason, "END") && e->remote_reason[0]
					? e->remote_reason : e->reason);
	char st;

	if (proto == OM_TC_SOCKS4)
		return (uint8_t)om_socks4_outcome(0x5B); /* whatever the reason */
	if (proto == OM_TC_HTTPCONNECT)
		return om_http_outcome(r->http, 0);
	/* an onion's extended error, as tor sets it (ExtendedErrors) */
	if (cls == OM_CLASS_ONION) {
		if (!strcmp(r->name, "TORPROTOCOL") && !e->circ)
			return OM_OUT_ONION_BAD_ADDRESS; /* refused before a circuit */
		if (!strcmp(r->name, "RESOLVEFAILED")) {
			st = onion_state(v, onion);
			if (st == 'R') /* introduction failed */
				return OM_OUT_ONION_INTRO_FAILED;
			if (st == 'N')
				return OM_OUT_ONION_NOT_FOUND;
		}
	}
	return om_socks5_outcome(r->socks5);
}
