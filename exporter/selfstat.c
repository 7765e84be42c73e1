#include "selfstat.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	double bt = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

void om_selfstat_read(struct om_selfstat *s)
{
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long utime, stime, vsize;
	unsigned long long start;
	long rss;
	char buf[1024], *p;
	struct rlimit rl;
	struct dirent *d;
	FILE *f;
	DIR *dir;

	memset(s, 0, sizeof *s);
	f = fopen("/proc/self/stat", "re");
	if (!f)
		return;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	/* comm may hold spaces and parens: fields start after the last ')' */
	if (!p || !(p = strrchr(buf, ')')))
		return;
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
		   "%*d %*d %*d %*d %llu %lu %ld",
		   &utime, &stime, &start, &vsize, &rss) != 5)
		return;
	s->cpu_seconds = (double)(utime + stime) / (double)tck;
	s->start_time = boot_time() + (double)start / (double)tck;
	s->virtual_bytes = (double)vsize;
	s->resident_bytes = (double)rss * (double)page;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		s->max_fds = (double)rl.rlim_cur;
	dir = opendir("/proc/self/fd");
	if (dir) {
		while ((d = readdir(dir)))
			if (d->d_name[0] != '.')
				s->open_fds++;
		closedir(dir);
		s->open_fds--; /* the directory stream itself */
	}
	s->ok = 1;
}
