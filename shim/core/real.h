/* The next definition of every function the shim wraps (normally libc's).
 *
 * Each pointer is resolved with dlsym(RTLD_NEXT) by its first call, so a
 * process pays only for what it uses, and calls that arrive before our
 * constructor (another library's constructor doing I/O) just work.  Going through the next definition rather
 * than raw syscalls keeps cancellation points, vDSO use and any preload
 * stacked before us (torsocks, proxychains) working. */
#ifndef OM_REAL_H
#define OM_REAL_H

#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* Functions with a fixed argument list: return type, name, parameters,
 * arguments as forwarded by the resolver trampoline. */
#define OM_REAL_FIXED(X) \
	X(int, socket, (int a, int b, int c), (a, b, c)) \
	X(int, socketpair, (int a, int b, int c, int *d), (a, b, c, d)) \
	X(int, connect, (int a, const struct sockaddr *b, socklen_t c), (a, b, c)) \
	X(int, accept, (int a, struct sockaddr *b, socklen_t *c), (a, b, c)) \
	X(int, accept4, (int a, struct sockaddr *b, socklen_t *c, int d), (a, b, c, d)) \
	X(ssize_t, read, (int a, void *b, size_t c), (a, b, c)) \
	X(ssize_t, write, (int a, const void *b, size_t c), (a, b, c)) \
	X(ssize_t, readv, (int a, const struct iovec *b, int c), (a, b, c)) \
	X(ssize_t, writev, (int a, const struct iovec *b, int c), (a, b, c)) \
	X(ssize_t, send, (int a, const void *b, size_t c, int d), (a, b, c, d)) \
	X(ssize_t, recv, (int a, void *b, size_t c, int d), (a, b, c, d)) \
	X(ssize_t, sendto, (int a, const void *b, size_t c, int d, const struct sockaddr *e, socklen_t f), (a, b, c, d, e, f)) \
	X(ssize_t, recvfrom, (int a, void *b, size_t c, int d, struct sockaddr *e, socklen_t *f), (a, b, c, d, e, f)) \
	X(ssize_t, sendmsg, (int a, const struct msghdr *b, int c), (a, b, c)) \
	X(ssize_t, recvmsg, (int a, struct msghdr *b, int c), (a, b, c)) \
	X(int, sendmmsg, (int a, struct mmsghdr *b, unsigned c, om_mmsg_flags d), (a, b, c, d)) \
	X(int, recvmmsg, (int a, struct mmsghdr *b, unsigned c, om_mmsg_flags d, struct timespec *e), (a, b, c, d, e)) \
	X(ssize_t, sendfile, (int a, int b, off_t *c, size_t d), (a, b, c, d)) \
	X(ssize_t, splice, (int a, loff_t *b, int c, loff_t *d, size_t e, unsigned f), (a, b, c, d, e, f)) \
	X(int, creat, (const char *a, mode_t b), (a, b)) \
	X(int, pipe, (int *a), (a)) \
	X(int, pipe2, (int *a, int b), (a, b)) \
	X(int, fclose, (FILE *a), (a)) \
	X(int, fileno, (FILE *a), (a)) /* not wrapped: resolved when fclose() first needs it */ \
	X(int, close, (int a), (a)) \
	X(int, unshare, (int a), (a)) \
	X(int, setns, (int a, int b), (a, b)) \
	X(int, dup, (int a), (a)) \
	X(int, posix_spawn, (pid_t *a, const char *b, const posix_spawn_file_actions_t *c, const posix_spawnattr_t *d, char *const *e, char *const *f), (a, b, c, d, e, f)) \
	X(int, posix_spawnp, (pid_t *a, const char *b, const posix_spawn_file_actions_t *c, const posix_spawnattr_t *d, char *const *e, char *const *f), (a, b, c, d, e, f)) \
	X(int, dup2, (int a, int b), (a, b)) \
	X(int, dup3, (int a, int b, int c), (a, b, c)) \
	X(int, getsockopt, (int a, int b, int c, void *d, socklen_t *e), (a, b, c, d, e)) \
	X(int, sigaction, (int a, const struct sigaction *b, struct sigaction *c), (a, b, c)) \
	X(int, sigprocmask, (int a, const sigset_t *b, sigset_t *c), (a, b, c)) \
	X(int, pthread_sigmask, (int a, const sigset_t *b, sigset_t *c), (a, b, c)) \
	X(sighandler_t, signal, (int a, sighandler_t b), (a, b)) \
	X(int, getaddrinfo, (const char *a, const char *b, const struct addrinfo *c, struct addrinfo **d), (a, b, c, d)) \
	X(int, gethostbyname_r, (const char *a, struct hostent *b, char *c, size_t d, struct hostent **e, int *f), (a, b, c, d, e, f)) \
	X(int, gethostbyname2_r, (const char *a, int b, struct hostent *c, char *d, size_t e, struct hostent **f, int *g), (a, b, c, d, e, f, g)) \
	OM_REAL_GLIBC(X)

/* glibc's own entry points: 64-bit-offset twins, _FORTIFY_SOURCE checks,
 * asynchronous lookups.  musl has none of them. */
#ifdef __GLIBC__
#define OM_REAL_GLIBC(X)                                                      \
	X(ssize_t, sendfile64, (int a, int b, off64_t *c, size_t d), (a, b, c, d)) \
	X(ssize_t, __read_chk, (int a, void *b, size_t c, size_t d), (a, b, c, d)) \
	X(ssize_t, __recv_chk, (int a, void *b, size_t c, size_t d, int e), (a, b, c, d, e)) \
	X(ssize_t, __recvfrom_chk, (int a, void *b, size_t c, size_t d, int e, struct sockaddr *f, socklen_t *g), (a, b, c, d, e, f, g)) \
	X(int, getaddrinfo_a, (int a, struct gaicb **b, int c, struct sigevent *d), (a, b, c, d)) \
	X(sighandler_t, sysv_signal, (int a, sighandler_t b), (a, b)) \
	X(int, creat64, (const char *a, mode_t b), (a, b)) \
	X(int, __open_2, (const char *a, int b), (a, b)) \
	X(int, __open64_2, (const char *a, int b), (a, b)) \
	X(int, __openat_2, (int a, const char *b, int c), (a, b, c)) \
	X(int, __openat64_2, (int a, const char *b, int c), (a, b, c))
typedef int om_mmsg_flags;
#else
#define OM_REAL_GLIBC(X)
typedef unsigned om_mmsg_flags;
#endif

/* Variadic, returning a pointer, or possibly absent (close_range before
 * glibc 2.34): resolved on first use behind a NULL check. */
#define OM_REAL_CHECKED(X)                                                    \
	X(struct hostent *, gethostbyname, (const char *))                    \
	X(struct hostent *, gethostbyname2, (const char *, int))              \
	X(int, fcntl, (int, int, ...))                                        \
	X(int, fcntl64, (int, int, ...))                                      \
	X(int, close_range, (unsigned, unsigned, int))                        \
	X(void, closefrom, (int))                                             \
	X(int, open, (const char *, int, ...))                                \
	X(int, openat, (int, const char *, int, ...))                         \
	X(long, syscall, (long, ...))                                         \
	OM_REAL_CHECKED_GLIBC(X)

#ifdef __GLIBC__
#define OM_REAL_CHECKED_GLIBC(X)                                              \
	X(int, open64, (const char *, int, ...))                              \
	X(int, openat64, (int, const char *, int, ...))
#else
#define OM_REAL_CHECKED_GLIBC(X)
#endif

struct om_real {
#define OM_REAL_DECL_FIXED(ret, name, params, args) ret (*name) params;
#define OM_REAL_DECL(ret, name, params) ret (*name) params;
	OM_REAL_FIXED(OM_REAL_DECL_FIXED)
	OM_REAL_CHECKED(OM_REAL_DECL)
#undef OM_REAL_DECL_FIXED
#undef OM_REAL_DECL
};

extern __attribute__((visibility("hidden"))) struct om_real om_real;

void *om_real_resolve(const char *name) __attribute__((cold));
/* Resolve now what a signal handler of ours may call (dlsym is not
 * async-signal-safe), and what a fork child calls before exec: done at
 * attach. */
void om_real_prime(void);

/* Fixed-arity functions start out pointing at a trampoline that resolves
 * the next definition, stores it and forwards the call: the hot path is a
 * load and an indirect jump, with no NULL test. */
#define OM_REAL_FIXED_GET(ret, name, params, args)                            \
	static inline ret (*om_next_##name(void)) params { return om_real.name; }
OM_REAL_FIXED(OM_REAL_FIXED_GET)
#undef OM_REAL_FIXED_GET

#define OM_REAL_CHECKED_GET(ret, name, params)                                \
	static inline __typeof__(om_real.name) om_next_##name(void)           \
	{                                                                     \
		__typeof__(om_real.name) f = om_real.name;                    \
		if (__builtin_expect(!f, 0))                                  \
			om_real.name = f = (__typeof__(f))om_real_resolve(#name); \
		return f;                                                     \
	}
OM_REAL_CHECKED(OM_REAL_CHECKED_GET)
#undef OM_REAL_CHECKED_GET

#define OM_REAL(name) (om_next_##name())

#endif
