/* Reading the program's memory before the real call has vouched for it. */
#ifndef OM_PEEK_H
#define OM_PEEK_H

#include <stddef.h>

/* Copy n bytes from src: 0 if done, -1 if not readable (or src NULL).
 * Memory just above our own frame (the caller's frames, where most
 * sockaddrs and lengths live) is read directly; anything else through
 * process_vm_readv(), which fails with EFAULT where the program's own call
 * would have. */
int om_peek(void *dst, const void *src, size_t n);

#endif
