/* Fuzz the proxy-protocol parsers.  Byte 0 picks the side and protocol,
 * byte 1 the split size; the rest is fed in chunks of that size.  With
 * bit 7 of byte 0 the parser starts from a state read from the input, as
 * it would from a hostile hand-off table (shim/acct/handoff.c): whatever
 * om_sniff_state_check lets through must parse in bounds. */
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
	if (data[0] & 0x80) {
		struct om_req req;
		struct om_rep rep;
		size_t used = 0;

		if (size < off + sizeof req + sizeof rep)
			return 0;
		memcpy(&req, data + off, sizeof req);
		memcpy(&rep, data + off + sizeof req, sizeof rep);
		off += sizeof req + sizeof rep;
		if (om_sniff_state_check(&req, &rep) < 0)
			return 0;
		for (; off < size; off += chunk) {
			size_t n = size - off < chunk ? size - off : chunk;

			if (data[0] & 1)
				om_rep_feed(&rep, data + off, n);
			else
				om_req_feed(&req, data + off, n, &used);
			if (used > n || req.hlen > OM_HOST_HEAD || rep.outcome >= 16)
				__builtin_trap();
		}
		return 0;
	}
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
