/* The kernel view's polls, N of them in one process, as a serving
 * exporter makes them: bench/kernel.sh runs it at two N under callgrind,
 * so that the difference is what a poll costs once the sets have grown.
 *
 *   kpoll N      prints the sockets the last poll listed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "kernel.h"

int main(int argc, char **argv)
{
	struct om_kscope scope = { .kind = OM_KSCOPE_NETNS };
	struct om_config cfg;
	static struct om_kview k;
	long n = argc > 1 ? atol(argv[1]) : 1, i;

	memset(&cfg, 0, sizeof cfg);
	om_config_read(&cfg, om_env_plain, om_warn_none);
	om_kview_init(&k, &scope, &cfg);
	for (i = 0; i < n; i++)
		if (om_kview_poll(&k) < 0) {
			fprintf(stderr, "kpoll: %s\n", k.error);
			return 1;
		}
	printf("%llu\n", (unsigned long long)k.sockets);
	om_kview_close(&k);
	return 0;
}
