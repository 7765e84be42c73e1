/* Where a segment lives: the name users give (ONIONMETER_SEGMENT,
 * --segment) and the file it names. */
#ifndef OM_SEGPATH_H
#define OM_SEGPATH_H

#include <stddef.h>

#define OM_DEFAULT_SEGMENT "/onionmeter"

/* "/name" (one slash, as shm_open takes) is /dev/shm/name; any other
 * absolute path is used as is.  0, or -1 if the name is not one. */
int om_seg_path(const char *name, char *out, size_t outlen);

#endif
