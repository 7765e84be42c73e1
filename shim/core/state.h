/* What this process holds, and attaching to the segment on first need.
 *
 * Attach is lazy: the constructor reads the environment and nothing else,
 * and the first event that needs counting (an inet socket, a dial, a
 * lookup judged a leak) maps the segment and claims a slot.  A program that
 * never touches the network pays only the loader's cost.
 *
 * om_proc sits on a page the kernel wipes in the child of any fork
 * (MADV_WIPEONFORK): fork(), _Fork() and a raw clone() alike leave the
 * child UNINIT, so its first counted event claims a slot of its own, with
 * no help from pthread_atfork.  A vfork child shares our memory and must
 * change nothing of it: our vfork() marks it in TLS, and every slow path
 * turns passive there.
 *
 * The one dependency cycle between the shim's layers is here, and it is
 * real: acct/ calls om_ready() (attach on first need), and attach calls
 * back into acct/ for what a process or a fork child must start from (the
 * fd table's hot bytes wiped, the inherited connections counted, this
 * thread's counter block forgotten). */
#ifndef OM_STATE_H
#define OM_STATE_H

#include <stdint.h>

#include "core/segment.h"

#define OM_TLS __attribute__((tls_model("initial-exec")))

enum { OM_ST_UNINIT, OM_ST_INITING, OM_ST_READY, OM_ST_OFF };

struct om_proc {
	int state;
	uint32_t slot;
	struct om_slot *me;
	char pad[OM_PAGE - 16];
} __attribute__((aligned(OM_PAGE)));
_Static_assert(sizeof(struct om_proc) == OM_PAGE, "om_proc is one page");

extern __attribute__((visibility("hidden"))) struct om_proc om_proc;
extern __attribute__((visibility("hidden"))) struct om_seg om_seg;
/* Bumped in every fork child; part of every lock token, so a lock a
 * vanished thread of the parent held is seen as free in the child. */
extern __attribute__((visibility("hidden"))) uint32_t om_gen;
/* Bumped in the parent before every fork, vfork and posix_spawn: a dial
 * that saw it change may be held by a child too. */
extern __attribute__((visibility("hidden"))) uint32_t om_forks;
/* What this thread is, for om_ready's one test: 0 not yet looked at,
 * OM_THR_VFORK a vfork child (which runs on its parent's memory and TLS;
 * vfork.S writes 1 in the child, 0 in the parent), OM_THR_GUARDED a
 * thread whose mask lets a segment fault reach the guard (guard.h). */
extern __thread uint8_t om_thread_mode OM_TLS;
#define OM_THR_VFORK 1
#define OM_THR_GUARDED 2
/* A thread's first look: unblock SIGBUS for real (the program keeps
 * seeing it blocked), since a fault on a blocked SIGBUS kills. */
void om_guard_thread(void) __attribute__((cold));

void om_attach(void) __attribute__((cold));
/* After unshare() or setns() that may have replaced the process's System
 * V undo list or IPC namespace: hold the slot again, or stop counting
 * (one message).  Liveness must never read a live process as gone. */
void om_ipc_changed(void) __attribute__((cold));

/* Attached and counting?  Attaches on first use. */
static inline int om_ready(void)
{
	int st = __atomic_load_n(&om_proc.state, __ATOMIC_ACQUIRE);
	uint8_t mode = om_thread_mode;

	if (__builtin_expect(mode == OM_THR_GUARDED && st == OM_ST_READY, 1))
		return 1;
	if (mode == OM_THR_VFORK)
		return 0;
	if (st == OM_ST_READY) {
		om_guard_thread();
		return 1;
	}
	if (st != OM_ST_OFF) {
		om_attach();
		return __atomic_load_n(&om_proc.state, __ATOMIC_ACQUIRE) == OM_ST_READY;
	}
	return 0;
}

/* A slow path that would change per-fd state must not in a vfork child. */
static inline int om_passive(void)
{
	return __builtin_expect(om_thread_mode == OM_THR_VFORK, 0);
}

/* This thread's token for owner and lock words: its kernel thread id
 * (never 0, never an address, never shared by two live threads), cached
 * per fork generation (attach.c).  Inline: every lock asks. */
struct om_tls_ids {
	uint32_t token, token_gen; /* the thread id, and the om_gen it is of */
	uint32_t lock, lock_gen;   /* the fd lock's word (acct/track.c), and ~om_gen */
};
/* One variable, not four: each thread-local costs a relocation at load. */
extern __thread struct om_tls_ids om_tls_id OM_TLS;
uint32_t om_thread_token_slow(void);
static inline uint32_t om_thread_token(void)
{
	if (__builtin_expect(om_tls_id.token == 0 || om_tls_id.token_gen != om_gen, 0))
		return om_thread_token_slow();
	return om_tls_id.token;
}
static inline uint64_t om_lock_token(void)
{
	return (uint64_t)om_gen << 32 | om_thread_token();
}

#endif
