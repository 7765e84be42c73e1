#include "common/torctl_parse.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int om_tc_lines_feed(struct om_tc_lines *l, const char *data, size_t n, om_tc_line_fn fn,
		     void *arg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = data[i];

		if (c == '\n') {
			size_t len = l->n;

			if (len && l->buf[len - 1] == '\r')
				len--;
			l->n = 0;
			fn(l->buf, len, arg);
			continue;
		}
		if (l->n == sizeof l->buf)
			return -1;
		l->buf[l->n++] = c;
	}
	return 0;
}

int om_tc_line(const char *s, size_t n, struct om_tc_line *out)
{
	if (n < 4 || s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
	    s[2] > '9' || (s[3] != ' ' && s[3] != '-' && s[3] != '+'))
		return -1;
	out->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	out->sep = s[3];
	out->text = s + 4;
	out->len = n - 4;
	return 0;
}

/* Unquote a QuotedString/CString starting at p (after the opening quote)
 * into out; returns the position after the closing quote (or end). */
static const char *unquote(const char *p, const char *end, char *out, size_t cap, size_t *len)
{
	size_t n = 0;

	while (p < end && *p != '"') {
		char c = *p++;

		if (c == '\\' && p < end) {
			c = *p++;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'r')
				c = '\r';
			else if (c >= '0' && c <= '7') {
				int v = c - '0', k;

				for (k = 0; k < 2 && p < end && *p >= '0' && *p <= '7'; k++)
					v = v * 8 + (*p++ - '0');
				c = (char)v;
			}
		}
		if (n + 1 < cap)
			out[n++] = c;
	}
	out[n] = '\0';
	*len = n;
	return p < end ? p + 1 : p;
}

int om_tc_value(const char *text, size_t len, const char *key, char *out, size_t cap)
{
	const char *p = text, *end = text + len;
	size_t k = strlen(key), n = 0;

	out[0] = '\0';
	while (p < end) {
		/* at the start of a word: KEY= ? */
		if ((size_t)(end - p) > k && !memcmp(p, key, k) && p[k] == '=') {
			p += k + 1;
			if (p < end && *p == '"') {
				unquote(p + 1, end, out, cap, &n);
			} else {
				while (p < end && *p != ' ' && n + 1 < cap)
					out[n++] = *p++;
				out[n] = '\0';
			}
			return (int)n;
		}
		/* to the next word, over a quoted value */
		while (p < end && *p != ' ') {
			if (*p++ == '"') {
				while (p < end && *p != '"')
					p += *p == '\\' && p + 1 < end ? 2 : 1;
				if (p < end)
					p++;
			}
		}
		while (p < end && *p == ' ')
			p++;
	}
	return -1;
}

/* The next space-separated word of [*p, end). */
static int word(const char **p, const char *end, const char **w, size_t *wn)
{
	while (*p < end && **p == ' ')
		(*p)++;
	*w = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	*wn = (size_t)(*p - *w);
	return *wn ? 0 : -1;
}

static int is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(w, s, n);
}

static int number(const char *w, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!n || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(w[i] - '0');
	}
	*v = x;
	return 0;
}

int om_host_is_onion(const char *host, size_t n)
{
	if (n && host[n - 1] == '.')
		n--;
	return n > 6 && !strncasecmp(host + n - 6, ".onion", 6);
}

static const char *const statuses[] = { "NEW", "NEWRESOLVE", "REMAP", "SENTCONNECT",
					"SENTRESOLVE", "SUCCEEDED", "FAILED", "CLOSED",
					"DETACHED" };

/* HOST:PORT, [V6]:PORT or (Tor_internal) into s. */
static void target(const char *w, size_t n, struct om_tc_stream *s)
{
	const char *colon = 0, *h = w;
	size_t hn, i;
	uint64_t port = 0;

	for (i = n; i-- > 0;)
		if (w[i] == ':') {
			colon = w + i;
			break;
		}
	hn = colon ? (size_t)(colon - w) : n;
	if (colon && number(colon + 1, n - hn - 1, &port) == 0 && port <= 65535)
		s->port = (uint16_t)port;
	if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']')
		h++, hn -= 2;
	if (hn >= sizeof s->host)
		hn = sizeof s->host - 1;
	for (i = 0; i < hn; i++)
		s->host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
	s->host[hn] = '\0';
	s->onion = om_host_is_onion(s->host, hn);
}

/* SOURCE_ADDR=ADDR:PORT (inet) or /path:0 (a Unix-domain port). */
static void source(const char *v, struct om_tc_stream *s)
{
	char a[80];
	const char *colon = strrchr(v, ':');
	size_t n;
	uint64_t port;

	if (v[0] == '/') {
		s->src = OM_TC_SRC_UNIX;
		return;
	}
	if (!colon || number(colon + 1, strlen(colon + 1), &port) < 0 || port > 65535)
		return;
	n = (size_t)(colon - v);
	if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
		v++, n -= 2;
	if (n >= sizeof a)
		return;
	memcpy(a, v, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, s->src_addr) == 1)
		s->src_family = 4;
	else if (inet_pton(AF_INET6, a, s->src_addr) == 1)
		s->src_family = 6;
	else
		return;
	s->src = OM_TC_SRC_INET;
	s->src_port = (uint16_t)port;
}

int om_tc_stream(const char *text, size_t len, struct om_tc_stream *s)
{
	const char *p = text, *end = text + len, *w;
	char v[300];
	size_t wn, i;

	memset(s, 0, sizeof *s);
	s->proto = OM_TC_PROTO_OTHER;
	if (word(&p, end, &w, &wn) < 0 || !is(w, wn, "STREAM") || word(&p, end, &w, &wn) < 0 ||
	    number(w, wn, &s->id) < 0 || word(&p, end, &w, &wn) < 0)
		return -1;
	s->status = OM_TC_OTHER;
	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (is(w, wn, statuses[i]))
			s->status = (int)i;
	if (word(&p, end, &w, &wn) < 0 || number(w, wn, &s->circ) < 0 ||
	    word(&p, end, &w, &wn) < 0)
		return -1;
	target(w, wn, s);
	if (om_tc_value(p, (size_t)(end - p), "SOURCE_ADDR", v, sizeof v) > 0)
		source(v, s);
	if (om_tc_value(p, (size_t)(end - p), "PURPOSE", v, sizeof v) >= 0)
		s->user = !strcmp(v, "USER");
	if (om_tc_value(p, (size_t)(end - p), "CLIENT_PROTOCOL", v, sizeof v) >= 0)
		s->proto = !strcmp(v, "SOCKS5") ? OM_TC_SOCKS5 : !strcmp(v, "SOCKS4") ? OM_TC_SOCKS4
			 : !strcmp(v, "HTTPCONNECT") ? OM_TC_HTTPCONNECT : OM_TC_PROTO_OTHER;
	om_tc_value(p, (size_t)(end - p), "REASON", s->reason, sizeof s->reason);
	om_tc_value(p, (size_t)(end - p), "REMOTE_REASON", s->remote_reason,
		    sizeof s->remote_reason);
	return 0;
}

/* "2026-12-05T07:36:25.813736" as UTC microseconds, or -1. */
static int64_t iso_us(const char *v)
{
	struct tm tm;
	const char *frac;
	int64_t us = 0, scale = 100000;

	memset(&tm, 0, sizeof tm);
	frac = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!frac)
		return -1;
	if (*frac == '.')
		for (frac++; *frac >= '0' && *frac <= '9' && scale; frac++, scale /= 10)
			us += (*frac - '0') * scale;
	return (int64_t)timegm(&tm) * 1000000 + us;
}

int om_tc_circ(const char *text, size_t len, struct om_tc_circ *c)
{
	const char *p = text, *end = text + len, *w;
	char v[64];
	size_t wn;

	memset(c, 0, sizeof *c);
	c->created_us = -1;
	if (word(&p, end, &w, &wn) < 0 || !is(w, wn, "CIRC") || word(&p, end, &w, &wn) < 0 ||
	    number(w, wn, &c->id) < 0 || word(&p, end, &w, &wn) < 0)
		return -1;
	c->built = is(w, wn, "BUILT");
	c->failed = is(w, wn, "FAILED");
	c->launched = is(w, wn, "LAUNCHED");
	if (om_tc_value(p, (size_t)(end - p), "PURPOSE", v, sizeof v) >= 0)
		c->general = !strcmp(v, "GENERAL") || !strncmp(v, "HS_CLIENT_", 10) ||
			     !strncmp(v, "CONFLUX", 7);
	if (om_tc_value(p, (size_t)(end - p), "TIME_CREATED", v, sizeof v) > 0)
		c->created_us = iso_us(v);
	return 0;
}

int om_tc_bootstrap(const char *text, size_t len)
{
	char v[8];
	uint64_t n;

	if (len < 14 || memcmp(text, "STATUS_CLIENT ", 14) ||
	    om_tc_value(text, len, "PROGRESS", v, sizeof v) <= 0 ||
	    number(v, strlen(v), &n) < 0 || n > 100)
		return -1;
	return (int)n;
}

int om_tc_liveness(const char *text, size_t len)
{
	if (len >= 19 && !memcmp(text, "NETWORK_LIVENESS ", 17))
		return is(text + 17, len - 17, "UP") ? 1 : is(text + 17, len - 17, "DOWN") ? 0 : -1;
	return -1;
}

int om_tc_hs_desc(const char *text, size_t len, char *action, size_t acap, char *addr,
		  size_t cap)
{
	const char *p = text, *end = text + len, *w;
	size_t wn;

	if (word(&p, end, &w, &wn) < 0 || !is(w, wn, "HS_DESC") || word(&p, end, &w, &wn) < 0 ||
	    wn >= acap)
		return -1;
	memcpy(action, w, wn);
	action[wn] = '\0';
	if (word(&p, end, &w, &wn) < 0 || wn >= cap)
		return -1;
	memcpy(addr, w, wn);
	addr[wn] = '\0';
	return 0;
}

int om_tc_stream_bw(const char *text, size_t len, uint64_t *id, uint64_t *written,
		    uint64_t *read)
{
	const char *p = text, *end = text + len, *w;
	size_t wn;

	return word(&p, end, &w, &wn) < 0 || !is(w, wn, "STREAM_BW") ||
	       word(&p, end, &w, &wn) < 0 || number(w, wn, id) < 0 ||
	       word(&p, end, &w, &wn) < 0 || number(w, wn, written) < 0 ||
	       word(&p, end, &w, &wn) < 0 || number(w, wn, read) < 0 ? -1 : 0;
}
