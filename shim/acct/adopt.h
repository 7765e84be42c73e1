/* Sockets met without having seen their dial: accepted, inherited across
 * exec or fork, received from another process, or connected behind our
 * back; unconnected datagrams; descriptors made anew (adopt.c). */
#ifndef OM_ADOPT_H
#define OM_ADOPT_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "acct/dial.h"
#include "acct/fdtable.h"
#include "core/state.h"

/* The first bytes on an fd we have not met. */
void om_io_unseen(int fd, int dir, const struct iovec *iov, int cnt, ssize_t r);
/* A wrapped call returned a new descriptor: whatever the number was
 * before, it is unknown now.  Inline for the common case, a number whose
 * entry a close left empty (only its class stays, and goes here). */
void om_fd_fresh_slow(struct om_fd *e);
static inline void om_fd_fresh_entry(struct om_fd *e)
{
	if (om_fd_hot(e) != OM_HOT_NONE || !om_fd_blank(e)) {
		om_fd_fresh_slow(e);
		return;
	}
	if (e->cls && !om_passive())
		e->cls = 0;
}
static inline void om_fd_fresh(int fd)
{
	struct om_fd *e = om_fd_peek(fd);

	if (e)
		om_fd_fresh_entry(e);
}
void om_fd_socket(int fd, int domain, int type); /* ... from socket(); keeps errno */
struct om_fd *om_adopt(int fd, int dir, ssize_t r);
/* Before a receive: the hot byte to go by (an unconnected UDP socket must
 * be known as one before the call).  h: fd's hot byte now; only a socket
 * never seen needs a look. */
uint8_t om_hot_ingress_unseen(int fd);
static inline uint8_t om_hot_ingress(int fd, uint8_t h)
{
	return __builtin_expect(h != OM_HOT_NONE, 1) ? h : om_hot_ingress_unseen(fd);
}
void om_accepted(int fd, const struct sockaddr *peer, socklen_t len);
void om_datagram(int dir, const struct sockaddr *sa, socklen_t len, ssize_t r);
/* ... whose address is already classified as d (enum om_dest).  UDP has
 * no proxy: a datagram to a proxy's port is local.  Inline: every
 * unconnected datagram (or run of them in a batch) is counted here. */
static inline void om_datagram_as(int dir, int d, ssize_t r)
{
	if (r <= 0 || d == OM_DEST_NONE || om_passive())
		return;
	om_count_bytes(d == OM_DEST_PROXY ? OM_CLASS_LOCAL : om_dest_class(d), dir, (uint64_t)r);
}
/* The same out of line, for callers that loop (a *mmsg batch's runs). */
void om_datagram_run(int dir, int d, ssize_t r);
/* In a fork child: count the connections inherited from the parent. */
void om_adopt_inherited(void);

#endif
