/* unshare() and setns(): a new System V undo list (CLONE_SYSVSEM) or IPC
 * namespace (CLONE_NEWIPC, which implies it) makes the kernel apply the
 * process's SEM_UNDO adjustments as if it had exited, so the liveness
 * semaphore of its slot reads free while it lives, and another process
 * could claim the slot and count into it.  The slot is held again, or
 * counting stops. */
#include <sched.h>

#include "core/state.h"
#include "entry/wrap.h"

OM_EXPORT int unshare(int flags)
{
	int rc = OM_REAL(unshare)(flags), err = errno;

	if (rc == 0 && (flags & (CLONE_SYSVSEM | CLONE_NEWIPC)))
		om_ipc_changed();
	errno = err;
	return rc;
}

/* nstype 0 joins whatever namespace fd names: looked at all the same */
OM_EXPORT int setns(int fd, int nstype)
{
	int rc = OM_REAL(setns)(fd, nstype), err = errno;

	if (rc == 0 && (nstype == 0 || (nstype & CLONE_NEWIPC)))
		om_ipc_changed();
	errno = err;
	return rc;
}
