/* The entry points of bind.c that must keep their caller's return address.
 *
 * glibc's dlsym(RTLD_NEXT, ...) looks for the definition after its
 * caller's object, and dlopen() searches its caller's RUNPATH; both find
 * the caller from the return address.  So these entries jump into the
 * real functions with the return address untouched, and hand only what
 * we change to C: dlsym() on any other handle (om_dlsym), dlopen() with
 * RTLD_DEEPBIND (om_dlopen_deep). */
	.text

#define RTLD_DEEPBIND 8

#if defined(__x86_64__)

/* ENTRY(name, real, resolve, test...): if the test says "ours", jump to
 * the C function; else to the real one, resolved on first use with the
 * arguments kept. */
	.macro OM_TAILJUMP real, resolve
	movq	\real(%rip), %rax
	testq	%rax, %rax
	jz	1f
	jmp	*%rax
1:	pushq	%rdi
	pushq	%rsi
	subq	$8, %rsp
	call	\resolve
	addq	$8, %rsp
	popq	%rsi
	popq	%rdi
	jmp	*%rax
	.endm

	.globl dlsym
	.type dlsym, @function
dlsym:
	.cfi_startproc
	cmpq	$-1, %rdi		/* RTLD_NEXT */
	jne	om_dlsym
	OM_TAILJUMP om_real_dlsym, om_dlsym_resolve
	.cfi_endproc
	.size dlsym, .-dlsym

	.globl dlopen
	.type dlopen, @function
dlopen:
	.cfi_startproc
	testl	$RTLD_DEEPBIND, %esi
	jnz	om_dlopen_deep
	OM_TAILJUMP om_real_dlopen, om_dlopen_resolve
	.cfi_endproc
	.size dlopen, .-dlopen

#elif defined(__aarch64__)

	.macro OM_TAILJUMP real, resolve
	adrp	x16, \real
	ldr	x16, [x16, #:lo12:\real]
	cbz	x16, 1f
	br	x16
1:	stp	x0, x1, [sp, #-32]!
	str	x30, [sp, #16]
	bl	\resolve
	mov	x16, x0
	ldr	x30, [sp, #16]
	ldp	x0, x1, [sp], #32
	br	x16
	.endm

	.globl dlsym
	.type dlsym, %function
dlsym:
	cmn	x0, #1			/* RTLD_NEXT */
	b.ne	om_dlsym
	OM_TAILJUMP om_real_dlsym, om_dlsym_resolve
	.size dlsym, .-dlsym

	.globl dlopen
	.type dlopen, %function
dlopen:
	tst	w1, #RTLD_DEEPBIND
	b.ne	om_dlopen_deep
	OM_TAILJUMP om_real_dlopen, om_dlopen_resolve
	.size dlopen, .-dlopen
#endif

	.section .note.GNU-stack,"",%progbits
