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

long om_http_parse(const char *buf, size_t len, struct om_http_req *req)
{
	const char *end = find_end(buf, len), *p = buf, *sp, *eol;
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
			req->openmetrics |= has_token(v, ve, "application/openmetrics-text");
		} else if (IS("Connection")) {
			close_hdr |= has_token(v, ve, "close");
			keep_hdr |= has_token(v, ve, "keep-alive");
		} else if (IS("Content-Length")) {
			if (ve - v != 1 || *v != '0')
				req->has_body = 1;
		} else if (IS("Transfer-Encoding")) {
			req->has_body = 1;
		}
#undef IS
		p = eol + 2;
	}
	req->keep_alive = req->minor >= 1 ? !close_hdr : keep_hdr;
	return (long)(end - buf);
}
