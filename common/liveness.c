/* The liveness semaphore set (liveness.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sem.h>
#include <sys/stat.h>
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
	if ((uint32_t)ds.sem_perm.__key != key || ds.sem_nsems != om_live_nsems(nslots))
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
	       (uint32_t)ds.sem_perm.__key == key && ds.sem_nsems == om_live_nsems(nslots);
}

int om_live_all(int id, unsigned short *vals)
{
	union om_semun u = { .array = vals };

	return semctl(id, 0, GETALL, u);
}

int om_live_take(int id, uint32_t nslots, uint32_t i)
{
	struct sembuf op[3] = {
		{ (unsigned short)i, 0, IPC_NOWAIT },
		{ (unsigned short)i, 1, IPC_NOWAIT | SEM_UNDO },
		{ (unsigned short)(nslots + i / OM_LIVE_GROUP), 1, IPC_NOWAIT | SEM_UNDO },
	};

	return semop(id, op, 3);
}

void om_live_drop(int id, uint32_t nslots, uint32_t i)
{
	struct sembuf op[2] = {
		{ (unsigned short)i, -1, IPC_NOWAIT | SEM_UNDO },
		{ (unsigned short)(nslots + i / OM_LIVE_GROUP), -1, IPC_NOWAIT | SEM_UNDO },
	};

	semop(id, op, 2);
}

static uint32_t path_key(const char *path)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *path; path++)
		h = (h ^ (uint8_t)*path) * 16777619u;
	return OM_LIVE_KEY_TAG << 28 | (h & 0x0FFFFFFFu);
}

/* Remove the set under key k if it is a previous segment's at path, whose
 * file is gone: ours, claimed at least once (a set no process has used
 * yet may be a concurrent creator's, which has not claimed its slot),
 * no slot held now, and nothing at path (a concurrent creator that has
 * published its file keeps its set).  1 if removed. */
static int reclaim(uint32_t k, const char *path)
{
	struct semid_ds ds;
	union om_semun u = { .buf = &ds };
	struct stat st;
	int id = semget((key_t)k, 0, 0);
	unsigned long i;

	if (id < 0 || semctl(id, 0, IPC_STAT, u) < 0 || ds.sem_perm.uid != geteuid() ||
	    ds.sem_otime == 0)
		return 0;
	/* one value at a time: this runs at a first attach, perhaps in a
	 * signal handler on a small stack, so no GETALL array here */
	for (i = 0; i < ds.sem_nsems; i++)
		if (semctl(id, (int)i, GETVAL) != 0)
			return 0;
	if (stat(path, &st) == 0 || errno != ENOENT)
		return 0;
	return semctl(id, 0, IPC_RMID) == 0;
}

int om_live_create(uint32_t nslots, mode_t mode, const char *path, uint32_t *key)
{
	int perm = (int)(0600 | (mode & 0044)), n = (int)om_live_nsems(nslots), tries, id;
	uint32_t k = path_key(path);

	for (tries = 0; tries < 18; tries++) {
		if (tries >= 2) { /* the path's key is held by live processes */
			uint32_t r = 0;

			if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
				r = (uint32_t)getpid() * 2654435761u + (uint32_t)tries * 40503u;
			k = OM_LIVE_KEY_TAG << 28 | (r & 0x0FFFFFFFu);
		}
		id = semget((key_t)k, n, IPC_CREAT | IPC_EXCL | perm);
		if (id >= 0) {
			*key = k;
			return id;
		}
		if (errno != EEXIST)
			return -1;
		if (tries == 0 && reclaim(k, path))
			continue;
		if (tries == 0)
			tries = 1;
	}
	return -1;
}

void om_live_remove(int id)
{
	if (id >= 0)
		semctl(id, 0, IPC_RMID);
}
