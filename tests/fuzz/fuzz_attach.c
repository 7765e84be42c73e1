/* Fuzz the shim's own attach and write path with hostile segment files:
 * the input is written over the start of a valid segment file (header,
 * pid table), what goes past the first 8 KiB over its pid index, and the
 * writer must refuse it, or map it, claim a slot and write every byte of
 * that slot without touching anything outside its mapping.  The header's
 * semaphore key and id are put back after the input (no input could guess
 * them), so hostile geometry gets as far as the claim; a foreign set is
 * refused as the unit tests show. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/liveness.h"
#include "core/segment.h"

static char path[64];
static char *pristine;
static size_t pristine_len, pidx_len;
static uint64_t pidx_off;
static unsigned claimed; /* inputs that got as far as a slot */
static int sem_id = -1;

static void cleanup(void)
{
	om_live_remove(sem_id);
	unlink(path);
}

static void make_pristine(void)
{
	struct om_seg s;
	const char *why;
	int fd;

	snprintf(path, sizeof path, "/tmp/om-fuzz-attach.%d", (int)getpid());
	unlink(path);
	memset(&s, 0, sizeof s);
	if (om_seg_map(&s, path, 0600, 4, &fd, &why) < 0) {
		fprintf(stderr, "fuzz_attach: %s\n", why);
		abort();
	}
	close(fd);
	sem_id = s.sem_id;
	pristine_len = s.size;
	pidx_off = s.g.pidx_off;
	pidx_len = s.g.npidx * sizeof(uint32_t);
	pristine = malloc(pristine_len);
	memcpy(pristine, s.map, pristine_len);
	munmap(s.map, s.size);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_seg s;
	const char *why;
	uint32_t slot;
	size_t head, tail;
	int fd;

	if (!pristine)
		make_pristine();
	fd = open(path, O_RDWR | O_TRUNC);
	if (fd < 0)
		abort();
	/* the file: the pristine image with the input over its start; its
	 * length is the image's, or the input's when that is longer */
	head = size < 8192 ? size : 8192;
	tail = size - head < pidx_len ? size - head : pidx_len;
	if (write(fd, pristine, pristine_len) != (ssize_t)pristine_len ||
	    pwrite(fd, data, head, 0) != (ssize_t)head ||
	    pwrite(fd, data + head, tail, (off_t)pidx_off) != (ssize_t)tail ||
	    pwrite(fd, pristine + offsetof(struct om_header, sem_key), 8,
		   offsetof(struct om_header, sem_key)) != 8)
		abort();
	close(fd);
	memset(&s, 0, sizeof s);
	if (om_seg_map(&s, path, 0600, 4, &fd, &why) == 0) {
		if (om_seg_claim(&s, fd, &slot, &why) == 0) {
			claimed++;
			memset(om_seg_slot(&s, slot), 0xA5, s.g.slot_size);
			om_seg_release(&s, slot);
		}
		close(fd);
		munmap(s.map, s.size);
	}
	return 0;
}

/* The replay of the corpus: some seed must reach a claim, or the seeds are
 * of another layout and stop at its version check. */
int om_fuzz_replay_check(void)
{
	if (claimed)
		return 0;
	fprintf(stderr, "fuzz_attach: no corpus file got past the layout check; make the seeds "
			"again: tests/fuzz/attach_seeds.py SEGMENT tests/fuzz/corpus/attach\n");
	return 1;
}
