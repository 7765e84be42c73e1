/* Surviving a segment that changes under us.
 *
 * Anyone who may write the segment file can truncate it (or copy another
 * file over it, which truncates first), and the next store into a page
 * past the new end raises SIGBUS in the program.  The guard is a SIGBUS
 * handler installed at attach: a fault inside the segment's mapping
 * replaces the whole mapping with private memory (the faulting store then
 * completes there, harmlessly), gives the slot back, says so once, and the
 * process goes on uncounted.  Every other SIGBUS gets exactly what the
 * program asked for: its own handler, SIG_IGN or the default action.
 *
 * For that the program's view of SIGBUS is kept apart from the kernel's:
 * sigaction(), signal() and friends read and set the program's action in
 * our table while our handler stays installed, and a thread that blocks
 * SIGBUS (which would make the kernel kill the process on a fault) keeps
 * it deliverable while seeing it blocked; a SIGBUS sent to it by kill()
 * waits until it unblocks.  The kernel's masks never hold SIGBUS where
 * we write: each thread is looked at before its first write (a thread
 * inherits its creator's mask, perhaps from before the guard was on),
 * handlers of other signals get sa_mask without it, and a raw
 * rt_sigprocmask goes through the same bookkeeping. */
#ifndef OM_GUARD_H
#define OM_GUARD_H

#include <signal.h>
#include <stddef.h>

void om_guard_install(void *map, size_t size);

/* The program's side of SIGBUS, for entry/signal.c.  Once the guard is
 * on, the program's SIGBUS action lives in our table... */
int om_guard_on(void);
int om_guard_action(const struct sigaction *act, struct sigaction *old);
/* ... signal()'s and sysv_signal()'s semantics, by flags ... */
sighandler_t om_guard_signal(sighandler_t h, int flags);
/* ... and a thread that blocks SIGBUS keeps it deliverable.  real: the
 * next sigprocmask or pthread_sigmask. */
int om_guard_mask(int (*real)(int, const sigset_t *, sigset_t *), int how,
		  const sigset_t *set, sigset_t *old);
/* The same for syscall(SYS_rt_sigprocmask): the kernel's sigset of size
 * bytes at the program's pointers. */
long om_guard_rawmask(int how, const void *set, void *old, unsigned long size);
/* sigaction() of any other signal: a handler whose sa_mask holds SIGBUS
 * would run with it blocked, and a segment fault there would kill; the
 * kernel gets the mask without it, the program reads back what it set. */
int om_guard_other(int sig, const struct sigaction *act, struct sigaction *old);

#endif
