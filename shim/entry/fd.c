/* Wrappers for a descriptor's life: made, connected, accepted, duplicated,
 * closed.  Each calls the next definition and then accounts; the return
 * value and errno the program sees are the real ones.
 *
 * Closes that happen inside libc, where no wrapper sees them (fclose() of
 * an fdopen()ed socket, closefrom()), are caught at their public entry
 * points; and every call that hands out a new descriptor (open, pipe, ...)
 * wipes what we knew of that number, so a socket's state can never be
 * taken for a file's. */

/* We define both fcntl and fcntl64, open and open64: the headers must not
 * rename the unsuffixed ones (meson builds with 64-bit off_t). */
#undef _FILE_OFFSET_BITS

#ifndef CLOSE_RANGE_CLOEXEC /* musl's headers lack it */
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "acct/closing.h"
#include "entry/wrap.h"

OM_EXPORT int socket(int domain, int type, int proto)
{
	int fd = OM_REAL(socket)(domain, type, proto);

	if (fd >= 0)
		om_fd_socket(fd, domain, type); /* keeps errno */
	return fd;
}

OM_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	int rc = OM_REAL(socketpair)(domain, type, proto, sv);

	if (rc == 0) {
		om_fd_fresh(sv[0]);
		om_fd_fresh(sv[1]);
	}
	return rc;
}

int om_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	uint64_t t0;
	int rc, err;

	if (om_refuse_dest(fd, sa, len, 0))
		return om_eacces();
	t0 = om_clock_ns(CLOCK_MONOTONIC); /* inline: every connect reads it */
	rc = OM_REAL(connect)(fd, sa, len);
	err = errno;
	om_connect_done(fd, sa, len, rc, err, t0);
	errno = err;
	return rc;
}

OM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return om_connect(fd, sa, len);
}

/* The peer's address classifies an accepted connection.  When the caller
 * asks for none we lend a buffer rather than ask getpeername(); when it
 * does, what the kernel wrote there is read afterwards, within the length
 * the caller offered (the kernel reports the full length even when it
 * truncated). */
int om_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags, int four)
{
	struct sockaddr_storage own;
	socklen_t ownlen = sizeof own, cap = 0;
	int nfd, err, lent = !sa;

	if (lent) {
		sa = (struct sockaddr *)&own;
		len = &ownlen;
	} else if (!len || om_peek(&cap, len, sizeof cap) < 0) {
		cap = 0; /* the kernel will say EFAULT, or we ask getpeername() */
	}
	nfd = four ? OM_REAL(accept4)(fd, sa, len, flags) : OM_REAL(accept)(fd, sa, len);
	if (nfd < 0)
		return nfd;
	err = errno;
	if (lent)
		om_accepted(nfd, sa, ownlen);
	else if (cap > 0)
		om_accepted(nfd, sa, *len < cap ? *len : cap);
	else
		om_accepted(nfd, 0, 0);
	errno = err;
	return nfd;
}

OM_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return om_accept(fd, sa, len, 0, 0);
}

OM_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return om_accept(fd, sa, len, flags, 1);
}

OM_EXPORT int close(int fd)
{
	struct om_closing c;
	int rc;

	/* before: the number may be reused at once */
	if (!om_forget_closing(fd, &c))
		return OM_REAL(close)(fd);
	rc = OM_REAL(close)(fd);
	om_closing_end(&c); /* a dial another process may continue */
	return rc;
}

/* A second descriptor for the same socket counts its bytes; the
 * open-connections gauge stays with the original.  The sockets-held count
 * (what the kernel's view compares with) counts every descriptor: when
 * the original is closed and the copy kept (dup2 onto stdin, then close),
 * the process still holds the connection; while both are open it counts
 * one more than the kernel lists, which can hide a blind spot but never
 * invent one. */
void om_acct_dup(int oldfd, int newfd)
{
	struct om_fd *o, *n;
	uint8_t h;
	int err = errno;

	if (newfd < 0 || oldfd == newfd || om_passive())
		return;
	om_fd_fresh(newfd); /* what was at newfd before was closed */
	o = om_fd_peek(oldfd);
	if (o && (h = om_fd_hot(o)) != OM_HOT_NONE && (n = om_fd_get(newfd))) {
		if (o->hs) /* a dial in progress: closing o must not end it */
			om_hs_at(o->hs)->shared = 1;
		n->cls = o->cls;
		n->flags = OM_FDF_DECIDED | (o->flags & OM_FDF_TCP);
		n->dial = n->flags & OM_FDF_TCP ? OM_DIAL_DONE : OM_DIAL_NONE;
		om_fd_set_hot(n, h & OM_HOT_QUIET ? h : om_settled_hot(n));
		if (o->flags & OM_FDF_SOCK)
			om_sock_held(om_out_begin(), n,
				     (o->flags & OM_FDF_PROXY_EP)      ? OM_DEST_PROXY
				     : (o->flags & OM_FDF_ADDR_DIRECT) ? OM_DEST_DIRECT
								       : OM_DEST_LOCAL);
	}
	errno = err;
}

OM_EXPORT int dup(int fd)
{
	int nfd = OM_REAL(dup)(fd);

	om_acct_dup(fd, nfd);
	return nfd;
}

OM_EXPORT int dup2(int oldfd, int newfd)
{
	int rc = OM_REAL(dup2)(oldfd, newfd);

	om_acct_dup(oldfd, rc);
	return rc;
}

OM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int rc = OM_REAL(dup3)(oldfd, newfd, flags);

	om_acct_dup(oldfd, rc);
	return rc;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int rc = real(fd, cmd, arg);

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		om_acct_dup(fd, rc);
	return rc;
}

/* The third argument is an int or a pointer depending on cmd; both travel
 * in the same register or stack slot, so passing it on as a pointer is the
 * usual way for a wrapper to stay agnostic. */
OM_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(OM_REAL(fcntl), fd, cmd, arg);
}

OM_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(OM_REAL(fcntl64) ? om_real.fcntl64 : OM_REAL(fcntl), fd,
			    cmd, arg);
}

static void forget_range(unsigned first, unsigned last)
{
	/* no entry lives past the highest page ever installed */
	unsigned fd, end = __atomic_load_n(&om_fd_pages_top, __ATOMIC_ACQUIRE) << OM_FD_PAGE_SHIFT;

	for (fd = first; fd <= last && fd < end; fd++) {
		uint64_t eight;

		if (!om_fd_pages[fd >> OM_FD_PAGE_SHIFT]) {
			fd |= OM_FD_PAGE - 1; /* skip an unmapped page */
			continue;
		}
		/* eight hot bytes at a time: fds never seen are most of a page */
		if (!(fd & 7) && fd + 7 <= last) {
			memcpy(&eight, &om_hot_tab[fd], sizeof eight);
			if (!eight) {
				fd += 7;
				continue;
			}
		}
		if (om_hot((int)fd) != OM_HOT_NONE)
			om_forget_fd((int)fd);
	}
}

int om_close_range(unsigned first, unsigned last, int flags)
{
	if (first <= last && !(flags & CLOSE_RANGE_CLOEXEC))
		forget_range(first, last);
	if (OM_REAL(close_range)) /* glibc < 2.34 lacks the wrapper */
		return om_real.close_range(first, last, flags);
	return (int)OM_REAL(syscall)(SYS_close_range, first, last, flags);
}

OM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	return om_close_range(first, last, flags);
}

#ifdef __GLIBC__
/* glibc's closefrom() closes through an internal close_range(). */
OM_EXPORT void closefrom(int lowfd)
{
	if (lowfd >= 0)
		forget_range((unsigned)lowfd, ~0u);
	if (OM_REAL(closefrom))
		om_real.closefrom(lowfd);
}
#endif

/* fclose() of an fdopen()ed socket closes inside libc. */
OM_EXPORT int fclose(FILE *f)
{
	struct om_closing c;
	int fd = f ? OM_REAL(fileno)(f) : -1, rc, taken = 0;

	if (fd >= 0)
		taken = om_forget_closing(fd, &c);
	rc = OM_REAL(fclose)(f);
	if (taken)
		om_closing_end(&c); /* coreutils close stdout with fclose */
	return rc;
}

OM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int rc = OM_REAL(getsockopt)(fd, level, name, val, len);

	/* val and len are valid: the kernel just wrote them */
	if (rc == 0 && level == SOL_SOCKET && name == SO_ERROR && *len >= (socklen_t)sizeof(int)) {
		struct om_fd *e = om_fd_peek(fd);

		if (e && (om_fd_hot(e) & OM_HOT_SLOW)) {
			int err = errno;

			om_sockopt_error(e, *(int *)val);
			errno = err;
		}
	}
	return rc;
}

/* --- calls that hand out a new descriptor: forget the number's past --- */

static int fresh(int fd)
{
	if (fd >= 0) {
		int err = errno;

		om_fd_fresh(fd);
		errno = err;
	}
	return fd;
}

/* open()'s mode is there only with O_CREAT or O_TMPFILE. */
#define OM_MODE_ARG(flags, mode)                                              \
	do {                                                                  \
		va_list ap_;                                                  \
		(mode) = 0;                                                   \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                      \
			va_start(ap_, flags);                                 \
			(mode) = va_arg(ap_, mode_t);                         \
			va_end(ap_);                                          \
		}                                                             \
	} while (0)

#ifndef __O_TMPFILE
#define __O_TMPFILE O_TMPFILE
#endif

OM_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode;

	OM_MODE_ARG(flags, mode);
	return fresh(OM_REAL(open)(path, flags, mode));
}

OM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	OM_MODE_ARG(flags, mode);
	return fresh(OM_REAL(openat)(dirfd, path, flags, mode));
}

OM_EXPORT int creat(const char *path, mode_t mode)
{
	return fresh(OM_REAL(creat)(path, mode));
}

OM_EXPORT int pipe(int fds[2])
{
	int rc = OM_REAL(pipe)(fds);

	if (rc == 0) {
		fresh(fds[0]);
		fresh(fds[1]);
	}
	return rc;
}

OM_EXPORT int pipe2(int fds[2], int flags)
{
	int rc = OM_REAL(pipe2)(fds, flags);

	if (rc == 0) {
		fresh(fds[0]);
		fresh(fds[1]);
	}
	return rc;
}

#ifdef __GLIBC__
OM_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode;

	OM_MODE_ARG(flags, mode);
	return fresh(OM_REAL(open64)(path, flags, mode));
}

OM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	OM_MODE_ARG(flags, mode);
	return fresh(OM_REAL(openat64)(dirfd, path, flags, mode));
}

OM_EXPORT int creat64(const char *path, mode_t mode)
{
	return fresh(OM_REAL(creat64)(path, mode));
}

/* _FORTIFY_SOURCE entry points */
OM_EXPORT int __open_2(const char *path, int flags)
{
	return fresh(OM_REAL(__open_2)(path, flags));
}

OM_EXPORT int __open64_2(const char *path, int flags)
{
	return fresh(OM_REAL(__open64_2)(path, flags));
}

OM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return fresh(OM_REAL(__openat_2)(dirfd, path, flags));
}

OM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return fresh(OM_REAL(__openat64_2)(dirfd, path, flags));
}
#endif
