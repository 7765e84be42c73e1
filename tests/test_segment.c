/* The segment: racing creators agree on one file; slots are exclusive and
 * freed by death; a new holder settles the gauges a dead one left; readers
 * refuse wrong versions, garbage and truncation without crashing. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "reader.h"
#include "segment.h"

static char dir[] = "/tmp/om-seg-XXXXXX";
static char path[128];

static void racing_creators(void)
{
	enum { N = 24 };
	int go[2], res[2], i, st;
	uint32_t slots[N];
	ino_t inos[N];

	CHECK(pipe(go) == 0 && pipe(res) == 0);
	for (i = 0; i < N; i++) {
		if (fork() == 0) {
			struct om_seg s = { .fd = -1 };
			const char *why = 0;
			struct stat stt;
			char c;
			uint64_t msg[2];

			signal(SIGUSR1, SIG_DFL);
			close(go[1]);
			if (read(go[0], &c, 1) < 0) /* all start at once */
				_exit(3);
			if (om_seg_open(&s, path, 0600, 32, &why) < 0 ||
			    om_seg_claim(&s, &why) < 0) {
				fprintf(stderr, "child: %s\n", why);
				_exit(1);
			}
			fstat(s.fd, &stt);
			msg[0] = s.slot;
			msg[1] = stt.st_ino;
			if (write(res[1], msg, sizeof msg) != sizeof msg)
				_exit(3);
			pause(); /* hold the slot until killed */
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]); /* EOF releases every child together */
	for (i = 0; i < N; i++) {
		uint64_t msg[2];

		CHECK(read(res[0], msg, sizeof msg) == sizeof msg);
		slots[i] = (uint32_t)msg[0];
		inos[i] = (ino_t)msg[1];
	}
	for (i = 1; i < N; i++)
		CHECK(inos[i] == inos[0]); /* one segment */
	for (i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			CHECK(slots[i] != slots[j]); /* exclusive slots */
	{
		struct om_reader r;
		struct om_totals t;

		om_reader_init(&r, path);
		CHECK(om_reader_snapshot(&r, &t) == 0);
		CHECK_EQ(t.processes, N);
		kill(0, SIGUSR1); /* the children die; we ignore it */
		while (wait(&st) > 0)
			;
		CHECK(om_reader_snapshot(&r, &t) == 0);
		CHECK_EQ(t.processes, 0); /* the kernel dropped their locks */
		CHECK_EQ(t.slots_used, N);
		om_reader_close(&r);
	}
	close(res[0]);
	close(res[1]);
}

/* A process dies with connections open; the next holder of its slot must
 * not inherit them in the gauge, and the dead process's counts stay. */
static void gauge_settles(void)
{
	struct om_seg s = { .fd = -1 };
	struct om_reader r;
	struct om_totals t;
	const char *why;
	int st, p[2];
	pid_t pid;

	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		if (om_seg_open(&s, path, 0600, 32, &why) < 0 || om_seg_claim(&s, &why) < 0)
			_exit(1);
		s.me->blocks[0].used = 1;
		s.me->blocks[0].opened[OM_CLASS_ONION] = 5;
		s.me->blocks[0].bytes[OM_CLASS_ONION][OM_EGRESS] = 1234;
		if (write(p[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	{
		char c;

		CHECK(read(p[0], &c, 1) == 1);
	}
	om_reader_init(&r, path);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK_EQ(t.open_now[OM_CLASS_ONION], 5);
	CHECK_EQ(t.processes, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK_EQ(t.open_now[OM_CLASS_ONION], 0); /* dead: not open */
	CHECK_EQ(t.bytes[OM_CLASS_ONION][OM_EGRESS], 1234); /* but counted */
	/* this process takes the lowest free slot: the dead one's */
	CHECK(om_seg_open(&s, path, 0600, 32, &why) == 0);
	CHECK(om_seg_claim(&s, &why) == 0);
	CHECK_EQ(s.slot, 0);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK_EQ(t.processes, 1);
	CHECK_EQ(t.open_now[OM_CLASS_ONION], 0);
	CHECK_EQ(t.bytes[OM_CLASS_ONION][OM_EGRESS], 1234);
	om_seg_detach(&s);
	om_reader_close(&r);
	close(p[0]);
	close(p[1]);
}

static void write_file(const char *p, const void *data, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && write(fd, data, n) == (ssize_t)n);
	close(fd);
}

static void reader_refuses(void)
{
	char bad[160];
	struct om_reader r;
	struct om_totals t;
	struct om_seg s = { .fd = -1 };
	const char *why = 0;
	unsigned char *junk;
	size_t size = om_layout_size(8);
	int fd;

	/* missing */
	snprintf(bad, sizeof bad, "%s/missing", dir);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "no process has attached yet") != 0);

	/* random bytes of a plausible size */
	junk = malloc(size);
	for (size_t i = 0; i < size; i++)
		junk[i] = (unsigned char)rand();
	snprintf(bad, sizeof bad, "%s/junk", dir);
	write_file(bad, junk, size);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "bad magic") != 0);
	CHECK(om_seg_open(&s, bad, 0600, 8, &why) < 0);

	/* a valid segment of another layout version: both sides refuse */
	snprintf(bad, sizeof bad, "%s/v2", dir);
	CHECK(om_seg_open(&s, bad, 0600, 8, &why) == 0);
	om_seg_detach(&s);
	fd = open(bad, O_RDWR);
	{
		struct om_header *h = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		h->version = OM_LAYOUT_VERSION + 1;
		munmap(h, size);
	}
	close(fd);
	why = 0;
	CHECK(om_seg_open(&s, bad, 0600, 8, &why) < 0);
	CHECK(why && strstr(why, "version") != 0);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "version") != 0);

	/* truncated after the reader attached: SIGBUS is caught */
	snprintf(bad, sizeof bad, "%s/trunc", dir);
	CHECK(om_seg_open(&s, bad, 0600, 8, &why) == 0);
	CHECK(om_seg_claim(&s, &why) == 0);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK(truncate(bad, OM_HEADER_SIZE + 100) == 0);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "truncated") != 0 || strstr(r.error, "size") != 0);
	om_seg_detach(&s);

	/* replaced: the reader follows the new file */
	unlink(bad);
	CHECK(om_seg_open(&s, bad, 0600, 8, &why) == 0);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK_EQ(t.slots, 8);
	om_seg_detach(&s);
	om_reader_close(&r);
	free(junk);
}

static void names(void)
{
	char out[64];

	CHECK(om_seg_path("/onionmeter", out, sizeof out) == 0);
	CHECK(!strcmp(out, "/dev/shm/onionmeter"));
	CHECK(om_seg_path("/var/lib/om/seg", out, sizeof out) == 0);
	CHECK(!strcmp(out, "/var/lib/om/seg"));
	CHECK(om_seg_path("relative", out, sizeof out) < 0);
	CHECK(om_seg_path("/", out, sizeof out) < 0);
	CHECK(om_seg_path("/dir/", out, sizeof out) < 0);
}

int main(void)
{
	signal(SIGUSR1, SIG_IGN);
	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof path, "%s/segment", dir);
	names();
	{
		pid_t p = fork();
		int st;

		/* own process group, so SIGUSR1 reaches only the racers */
		if (p == 0) {
			setpgid(0, 0);
			racing_creators();
			_exit(check_failures ? 1 : 0);
		}
		waitpid(p, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	unlink(path);
	gauge_settles();
	reader_refuses();
	{
		char cmd[200];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			check_failures++;
	}
	return check_done("test_segment");
}
