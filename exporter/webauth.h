/* --web.config.file: the web configuration of Prometheus exporters
 * (exporter-toolkit's format), the part onionmeter implements:
 *
 *   basic_auth_users:
 *     alice: $2y$10$...     (bcrypt, as htpasswd -B or mkpasswd make it)
 *
 * Passwords are checked with the system's crypt_r; a check that passed
 * is remembered by SHA-256 of user and password (16 entries), so a
 * scrape every few seconds costs one bcrypt, not one per scrape.
 * tls_server_config and http_server_config are refused with a message
 * that says to terminate TLS in a proxy: TLS is not built in. */
#ifndef OM_WEBAUTH_H
#define OM_WEBAUTH_H

#include <stddef.h>
#include <stdint.h>

#define OM_WEBAUTH_USERS 32

struct om_webauth {
	int nusers;
	struct {
		char name[64];
		char hash[128];
	} user[OM_WEBAUTH_USERS];
	uint8_t ok[16][32]; /* SHA-256 of "user:password" that passed */
	unsigned nok;
};

/* Read path into a: 0, or -1 with why in err (file and line). */
int om_webauth_load(struct om_webauth *a, const char *path, char *err, size_t errlen);
/* An Authorization header's value [v, v + n): 1 if it names a user of a
 * with the right password, else 0. */
int om_webauth_check(struct om_webauth *a, const char *v, size_t n);

#endif
