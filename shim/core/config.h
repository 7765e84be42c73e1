/* This process's configuration: the environment as common/config.c reads
 * it, once (in the constructor, or by the first call that needs it if
 * that comes earlier).  In setuid programs (AT_SECURE) the environment is
 * ignored and the defaults apply. */
#ifndef OM_SHIM_CONFIG_H
#define OM_SHIM_CONFIG_H

#include "common/classify.h"
#include "common/config.h"

extern __attribute__((visibility("hidden"))) struct om_config om_cfg;

void om_cfg_load(void);

/* Where sa leads, under this process's configuration. */
static inline enum om_dest om_classify(const struct sockaddr *sa, socklen_t len)
{
	return om_classify_in(&om_cfg, sa, len);
}

static inline int om_onion_port(uint16_t port)
{
	return om_onion_port_in(&om_cfg, port);
}

#endif
