/* Binding around us: dlsym(), RTLD_DEEPBIND, LD_PRELOAD order (bind.c). */
#ifndef OM_BIND_H
#define OM_BIND_H

/* Does a library after us in LD_PRELOAD define getaddrinfo()?  Then the
 * names it resolves may never reach DNS: not judged.  Says so once. */
int om_resolver_behind(void);

#endif
