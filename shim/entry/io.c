/* The data calls: read, write and their kin on any descriptor.
 *
 * Three paths per call, chosen by the fd's hot byte read before the call:
 * - an fd we ignore (file, pipe): a tail call into the next definition;
 * - a socket with nothing pending: the call, then one add to this thread's
 *   block, with only the counter's offset kept across the call;
 * - anything else (never seen, dial or handshake open, unconnected UDP):
 *   the general path, out of line.
 * The first two are inline for fds under OM_FD_MAX; *_other reads the
 * byte again and handles every state for any fd. */

/* We define both sendfile and sendfile64. */
#undef _FILE_OFFSET_BITS

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "entry/wrap.h"

static OM_COLD ssize_t read_other(int fd, void *buf, size_t n)
{
	uint8_t h = om_hot_ingress(fd, om_hot(fd));
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(read)(fd, buf, n);
	if (h == OM_HOT_DGRAM) /* same call for a socket; we need the source */
		return om_recv_lent(fd, buf, n, 0);
	r = OM_REAL(read)(fd, buf, n);
	om_io_h(fd, h, OM_INGRESS, buf, r);
	return r;
}

OM_DATA_CALL(read, OM_INGRESS, 1, (fd, buf, n), int fd, void *buf, size_t n)

static OM_COLD ssize_t write_other(int fd, const void *buf, size_t n)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(write)(fd, buf, n);
	if (om_refuse_buf(fd, buf, n))
		return om_eacces();
	r = OM_REAL(write)(fd, buf, n);
	om_io_h(fd, h, OM_EGRESS, buf, r);
	return r;
}

OM_DATA_CALL(write, OM_EGRESS, 1, (fd, buf, n), int fd, const void *buf, size_t n)

static OM_COLD ssize_t readv_other(int fd, const struct iovec *iov, int cnt)
{
	uint8_t h = om_hot_ingress(fd, om_hot(fd));
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(readv)(fd, iov, cnt);
	if (h == OM_HOT_DGRAM) { /* the same call for a socket; we need the source */
		struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt };

		return recvmsg(fd, &m, 0);
	}
	r = OM_REAL(readv)(fd, iov, cnt);
	om_iov_h(fd, h, OM_INGRESS, iov, cnt, r);
	return r;
}

OM_DATA_CALL(readv, OM_INGRESS, 1, (fd, iov, cnt), int fd, const struct iovec *iov, int cnt)

static OM_COLD ssize_t writev_other(int fd, const struct iovec *iov, int cnt)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(writev)(fd, iov, cnt);
	if (om_leak_request(fd, iov, cnt) || om_refuse_dns(fd, 0, 0, iov, cnt))
		return om_eacces();
	r = OM_REAL(writev)(fd, iov, cnt);
	om_iov_h(fd, h, OM_EGRESS, iov, cnt, r);
	return r;
}

OM_DATA_CALL(writev, OM_EGRESS, 1, (fd, iov, cnt), int fd, const struct iovec *iov, int cnt)

static OM_COLD ssize_t recv_other(int fd, void *buf, size_t n, int flags)
{
	uint8_t h = om_hot_ingress(fd, om_hot(fd));
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(recv)(fd, buf, n, flags);
	if (h == OM_HOT_DGRAM && !(flags & MSG_PEEK))
		return om_recv_lent(fd, buf, n, flags);
	r = OM_REAL(recv)(fd, buf, n, flags);
	if (!(flags & MSG_PEEK))
		om_io_h(fd, h, OM_INGRESS, buf, r);
	return r;
}

/* peeked bytes are read again later */
OM_DATA_CALL(recv, OM_INGRESS, !(flags & MSG_PEEK), (fd, buf, n, flags),
	     int fd, void *buf, size_t n, int flags)

static OM_COLD ssize_t send_other(int fd, const void *buf, size_t n, int flags)
{
	uint8_t h = om_hot(fd);
	ssize_t r;

	if (h & OM_HOT_IGNORE)
		return OM_REAL(send)(fd, buf, n, flags);
	if (om_refuse_buf(fd, buf, n))
		return om_eacces();
	r = OM_REAL(send)(fd, buf, n, flags);
	om_io_h(fd, h, OM_EGRESS, buf, r);
	return r;
}

OM_DATA_CALL(send, OM_EGRESS, 1, (fd, buf, n, flags),
	     int fd, const void *buf, size_t n, int flags)


OM_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	ssize_t r = OM_REAL(sendfile)(out, in, off, n);

	om_io(out, OM_EGRESS, 0, r);
	return r;
}

/* splice() moves bytes between a pipe and anything else without showing
 * them to the program: counted like sendfile(), in whichever direction a
 * socket is at. */
OM_EXPORT ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
			 unsigned flags)
{
	ssize_t r = OM_REAL(splice)(in, in_off, out, out_off, n, flags);

	if (r > 0) {
		int err = errno;

		om_io(in, OM_INGRESS, 0, r);
		om_io(out, OM_EGRESS, 0, r);
		errno = err;
	}
	return r;
}

#ifdef __GLIBC__
OM_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	ssize_t r = OM_REAL(sendfile64)(out, in, off, n);

	om_io(out, OM_EGRESS, 0, r);
	return r;
}

/* _FORTIFY_SOURCE entry points: the real ones keep their overflow checks. */
OM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ssize_t r;

	if (om_hot_ingress(fd, om_hot(fd)) == OM_HOT_DGRAM)
		return om_recvfrom(OM_REAL(__recvfrom_chk), fd, buf, n, buflen, 0, 0, 0);
	r = OM_REAL(__read_chk)(fd, buf, n, buflen);
	om_io(fd, OM_INGRESS, buf, r);
	return r;
}

OM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	ssize_t r;

	if (!(flags & MSG_PEEK) && om_hot_ingress(fd, om_hot(fd)) == OM_HOT_DGRAM)
		return om_recvfrom(OM_REAL(__recvfrom_chk), fd, buf, n, buflen, flags, 0, 0);
	r = OM_REAL(__recv_chk)(fd, buf, n, buflen, flags);
	if (!(flags & MSG_PEEK))
		om_io(fd, OM_INGRESS, buf, r);
	return r;
}
#endif
