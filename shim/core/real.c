#include "core/real.h"

#include <dlfcn.h>
#include <errno.h>

void *om_real_resolve(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* The trampolines: the first call of each function resolves it.  A symbol
 * that does not exist leaves the pointer on its trampoline and fails the
 * call with ENOSYS. */
#define OM_TRAMPOLINE(ret, name, params, args)                                \
	static ret om_first_##name params                                     \
	{                                                                     \
		ret (*next_) params = (ret(*) params)om_real_resolve(#name);  \
		if (!next_) {                                                 \
			errno = ENOSYS;                                       \
			return (ret)-1;                                       \
		}                                                             \
		__atomic_store_n(&om_real.name, next_, __ATOMIC_RELAXED);     \
		return next_ args;                                            \
	}
OM_REAL_FIXED(OM_TRAMPOLINE)
#undef OM_TRAMPOLINE

struct om_real om_real = {
#define OM_REAL_INIT(ret, name, params, args) .name = om_first_##name,
	OM_REAL_FIXED(OM_REAL_INIT)
#undef OM_REAL_INIT
};

void om_real_prime(void)
{
#define OM_REAL_PRIME(name)                                                   \
	if (om_real.name == om_first_##name) {                                \
		__typeof__(om_real.name) next_ = (__typeof__(next_))om_real_resolve(#name); \
		if (next_)                                                    \
			__atomic_store_n(&om_real.name, next_, __ATOMIC_RELAXED); \
	}
	OM_REAL_PRIME(write)
	OM_REAL_PRIME(close)
	OM_REAL_PRIME(sigaction)
#undef OM_REAL_PRIME
	/* and what a fork child calls before exec: resolved here once, not
	 * in every child (a dlsym each, and a child of a threaded program
	 * had better not need the loader's lock) */
	if (!om_real.close_range)
		om_real.close_range = (__typeof__(om_real.close_range))om_real_resolve("close_range");
	if (!om_real.closefrom)
		om_real.closefrom = (__typeof__(om_real.closefrom))om_real_resolve("closefrom");
}
