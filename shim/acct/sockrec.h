/* Socket records: the class of a socket whose peer address does not tell
 * it (an onion or proxied connection goes to a proxy; an accepted onion
 * service connection comes from Tor on loopback), kept in the segment by
 * the kernel's socket cookie.  A process that meets the socket without
 * having seen its dial (received with SCM_RIGHTS, inherited across exec)
 * finds its class there.  Cookies are never reused while the system runs;
 * the table keeps the most recent records when full. */
#ifndef OM_SOCKREC_H
#define OM_SOCKREC_H

/* Record fd's class (once decided, for classes a peer address cannot
 * show).  Costs one getsockopt(). */
void om_rec_publish(int fd, unsigned cls);
/* The recorded class of fd's socket: 0 and *cls, or -1. */
int om_rec_lookup(int fd, unsigned *cls);

#endif
