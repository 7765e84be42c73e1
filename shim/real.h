/* The next definition of every function the shim wraps (normally libc's).
 *
 * Pointers are resolved with dlsym(RTLD_NEXT) in the constructor; a call
 * that arrives earlier (another library's constructor doing I/O) resolves
 * its own pointer on the spot.  Going through the next definition rather
 * than raw syscalls keeps cancellation points, vDSO use and any preload
 * stacked before us (torsocks, proxychains) working. */
#ifndef OM_REAL_H
#define OM_REAL_H

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define OM_REAL_LIST(X)                                                       \
	X(int, socket, (int, int, int))                                       \
	X(int, socketpair, (int, int, int, int *))                            \
	X(int, connect, (int, const struct sockaddr *, socklen_t))            \
	X(int, accept, (int, struct sockaddr *, socklen_t *))                 \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int))           \
	X(ssize_t, read, (int, void *, size_t))                               \
	X(ssize_t, write, (int, const void *, size_t))                        \
	X(ssize_t, readv, (int, const struct iovec *, int))                   \
	X(ssize_t, writev, (int, const struct iovec *, int))                  \
	X(ssize_t, send, (int, const void *, size_t, int))                    \
	X(ssize_t, recv, (int, void *, size_t, int))                          \
	X(ssize_t, sendto, (int, const void *, size_t, int,                   \
			    const struct sockaddr *, socklen_t))              \
	X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *,    \
			      socklen_t *))                                   \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int))                \
	X(ssize_t, recvmsg, (int, struct msghdr *, int))                      \
	X(int, sendmmsg, (int, struct mmsghdr *, unsigned, int))              \
	X(int, recvmmsg, (int, struct mmsghdr *, unsigned, int,               \
			  struct timespec *))                                 \
	X(ssize_t, sendfile, (int, int, off_t *, size_t))                     \
	X(ssize_t, sendfile64, (int, int, off64_t *, size_t))                 \
	X(ssize_t, __read_chk, (int, void *, size_t, size_t))                 \
	X(ssize_t, __recv_chk, (int, void *, size_t, size_t, int))            \
	X(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int,         \
				    struct sockaddr *, socklen_t *))          \
	X(int, close, (int))                                                  \
	X(int, dup, (int))                                                    \
	X(int, dup2, (int, int))                                              \
	X(int, dup3, (int, int, int))                                         \
	X(int, fcntl, (int, int, ...))                                        \
	X(int, fcntl64, (int, int, ...))                                      \
	X(int, close_range, (unsigned, unsigned, int))                        \
	X(int, getsockopt, (int, int, int, void *, socklen_t *))              \
	X(long, syscall, (long, ...))                                         \
	X(int, getaddrinfo, (const char *, const char *,                      \
			     const struct addrinfo *, struct addrinfo **))    \
	X(struct hostent *, gethostbyname, (const char *))                    \
	X(struct hostent *, gethostbyname2, (const char *, int))              \
	X(int, gethostbyname_r, (const char *, struct hostent *, char *,      \
				 size_t, struct hostent **, int *))           \
	X(int, gethostbyname2_r, (const char *, int, struct hostent *,        \
				  char *, size_t, struct hostent **, int *))  \
	X(int, getaddrinfo_a, (int, struct gaicb **, int, struct sigevent *))

#define OM_REAL_DECL(ret, name, args) ret(*name) args;
struct om_real {
	OM_REAL_LIST(OM_REAL_DECL)
};
#undef OM_REAL_DECL

extern struct om_real om_real;

void om_real_resolve_all(void);
void *om_real_resolve(const char *name);

#define OM_REAL_GETTER(ret, name, args)                                       \
	static inline __typeof__(om_real.name) om_next_##name(void)           \
	{                                                                     \
		__typeof__(om_real.name) f = om_real.name;                    \
		if (__builtin_expect(!f, 0))                                  \
			om_real.name = f = (__typeof__(f))om_real_resolve(#name); \
		return f;                                                     \
	}
OM_REAL_LIST(OM_REAL_GETTER)
#undef OM_REAL_GETTER

#define OM_REAL(name) (om_next_##name())

#endif
