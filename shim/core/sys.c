/* The system calls the shim itself makes, defined here under their libc
 * names with hidden visibility, as raw system calls.
 *
 * Every import of a library built with -z now is bound by the loader at
 * each exec, about 600 instructions apiece, whether the program ever opens
 * a socket or not.  These calls need nothing from libc but the errno
 * convention, so the shim's own code (and the common code linked into it)
 * binds to these at link time and the loader has nothing to look up.  The
 * program's calls never land here: hidden names are not in the dynamic
 * symbol table.  Raw calls also see the kernel's answer rather than a
 * preload stacked after us (torsocks answers getpeername() itself), which
 * is what the shim's bookkeeping wants, and they are never cancellation
 * points.
 *
 * Not here: what libc does more than trap (clock_gettime's vDSO,
 * posix_fallocate's emulation, getenv, the dl* and pthread functions).
 * An architecture without an inline trap below falls back to libc's
 * syscall(). */
#include "core/real.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define OM_HIDDEN __attribute__((visibility("hidden")))

static inline long trap(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b,
		      x2 __asm__("x2") = c, x3 __asm__("x3") = d, x4 __asm__("x4") = e,
		      x5 __asm__("x5") = f;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory", "cc");
	return x0;
#else
	long r = OM_REAL(syscall)(n, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
#endif
}

/* The kernel returns -errno; libc's convention is -1 and errno. */
static long ret(long r)
{
	if ((unsigned long)r > -4096UL) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define SC0(n) ret(trap(n, 0, 0, 0, 0, 0, 0))
#define SC(n, a, b, c, d, e, f) \
	ret(trap(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

OM_HIDDEN pid_t getpid(void) { return (pid_t)SC0(SYS_getpid); }
OM_HIDDEN pid_t getppid(void) { return (pid_t)SC0(SYS_getppid); }
OM_HIDDEN pid_t gettid(void) { return (pid_t)SC0(SYS_gettid); }
OM_HIDDEN uid_t geteuid(void) { return (uid_t)SC0(SYS_geteuid); }
OM_HIDDEN int sched_yield(void) { return (int)SC0(SYS_sched_yield); }
OM_HIDDEN int nanosleep(const struct timespec *req, struct timespec *rem)
{
	return (int)SC(SYS_nanosleep, req, rem, 0, 0, 0, 0);
}

OM_HIDDEN int raise(int sig)
{
	return (int)SC(SYS_tgkill, getpid(), gettid(), sig, 0, 0, 0);
}

OM_HIDDEN void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)SC(SYS_mmap, addr, len, prot, flags, fd, off);
}

OM_HIDDEN int munmap(void *addr, size_t len) { return (int)SC(SYS_munmap, addr, len, 0, 0, 0, 0); }

OM_HIDDEN int mprotect(void *addr, size_t len, int prot)
{
	return (int)SC(SYS_mprotect, addr, len, prot, 0, 0, 0);
}

OM_HIDDEN int madvise(void *addr, size_t len, int advice)
{
	return (int)SC(SYS_madvise, addr, len, advice, 0, 0, 0);
}

OM_HIDDEN ssize_t readlinkat(int dir, const char *restrict path, char *restrict buf, size_t len)
{
	return SC(SYS_readlinkat, dir, path, buf, len, 0, 0);
}

OM_HIDDEN ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	return SC(SYS_pread64, fd, buf, len, off, 0, 0);
}

OM_HIDDEN ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return SC(SYS_pwrite64, fd, buf, len, off, 0, 0);
}

OM_HIDDEN int fstat(int fd, struct stat *st) { return (int)SC(SYS_fstat, fd, st, 0, 0, 0, 0); }

OM_HIDDEN int stat(const char *restrict path, struct stat *restrict st)
{
	return (int)SC(SYS_newfstatat, AT_FDCWD, path, st, 0, 0, 0);
}

OM_HIDDEN int ftruncate(int fd, off_t len) { return (int)SC(SYS_ftruncate, fd, len, 0, 0, 0, 0); }
OM_HIDDEN int fchmod(int fd, mode_t mode) { return (int)SC(SYS_fchmod, fd, mode, 0, 0, 0, 0); }

OM_HIDDEN int link(const char *from, const char *to)
{
	return (int)SC(SYS_linkat, AT_FDCWD, from, AT_FDCWD, to, 0, 0);
}

OM_HIDDEN int unlink(const char *path) { return (int)SC(SYS_unlinkat, AT_FDCWD, path, 0, 0, 0, 0); }

#ifdef __GLIBC__
OM_HIDDEN int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
#else
OM_HIDDEN int getrlimit(int res, struct rlimit *rl)
#endif
{
	return (int)SC(SYS_prlimit64, 0, res, 0, rl, 0, 0);
}

OM_HIDDEN ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
	return SC(SYS_getrandom, buf, len, flags, 0, 0, 0);
}

OM_HIDDEN int prctl(int op, ...)
{
	va_list ap;
	unsigned long a;

	va_start(ap, op);
	a = va_arg(ap, unsigned long); /* the shim only asks PR_GET_NAME */
	va_end(ap);
	return (int)SC(SYS_prctl, op, a, 0, 0, 0, 0);
}

#ifdef __GLIBC__
OM_HIDDEN int ioctl(int fd, unsigned long req, ...)
#else
OM_HIDDEN int ioctl(int fd, int req, ...)
#endif
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (int)SC(SYS_ioctl, fd, req, arg, 0, 0, 0);
}

OM_HIDDEN ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nl,
				   const struct iovec *remote, unsigned long nr, unsigned long flags)
{
	return SC(SYS_process_vm_readv, pid, local, nl, remote, nr, flags);
}

/* glibc declares the address as a transparent union under _GNU_SOURCE. */
#if defined(__GLIBC__) && defined(__USE_GNU)
#define OM_SA_ARG __SOCKADDR_ARG
#define OM_SA(a) ((a).__sockaddr__)
#else
#define OM_SA_ARG struct sockaddr *restrict
#define OM_SA(a) (a)
#endif

OM_HIDDEN int getsockname(int fd, OM_SA_ARG addr, socklen_t *restrict len)
{
	return (int)SC(SYS_getsockname, fd, OM_SA(addr), len, 0, 0, 0);
}

OM_HIDDEN int getpeername(int fd, OM_SA_ARG addr, socklen_t *restrict len)
{
	return (int)SC(SYS_getpeername, fd, OM_SA(addr), len, 0, 0, 0);
}

OM_HIDDEN int semget(key_t key, int n, int flags) { return (int)SC(SYS_semget, key, n, flags, 0, 0, 0); }

OM_HIDDEN int semop(int id, struct sembuf *ops, size_t n)
{
	return (int)SC(SYS_semop, id, ops, n, 0, 0, 0);
}

/* The fourth argument, when a command takes one, is a union of an int
 * and pointers passed by value; the kernel reads it as one word. */
OM_HIDDEN int semctl(int id, int num, int cmd, ...)
{
	unsigned long arg = 0;
	va_list ap;

	switch (cmd) {
	case SETVAL:
	case SETALL:
	case GETALL:
	case IPC_STAT:
	case IPC_SET:
	case IPC_INFO:
	case SEM_INFO:
	case SEM_STAT:
		va_start(ap, cmd);
		arg = va_arg(ap, unsigned long);
		va_end(ap);
		break;
	}
	return (int)SC(SYS_semctl, id, num, cmd, arg, 0, 0);
}

/* glibc's and musl's sigset_t differ in field names, not in layout: an
 * array of words, signal n at bit n - 1. */
#define WORD(s, n) (((unsigned long *)(void *)(s))[((n) - 1) / (8 * sizeof(long))])
#define BIT(n) (1UL << (((n) - 1) % (8 * sizeof(long))))

static int bad_signal(int n)
{
	if (n > 0 && n < NSIG)
		return 0;
	errno = EINVAL;
	return 1;
}

OM_HIDDEN int sigemptyset(sigset_t *s)
{
	__builtin_memset(s, 0, sizeof *s);
	return 0;
}

OM_HIDDEN int sigaddset(sigset_t *s, int n)
{
	if (bad_signal(n))
		return -1;
	WORD(s, n) |= BIT(n);
	return 0;
}

OM_HIDDEN int sigdelset(sigset_t *s, int n)
{
	if (bad_signal(n))
		return -1;
	WORD(s, n) &= ~BIT(n);
	return 0;
}

OM_HIDDEN int sigismember(const sigset_t *s, int n)
{
	if (bad_signal(n))
		return -1;
	return !!(((const unsigned long *)(const void *)s)[(n - 1) / (8 * sizeof(long))] & BIT(n));
}
