#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
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
