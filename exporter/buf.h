/* A growable output buffer; allocation failure is sticky and checked once. */
#ifndef OM_BUF_H
#define OM_BUF_H

#include <stddef.h>

struct om_buf {
	char *p;
	size_t len, cap;
	int oom;
};

void om_buf_printf(struct om_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void om_buf_put(struct om_buf *b, const char *s, size_t n);
void om_buf_free(struct om_buf *b);

#endif
