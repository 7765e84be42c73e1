#include "common/logfmt.h"

#include "common/str.h"

/* Days to a civil date, as in Howard Hinnant's chrono algorithms. */
void om_utc(char out[25], uint64_t now_ns)
{
	long long t = (long long)(now_ns / 1000000000u), days = t / 86400, secs = t % 86400;
	long long z, era, doe, yoe, y, doy, mp;
	unsigned v[7], i;

	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	v[2] = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	v[1] = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	v[0] = (unsigned)(y + (v[1] <= 2));
	v[3] = (unsigned)(secs / 3600);
	v[4] = (unsigned)(secs / 60 % 60);
	v[5] = (unsigned)(secs % 60);
	v[6] = (unsigned)(now_ns / 1000000u % 1000);
	for (i = 0; i < 7; i++) {
		/* field i: its width and where it starts in "YYYY-MM-DDTHH:MM:SS.mmm" */
		static const unsigned char width[] = { 4, 2, 2, 2, 2, 2, 3 };
		static const unsigned char at[] = { 0, 5, 8, 11, 14, 17, 20 };
		unsigned x = v[i], k;

		for (k = width[i]; k-- > 0; x /= 10)
			out[at[i] + k] = (char)('0' + x % 10);
		if (i < 6)
			out[at[i] + width[i]] = "--T::."[i];
	}
	out[23] = 'Z';
	out[24] = '\0';
}

static void put(struct om_logline *l, char c)
{
	if (l->n < l->cap - 1) /* room for the newline, always */
		l->buf[l->n++] = c;
}

static void put_str(struct om_logline *l, const char *s)
{
	om_append(l->buf, l->cap - 1, &l->n, s);
}

static void put_value(struct om_logline *l, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int quote = !*v;

	for (p = (const unsigned char *)v; *p && !quote; p++)
		quote = *p <= ' ' || *p == '=' || *p == '"' || *p >= 0x7f;
	if (!quote) {
		put_str(l, v);
		return;
	}
	put(l, '"');
	for (p = (const unsigned char *)v; *p && l->n + 6 < l->cap; p++) {
		const char *e = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\n' ? "\\n"
			      : *p == '\r' ? "\\r" : *p == '\t' ? "\\t" : 0;

		if (e) {
			put_str(l, e);
		} else if (*p < ' ' || *p >= 0x7f) {
			put(l, '\\');
			put(l, 'x');
			put(l, hex[*p >> 4]);
			put(l, hex[*p & 15]);
		} else {
			put(l, (char)*p);
		}
	}
	put(l, '"');
}

void om_logline_start(struct om_logline *l, char *buf, size_t cap, const char *prefix,
		      uint64_t now_ns, const char *level, const char *msg)
{
	char when[25];

	l->buf = buf;
	l->cap = cap;
	l->n = 0;
	om_utc(when, now_ns);
	put_str(l, prefix);
	put_str(l, "ts=");
	put_str(l, when);
	put_str(l, " level=");
	put_str(l, level);
	put_str(l, " msg=");
	put_value(l, msg);
}

void om_logline_kv(struct om_logline *l, const char *key, const char *value)
{
	put(l, ' ');
	put_str(l, key);
	put(l, '=');
	put_value(l, value ? value : "");
}

size_t om_logline_end(struct om_logline *l)
{
	l->buf[l->n++] = '\n';
	return l->n;
}
