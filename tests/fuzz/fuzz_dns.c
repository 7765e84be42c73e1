/* Fuzz the DNS question reader.  Byte 0 picks datagram or stream framing
 * and the name buffer's size (0 to 127: a cut name must still decide). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name;
	size_t cap;
	int cut = -1, rc;

	if (size < 1)
		return 0;
	cap = data[0] >> 1;
	name = malloc(cap ? cap : 1); /* exact size: ASan sees any overrun */
	rc = om_dns_wire(data + 1, size - 1, data[0] & 1, name, cap, &cut);
	if (rc < 0 || rc > 1 || (cut != 0 && cut != 1))
		__builtin_trap();
	if (cap && strnlen(name, cap) == cap)
		__builtin_trap(); /* not terminated in bounds */
	free(name);
	return 0;
}
