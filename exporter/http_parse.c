#include "http_parse.h"

#include <string.h>
#include <strings.h>

static const char *find_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n')
			return buf + i + 4;
	return 0;
}

static int tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the header value [v, e) contain token tok, case-insensitively? */
static int has_token(const char *v, const char *e, const char *tok)
{
	size_t n = strlen(tok);

	for (; v + n <= e; v++)
		if (!strncasecmp(v, tok, n))
			return 1;
	return 0;
}

/* One Accept field's media ranges (RFC 9110 12.5.1), each with its q in
 * thousandths: the best q for OpenMetrics and for plain text (text/plain
 * and the wildcards that cover it), and where each best was first seen. */
struct accept_best {
	int om_q, text_q, om_pos, text_pos, pos;
};

static int qvalue(const char *v, const char *e)
{
	int q = 0, scale = 1000;

	if (v < e && *v == '1')
		return 1000;
	if (v >= e || *v != '0')
		return -1;
	if (++v < e && *v == '.')
		for (v++; v < e && *v >= '0' && *v <= '9' && scale > 1; v++)
			q += (*v - '0') * (scale /= 10);
	return q;
}

static void accept_ranges(const char *v, const char *e, struct accept_best *b)
{
	while (v < e) {
		const char *comma = memchr(v, ',', (size_t)(e - v)), *semi, *t, *te;
		int q = 1000, om, text;

		if (!comma)
			comma = e;
		semi = memchr(v, ';', (size_t)(comma - v));
		if (!semi)
			semi = comma;
		for (t = v; t < semi && (*t == ' ' || *t == '\t'); t++)
			;
		for (te = semi; te > t && (te[-1] == ' ' || te[-1] == '\t'); te--)
			;
		/* parameters: only q matters */
		for (const char *p = semi; p < comma; p++) {
			if (*p != ';')
				continue;
			while (++p < comma && (*p == ' ' || *p == '\t'))
				;
			if (comma - p > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
				q = qvalue(p + 2, comma);
		}
#define TYPE(s) ((size_t)(te - t) == sizeof s - 1 && !strncasecmp(t, s, sizeof s - 1))
		om = TYPE("application/openmetrics-text");
		text = TYPE("text/plain") || TYPE("text/*") || TYPE("*/*");
#undef TYPE
		if (q >= 0 && om && q > b->om_q) {
			b->om_q = q;
			b->om_pos = b->pos;
		}
		if (q >= 0 && text && q > b->text_q) {
			b->text_q = q;
			b->text_pos = b->pos;
		}
		b->pos++;
		v = comma + 1;
	}
}

long om_http_parse(const char *buf, size_t len, struct om_http_req *req)
{
	const char *end = find_end(buf, len), *p = buf, *sp, *eol;
	struct accept_best acc = { -1, -1, 0, 0, 0 };
	int close_hdr = 0, keep_hdr = 0;

	memset(req, 0, sizeof *req);
	if (!end)
		return 0;
	/* request line: METHOD SP target SP HTTP/1.x CRLF */
	for (sp = p; sp < end && tchar(*sp); sp++)
		;
	if (sp == p || sp >= end || *sp != ' ')
		return -1;
	if (sp - p == 3 && !memcmp(p, "GET", 3))
		req->method = OM_M_GET;
	else if (sp - p == 4 && !memcmp(p, "HEAD", 4))
		req->method = OM_M_HEAD;
	p = sp + 1;
	for (sp = p; sp < end && *sp > ' ' && *sp < 0x7f; sp++)
		;
	if (sp == p || *sp != ' ' || *p != '/')
		return -1;
	req->path = p;
	req->path_len = (size_t)(sp - p);
	p = sp + 1;
	if (end - p < 10 || memcmp(p, "HTTP/1.", 7) || p[7] < '0' || p[7] > '9' ||
	    p[8] != '\r' || p[9] != '\n')
		return -1;
	req->minor = p[7] - '0';
	p += 10;
	/* header fields */
	while (p < end - 2) {
		const char *colon, *v, *ve;

		eol = memchr(p, '\r', (size_t)(end - p));
		if (!eol || eol[1] != '\n')
			return -1;
		for (colon = p; colon < eol && tchar(*colon); colon++)
			;
		if (colon == p || colon >= eol || *colon != ':')
			return -1;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
#define IS(name) ((size_t)(colon - p) == sizeof name - 1 && !strncasecmp(p, name, sizeof name - 1))
		if (IS("Accept")) {
			accept_ranges(v, ve, &acc);
		} else if (IS("Connection")) {
			close_hdr |= has_token(v, ve, "close");
			keep_hdr |= has_token(v, ve, "keep-alive");
		} else if (IS("Content-Length")) {
			if (ve - v != 1 || *v != '0')
				req->has_body = 1;
		} else if (IS("Transfer-Encoding")) {
			req->has_body = 1;
		} else if (IS("Authorization")) {
			req->auth = v;
			req->auth_len = (size_t)(ve - v);
		}
#undef IS
		p = eol + 2;
	}
	req->keep_alive = req->minor >= 1 ? !close_hdr : keep_hdr;
	/* OpenMetrics when it is acceptable and preferred: a higher q than
	 * plain text, or the same q and listed first */
	req->openmetrics = acc.om_q > 0 && (acc.om_q > acc.text_q ||
					    (acc.om_q == acc.text_q && acc.om_pos < acc.text_pos));
	return (long)(end - buf);
}
