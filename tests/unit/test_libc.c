/* The shim's own libc functions (shim/core/sys.c, shim/core/string.c),
 * linked in here as they are into the shim: this program's calls land on
 * them, and libc's are reached through dlsym() for the answer they must
 * match, result and errno alike. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			failures++;                                           \
		}                                                             \
	} while (0)

static void *libc(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "libc has no %s\n", name);
		exit(2);
	}
	return f;
}

static int sign(long v)
{
	return (v > 0) - (v < 0);
}

static const char *const words[] = {
	"", "a", "A", "ab", "abc", "abd", "ABC", "aBc", "onion", "ONION", ".onion", "x.onion",
	"localhost", "LocalHost", "\x80", "\xff", "a\xff", "unix:/run/tor/socks", "127.0.0.1:9050",
	"[::1]:9050", "ONIONMETER_POLICY=audit",
};
#define NWORDS (sizeof words / sizeof *words)

static void strings(void)
{
	size_t (*l_strlen)(const char *) = libc("strlen");
	size_t (*l_strnlen)(const char *, size_t) = libc("strnlen");
	int (*l_strcmp)(const char *, const char *) = libc("strcmp");
	int (*l_strncmp)(const char *, const char *, size_t) = libc("strncmp");
	int (*l_strcasecmp)(const char *, const char *) = libc("strcasecmp");
	int (*l_strncasecmp)(const char *, const char *, size_t) = libc("strncasecmp");
	char *(*l_strchr)(const char *, int) = libc("strchr");
	char *(*l_strrchr)(const char *, int) = libc("strrchr");
	size_t i, j, n;
	char buf[64];

	for (i = 0; i < NWORDS; i++) {
		const char *a = words[i];

		CHECK(strlen(a) == l_strlen(a), "strlen(\"%s\")", a);
		strcpy(buf, a);
		CHECK(!l_strcmp(buf, a), "strcpy(\"%s\")", a);
		for (n = 0; n < 8; n++)
			CHECK(strnlen(a, n) == l_strnlen(a, n), "strnlen(\"%s\", %zu)", a, n);
		for (j = 0; j < 256; j++) {
			CHECK(strchr(a, (int)j) == l_strchr(a, (int)j), "strchr(\"%s\", %zu)", a, j);
			CHECK(strrchr(a, (int)j) == l_strrchr(a, (int)j), "strrchr(\"%s\", %zu)", a, j);
		}
		for (j = 0; j < NWORDS; j++) {
			const char *b = words[j];

			CHECK(sign(strcmp(a, b)) == sign(l_strcmp(a, b)), "strcmp(\"%s\", \"%s\")", a, b);
			CHECK(sign(strcasecmp(a, b)) == sign(l_strcasecmp(a, b)),
			      "strcasecmp(\"%s\", \"%s\")", a, b);
			for (n = 0; n < 8; n++) {
				CHECK(sign(strncmp(a, b, n)) == sign(l_strncmp(a, b, n)),
				      "strncmp(\"%s\", \"%s\", %zu)", a, b, n);
				CHECK(sign(strncasecmp(a, b, n)) == sign(l_strncasecmp(a, b, n)),
				      "strncasecmp(\"%s\", \"%s\", %zu)", a, b, n);
			}
		}
	}
}

static void numbers(void)
{
	static const char *const in[] = {
		"", " ", "0", "00", "7", "08", "0x", "0x1g", "0X1F", "0xg", "077", "  42", "\t\n 9",
		"+5", "-1", "-0x10", "+-1", "1 ", "12abc", "4096", "1048576", "18446744073709551615",
		"18446744073709551616", "99999999999999999999999", "0x10000000000000000", "zz", "Zz",
		"0b101", "1e3", "-",
	};
	static const int bases[] = { 0, 2, 8, 10, 16, 36 };
	static const int bad[] = { 1, 37, -1 }; /* unspecified: glibc leaves *end past the digits */
	unsigned long (*l_strtoul)(const char *, char **, int) = libc("strtoul");
	size_t i, b;

	for (i = 0; i < sizeof in / sizeof *in; i++)
		for (b = 0; b < sizeof bases / sizeof *bases; b++) {
			char *e1, *e2;
			unsigned long v1, v2;
			int r1, r2;

			errno = 0;
			v1 = strtoul(in[i], &e1, bases[b]);
			r1 = errno;
			errno = 0;
			v2 = l_strtoul(in[i], &e2, bases[b]);
			r2 = errno;
			CHECK(v1 == v2 && e1 == e2 && r1 == r2,
			      "strtoul(\"%s\", %d): %lu +%td errno %d, libc %lu +%td errno %d", in[i],
			      bases[b], v1, e1 - in[i], r1, v2, e2 - in[i], r2);
		}
	for (b = 0; b < sizeof bad / sizeof *bad; b++) {
		errno = 0;
		CHECK(strtoul("12", NULL, bad[b]) == 0 && errno == EINVAL, "strtoul(base %d)", bad[b]);
	}
}

/* A call that fails must fail as libc's does: -1 and the same errno. */
#define SAME_FAILURE(call, lcall)                                             \
	do {                                                                  \
		long r1_, r2_;                                                \
		int e1_, e2_;                                                 \
		errno = 0;                                                    \
		r1_ = (long)(call);                                           \
		e1_ = errno;                                                  \
		errno = 0;                                                    \
		r2_ = (long)(lcall);                                          \
		e2_ = errno;                                                  \
		CHECK(r1_ == r2_ && e1_ == e2_, #call ": %ld errno %d, libc %ld errno %d", \
		      r1_, e1_, r2_, e2_);                                    \
	} while (0)

static void files(void)
{
	int (*l_fstat)(int, struct stat *) = libc("fstat64");
	int (*l_stat)(const char *, struct stat *) = libc("stat64");
	int (*l_unlink)(const char *) = libc("unlink");
	int (*l_link)(const char *, const char *) = libc("link");
	int (*l_fchmod)(int, mode_t) = libc("fchmod");
	char dir[] = "/tmp/om-test-libc.XXXXXX", path[64], path2[64], got[32];
	struct stat a, b;
	int fd;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof path, "%s/f", dir);
	snprintf(path2, sizeof path2, "%s/g", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "open");
	CHECK(ftruncate(fd, 8192) == 0, "ftruncate");
	CHECK(pwrite(fd, "onion", 5, 4096) == 5, "pwrite");
	CHECK(pread(fd, got, 5, 4096) == 5 && !memcmp(got, "onion", 5), "pread");
	CHECK(pread(fd, got, 5, 8192) == 0, "pread at the end");
	CHECK(fchmod(fd, 0640) == 0, "fchmod");
	CHECK(fstat(fd, &a) == 0 && l_fstat(fd, &b) == 0 && a.st_ino == b.st_ino &&
		      a.st_size == 8192 && b.st_size == 8192 && (a.st_mode & 0777) == 0640 &&
		      a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_nlink == 1,
	      "fstat");
	CHECK(stat(path, &a) == 0 && l_stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		      a.st_mtim.tv_nsec == b.st_mtim.tv_nsec,
	      "stat");
	CHECK(link(path, path2) == 0 && stat(path2, &a) == 0 && a.st_nlink == 2, "link");
	SAME_FAILURE(link(path, path2), l_link(path, path2));
	CHECK(unlink(path2) == 0, "unlink");
	SAME_FAILURE(unlink(path2), l_unlink(path2));
	SAME_FAILURE(stat(path2, &a), l_stat(path2, &b));
	SAME_FAILURE(fstat(-1, &a), l_fstat(-1, &b));
	SAME_FAILURE(fchmod(-1, 0600), l_fchmod(-1, 0600));
	SAME_FAILURE(pread(-1, got, 1, 0), ((ssize_t(*)(int, void *, size_t, off_t))libc("pread64"))(-1, got, 1, 0));
	{
		char l1[256] = "", l2[256] = "";
		ssize_t n1 = readlinkat(AT_FDCWD, "/proc/self/exe", l1, sizeof l1 - 1);
		ssize_t n2 = ((ssize_t(*)(int, const char *, char *, size_t))libc("readlinkat"))(
			AT_FDCWD, "/proc/self/exe", l2, sizeof l2 - 1);

		CHECK(n1 > 0 && n1 == n2 && !memcmp(l1, l2, (size_t)n1), "readlinkat");
	}
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void memory_and_process(void)
{
	pid_t (*l_getpid)(void) = libc("getpid");
	pid_t (*l_getppid)(void) = libc("getppid");
	pid_t (*l_gettid)(void) = libc("gettid");
	uid_t (*l_geteuid)(void) = libc("geteuid");
	int (*l_getrlimit)(int, struct rlimit *) = libc("getrlimit64");
	long ps = sysconf(_SC_PAGESIZE);
	struct rlimit r1, r2;
	char *p, name[16] = "", src[8] = "abcdefg", dst[8] = "";
	struct iovec lo = { dst, 7 }, re = { src, 7 };
	unsigned char rnd[32] = { 0 };
	size_t i, nz = 0;

	CHECK(getpid() == l_getpid() && getppid() == l_getppid() && gettid() == l_gettid() &&
		      geteuid() == l_geteuid(),
	      "ids");
	p = mmap(NULL, (size_t)ps * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	p[ps] = 1;
	CHECK(madvise(p, (size_t)ps * 2, MADV_DONTNEED) == 0 && p[ps] == 0, "madvise");
	CHECK(mprotect(p, (size_t)ps, PROT_READ) == 0, "mprotect");
	CHECK(munmap(p, (size_t)ps * 2) == 0, "munmap");
	errno = 0;
	CHECK(mmap(NULL, 1, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED && errno == EBADF,
	      "mmap failure: errno %d", errno);
	CHECK(getrlimit(RLIMIT_NOFILE, &r1) == 0 && l_getrlimit(RLIMIT_NOFILE, &r2) == 0 &&
		      r1.rlim_cur == r2.rlim_cur && r1.rlim_max == r2.rlim_max,
	      "getrlimit");
	CHECK(prctl(PR_GET_NAME, name) == 0 && !strcmp(name, "test_libc"), "prctl: \"%s\"", name);
	CHECK(getrandom(rnd, sizeof rnd, 0) == (ssize_t)sizeof rnd, "getrandom");
	for (i = 0; i < sizeof rnd; i++)
		nz += rnd[i] != 0;
	CHECK(nz > 16, "getrandom: %zu of 32 bytes nonzero", nz);
	CHECK(process_vm_readv(getpid(), &lo, 1, &re, 1, 0) == 7 && !memcmp(dst, src, 7),
	      "process_vm_readv");
	CHECK(sched_yield() == 0, "sched_yield");
}

static void sockets_and_sems(void)
{
	int (*l_getsockname)(int, struct sockaddr *, socklen_t *) = libc("getsockname");
	int (*l_getpeername)(int, struct sockaddr *, socklen_t *) = libc("getpeername");
	struct sockaddr_storage a, b;
	socklen_t la = sizeof a, lb = sizeof b;
	int sv[2], queued = -1, id;
	struct semid_ds ds;
	union {
		int val;
		struct semid_ds *buf;
		unsigned short *array;
	} arg;
	unsigned short vals[3] = { 9, 9, 9 };
	struct sembuf op = { 1, 1, 0 };

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(write(sv[0], "xyz", 3) == 3 && ioctl(sv[1], FIONREAD, &queued) == 0 && queued == 3,
	      "ioctl FIONREAD: %d", queued);
	CHECK(getsockname(sv[0], (struct sockaddr *)&a, &la) == 0 &&
		      l_getsockname(sv[0], (struct sockaddr *)&b, &lb) == 0 && la == lb &&
		      a.ss_family == AF_UNIX,
	      "getsockname");
	la = lb = sizeof a;
	CHECK(getpeername(sv[0], (struct sockaddr *)&a, &la) == 0 &&
		      l_getpeername(sv[0], (struct sockaddr *)&b, &lb) == 0 && la == lb,
	      "getpeername");
	SAME_FAILURE(getpeername(1000, (struct sockaddr *)&a, &la),
		     l_getpeername(1000, (struct sockaddr *)&b, &lb));
	close(sv[0]);
	close(sv[1]);

	id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	CHECK(id >= 0, "semget");
	arg.val = 5;
	CHECK(semctl(id, 2, SETVAL, arg) == 0 && semctl(id, 2, GETVAL) == 5, "SETVAL/GETVAL");
	CHECK(semop(id, &op, 1) == 0 && semctl(id, 1, GETVAL) == 1 &&
		      semctl(id, 1, GETPID) == getpid(),
	      "semop, GETPID");
	arg.array = vals;
	CHECK(semctl(id, 0, GETALL, arg) == 0 && vals[0] == 0 && vals[1] == 1 && vals[2] == 5,
	      "GETALL: %u %u %u", vals[0], vals[1], vals[2]);
	arg.buf = &ds;
	CHECK(semctl(id, 0, IPC_STAT, arg) == 0 && ds.sem_nsems == 3 &&
		      ds.sem_perm.uid == geteuid() && (ds.sem_perm.mode & 0777) == 0600,
	      "IPC_STAT");
	CHECK(semctl(id, 0, IPC_RMID) == 0, "IPC_RMID");
	errno = 0;
	CHECK(semctl(id, 0, GETVAL) == -1 && (errno == EINVAL || errno == EIDRM), "removed: %d",
	      errno);
}

static void sigsets(void)
{
	int (*l_sigismember)(const sigset_t *, int) = libc("sigismember");
	sigset_t s;
	int n;

	CHECK(sigemptyset(&s) == 0, "sigemptyset");
	for (n = 1; n < NSIG; n++)
		CHECK(!l_sigismember(&s, n), "empty set has %d", n);
	CHECK(sigaddset(&s, SIGBUS) == 0 && sigaddset(&s, SIGRTMAX) == 0, "sigaddset");
	for (n = 1; n < NSIG; n++)
		CHECK(sigismember(&s, n) == (n == SIGBUS || n == SIGRTMAX) &&
			      l_sigismember(&s, n) == sigismember(&s, n),
		      "member %d", n);
	CHECK(sigdelset(&s, SIGBUS) == 0 && !l_sigismember(&s, SIGBUS), "sigdelset");
	errno = 0;
	CHECK(sigaddset(&s, 0) == -1 && errno == EINVAL, "sigaddset(0)");
	CHECK(sigismember(&s, NSIG) == -1, "sigismember(NSIG)");
}

int main(void)
{
	strings();
	numbers();
	files();
	memory_and_process();
	sockets_and_sems();
	sigsets();
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("shim's own libc functions: all match libc\n");
	return 0;
}
