/* The liveness semaphore set (liveness.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sem.h>
#include <unistd.h>

#include "common/liveness.h"

union om_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

const char *om_live_check(int id, uint32_t key, uint32_t nslots, uid_t owner)
{
	struct semid_ds ds;
	union om_semun u = { .buf = &ds };

	if (id < 0 || semctl(id, 0, IPC_STAT, u) < 0)
		return errno == EACCES ? "no permission to read the liveness semaphores"
				       : "the liveness semaphores are gone or in another IPC namespace";
	if ((uint32_t)ds.sem_perm.__key != key || ds.sem_nsems != nslots)
		return "the liveness semaphores are not this segment's (another IPC namespace?)";
	if (ds.sem_perm.uid != owner)
		return "the liveness semaphores belong to another user";
	return 0;
}

int om_live_is(int id, uint32_t key, uint32_t nslots)
{
	struct semid_ds ds;
	union om_semun u = { .buf = &ds };

	return id >= 0 && semctl(id, 0, IPC_STAT, u) == 0 &&
	       (uint32_t)ds.sem_perm.__key == key && ds.sem_nsems == nslots;
}

int om_live_all(int id, unsigned short *vals)
{
	union om_semun u = { .array = vals };

	return semctl(id, 0, GETALL, u);
}

int om_live_create(uint32_t n, mode_t mode, uint32_t *key)
{
	int tries, id;

	for (tries = 0; tries < 16; tries++) {
		uint32_t k = 0;

		if (getrandom(&k, sizeof k, GRND_NONBLOCK) != sizeof k)
			k = (uint32_t)getpid() * 2654435761u + (uint32_t)tries * 40503u;
		if (k == 0 || k == (uint32_t)IPC_PRIVATE)
			continue;
		id = semget((key_t)k, (int)n, IPC_CREAT | IPC_EXCL |
						  (int)(0600 | (mode & 0044)));
		if (id >= 0) {
			*key = k;
			return id;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

void om_live_remove(int id)
{
	if (id >= 0)
		semctl(id, 0, IPC_RMID);
}
