/* DNS questions on the wire.  A resolver that is not glibc's (dig, c-ares,
 * a Go-style stub, a hand-written client) sends its queries itself; one
 * that names a *.onion host has told a DNS server which onion it wants.
 * Only the header and question section are read, bounded, with no
 * compression pointer followed (a query's questions need none). */
#ifndef OM_DNS_H
#define OM_DNS_H

#include <stddef.h>
#include <stdint.h>

#define OM_DNS_WINDOW 600 /* bytes of a send looked at: a query is smaller */
#define OM_DNS_MAX_QD 8   /* questions looked at per message */

/* msg: one DNS message, n bytes.  1 if it is a query one of whose
 * questions names a .onion host, that name written to name (dotted, lower
 * case, cap bytes, *cut set if it did not fit); 0 if it is a query
 * without one; -1 if msg is no DNS query. */
int om_dns_onion(const uint8_t *msg, size_t n, char *name, size_t cap, int *cut);

/* b: the first n bytes of one send to a DNS port.  stream: TCP, where
 * each message follows its 2-byte length (some clients write the length
 * on its own first: a send without it is read as one message too).  1 if
 * a message in it asks for a .onion name, else 0. */
int om_dns_wire(const uint8_t *b, size_t n, int stream, char *name, size_t cap, int *cut);

#endif
