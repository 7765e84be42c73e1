/* Building a line in a fixed buffer, without stdio or allocation: the
 * shim does it in signal handlers and before the allocator may work. */
#ifndef OM_STR_H
#define OM_STR_H

#include <stddef.h>
#include <string.h>

/* Append s to buf (cap bytes, *n used), cut to fit; never terminates. */
static inline void om_append(char *buf, size_t cap, size_t *n, const char *s)
{
	size_t k = *n < cap ? strnlen(s, cap - *n) : 0;

	memcpy(buf + *n, s, k);
	*n += k;
}

/* Decimal text of v in buf (at least 21 bytes); returns buf. */
static inline char *om_udec(char *buf, unsigned long long v)
{
	char tmp[24];
	int n = 0, i = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof tmp);
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
	return buf;
}

#endif
