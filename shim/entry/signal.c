/* The signal calls that touch SIGBUS, the one signal the shim's guard
 * (core/guard.h) needs: the program's view of it is kept apart from the
 * kernel's.  Other signals pass through, but for SIGBUS in the masks
 * their handlers run with. */
#include <signal.h>

#include "core/guard.h"
#include "core/real.h"

#define OM_EXPORT __attribute__((visibility("default")))

OM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig == SIGBUS && om_guard_on())
		return om_guard_action(act, old);
	return om_guard_other(sig, act, old);
}

OM_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	if (sig != SIGBUS || !om_guard_on())
		return OM_REAL(signal)(sig, h);
	return om_guard_signal(h, SA_RESTART); /* BSD semantics, as glibc's signal() */
}

OM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return signal(sig, h);
}

#ifdef __GLIBC__
OM_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	if (sig != SIGBUS || !om_guard_on())
		return OM_REAL(sysv_signal)(sig, h);
	return om_guard_signal(h, SA_RESETHAND | SA_NODEFER);
}
#endif

OM_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return om_guard_mask(OM_REAL(pthread_sigmask), how, set, old);
}

OM_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return om_guard_mask(OM_REAL(sigprocmask), how, set, old);
}
