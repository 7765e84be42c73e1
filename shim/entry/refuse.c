/* Enforced refusals: would this call leak, judged before it is made?
 * Shared by the libc entry points and syscall().  The program's memory
 * is read through om_peek() here: the kernel has not vouched for it. */
#include "entry/wrap.h"

int om_refuse_dest_slow(int fd, const struct sockaddr *sa, socklen_t len, int dgram)
{
	struct sockaddr_storage ss;

	if (!sa || !len)
		return 0;
	if (len > sizeof ss)
		len = sizeof ss;
	if (om_peek(&ss, sa, len) < 0)
		return 0; /* the real call says EFAULT */
	return om_leak_dest(fd, (struct sockaddr *)&ss, len, dgram);
}

int om_refuse_msg(int fd, const struct msghdr *m)
{
	struct msghdr mc;

	if (!om_cfg.enforce || om_peek(&mc, m, sizeof mc) < 0)
		return 0;
	return om_refuse_dest(fd, mc.msg_name, mc.msg_namelen, 1) ||
	       om_leak_request(fd, mc.msg_iov, (int)mc.msg_iovlen) ||
	       om_refuse_dns(fd, mc.msg_name, mc.msg_namelen, mc.msg_iov, (int)mc.msg_iovlen);
}

/* Is this send DNS, and framed as TCP?  A connected TCP socket ignores a
 * name; a datagram goes where it is named, else to the peer.  The entry's
 * flags are read whatever its hot byte: a fork child's first send on an
 * inherited socket comes before the adoption. */
int om_dns_send(int fd, const struct sockaddr *named, socklen_t len, int *stream)
{
	struct om_fd *e = om_fd_peek(fd);
	uint8_t fl = e ? e->flags : 0;

	*stream = (fl & OM_FDF_TCP) || (e && e->sotype == SOCK_STREAM);
	if (named && len && !(fl & OM_FDF_TCP))
		return om_dns_dest(named, len);
	return (fl & OM_FDF_DNS) != 0;
}

int om_refuse_dns_slow(int fd, const struct sockaddr *sa, socklen_t len,
		       const struct iovec *iov, int cnt)
{
	struct sockaddr_storage ss;
	int stream;

	if (sa && len) {
		if (len > sizeof ss)
			len = sizeof ss;
		if (om_peek(&ss, sa, len) < 0)
			return 0; /* the real call says EFAULT */
		sa = (struct sockaddr *)&ss;
	}
	return om_dns_send(fd, sa, len, &stream) && om_leak_dns(stream, iov, cnt, (size_t)-1, 1);
}

int om_refuse_sendto(int fd, const void *buf, size_t n, int flags,
		     const struct sockaddr *sa, socklen_t len)
{
	struct iovec v = { (void *)buf, n };

	return om_refuse_dest(fd, sa, len, !(flags & MSG_FASTOPEN)) ||
	       om_leak_request(fd, &v, 1) || om_refuse_dns(fd, sa, len, &v, 1);
}

int om_refuse_mmsg(int fd, struct mmsghdr *v, unsigned n)
{
	unsigned i;

	/* the kernel sends at most UIO_MAXIOV of them */
	for (i = 0; om_cfg.enforce && i < n && i < 1024; i++)
		if (om_refuse_msg(fd, &v[i].msg_hdr))
			return 1;
	return 0;
}
