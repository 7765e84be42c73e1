#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/logfmt.h"
#include "common/str.h"
#include "core/config.h"
#include "core/real.h"

void om_say_raw(const char *line, unsigned long len)
{
	struct stat st;
	int err = errno, fd = 2;

	if (om_cfg.log_path[0]) {
		/* the next open(), not ours: a log file is no socket to forget */
		fd = OM_REAL(open)(om_cfg.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
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

void om_say(const char *first, ...)
{
	char line[640];
	size_t n = 0;
	const char *p;
	va_list ap;

	om_append(line, sizeof line - 1, &n, "onionmeter: ");
	va_start(ap, first);
	for (p = first; p; p = va_arg(ap, const char *))
		om_append(line, sizeof line - 1, &n, p);
	va_end(ap);
	line[n++] = '\n';
	om_say_raw(line, n);
}

#define OM_LOG_PER_SECOND 10

void om_logfmt(const char *level, const char *msg, ...)
{
	static uint64_t window, used, dropped;
	char buf[640], num[24];
	struct om_logline l;
	uint64_t now = om_clock_ns(CLOCK_REALTIME), sec = now / 1000000000u, lost;
	const char *k;
	va_list ap;
	int err = errno;

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
	om_logline_start(&l, buf, sizeof buf, "onionmeter: ", now, level, msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		om_logline_kv(&l, k, v);
	}
	va_end(ap);
	if (lost)
		om_logline_kv(&l, "suppressed", om_udec(num, (unsigned long long)lost));
	om_say_raw(buf, om_logline_end(&l));
	errno = err;
}
