#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "real.h"

char *om_udec(char *buf, unsigned long long v)
{
	char tmp[24];
	int n = 0, i = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof tmp);
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
	return buf;
}

void om_say_raw(const char *line, unsigned long len)
{
	struct stat st;
	int err = errno, fd = 2;

	if (om_cfg.log_path[0]) {
		fd = open(om_cfg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
						   O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
		if (fd < 0)
			goto out;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			OM_REAL(write)(fd, line, len);
		OM_REAL(close)(fd);
		goto out;
	}
	if (fstat(fd, &st) == 0 && !S_ISSOCK(st.st_mode))
		OM_REAL(write)(fd, line, len);
out:
	errno = err;
}

static void append(char *line, size_t max, size_t *n, const char *p)
{
	size_t k = strnlen(p, max - *n);

	memcpy(line + *n, p, k);
	*n += k;
}

void om_say(const char *first, ...)
{
	char line[640];
	size_t n = 0;
	const char *p;
	va_list ap;

	append(line, sizeof line - 1, &n, "onionmeter: ");
	va_start(ap, first);
	for (p = first; p; p = va_arg(ap, const char *))
		append(line, sizeof line - 1, &n, p);
	va_end(ap);
	line[n++] = '\n';
	om_say_raw(line, n);
}

/* UTC "YYYY-MM-DDTHH:MM:SSZ" without gmtime_r(), which takes a lock: this
 * runs wherever a leak is refused, signal handlers included.  Days to a
 * civil date as in Howard Hinnant's chrono algorithms. */
static void utc(char out[21], long long t)
{
	long long days = t / 86400, secs = t % 86400, z, era, doe, yoe, y, doy, mp;
	unsigned d, m, i;
	unsigned v[6];

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	v[0] = (unsigned)y;
	v[1] = m;
	v[2] = d;
	v[3] = (unsigned)(secs / 3600);
	v[4] = (unsigned)(secs / 60 % 60);
	v[5] = (unsigned)(secs % 60);
	for (i = 0; i < 6; i++) {
		unsigned w = i ? 2 : 4, x = v[i], k;
		char *o = out + (i ? 2 + 3 * i : 0);

		for (k = w; k-- > 0; x /= 10)
			o[k] = (char)('0' + x % 10);
		if (i < 5)
			o[w] = "--T::"[i];
	}
	out[19] = 'Z';
	out[20] = '\0';
}

/* logfmt: a bare value when it can be, else quoted with \" \\ and \xNN */
static void put_value(char *line, size_t max, size_t *n, const char *v)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	int quote = !*v;

	for (p = (const unsigned char *)v; *p && !quote; p++)
		quote = *p <= ' ' || *p == '=' || *p == '"' || *p >= 0x7f;
	if (!quote) {
		append(line, max, n, v);
		return;
	}
	append(line, max, n, "\"");
	for (p = (const unsigned char *)v; *p && *n + 5 < max; p++) {
		if (*p == '"' || *p == '\\') {
			line[(*n)++] = '\\';
			line[(*n)++] = (char)*p;
		} else if (*p < ' ' || *p >= 0x7f) {
			line[(*n)++] = '\\';
			line[(*n)++] = 'x';
			line[(*n)++] = hex[*p >> 4];
			line[(*n)++] = hex[*p & 15];
		} else {
			line[(*n)++] = (char)*p;
		}
	}
	append(line, max, n, "\"");
}

#define OM_LOG_PER_SECOND 10

void om_logfmt(const char *level, const char *msg, ...)
{
	static uint64_t window, used, dropped;
	char line[640], when[21], num[24];
	struct timespec ts;
	uint64_t sec, lost = 0;
	size_t n = 0;
	const char *k;
	va_list ap;
	int err = errno;

	clock_gettime(CLOCK_REALTIME, &ts);
	sec = (uint64_t)ts.tv_sec;
	/* at most OM_LOG_PER_SECOND lines a second per process; the next line
	 * says how many were left out */
	if (__atomic_exchange_n(&window, sec, __ATOMIC_RELAXED) != sec)
		__atomic_store_n(&used, 0, __ATOMIC_RELAXED);
	if (__atomic_add_fetch(&used, 1, __ATOMIC_RELAXED) > OM_LOG_PER_SECOND) {
		__atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
		errno = err;
		return;
	}
	lost = __atomic_exchange_n(&dropped, 0, __ATOMIC_RELAXED);
	utc(when, (long long)ts.tv_sec);
	append(line, sizeof line - 1, &n, "onionmeter: ts=");
	append(line, sizeof line - 1, &n, when);
	append(line, sizeof line - 1, &n, " level=");
	append(line, sizeof line - 1, &n, level);
	append(line, sizeof line - 1, &n, " msg=");
	put_value(line, sizeof line - 1, &n, msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		append(line, sizeof line - 1, &n, " ");
		append(line, sizeof line - 1, &n, k);
		append(line, sizeof line - 1, &n, "=");
		put_value(line, sizeof line - 1, &n, v ? v : "");
	}
	va_end(ap);
	if (lost) {
		append(line, sizeof line - 1, &n, " suppressed=");
		append(line, sizeof line - 1, &n, om_udec(num, (unsigned long long)lost));
	}
	line[n++] = '\n';
	om_say_raw(line, n);
	errno = err;
}
