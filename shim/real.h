/* The next definition of every function the shim wraps (normally libc's).
 *
 * Pointers are resolved with dlsym(RTLD_NEXT) in the constructor; a call
 * that arrives earlier (another library's constructor doing I/O) resolves
 * its own pointer on the spot.  Going through the next definition rather
 * than raw syscalls keeps cancellation points, vDSO use and any preload
 * stacked before us (torsocks, proxychains) working. */
#ifndef OM_REAL_H
#define OM_REAL_H

#include <sys/socket.h>
#include <sys/types.h>

#define OM_REAL_LIST(X)                                                       \
	X(int, connect, (int, const struct sockaddr *, socklen_t))            \
	X(ssize_t, read, (int, void *, size_t))                               \
	X(ssize_t, write, (int, const void *, size_t))                        \
	X(ssize_t, send, (int, const void *, size_t, int))                    \
	X(ssize_t, recv, (int, void *, size_t, int))                          \
	X(int, close, (int))                                                  \
	X(int, dup2, (int, int))                                              \
	X(int, dup3, (int, int, int))                                         \
	X(int, close_range, (unsigned, unsigned, int))                        \
	X(int, getsockopt, (int, int, int, void *, socklen_t *))

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
