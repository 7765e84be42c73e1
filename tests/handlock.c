/* Holds a hand-off entry's lock as a preempted holder would.
 *
 *   handlock SEGMENT COOKIE MS
 *
 * Finds the entry of socket COOKIE (decimal) in SEGMENT's hand-off table,
 * takes its lock, prints "locked", keeps it MS milliseconds, lets go and
 * prints "released".  Exit 2: no entry for COOKIE; 3: the lock was held. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/segment_layout.h"

int main(int argc, char **argv)
{
	struct om_header h;
	struct om_geom g;
	struct stat st;
	struct om_hand *t;
	struct timespec ts;
	uint64_t cookie;
	uint32_t k, free_word = 0;
	const char *why;
	char *map;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: handlock SEGMENT COOKIE MS\n");
		return 1;
	}
	cookie = strtoull(argv[2], 0, 10);
	if ((fd = open(argv[1], O_RDWR)) < 0 || fstat(fd, &st) < 0 ||
	    pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
		perror(argv[1]);
		return 1;
	}
	if ((why = om_layout_check(&h, (uint64_t)st.st_size, &g))) {
		fprintf(stderr, "%s: %s\n", argv[1], why);
		return 1;
	}
	map = mmap(0, (size_t)g.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	t = (struct om_hand *)(map + g.hand_off);
	for (k = 0; k < OM_HAND_PROBE; k++) {
		struct om_hand *x = &t[(om_hand_home(cookie) + k) % OM_NHAND];

		if (__atomic_load_n(&x->cookie, __ATOMIC_ACQUIRE) != cookie)
			continue;
		if (!__atomic_compare_exchange_n(&x->lock, &free_word, (uint32_t)getpid(), 0,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 3;
		printf("locked\n");
		fflush(stdout);
		ts.tv_sec = atoi(argv[3]) / 1000;
		ts.tv_nsec = atoi(argv[3]) % 1000 * 1000000L;
		nanosleep(&ts, 0);
		__atomic_store_n(&x->lock, 0, __ATOMIC_RELEASE);
		printf("released\n");
		return 0;
	}
	return 2;
}
