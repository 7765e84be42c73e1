#include "common/segpath.h"

#include <string.h>

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
