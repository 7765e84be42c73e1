#include "webauth.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/sha256.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* A YAML scalar as these files write it: bare, '...' or "..." (no
 * escapes but '' inside single quotes). */
static int scalar(char *s, char *out, size_t cap)
{
	size_t n = 0;
	char q = *s;

	if (q == '\'' || q == '"') {
		for (s++; *s; s++) {
			if (*s == q && !(q == '\'' && s[1] == '\'')) {
				if (*trim(s + 1) && *trim(s + 1) != '#')
					return -1;
				break;
			}
			if (*s == q)
				s++;
			if (n + 1 >= cap)
				return -1;
			out[n++] = *s;
		}
		if (*s != q)
			return -1;
	} else {
		char *hash = strstr(s, " #");

		if (hash)
			*hash = '\0';
		s = trim(s);
		if ((n = strlen(s)) + 1 > cap)
			return -1;
		memcpy(out, s, n);
	}
	out[n] = '\0';
	return 0;
}

int om_webauth_load(struct om_webauth *a, const char *path, char *err, size_t errlen)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int lineno = 0, in_users = 0;

	memset(a, 0, sizeof *a);
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
#define FAIL(...)                                                             \
	do {                                                                  \
		int k_ = snprintf(err, errlen, "%s:%d: ", path, lineno);      \
		snprintf(err + (k_ > 0 ? k_ : 0), errlen - (size_t)(k_ > 0 ? k_ : 0), __VA_ARGS__); \
		fclose(f);                                                    \
		return -1;                                                    \
	} while (0)
	while (fgets(line, sizeof line, f)) {
		char *s, *colon;
		int indented = line[0] == ' ' || line[0] == '\t';

		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			FAIL("line longer than %zu bytes", sizeof line - 2);
		s = trim(line);
		if (!*s || *s == '#' || !strcmp(s, "---"))
			continue;
		colon = strchr(s, ':');
		if (!colon)
			FAIL("want KEY: VALUE");
		*colon = '\0';
		if (!indented) {
			in_users = 0;
			if (!strcmp(s, "basic_auth_users")) {
				if (*trim(colon + 1))
					FAIL("basic_auth_users takes USER: HASH lines below it");
				in_users = 1;
			} else if (!strcmp(s, "tls_server_config")) {
				FAIL("TLS is not built into onionmeter-exporter: terminate TLS in a "
				     "proxy in front of it (see onionmeter-exporter(1), SECURITY)");
			} else if (!strcmp(s, "http_server_config")) {
				FAIL("http_server_config is not supported (HTTP/1.1 only; headers "
				     "are fixed)");
			} else {
				FAIL("unknown key '%s' (onionmeter-exporter reads basic_auth_users)", s);
			}
			continue;
		}
		if (!in_users)
			FAIL("indented line outside basic_auth_users");
		if (a->nusers == OM_WEBAUTH_USERS)
			FAIL("more than %d users", OM_WEBAUTH_USERS);
		if (scalar(s, a->user[a->nusers].name, sizeof a->user[0].name) < 0 ||
		    !a->user[a->nusers].name[0])
			FAIL("a user name of 1 to %zu bytes", sizeof a->user[0].name - 1);
		if (scalar(trim(colon + 1), a->user[a->nusers].hash, sizeof a->user[0].hash) < 0)
			FAIL("a password hash of at most %zu bytes", sizeof a->user[0].hash - 1);
		if (strncmp(a->user[a->nusers].hash, "$2", 2))
			FAIL("user '%s': want a bcrypt hash ($2y$..., from htpasswd -nB or mkpasswd -m bcrypt)",
			     a->user[a->nusers].name);
		a->nusers++;
	}
	fclose(f);
#undef FAIL
	if (!a->nusers) {
		snprintf(err, errlen, "%s: no basic_auth_users: nothing to check a client against", path);
		return -1;
	}
	return 0;
}

static int unb64(const char *v, size_t n, char *out, size_t cap, size_t *len)
{
	uint32_t acc = 0;
	size_t o = 0, i;
	int bits = 0;

	for (i = 0; i < n && v[i] != '='; i++) {
		const char *p = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
				       v[i]);

		if (!p || !v[i])
			return -1;
		acc = acc << 6 | (uint32_t)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)(acc >> bits & 0xFF);
		}
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

/* Compared in constant time: how far a guess matched is not told. */
static int same(const char *x, const char *y)
{
	size_t n = strlen(y), i;
	unsigned char d = 0;

	if (strlen(x) != n) /* a hash's length is no secret */
		return 0;
	for (i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return !d;
}

int om_webauth_check(struct om_webauth *a, const char *v, size_t n)
{
	/* one crypt_data, for the exporter's one event-loop thread */
	static struct crypt_data cd;
	struct om_sha256 sh;
	char cred[256], *colon;
	uint8_t sum[32];
	size_t len, i;
	const char *h;

	if (n < 6 || strncasecmp(v, "Basic ", 6))
		return 0;
	for (v += 6, n -= 6; n && *v == ' '; v++, n--)
		;
	if (unb64(v, n, cred, sizeof cred, &len) < 0 || memchr(cred, '\0', len) ||
	    !(colon = memchr(cred, ':', len)))
		return 0;
	om_sha256_init(&sh);
	om_sha256_update(&sh, cred, len);
	om_sha256_final(&sh, sum);
	for (i = 0; i < a->nok && i < 16; i++)
		if (!memcmp(a->ok[i], sum, sizeof sum))
			return 1;
	*colon = '\0';
	for (i = 0; i < (size_t)a->nusers; i++) {
		if (strcmp(a->user[i].name, cred))
			continue;
		memset(&cd, 0, sizeof cd);
#ifdef CRYPT_OUTPUT_SIZE
		/* libxcrypt's crypt_rn: the same function, returning NULL on
		 * failure (and not the one ASan intercepts, whose hook finds no
		 * crypt_r when libcrypt is loaded after it) */
		h = crypt_rn(colon + 1, a->user[i].hash, &cd, (int)sizeof cd);
#else
		h = crypt_r(colon + 1, a->user[i].hash, &cd);
#endif
		if (!h || !same(h, a->user[i].hash))
			return 0;
		memcpy(a->ok[a->nok++ % 16], sum, sizeof sum);
		return 1;
	}
	return 0;
}
