#include "core/config.h"

#include <stdlib.h>
#include <sys/auxv.h>

#include "core/log.h"

struct om_config om_cfg;
static int loaded;

/* Setuid programs must not take orders from an untrusted environment. */
static const char *env(const char *name)
{
	return getauxval(AT_SECURE) ? 0 : getenv(name);
}

static void warn(const char *msg)
{
	om_say(msg, (char *)0);
}

void om_cfg_load(void)
{
	if (__atomic_load_n(&loaded, __ATOMIC_ACQUIRE))
		return;
	om_config_read(&om_cfg, env, warn);
	__atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
}
