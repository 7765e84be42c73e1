#include "core/guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/peek.h"
#include "core/real.h"
#include "core/state.h"

static char *g_map;
static size_t g_size;
static int g_on;
static struct sigaction g_prog; /* the program's SIGBUS action */
static int g_lock;
static __thread uint8_t tls_blocked OM_TLS; /* the program blocked SIGBUS here */
static __thread uint8_t tls_pending OM_TLS; /* ... and one was sent meanwhile */

static void glock(void)
{
	while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void gunlock(void)
{
	__atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE);
}

static void set_dfl(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	OM_REAL(sigaction)(SIGBUS, &sa, 0);
}

static void detach(void)
{
	static const char msg[] = "onionmeter: the segment was truncated or replaced "
				  "under this process; counting stopped, the program goes on\n";

	mmap(g_map, g_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
	     -1, 0);
	if (!__atomic_exchange_n(&om_seg.detached, 1, __ATOMIC_ACQ_REL)) {
		if (om_proc.state == OM_ST_READY)
			om_seg_release(&om_seg, om_proc.slot);
		__atomic_store_n(&om_proc.state, OM_ST_OFF, __ATOMIC_RELEASE);
		om_say_raw(msg, sizeof msg - 1);
	}
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction act;
	int err = errno, kernel = si && si->si_code > 0;

	if (kernel && (char *)si->si_addr >= g_map && (char *)si->si_addr < g_map + g_size) {
		detach();
		errno = err;
		return; /* the store is retried, into private memory */
	}
	if (tls_blocked && !kernel) {
		tls_pending = 1; /* delivered when the program unblocks SIGBUS */
		return;
	}
	act = g_prog;
	if (act.sa_handler == SIG_DFL || (act.sa_handler == SIG_IGN && kernel) ||
	    tls_blocked) {
		/* what the kernel would do: the default action.  A fault
		 * happens again on return; a sent signal is pending now. */
		set_dfl();
		if (!kernel)
			raise(SIGBUS);
		return;
	}
	if (act.sa_handler == SIG_IGN)
		return;
	if (act.sa_flags & SA_RESETHAND)
		g_prog.sa_handler = SIG_DFL;
	if (act.sa_flags & SA_SIGINFO)
		act.sa_sigaction(sig, si, uc);
	else
		act.sa_handler(sig);
}

/* Our handler with the program's mask and flags, as it asked. */
static void arm(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_mask = g_prog.sa_mask;
	sa.sa_flags = SA_SIGINFO | (g_prog.sa_flags & (SA_ONSTACK | SA_RESTART | SA_NODEFER));
	OM_REAL(sigaction)(SIGBUS, &sa, 0);
}

void om_guard_install(void *map, size_t size)
{
	glock();
	g_map = map;
	g_size = size;
	if (!g_on) {
		OM_REAL(sigaction)(SIGBUS, 0, &g_prog);
		arm();
		__atomic_store_n(&g_on, 1, __ATOMIC_RELEASE);
	}
	gunlock();
	om_guard_thread();
}

/* Each thread, before it first touches the segment (om_ready): a thread
 * started while SIGBUS was blocked for real (before the guard was on, as
 * a sigwait daemon blocks everything first) inherits that mask. */
/* Keeps errno, as om_ready() does on every path: the next
 * pthread_sigmask may be another preload's. */
void om_guard_thread(void)
{
	sigset_t cur;
	int err = errno;

	if (OM_REAL(pthread_sigmask)(SIG_BLOCK, 0, &cur) == 0 && sigismember(&cur, SIGBUS)) {
		sigset_t bus;

		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		tls_blocked = 1;
		OM_REAL(pthread_sigmask)(SIG_UNBLOCK, &bus, 0);
	}
	om_thread_mode = OM_THR_GUARDED;
	errno = err;
}

int om_guard_action(const struct sigaction *act, struct sigaction *old)
{
	glock();
	if (old)
		*old = g_prog;
	if (act) {
		g_prog = *act;
		arm();
	}
	gunlock();
	return 0;
}

int om_guard_on(void)
{
	return __atomic_load_n(&g_on, __ATOMIC_ACQUIRE);
}

sighandler_t om_guard_signal(sighandler_t h, int flags)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	if (!(flags & SA_NODEFER))
		sigaddset(&sa.sa_mask, SIGBUS);
	om_guard_action(&sa, &old);
	return old.sa_handler;
}

/* The program blocks and unblocks SIGBUS in its view only. */
int om_guard_mask(int (*real)(int, const sigset_t *, sigset_t *), int how,
		  const sigset_t *set, sigset_t *old)
{
	uint8_t was = tls_blocked;
	sigset_t s;
	int rc;

	if (!set || !om_guard_on()) {
		rc = real(how, set, old);
		if (rc == 0 && old && was)
			sigaddset(old, SIGBUS);
		return rc;
	}
	s = *set;
	if (sigismember(&s, SIGBUS)) {
		sigdelset(&s, SIGBUS);
		if (how == SIG_BLOCK || how == SIG_SETMASK)
			tls_blocked = 1;
		else if (how == SIG_UNBLOCK)
			tls_blocked = 0;
	} else if (how == SIG_SETMASK) {
		tls_blocked = 0;
	}
	rc = real(how, &s, old);
	if (rc != 0) { /* -1 from sigprocmask, an error number from pthread_sigmask */
		tls_blocked = was;
		return rc;
	}
	if (old && was)
		sigaddset(old, SIGBUS);
	if (!tls_blocked && tls_pending) {
		tls_pending = 0;
		raise(SIGBUS);
	}
	return rc;
}

static int raw_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return (int)OM_REAL(syscall)(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

long om_guard_rawmask(int how, const void *set, void *old, unsigned long size)
{
	sigset_t s, o;
	int rc;

	/* an odd size, an unreadable set or an unwritable old: the kernel
	 * answers as it would (EINVAL, EFAULT), the mask unchanged */
	sigemptyset(&s);
	sigemptyset(&o);
	if (size != _NSIG / 8 || (set && om_peek(&s, set, size) < 0) ||
	    (old && OM_REAL(syscall)(SYS_rt_sigprocmask, SIG_BLOCK, 0, old, size) < 0))
		return OM_REAL(syscall)(SYS_rt_sigprocmask, how, set, old, size);
	rc = om_guard_mask(raw_sigmask, how, set ? &s : 0, old ? &o : 0);
	if (rc == 0 && old)
		memcpy(old, &o, size);
	return rc;
}

/* Which handlers' masks the program gave SIGBUS in (bit sig - 1). */
static uint64_t bus_in_mask;

int om_guard_other(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction a;
	uint64_t bit = sig >= 1 && sig <= 64 ? 1ull << (sig - 1) : 0;
	int had = (__atomic_load_n(&bus_in_mask, __ATOMIC_RELAXED) & bit) != 0, rc;

	if (!act || !bit || sig == SIGBUS)
		rc = OM_REAL(sigaction)(sig, act, old);
	else {
		int want;

		/* copied through om_peek: a bad pointer goes to the real
		 * call as it is, which answers EFAULT as without us */
		if (om_peek(&a, act, sizeof a) < 0)
			return OM_REAL(sigaction)(sig, act, old);
		want = sigismember(&a.sa_mask, SIGBUS) == 1;
		sigdelset(&a.sa_mask, SIGBUS);
		rc = OM_REAL(sigaction)(sig, &a, old);
		/* what the program set, once the kernel took it */
		if (rc == 0 && want)
			__atomic_fetch_or(&bus_in_mask, bit, __ATOMIC_RELAXED);
		else if (rc == 0)
			__atomic_fetch_and(&bus_in_mask, ~bit, __ATOMIC_RELAXED);
	}
	if (rc == 0 && old && had && sig != SIGBUS)
		sigaddset(&old->sa_mask, SIGBUS);
	return rc;
}
