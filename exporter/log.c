#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/logfmt.h"

static int min_level = 1; /* debug 0, info 1, warn 2, error 3 */
static int json;

static int level_of(const char *l)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(l, names[i]))
			return i;
	return -1;
}

int om_xlog_config(const char *level, const char *format)
{
	if (level && (min_level = level_of(level)) < 0)
		return -1;
	if (format) {
		if (!strcmp(format, "json"))
			json = 1;
		else if (!strcmp(format, "logfmt"))
			json = 0;
		else
			return -1;
	}
	return 0;
}

/* A JSON string into [*n, cap): control bytes as \u00XX, and bytes that
 * are not UTF-8 text from us are passed through (names are operators'). */
static void jstr(char *buf, size_t cap, size_t *n, const char *s)
{
	if (*n + 1 < cap)
		buf[(*n)++] = '"';
	for (; s && *s && *n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[(*n)++] = '\\';
			buf[(*n)++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			*n += (size_t)snprintf(buf + *n, cap - *n, "\\u%04x", c);
		} else {
			buf[(*n)++] = (char)c;
		}
	}
	if (*n + 1 < cap)
		buf[(*n)++] = '"';
}

static size_t json_line(char *buf, size_t cap, const char *level, const char *msg, va_list ap)
{
	char ts[25];
	size_t n = 0;
	const char *k;

	om_utc(ts, om_clock_ns(CLOCK_REALTIME));
	n += (size_t)snprintf(buf, cap, "{\"ts\":\"%s\",\"level\":", ts);
	jstr(buf, cap - 2, &n, level);
	n += (size_t)snprintf(buf + n, cap - n, ",\"msg\":");
	jstr(buf, cap - 2, &n, msg);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		if (n + 2 < cap - 2)
			buf[n++] = ',';
		jstr(buf, cap - 2, &n, k);
		if (n + 1 < cap - 2)
			buf[n++] = ':';
		jstr(buf, cap - 2, &n, v ? v : "");
	}
	buf[n++] = '}';
	buf[n++] = '\n';
	return n;
}

void om_xlog(const char *level, const char *msg, ...)
{
	char buf[8192];
	struct om_logline l;
	const char *k;
	va_list ap;
	size_t n, off = 0;
	int lv = level_of(level);

	if (lv >= 0 && lv < min_level)
		return;
	va_start(ap, msg);
	if (json) {
		n = json_line(buf, sizeof buf, level, msg, ap);
	} else {
		om_logline_start(&l, buf, sizeof buf, "", om_clock_ns(CLOCK_REALTIME), level, msg);
		while ((k = va_arg(ap, const char *))) {
			const char *v = va_arg(ap, const char *);

			om_logline_kv(&l, k, v);
		}
		n = om_logline_end(&l);
	}
	va_end(ap);
	/* one write: the line stays whole next to a program writing the
	 * same stderr (onionmeter-run --exporter) */
	while (off < n) {
		ssize_t w = write(2, buf + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}
