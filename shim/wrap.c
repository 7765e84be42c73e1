/* The exported wrappers.  Each calls the next definition first, then
 * accounts; the return value and errno the program sees are the real ones.
 * Calls on our own segment fd are answered as if it did not exist, so a
 * daemon closing every descriptor cannot break the slot lock. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "shim.h"
#include "track.h"

#define OM_EXPORT __attribute__((visibility("default")))

static int is_ours(int fd)
{
	return fd >= 0 && fd == om_seg.fd;
}

OM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct om_fd *e = 0;
	int rc, err, fresh = 0;

	if (om_ready())
		e = om_connect_pre(fd, sa, len, &fresh);
	rc = OM_REAL(connect)(fd, sa, len);
	if (e) {
		err = errno;
		om_connect_post(e, fresh, rc, err);
		errno = err;
	}
	return rc;
}

OM_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	ssize_t r = OM_REAL(read)(fd, buf, n);

	om_io(fd, OM_INGRESS, buf, r);
	return r;
}

OM_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	ssize_t r = OM_REAL(write)(fd, buf, n);

	om_io(fd, OM_EGRESS, buf, r);
	return r;
}

OM_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	ssize_t r = OM_REAL(recv)(fd, buf, n, flags);

	if (!(flags & MSG_PEEK)) /* peeked bytes are read again later */
		om_io(fd, OM_INGRESS, buf, r);
	return r;
}

OM_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	ssize_t r = OM_REAL(send)(fd, buf, n, flags);

	om_io(fd, OM_EGRESS, buf, r);
	return r;
}

OM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int rc = OM_REAL(getsockopt)(fd, level, name, val, len);

	if (rc == 0 && level == SOL_SOCKET && name == SO_ERROR && val && len &&
	    *len >= (socklen_t)sizeof(int)) {
		struct om_fd *e = om_fd_peek(fd);

		if (e && e->hot != OM_HOT_NONE) {
			int err = errno;

			om_sockopt_error(e, fd, *(int *)val);
			errno = err;
		}
	}
	return rc;
}

OM_EXPORT int close(int fd)
{
	if (is_ours(fd)) {
		errno = EBADF;
		return -1;
	}
	om_forget_fd(fd); /* before: the number may be reused at once */
	return OM_REAL(close)(fd);
}

/* newfd is closed implicitly; ours is moved out of the way first. */
static int make_room(int newfd)
{
	if (is_ours(newfd)) {
		int moved = fcntl(newfd, F_DUPFD_CLOEXEC, newfd + 1);

		if (moved < 0)
			return -1;
		om_seg.fd = moved;
		OM_REAL(close)(newfd);
	} else {
		om_forget_fd(newfd);
	}
	return 0;
}

OM_EXPORT int dup2(int oldfd, int newfd)
{
	if (is_ours(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd && make_room(newfd) < 0)
		return -1;
	return OM_REAL(dup2)(oldfd, newfd);
}

OM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (is_ours(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd && make_room(newfd) < 0)
		return -1;
	return OM_REAL(dup3)(oldfd, newfd, flags);
}

static int real_close_range(unsigned first, unsigned last, int flags)
{
	if (OM_REAL(close_range)) /* glibc < 2.34 lacks the wrapper */
		return om_real.close_range(first, last, flags);
	return (int)syscall(SYS_close_range, first, last, flags);
}

OM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	unsigned fd, ours = om_seg.fd >= 0 ? (unsigned)om_seg.fd : ~0u;
	int rc;

	if (first > last)
		return real_close_range(first, last, flags);
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		for (fd = first; fd <= last && fd < OM_FD_MAX; fd++) {
			if (om_fd_pages[fd >> OM_FD_PAGE_SHIFT])
				om_forget_fd((int)fd);
			else
				fd |= OM_FD_PAGE - 1; /* skip an unmapped page */
		}
	}
	if (ours < first || ours > last)
		return real_close_range(first, last, flags);
	/* split around our fd so its lock survives */
	rc = ours > first ? real_close_range(first, ours - 1, flags) : 0;
	if (rc == 0 && ours < last)
		rc = real_close_range(ours + 1, last, flags);
	return rc;
}
