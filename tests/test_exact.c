/* Nothing is lost, nothing counted twice, nothing goes backwards.
 *
 * Runs exact_writer under the shim twice into one fresh segment (the
 * second run reuses the slots the first left behind) while this process
 * scrapes the segment in a tight loop through the exporter's own reader,
 * checking that no counter ever decreases.  Then the totals must equal the
 * bytes the writers moved, exactly. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "common/reader.h"

/* THREADS well above the 16 private blocks: 32 threads per process share
 * the overflow block, enough contention to catch a lost update there. */
enum { PROCS = 3, THREADS = 48, CONNS = 2, WRITES = 150, SIZE = 101 };

static void *echo(void *arg)
{
	int fd = (int)(long)arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
	return 0;
}

static int start_sink(pid_t *pid)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 512) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	*pid = fork();
	if (*pid == 0) {
		for (;;) {
			pthread_t t;
			int fd = accept(ls, 0, 0);

			if (fd >= 0 && pthread_create(&t, 0, echo, (void *)(long)fd) == 0)
				pthread_detach(t);
		}
	}
	close(ls);
	return ntohs(sa.sin_port);
}

/* Counters that must never decrease between two scrapes. */
static int monotonic(const struct om_totals *a, const struct om_totals *b)
{
	const uint64_t *pa = &a->bytes[0][0], *pb = &b->bytes[0][0];
	const uint64_t *end = &a->open_now[0];

	for (; pa < end; pa++, pb++)
		if (*pb < *pa)
			return 0;
	return b->proxy_unreachable >= a->proxy_unreachable &&
	       b->accepted[0] >= a->accepted[0] && b->slots_used >= a->slots_used;
}

int main(void)
{
	const char *shim = getenv("OM_PRELOAD"), *writer = getenv("OM_EXACT_WRITER");
	char seg[] = "/tmp/om-exact-XXXXXX", segpath[64], env_pre[4096], env_seg[128];
	char args[7][16], rep[16384];
	struct om_reader r;
	struct om_totals prev, cur;
	long sig_total = 0, scrapes = 0, expect;
	int port, round, fds[2], have_prev = 0;
	pid_t sink = -1;

	if (!shim || !writer) {
		fprintf(stderr, "need OM_PRELOAD and OM_EXACT_WRITER\n");
		return 2;
	}
	if (!mkdtemp(seg))
		return 2;
	snprintf(segpath, sizeof segpath, "%s/segment", seg);
	snprintf(env_pre, sizeof env_pre, "LD_PRELOAD=%s", shim);
	snprintf(env_seg, sizeof env_seg, "ONIONMETER_SEGMENT=%s", segpath);
	port = start_sink(&sink);
	CHECK(port > 0);
	om_reader_init(&r, segpath);

	for (round = 0; round < 2; round++) {
		char *envp[] = { env_pre, env_seg, getenv("ASAN_OPTIONS") ? "ASAN_OPTIONS=detect_leaks=0" : 0, 0 };
		size_t replen = 0;
		ssize_t n;
		pid_t w;
		int st;

		if (pipe(fds) < 0)
			return 2;
		snprintf(args[0], 16, "%d", port);
		snprintf(args[1], 16, "%d", PROCS);
		snprintf(args[2], 16, "%d", THREADS);
		snprintf(args[3], 16, "%d", CONNS);
		snprintf(args[4], 16, "%d", WRITES);
		snprintf(args[5], 16, "%d", SIZE);
		snprintf(args[6], 16, "%d", fds[1]);
		w = fork();
		if (w == 0) {
			char *argv[] = { (char *)writer, args[0], args[1], args[2], args[3],
					 args[4], args[5], args[6], 0 };
			close(fds[0]);
			execve(writer, argv, envp);
			_exit(127);
		}
		close(fds[1]);
		while (waitpid(w, &st, WNOHANG) == 0) {
			if (om_reader_snapshot(&r, &cur) == 0) {
				if (have_prev && !monotonic(&prev, &cur)) {
					fprintf(stderr, "a counter went backwards at scrape %ld\n", scrapes);
					check_failures++;
				}
				prev = cur;
				have_prev = 1;
				scrapes++;
			}
		}
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		while ((n = read(fds[0], rep + replen, sizeof rep - 1 - replen)) > 0)
			replen += (size_t)n;
		rep[replen] = '\0';
		close(fds[0]);
		for (char *p = rep; *p; p = strchr(p, '\n') + 1)
			sig_total += atol(p);
	}
	kill(sink, SIGKILL);
	waitpid(sink, 0, 0);

	CHECK(om_reader_snapshot(&r, &cur) == 0);
	expect = 2L * (PROCS + 1) * THREADS * CONNS * WRITES * SIZE + sig_total;
	printf("%ld scrapes during the runs; %ld bytes from signal handlers; "
	       "expecting %ld bytes each way\n", scrapes, sig_total, expect);
	CHECK(scrapes > 10);
	CHECK(sig_total > 0);
	CHECK_EQ(cur.bytes[OM_CLASS_LOCAL][OM_EGRESS], expect);
	CHECK_EQ(cur.bytes[OM_CLASS_LOCAL][OM_INGRESS], expect);
	CHECK_EQ(cur.dials[OM_CLASS_LOCAL][OM_OUT_SUCCESS],
		 2L * (PROCS + 1) * (THREADS * CONNS + 1));
	CHECK_EQ(cur.bytes[OM_CLASS_DIRECT][OM_EGRESS] + cur.bytes[OM_CLASS_ONION][OM_EGRESS] +
		 cur.bytes[OM_CLASS_PROXIED][OM_EGRESS], 0);
	CHECK_EQ(cur.open_now[OM_CLASS_LOCAL], 0);
	CHECK_EQ(cur.processes, 0);
	/* the second run reused the first run's slots: no more were needed */
	CHECK(cur.slots_used <= PROCS + 1);
	CHECK(om_reader_remove(&r) == 0);
	rmdir(seg);
	return check_done("test_exact");
}
