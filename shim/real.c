#include "real.h"

#include <dlfcn.h>

struct om_real om_real;

void *om_real_resolve(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

void om_real_resolve_all(void)
{
#define OM_REAL_SET(ret, name, args)                                          \
	if (!om_real.name)                                                    \
		om_real.name = (ret(*) args)om_real_resolve(#name);
	OM_REAL_LIST(OM_REAL_SET)
#undef OM_REAL_SET
}
