#include "core/config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "core/log.h"

static int loaded; /* before om_cfg: the same page of .bss (a fault less per exec) */
struct om_config om_cfg;

/* The environment's ONIONMETER_ variables, gathered in one walk per load:
 * libc's getenv walks the whole environment for each of the nine settings,
 * at every exec, even when none is set.  A setuid program takes no orders
 * from its environment at all.  Per thread, as two threads may load at
 * once; more of ours than fit are looked for in the whole environment. */
#define OM_ENV_PREFIX "ONIONMETER_"
#define OM_ENV_PLEN (sizeof OM_ENV_PREFIX - 1)
#define OM_ENV_MAX 32
struct env_set {
	char **all; /* the environment, if more than OM_ENV_MAX are ours */
	int n;
	const char *v[OM_ENV_MAX];
};
static __thread const struct env_set *env_cur;

static void env_gather(struct env_set *set)
{
	extern char **environ;
	char **e = environ;

	set->all = 0;
	set->n = 0;
	if (getauxval(AT_SECURE) || !e)
		return;
	for (; *e; e++) {
		if ((*e)[0] != 'O' || strncmp(*e, OM_ENV_PREFIX, OM_ENV_PLEN))
			continue;
		if (set->n == OM_ENV_MAX) {
			set->all = environ;
			return;
		}
		set->v[set->n++] = *e + OM_ENV_PLEN;
	}
}

/* The value of "name=value" if s is that line, minus the common prefix. */
static const char *env_match(const char *s, const char *name, size_t len)
{
	return !strncmp(s, name, len) && s[len] == '=' ? s + len + 1 : 0;
}

static const char *env(const char *name)
{
	const struct env_set *set = env_cur;
	const char *v = 0;
	size_t len;
	int i;

	if (!set || strncmp(name, OM_ENV_PREFIX, OM_ENV_PLEN))
		return 0;
	name += OM_ENV_PLEN;
	len = strlen(name);
	if (set->all) {
		for (char **e = set->all; *e && !v; e++)
			if (!strncmp(*e, OM_ENV_PREFIX, OM_ENV_PLEN))
				v = env_match(*e + OM_ENV_PLEN, name, len);
		return v;
	}
	for (i = 0; i < set->n && !v; i++)
		v = env_match(set->v[i], name, len);
	return v;
}

static void warn(const char *msg)
{
	om_say(msg, (char *)0);
}

void om_cfg_load(void)
{
	struct env_set set;

	if (__atomic_load_n(&loaded, __ATOMIC_ACQUIRE))
		return;
	env_gather(&set);
	env_cur = &set;
	om_config_read(&om_cfg, env, warn);
	env_cur = 0;
	__atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
}
