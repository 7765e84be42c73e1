#include "acct/holders.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/real.h"

/* The kernel's getdents64 record (musl and glibc spell it differently). */
struct dent {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Decimal digits of v at the end of buf, NUL-terminated: where they start. */
static char *utoa(unsigned long v, char *end)
{
	*--end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

/* A leading decimal number of s, up to the first non-digit; -1 if none. */
static long atol_prefix(const char *s, const char **end)
{
	long v = -1;

	for (; *s >= '0' && *s <= '9'; s++)
		v = (v < 0 ? 0 : v * 10) + (*s - '0');
	*end = s;
	return v;
}

/* dir + name, bounded. */
static void join(char *out, size_t n, const char *a, const char *b, const char *c)
{
	size_t k = 0;
	const char *parts[3] = { a, b, c };
	int i;

	for (i = 0; i < 3; i++)
		for (const char *p = parts[i]; p && *p && k + 1 < n; p++)
			out[k++] = *p;
	out[k] = '\0';
}

int om_fd_holding(long pid, unsigned long ino)
{
	char path[64], want[48], link[48], num[24], buf[1024];
	int dfd, found = -1;
	long n;

	join(path, sizeof path, "/proc/", pid ? utoa((unsigned long)pid, num + sizeof num) : "self",
	     "/fd");
	join(want, sizeof want, "socket:[", utoa(ino, num + sizeof num), "]");
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	while (found < 0 && (n = OM_REAL(syscall)(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
		long off;

		for (off = 0; off < n && found < 0; off += ((struct dent *)(buf + off))->reclen) {
			const struct dent *d = (const struct dent *)(buf + off);
			const char *end;
			ssize_t l;

			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			l = readlinkat(dfd, d->name, link, sizeof link - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (strcmp(link, want) == 0)
				found = (int)atol_prefix(d->name, &end);
		}
	}
	OM_REAL(close)(dfd);
	return found;
}

int om_children_hold(unsigned long ino)
{
	char buf[1024], path[300], kids[512];
	int tdir, found = 0;
	long n;

	if ((tdir = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	while (!found && (n = OM_REAL(syscall)(SYS_getdents64, tdir, buf, sizeof buf)) > 0) {
		long off;

		for (off = 0; off < n && !found; off += ((struct dent *)(buf + off))->reclen) {
			const struct dent *d = (const struct dent *)(buf + off);
			const char *p;
			ssize_t k;
			int cf;

			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			join(path, sizeof path, d->name, "/children", 0);
			if ((cf = openat(tdir, path, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			k = OM_REAL(read)(cf, kids, sizeof kids - 1);
			OM_REAL(close)(cf);
			if (k <= 0)
				continue;
			kids[k] = '\0';
			for (p = kids; *p && !found;) {
				long pid = atol_prefix(p, &p);

				if (pid <= 0)
					break;
				found = om_fd_holding(pid, ino) >= 0;
				while (*p == ' ')
					p++;
			}
		}
	}
	OM_REAL(close)(tdir);
	return found;
}
