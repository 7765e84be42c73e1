/* Segment helpers shared by the writer (shim) and the reader (exporter). */
#include <fcntl.h>
#include <string.h>

#include "segment.h"

int om_seg_path(const char *name, char *out, size_t outlen)
{
	static const char shm[] = "/dev/shm";
	size_t n;

	if (!name || name[0] != '/' || name[1] == '\0')
		return -1;
	n = strlen(name);
	if (!strchr(name + 1, '/')) {
		if (sizeof shm - 1 + n + 1 > outlen)
			return -1;
		memcpy(out, shm, sizeof shm - 1);
		memcpy(out + sizeof shm - 1, name, n + 1);
		return 0;
	}
	if (n + 1 > outlen || name[n - 1] == '/')
		return -1;
	memcpy(out, name, n + 1);
	return 0;
}

static int setlk(int fd, uint64_t off, int cmd, struct flock *fl)
{
	memset(fl, 0, sizeof *fl);
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)off;
	fl->l_len = 1;
	return fcntl(fd, cmd, fl);
}

int om_seg_lock(int fd, uint64_t off)
{
	struct flock fl;

	return setlk(fd, off, F_OFD_SETLK, &fl);
}

int om_seg_locked(int fd, uint64_t off)
{
	struct flock fl;

	if (setlk(fd, off, F_OFD_GETLK, &fl) < 0)
		return -1;
	return fl.l_type != F_UNLCK;
}
