/* SHA-256 against FIPS 180-4's examples (and the million-'a' message of
 * its test suite), HMAC-SHA256 against RFC 4231's test cases. */
#include <string.h>

#include "common/sha256.h"
#include "../check.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[2 * i] = "0123456789abcdef"[d[i] >> 4], out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	out[2 * n] = '\0';
}

static void unhex(const char *s, uint8_t *out, size_t *n)
{
	for (*n = 0; s[0] && s[1]; s += 2, ++*n)
		out[*n] = (uint8_t)((s[0] % 32 + 9) % 25 * 16 + (s[1] % 32 + 9) % 25);
}

static void sha(const void *m, size_t n, const char *want)
{
	struct om_sha256 s;
	uint8_t d[32];
	char h[65];

	om_sha256_init(&s);
	om_sha256_update(&s, m, n);
	om_sha256_final(&s, d);
	hex(d, 32, h);
	CHECK(!strcmp(h, want));
}

static void hmac(const char *key_hex, const char *msg_hex, const char *want)
{
	uint8_t key[200], msg[200], d[32];
	size_t kn, mn;
	char h[65];

	unhex(key_hex, key, &kn);
	unhex(msg_hex, msg, &mn);
	om_hmac_sha256(key, kn, msg, mn, d);
	hex(d, 32, h);
	CHECK(!strncmp(h, want, strlen(want))); /* case 5 compares a truncated MAC */
}

int main(void)
{
	static char million[1000000];
	struct om_sha256 s;
	uint8_t d[32];
	char h[65];
	int i;

	sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', sizeof million);
	om_sha256_init(&s); /* fed in uneven pieces */
	for (i = 0; i < 1000000; i += 997)
		om_sha256_update(&s, million + i, (size_t)(1000000 - i < 997 ? 1000000 - i : 997));
	om_sha256_final(&s, d);
	hex(d, 32, h);
	CHECK(!strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));

	/* RFC 4231 */
	hmac("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	hmac("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	     "dddddddddddddddddddd",
	     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	hmac("0102030405060708090a0b0c0d0e0f10111213141516171819",
	     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	     "cdcdcdcdcdcdcdcdcdcd",
	     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	hmac("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
	     "a3b6167473100ee06e0c796c2955552b");
	{
		char key[131 * 2 + 1];

		for (i = 0; i < 131; i++)
			memcpy(key + 2 * i, "aa", 2);
		key[262] = '\0';
		hmac(key, "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579"
			  "202d2048617368204b6579204669727374",
		     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
		hmac(key, "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c"
			  "6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d"
			  "73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564"
			  "206265666f7265206265696e6720757365642062792074686520484d414320616c676f7269"
			  "74686d2e",
		     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	}
	return check_done("sha256");
}
