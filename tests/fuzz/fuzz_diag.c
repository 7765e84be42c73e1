/* Fuzz the sock_diag parser and the kernel view's accounting: the input
 * is one datagram of a dump, as the kernel (or anyone able to answer on
 * the netlink socket) could send it.  Byte 0 picks the sequence number the
 * answer must carry (0 or 1); the rest is the datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag_parse.h"
#include "kernel.h"

static void on_sock(const struct om_diag_sock *s, void *arg)
{
	struct om_kview *k = arg;

	if (s->family != 2 && s->family != 10)
		__builtin_trap();
	om_kview_account(k, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct om_kview k;
	static int init;
	struct om_kscope scope = { OM_KSCOPE_NETNS, 0, 0 };
	uint8_t *copy;
	int rc;

	if (!init) {
		static struct om_config cfg;

		om_config_read(&cfg, om_env_plain, om_warn_none);
		om_kview_init(&k, &scope, &cfg);
		init = 1;
	}
	if (size < 1)
		return 0;
	copy = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees overreads */
	memcpy(copy, data + 1, size - 1);
	om_kview_begin(&k);
	rc = om_diag_parse(copy, size - 1, data[0] & 1, on_sock, &k);
	if (rc < -1 || rc > 1)
		__builtin_trap();
	free(copy);
	return 0;
}
