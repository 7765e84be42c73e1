/* syscall(): every number is passed through unchanged; the socket and
 * descriptor ones are accounted like their libc wrappers.  libuv closes
 * with syscall(SYS_close) to avoid a cancellation point, so that path must
 * not detour through close(). */
#include <sched.h>
#include <stdarg.h>
#include <sys/syscall.h>

#include "core/guard.h"
#include "core/state.h"
#include "entry/wrap.h"

OM_EXPORT long syscall(long n, ...)
{
	long a[6], r;
	socklen_t cap = 0;
	va_list ap;
	int i, err;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);

	switch (n) {
	case SYS_close:
		om_forget_fd((int)a[0]);
		break;
	case SYS_close_range:
		return om_close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	case SYS_rt_sigprocmask:
		return om_guard_rawmask((int)a[0], (const void *)a[1], (void *)a[2],
					(unsigned long)a[3]);
	case SYS_connect:
		return om_connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
	case SYS_accept:
		return om_accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], 0, 0);
	case SYS_accept4:
		return om_accept((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], (int)a[3], 1);
	case SYS_recvfrom:
		if (a[4] && a[5] && om_peek(&cap, (void *)a[5], sizeof cap) < 0)
			cap = 0;
		break;
	}
	/* libuv sends its datagrams with syscall(SYS_sendmmsg): enforced
	 * refusals hold on this road too */
	if (__builtin_expect(om_cfg.enforce, 0)) {
		int no = 0;

		switch (n) {
		case SYS_write:
			no = om_refuse_buf((int)a[0], (const void *)a[1], (size_t)a[2]);
			break;
		case SYS_writev:
			no = om_leak_request((int)a[0], (const struct iovec *)a[1], (int)a[2]) ||
			     om_refuse_dns((int)a[0], 0, 0, (const struct iovec *)a[1], (int)a[2]);
			break;
		case SYS_sendto:
			no = om_refuse_sendto((int)a[0], (const void *)a[1], (size_t)a[2], (int)a[3],
					      (const struct sockaddr *)a[4], (socklen_t)a[5]);
			break;
		case SYS_sendmsg:
			no = om_refuse_msg((int)a[0], (const struct msghdr *)a[1]);
			break;
		case SYS_sendmmsg:
			no = om_refuse_mmsg((int)a[0], (struct mmsghdr *)a[1], (unsigned)a[2]);
			break;
		}
		if (no)
			return om_eacces();
	}
	r = OM_REAL(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
	err = errno;
	switch (n) {
	case SYS_read:
		om_io((int)a[0], OM_INGRESS, (void *)a[1], r);
		break;
	case SYS_write:
		om_io((int)a[0], OM_EGRESS, (void *)a[1], r);
		break;
	case SYS_readv:
		om_iov((int)a[0], OM_INGRESS, (const struct iovec *)a[1], (int)a[2], r);
		break;
	case SYS_writev:
		om_iov((int)a[0], OM_EGRESS, (const struct iovec *)a[1], (int)a[2], r);
		break;
	case SYS_sendto:
		om_acct_addr((int)a[0], OM_EGRESS, (void *)a[1], r,
			     (const struct sockaddr *)a[4], (socklen_t)a[5]);
		break;
	case SYS_recvfrom:
		if (!((int)a[3] & MSG_PEEK) && r >= 0)
			om_acct_addr((int)a[0], OM_INGRESS, (void *)a[1], r,
				     cap ? (struct sockaddr *)a[4] : 0,
				     cap && *(socklen_t *)a[5] < cap ? *(socklen_t *)a[5] : cap);
		break;
	case SYS_sendmsg:
		om_acct_msg((int)a[0], OM_EGRESS, (const struct msghdr *)a[1], r);
		break;
	case SYS_recvmsg:
		if (!((int)a[2] & MSG_PEEK))
			om_acct_msg((int)a[0], OM_INGRESS, (const struct msghdr *)a[1], r);
		break;
	case SYS_sendmmsg:
		om_acct_mmsg((int)a[0], OM_EGRESS, (struct mmsghdr *)a[1], (int)r);
		break;
	case SYS_recvmmsg:
		if (!((int)a[3] & MSG_PEEK))
			om_acct_mmsg((int)a[0], OM_INGRESS, (struct mmsghdr *)a[1], (int)r);
		break;
	case SYS_sendfile:
		om_io((int)a[0], OM_EGRESS, 0, r);
		break;
	case SYS_splice:
		if (r > 0) {
			om_io((int)a[0], OM_INGRESS, 0, r);
			om_io((int)a[2], OM_EGRESS, 0, r);
		}
		break;
	case SYS_socket:
		if (r >= 0)
			om_fd_socket((int)r, (int)a[0], (int)a[1]);
		break;
	case SYS_unshare:
		if (r == 0 && ((int)a[0] & (CLONE_SYSVSEM | CLONE_NEWIPC)))
			om_ipc_changed();
		break;
	case SYS_setns:
		if (r == 0 && ((int)a[1] == 0 || ((int)a[1] & CLONE_NEWIPC)))
			om_ipc_changed();
		break;
	case SYS_dup:
	case SYS_dup3:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
		om_acct_dup((int)a[0], (int)r);
		break;
#ifdef SYS_open
	case SYS_open:
#endif
	case SYS_openat:
		if (r >= 0)
			om_fd_fresh((int)r);
		break;
	}
	errno = err;
	return r;
}
