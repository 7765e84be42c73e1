#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/logfmt.h"

void om_xlog(const char *level, const char *msg, ...)
{
	char buf[8192];
	struct om_logline l;
	const char *k;
	va_list ap;
	size_t n, off = 0;

	om_logline_start(&l, buf, sizeof buf, "", om_clock_ns(CLOCK_REALTIME), level, msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		om_logline_kv(&l, k, v);
	}
	va_end(ap);
	n = om_logline_end(&l);
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
