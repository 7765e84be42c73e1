/* posix_spawn(): glibc clones without fork's handlers, and the child may
 * inherit a socket whose proxy handshake is in progress here.  Counting
 * the spawn tells this process's close() to ask the kernel whether the
 * socket lives on (acct/closing.c). */
#include <spawn.h>

#include "core/state.h"
#include "entry/wrap.h"

OM_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	__atomic_fetch_add(&om_forks, 1, __ATOMIC_RELAXED);
	return OM_REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
}

OM_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	__atomic_fetch_add(&om_forks, 1, __ATOMIC_RELAXED);
	return OM_REAL(posix_spawnp)(pid, file, fa, attr, argv, envp);
}
