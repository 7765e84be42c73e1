/* Fuzz the proxy-protocol parsers.  Byte 0 picks the side and protocol,
 * byte 1 the split size; the rest is fed in chunks of that size. */
#include <stdint.h>
#include <string.h>

#include "proto/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off, chunk;

	if (size < 2)
		return 0;
	chunk = (size_t)(data[1] % 16) + 1;
	off = 2;
	if (data[0] & 1) {
		struct om_rep rep = { .proto = (uint8_t)(1 + data[0] / 2 % 3) };

		for (; off < size; off += chunk) {
			size_t n = size - off < chunk ? size - off : chunk;

			if (om_rep_feed(&rep, data + off, n) != OM_SNIFF_MORE) {
				if (rep.outcome >= 16)
					__builtin_trap();
				break;
			}
		}
	} else {
		struct om_req req;
		size_t used = 0;

		memset(&req, 0, sizeof req);
		for (; off < size; off += chunk) {
			size_t n = size - off < chunk ? size - off : chunk;
			int rc = om_req_feed(&req, data + off, n, &used);

			if (used > n || req.hlen > OM_HOST_HEAD)
				__builtin_trap();
			if (rc != OM_SNIFF_MORE) {
				/* names may hold NUL bytes; head must be terminated in bounds */
				if (rc == OM_SNIFF_DONE && req.head[req.hlen] != 0)
					__builtin_trap();
				break;
			}
		}
	}
	return 0;
}
