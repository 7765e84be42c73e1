/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): what Tor's SAFECOOKIE
 * authentication needs, and the one thing onionmeter writes that a library
 * would otherwise give (neither libc nor libuv has it).  Checked against
 * the published test vectors (tests/unit/test_sha256.c). */
#ifndef OM_SHA256_H
#define OM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define OM_SHA256_LEN 32

struct om_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes so far */
	uint8_t buf[64];
	size_t n; /* bytes in buf */
};

void om_sha256_init(struct om_sha256 *s);
void om_sha256_update(struct om_sha256 *s, const void *data, size_t n);
void om_sha256_final(struct om_sha256 *s, uint8_t out[OM_SHA256_LEN]);

void om_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		    uint8_t out[OM_SHA256_LEN]);

#endif
