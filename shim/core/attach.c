#include "core/state.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "acct/counters.h"
#include "acct/fdtable.h"
#include "acct/track.h"
#include "common/clock.h"
#include "common/segpath.h"
#include "core/config.h"
#include "core/guard.h"
#include "common/str.h"
#include "core/log.h"
#include "core/real.h"

struct om_proc om_proc;
struct om_seg om_seg;
uint32_t om_gen;
uint32_t om_forks;
__thread uint8_t om_thread_mode OM_TLS;
static __thread uint8_t tls_attaching OM_TLS;
__thread struct om_tls_ids om_tls_id OM_TLS;
/* Not wiped: a child of a process that was refused stays quiet. */
static int refused;
static int wipe_ok;

/* The kernel's thread id: unique among the live threads of the PID
 * namespace, never 0, below pid_max (at most 2^22), and free again only
 * when its thread is gone, which then holds no lock and no block.  A
 * counter would wrap and alias a live thread (at 2^20 threads a lock word
 * read as free).  Cached per fork generation: a fork child's thread has
 * another id. */
uint32_t om_thread_token_slow(void)
{
	om_tls_id.token = (uint32_t)gettid();
	om_tls_id.token_gen = om_gen;
	return om_tls_id.token;
}

/* The fd table's hot bytes and om_proc describe this process only; a fork
 * child must start from zero.  Without MADV_WIPEONFORK (Linux < 4.14) a
 * pthread_atfork handler does the same for fork() (not for raw clones). */
static void child_wipe(void)
{
	if (!wipe_ok) {
		memset(&om_proc, 0, sizeof om_proc);
		om_fd_wipe_hot();
	}
	/* connections the parent held are the child's too: counted in its
	 * slot now, not at their first use, so that the kernel's view never
	 * finds one that no process accounts for */
	om_adopt_inherited();
}

static void before_fork(void)
{
	__atomic_fetch_add(&om_forks, 1, __ATOMIC_RELAXED);
}

static void setup_once(void)
{
	static int done;

	if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return;
	wipe_ok = madvise(&om_proc, sizeof om_proc, MADV_WIPEONFORK) == 0 &&
		  om_fd_wipe_on_fork() == 0;
	pthread_atfork(before_fork, 0, child_wipe);
}

/* The command line, for the report: argv's strings lie end to end where
 * the kernel put them, near the top of the stack.  One process_vm_readv()
 * reads as much of them as is mapped (a partial read stops at the end of
 * the mapping, where a memcpy would fault); NULs become spaces. */
static const char *cmd_start;
static int cmd_argc;

static void put_cmd(char *dst)
{
	char buf[OM_CMD_LEN];
	struct iovec l = { buf, sizeof buf - 1 }, r = { (void *)cmd_start, sizeof buf - 1 };
	ssize_t got;
	size_t n, i;
	int args = 0;

	memset(dst, 0, OM_CMD_LEN);
	if (!cmd_start || (got = process_vm_readv(getpid(), &l, 1, &r, 1, 0)) <= 0)
		return;
	n = (size_t)got;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\0') {
			if (++args == cmd_argc)
				break;
			buf[i] = ' ';
		} else if ((unsigned char)buf[i] < ' ') {
			buf[i] = '?';
		}
	}
	buf[i < n ? i : n] = '\0';
	memcpy(dst, buf, strlen(buf));
}

/* Settle the slot we just claimed: the gauges the last holder left are
 * not ours (closed = opened), its thread blocks are free; then say we are
 * settled, so readers count our gauges from here on. */
static void settle(struct om_slot *me)
{
	uint32_t c, t;
	uint64_t claims = __atomic_add_fetch(&me->head.claims, 1, __ATOMIC_ACQ_REL);

	for (t = 0; t < OM_TBLOCKS; t++)
		__atomic_store_n(&me->t[t].owner, 0, __ATOMIC_RELAXED);
	for (c = 0; c < OM_NCLASS; c++)
		__atomic_store_n(&me->p.closed[c],
				 __atomic_load_n(&me->p.opened[c], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	for (c = 0; c < OM_NKCLASS; c++)
		__atomic_store_n(&me->p.socks_closed[c],
				 __atomic_load_n(&me->p.socks_opened[c], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&me->head.pid, (uint64_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&me->head.start_ns, om_clock_ns(CLOCK_REALTIME), __ATOMIC_RELAXED);
	{
		char comm[17] = { 0 };

		prctl(PR_GET_NAME, comm);
		memcpy(me->head.comm, comm, sizeof me->head.comm);
	}
	put_cmd(me->cmd);
	me->head.policy = (uint8_t)om_cfg.policy;
	me->head.enforce = (uint8_t)om_cfg.enforce;
	__atomic_store_n(&me->head.settled, claims, __ATOMIC_RELEASE);
}

/* Attach runs one thread at a time (om_attach) and may run in a signal
 * handler on an 8 KiB alternate stack: its path buffers are static. */
static int map_segment(int *fd, const char **why)
{
	static char path[PATH_MAX];

	if (om_seg_path(om_cfg.segment, path, sizeof path) < 0) {
		*why = "ONIONMETER_SEGMENT must be /NAME or an absolute file path";
		return -1;
	}
	return om_seg_map(&om_seg, path, om_cfg.seg_mode, om_cfg.nslots, fd, why);
}

static void attach_slow(void)
{
	const char *why = 0;
	int fd = -1, child = om_seg.map != 0;

	if (refused || om_seg.detached)
		goto off_quiet;
	if (child)
		om_gen++; /* a fork child: the mapping is inherited, the slot not */
	else if (map_segment(&fd, &why) < 0)
		goto off;
	om_real_prime();
	om_guard_install(om_seg.map, om_seg.size);
	if (om_seg_claim(&om_seg, fd, &om_proc.slot, &why) < 0)
		goto off;
	if (fd >= 0)
		OM_REAL(close)(fd);
	om_proc.me = om_seg_slot(&om_seg, om_proc.slot);
	settle(om_proc.me);
	om_blk_forget(); /* a fork child's thread held its parent's block */
	__atomic_store_n(&om_proc.state, OM_ST_READY, __ATOMIC_RELEASE);
	return;
off:
	if (fd >= 0)
		OM_REAL(close)(fd);
	refused = 1;
	{
		char pid[24];

		om_say("not counting this process (pid ", om_udec(pid, (unsigned long long)getpid()),
		       "): ", why, "; segment ", om_cfg.segment,
		       om_cfg.enforce ? " (the policy is still enforced)" : "", (char *)0);
	}
off_quiet:
	__atomic_store_n(&om_proc.state, OM_ST_OFF, __ATOMIC_RELEASE);
}

void om_ipc_changed(void)
{
	char pid[24];

	if (__atomic_load_n(&om_proc.state, __ATOMIC_ACQUIRE) != OM_ST_READY || om_seg.detached ||
	    om_seg_rehold(&om_seg, om_proc.slot) == 0)
		return;
	/* the slot is no longer provably ours: another process may count
	 * into it, so we must not.  The fast paths write without asking:
	 * they go on into private memory, as after a truncation (guard.c).
	 * No semop: in another namespace the id names another set. */
	mmap(om_seg.map, om_seg.size, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	__atomic_store_n(&om_seg.detached, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&om_proc.state, OM_ST_OFF, __ATOMIC_RELEASE);
	om_say("counting stopped for this process (pid ", om_udec(pid, (unsigned long long)getpid()),
	       "): it left the segment's System V IPC namespace or undo list (unshare, setns) "
	       "and its slot could not be held again; the program goes on", (char *)0);
}

void om_attach(void)
{
	int expect = OM_ST_UNINIT, err = errno;

	if (tls_attaching)
		return; /* our own signal handler, mid-attach: this call goes uncounted */
	if (!__atomic_compare_exchange_n(&om_proc.state, &expect, OM_ST_INITING, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		/* another thread is attaching: wait for it, so nothing is lost */
		while (__atomic_load_n(&om_proc.state, __ATOMIC_ACQUIRE) == OM_ST_INITING)
			sched_yield();
		return;
	}
	tls_attaching = 1;
	om_cfg_load();
	setup_once();
	attach_slow();
	tls_attaching = 0;
	errno = err;
}

/* Only the environment: no syscall, no dlsym.  Everything else waits for
 * the first event worth counting.  glibc passes a constructor main's
 * arguments: the command line is kept for the slot (musl passes none). */
#ifdef __GLIBC__
__attribute__((constructor)) static void om_constructor(int argc, char **argv, char **envp)
{
	int err = errno;

	(void)envp;
	if (argc > 0 && argv && argv[0]) {
		cmd_start = argv[0];
		cmd_argc = argc;
	}
	om_cfg_load();
	errno = err;
}
#else
__attribute__((constructor)) static void om_constructor(void)
{
	int err = errno;

	om_cfg_load();
	errno = err;
}
#endif

/* vfork.S, on failure: rc is -errno. */
__attribute__((used)) long om_vfork_failed(long rc)
{
	errno = (int)-rc;
	return -1;
}
