/* Internals shared by the wrapper files (wrap_*.c).
 *
 * Rule for every wrapper: the program's pointers are read only after the
 * real call has accepted them, or through om_peek(), which cannot fault.
 * A bad pointer must give the program EFAULT, as without us, never a
 * SIGSEGV from our side. */
#ifndef OM_WRAP_H
#define OM_WRAP_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "leak.h"
#include "peek.h"
#include "real.h"
#include "shim.h"
#include "track.h"

#define OM_EXPORT __attribute__((visibility("default")))

/* An enforced leak refusal: nothing was sent. */
static inline int om_eacces(void)
{
	errno = EACCES;
	return -1;
}

/* Is a leak refusal possible at all?  (one load on the common path) */
static inline int om_enforcing(void)
{
	return __builtin_expect(om_cfg.enforce, 0) && om_cfg.policy != OM_POLICY_AUDIT;
}

/* Would sending to sa (the program's pointer) leak and be refused? */
int om_refuse_dest(int fd, const struct sockaddr *sa, socklen_t len, int dgram);
/* ... any of these messages? */
int om_refuse_msg(int fd, const struct msghdr *m);
static inline int om_refuse_buf(int fd, const void *buf, size_t n)
{
	struct iovec v = { (void *)buf, n };

	return om_leak_request(fd, &v, 1);
}

/* Accounting shared by the libc wrappers and syscall(); called after the
 * real call, with its result. */
void om_acct_msg(int fd, int dir, const struct msghdr *m, ssize_t r);
void om_acct_mmsg(int fd, int dir, struct mmsghdr *v, int r);
void om_acct_addr(int fd, int dir, const void *buf, ssize_t r,
		  const struct sockaddr *sa, socklen_t len);
void om_acct_dup(int oldfd, int newfd);
/* connect() and accept() as both libc wrappers and syscall() need them. */
int om_connect(int fd, const struct sockaddr *sa, socklen_t len);
int om_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags, int four);
int om_close_range(unsigned first, unsigned last, int flags);
ssize_t om_recvfrom(ssize_t (*chk)(int, void *, size_t, size_t, int, struct sockaddr *,
				   socklen_t *),
		    int fd, void *buf, size_t n, size_t buflen, int flags,
		    struct sockaddr *sa, socklen_t *len);

#endif
