/* vfork() for programs under the shim.
 *
 * A vfork child runs on its parent's memory, stack and TLS until it calls
 * exec or _exit, and what it does there through our wrappers (CPython's
 * subprocess closes and dup2()s descriptors in it) must change nothing of
 * the parent's state.  So the child marks itself in TLS (om_thread_mode),
 * where the parent's thread, suspended until then, finds the mark and
 * clears it when the call returns in it.
 *
 * Written in assembly for the reason glibc's is: a C wrapper's stack frame
 * would be reused by the child and found clobbered by the parent.  The
 * return address goes to a register across the system call. */
	.text

#if defined(__x86_64__)
	.globl vfork
	.type vfork, @function
	.globl __vfork
	.type __vfork, @function
vfork:
__vfork:
	.cfi_startproc
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	.cfi_register rip, rdi
	lock incl	om_forks(%rip)	/* a dial in progress may be the child's too */
	movl	$58, %eax		/* SYS_vfork */
	syscall
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rip, 0
	cmpq	$-4095, %rax
	jae	1f
	movq	om_thread_mode@GOTTPOFF(%rip), %rcx
	testl	%eax, %eax
	sete	%fs:(%rcx)		/* 1 in the child, 0 in the parent */
	ret
1:	movq	%rax, %rdi
	jmp	om_vfork_failed		/* sets errno, returns -1 to our caller */
	.cfi_endproc
	.size vfork, .-vfork
	.size __vfork, .-__vfork

#elif defined(__aarch64__)
	.globl vfork
	.type vfork, %function
	.globl __vfork
	.type __vfork, %function
vfork:
__vfork:
	.cfi_startproc
	adrp	x9, om_forks		/* a dial in progress may be the child's too */
	ldr	w10, [x9, :lo12:om_forks]
	add	w10, w10, #1
	str	w10, [x9, :lo12:om_forks]
	mov	x0, #0x4111		/* CLONE_VM | CLONE_VFORK | SIGCHLD */
	mov	x1, #0
	mov	x2, #0
	mov	x3, #0
	mov	x4, #0
	mov	x8, #220		/* SYS_clone */
	svc	#0
	cmn	x0, #4095
	b.hs	1f
	adrp	x1, :gottprel:om_thread_mode
	ldr	x1, [x1, #:gottprel_lo12:om_thread_mode]
	mrs	x2, tpidr_el0
	cmp	x0, #0
	cset	w3, eq
	strb	w3, [x2, x1]
	ret
1:	b	om_vfork_failed
	.cfi_endproc
	.size vfork, .-vfork
	.size __vfork, .-__vfork
#endif

	.section .note.GNU-stack,"",%progbits
