/* The segment: racing creators agree on one file; slots are exclusive and
 * freed by death (the kernel undoes the semaphore); a new holder settles
 * the gauges a dead one left; a process keeps its slot across exec; a new
 * one takes the lowest free slot through the groups' counts; the
 * writer refuses files it must not trust; readers refuse wrong versions,
 * garbage and truncation without crashing, and never follow a header
 * rewritten after they attached. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "common/liveness.h"
#include "common/reader.h"
#include "core/segment.h"
#include "common/segpath.h"

static char dir[] = "/tmp/om-seg-XXXXXX";
static char path[128];

static int attach(struct om_seg *s, const char *p, uint32_t nslots, uint32_t *slot,
		  const char **why)
{
	int fd;

	memset(s, 0, sizeof *s);
	if (om_seg_map(s, p, 0600, nslots, &fd, why) < 0)
		return -1;
	if (om_seg_claim(s, fd, slot, why) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void racing_creators(void)
{
	enum { N = 24 };
	int go[2], res[2], i, st;
	uint32_t slots[N];
	ino_t inos[N];

	CHECK(pipe(go) == 0 && pipe(res) == 0);
	for (i = 0; i < N; i++) {
		if (fork() == 0) {
			struct om_seg s;
			const char *why = 0;
			struct stat stt;
			uint32_t slot;
			char c;
			uint64_t msg[2];

			signal(SIGUSR1, SIG_DFL);
			close(go[1]);
			if (read(go[0], &c, 1) < 0) /* all start at once */
				_exit(3);
			if (attach(&s, path, 32, &slot, &why) < 0) {
				fprintf(stderr, "child: %s\n", why);
				_exit(1);
			}
			stat(path, &stt);
			msg[0] = slot;
			msg[1] = stt.st_ino;
			om_seg_slot(&s, slot)->head.claims = 1; /* counted as used */
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
		CHECK(t.live_known);
		kill(0, SIGUSR1); /* the children die; we ignore it */
		while (wait(&st) > 0)
			;
		CHECK(om_reader_snapshot(&r, &t) == 0);
		CHECK_EQ(t.processes, 0); /* the kernel undid their semaphores */
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
	struct om_seg s;
	struct om_reader r;
	struct om_totals t;
	const char *why;
	uint32_t slot;
	int st, p[2];
	pid_t pid;

	CHECK(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		struct om_slot *me;

		if (attach(&s, path, 32, &slot, &why) < 0)
			_exit(1);
		me = om_seg_slot(&s, slot);
		me->head.claims = me->head.settled = 1;
		me->p.opened[OM_CLASS_ONION] = 5;
		me->t[0].used = 1;
		me->t[0].bytes[OM_CLASS_ONION][OM_EGRESS] = 1234;
		me->head.tblocks_hwm = 1;
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
	CHECK(attach(&s, path, 32, &slot, &why) == 0);
	CHECK_EQ(slot, 0);
	/* claimed, not yet settled: live, but its gauges are not counted */
	om_seg_slot(&s, slot)->head.claims = 2;
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK_EQ(t.processes, 1);
	CHECK_EQ(t.open_now[OM_CLASS_ONION], 0);
	CHECK_EQ(t.bytes[OM_CLASS_ONION][OM_EGRESS], 1234);
	om_seg_release(&s, slot);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK_EQ(t.processes, 0);
	munmap(s.map, s.size);
	om_reader_close(&r);
	close(p[0]);
	close(p[1]);
}

/* After exec a process still holds its slot; it must find it again rather
 * than take a second one. */
static void exec_keeps_slot(const char *self)
{
	struct om_seg s;
	const char *why;
	uint32_t slot;
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char arg[16];

		if (attach(&s, path, 32, &slot, &why) < 0)
			_exit(1);
		snprintf(arg, sizeof arg, "%u", slot);
		execl(self, self, "--after-exec", arg, (char *)0);
		_exit(2);
	}
	waitpid(pid, &st, 0);
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st), 0);
}

static int after_exec(const char *env, uint32_t nslots, const char *want)
{
	struct om_seg s;
	const char *why;
	uint32_t slot;

	snprintf(path, sizeof path, "%s", getenv(env));
	if (attach(&s, path, nslots, &slot, &why) < 0)
		return 1;
	return slot == (uint32_t)atoi(want) ? 0 : 4;
}

/* The same among many: the pid index (segment_layout.h) after 400
 * processes came and went through 64 slots, with 60 alive at once; then
 * with the index wrecked and marked full, where the pid table is walked. */
static void exec_among_many(const char *self)
{
	enum { SLOTS = 64, CHURN = 400, LIVE = 60 };
	char p2[160], c;
	int hold[2], i, st, wreck;
	pid_t pid;

	snprintf(p2, sizeof p2, "%s/many", dir);
	setenv("OM_SEG_PATH2", p2, 1);
	for (i = 0; i < CHURN; i++) {
		if ((pid = fork()) == 0) {
			struct om_seg s;
			const char *why;
			uint32_t slot;

			_exit(attach(&s, p2, SLOTS, &slot, &why) < 0);
		}
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CHECK(pipe(hold) == 0);
	for (i = 0; i < LIVE; i++)
		if (fork() == 0) {
			struct om_seg s;
			const char *why;
			uint32_t slot;

			close(hold[1]);
			if (attach(&s, p2, SLOTS, &slot, &why) < 0)
				_exit(1);
			(void)!read(hold[0], &c, 1);
			_exit(0);
		}
	close(hold[0]);
	for (wreck = 0; wreck < 2; wreck++) {
		if ((pid = fork()) == 0) {
			struct om_seg s;
			const char *why;
			uint32_t slot, k;
			char arg[16];

			close(hold[1]);
			if (attach(&s, p2, SLOTS, &slot, &why) < 0)
				_exit(1);
			if (wreck) {
				for (k = 0; k < s.g.npidx; k++)
					((uint32_t *)(s.map + s.g.pidx_off))[k] = 0xFFFFFFFFu;
				om_seg_hdr(&s)->pidx_full = 1;
			}
			snprintf(arg, sizeof arg, "%u", slot);
			execl(self, self, "--after-exec-many", arg, (char *)0);
			_exit(2);
		}
		waitpid(pid, &st, 0);
		CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st), 0);
		if (!wreck) { /* stale entries were reused: every claim had a place */
			struct om_header h;
			int fd = open(p2, O_RDONLY);

			CHECK(fd >= 0 && pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h);
			CHECK_EQ(h.pidx_full, 0);
			close(fd);
		}
	}
	close(hold[1]);
	while (wait(&st) > 0)
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A process holding a slot of the segment at p until killed; its slot in
 * *slot (UINT32_MAX if it got none). */
static pid_t holder(const char *p, uint32_t nslots, uint32_t *slot)
{
	int res[2];
	pid_t pid;

	*slot = UINT32_MAX;
	if (pipe(res) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		struct om_seg s;
		const char *why;
		uint32_t i = UINT32_MAX;

		close(res[0]);
		if (attach(&s, p, nslots, &i, &why) < 0)
			i = UINT32_MAX;
		(void)!write(res[1], &i, sizeof i);
		if (i == UINT32_MAX)
			_exit(0);
		for (;;)
			pause();
	}
	close(res[1]);
	if (read(res[0], slot, sizeof *slot) != (ssize_t)sizeof *slot)
		*slot = UINT32_MAX;
	close(res[0]);
	return pid;
}

static void kill_holder(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* The groups' counts (liveness.h): each claim and each death, however it
 * comes, moves its group's count; a new process takes the lowest free
 * slot through them; counts that lie still leave every free slot found. */
static void groups_find_holes(void)
{
	enum { SLOTS = 128 };
	pid_t pid[SLOTS], extra;
	uint32_t i, slot;
	char p[160];
	struct om_seg s;
	int fd;

	snprintf(p, sizeof p, "%s/groups", dir);
	for (i = 0; i < SLOTS; i++) {
		pid[i] = holder(p, SLOTS, &slot);
		CHECK_EQ(slot, i);
	}
	memset(&s, 0, sizeof s);
	{
		const char *why;

		CHECK(om_seg_map(&s, p, 0600, SLOTS, &fd, &why) == 0);
		close(fd);
	}
	CHECK_EQ(semctl(s.sem_id, SLOTS, GETVAL), 64);
	CHECK_EQ(semctl(s.sem_id, SLOTS + 1, GETVAL), 64);
	extra = holder(p, SLOTS, &slot);
	CHECK_EQ(slot, UINT32_MAX); /* all held: refused */
	waitpid(extra, 0, 0);

	kill_holder(pid[5]);
	kill_holder(pid[70]);
	CHECK_EQ(semctl(s.sem_id, SLOTS, GETVAL), 63);
	CHECK_EQ(semctl(s.sem_id, SLOTS + 1, GETVAL), 63);
	pid[5] = holder(p, SLOTS, &slot);
	CHECK_EQ(slot, 5);
	pid[70] = holder(p, SLOTS, &slot);
	CHECK_EQ(slot, 70);
	CHECK_EQ(semctl(s.sem_id, SLOTS, GETVAL), 64);
	CHECK_EQ(semctl(s.sem_id, SLOTS + 1, GETVAL), 64);

	/* a lie: group 0 said full with slot 5 free, and group 1 full */
	kill_holder(pid[5]);
	CHECK(semctl(s.sem_id, SLOTS, SETVAL, 64) == 0);
	pid[5] = holder(p, SLOTS, &slot);
	CHECK_EQ(slot, 5);
	for (i = 0; i < SLOTS; i++)
		kill_holder(pid[i]);
	munmap(s.map, s.size);
}

static void write_file(const char *p, const void *data, size_t n, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);

	CHECK(fd >= 0 && write(fd, data, n) == (ssize_t)n);
	fchmod(fd, mode);
	close(fd);
}

/* What the writer refuses before it maps anything. */
static void writer_refuses(void)
{
	struct om_seg s;
	const char *why = 0;
	uint32_t slot;
	char p[160], target[160];

	snprintf(target, sizeof target, "%s/target", dir);
	write_file(target, "precious", 8, 0600);
	snprintf(p, sizeof p, "%s/link", dir);
	CHECK(symlink(target, p) == 0);
	CHECK(attach(&s, p, 8, &slot, &why) < 0 && strstr(why, "symbolic link"));
	snprintf(p, sizeof p, "%s/dangling", dir);
	CHECK(symlink("/nonexistent/x", p) == 0);
	CHECK(attach(&s, p, 8, &slot, &why) < 0 && strstr(why, "symbolic link"));
	snprintf(p, sizeof p, "%s/fifo", dir);
	CHECK(mkfifo(p, 0600) == 0);
	CHECK(attach(&s, p, 8, &slot, &why) < 0 && strstr(why, "regular file"));
	snprintf(p, sizeof p, "%s/adir", dir);
	CHECK(mkdir(p, 0700) == 0);
	CHECK(attach(&s, p, 8, &slot, &why) < 0);
	/* a valid segment made writable for the group: refused */
	snprintf(p, sizeof p, "%s/groupw", dir);
	CHECK(attach(&s, p, 8, &slot, &why) == 0);
	om_seg_release(&s, slot);
	munmap(s.map, s.size);
	CHECK(chmod(p, 0660) == 0);
	CHECK(attach(&s, p, 8, &slot, &why) < 0 && strstr(why, "writable by group"));
	{
		char buf[9] = { 0 };
		int fd = open(target, O_RDONLY);

		CHECK(read(fd, buf, 8) == 8 && !strcmp(buf, "precious"));
		close(fd);
	}
}

static void reader_refuses(void)
{
	char bad[160];
	struct om_reader r;
	struct om_totals t;
	struct om_seg s;
	struct om_geom g;
	const char *why = 0;
	unsigned char *junk;
	uint32_t slot;
	size_t size;
	int fd;

	om_geom_compute(8, &g);
	size = g.size;
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
	write_file(bad, junk, size, 0600);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "bad magic") != 0);
	CHECK(attach(&s, bad, 8, &slot, &why) < 0);

	/* a valid segment of another layout version: both sides refuse */
	snprintf(bad, sizeof bad, "%s/v2", dir);
	CHECK(attach(&s, bad, 8, &slot, &why) == 0);
	om_seg_release(&s, slot);
	munmap(s.map, s.size);
	fd = open(bad, O_RDWR);
	{
		uint32_t v = OM_LAYOUT_VERSION + 1;

		CHECK(pwrite(fd, &v, sizeof v, 8) == sizeof v);
	}
	close(fd);
	why = 0;
	CHECK(attach(&s, bad, 8, &slot, &why) < 0);
	CHECK(why && strstr(why, "version") != 0);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "version") != 0);

	/* the header rewritten after the reader attached: the reader keeps
	 * its own geometry, reads nothing outside it, and does not crash */
	snprintf(bad, sizeof bad, "%s/flip", dir);
	CHECK(attach(&s, bad, 8, &slot, &why) == 0);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	{
		struct om_header *h = (struct om_header *)s.map;

		h->nslots = OM_SLOTS_MAX;
		h->slots_hwm = ~0ull;
		h->ring_off = ~0ull;
		om_seg_slot(&s, slot)->head.claims = 1;
		om_seg_slot(&s, slot)->head.tblocks_hwm = ~0u;
		CHECK(om_reader_snapshot(&r, &t) == 0);
		CHECK_EQ(t.slots, 8);
		CHECK_EQ(t.processes, 1);
	}
	om_seg_release(&s, slot);
	munmap(s.map, s.size);

	/* truncated after the reader attached: SIGBUS is caught */
	snprintf(bad, sizeof bad, "%s/trunc", dir);
	CHECK(attach(&s, bad, 8, &slot, &why) == 0);
	om_reader_init(&r, bad);
	CHECK(om_reader_snapshot(&r, &t) == 0);
	CHECK(truncate(bad, OM_HEADER_SIZE + 100) == 0);
	CHECK(om_reader_snapshot(&r, &t) < 0);
	CHECK(strstr(r.error, "truncated") != 0 || strstr(r.error, "size") != 0);
	om_seg_release(&s, slot);
	om_reader_close(&r);
	free(junk);
}

static void names(void)
{
	char out[256];

	CHECK(om_seg_path("/onionmeter", out, sizeof out) == 0);
	CHECK(!strcmp(out, "/dev/shm/onionmeter"));
	CHECK(om_seg_path("/var/lib/om/seg", out, sizeof out) == 0);
	CHECK(!strcmp(out, "/var/lib/om/seg"));
	CHECK(om_seg_path("relative", out, sizeof out) < 0);
	CHECK(om_seg_path("/", out, sizeof out) < 0);
	CHECK(om_seg_path("/dir/", out, sizeof out) < 0);
}

/* Every segment made here has a semaphore set; leave none behind. */
static void remove_sets(void)
{
	const char *names_[] = { "segment", "groupw", "v2", "flip", "trunc", "many", "groups" };
	unsigned i;

	for (i = 0; i < sizeof names_ / sizeof names_[0]; i++) {
		char p[160];
		struct om_header h;
		int fd;

		snprintf(p, sizeof p, "%s/%s", dir, names_[i]);
		fd = open(p, O_RDONLY);
		if (fd >= 0 && pread(fd, &h, sizeof h, 0) == sizeof h && h.magic == OM_MAGIC)
			om_live_remove(h.sem_id);
		if (fd >= 0)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--after-exec"))
		return after_exec("OM_SEG_PATH", 32, argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--after-exec-many"))
		return after_exec("OM_SEG_PATH2", 64, argv[2]);
	signal(SIGUSR1, SIG_IGN);
	if (!mkdtemp(dir))
		return 2;
	snprintf(path, sizeof path, "%s/segment", dir);
	setenv("OM_SEG_PATH", path, 1);
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
	remove_sets();
	unlink(path);
	gauge_settles();
	exec_keeps_slot(argv[0]);
	exec_among_many(argv[0]);
	groups_find_holes();
	writer_refuses();
	reader_refuses();
	remove_sets();
	{
		char cmd[200];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			check_failures++;
	}
	return check_done("test_segment");
}
