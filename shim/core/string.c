/* The string functions the shim and the common code linked into it use,
 * defined here with hidden visibility for the same reason as sys.c: the
 * loader binds none of them at each exec.  The strings are short (names,
 * configuration values, addresses), so plain loops do.  Not here: memcpy,
 * memset and memcmp, which the compiler calls on its own and which libc
 * does much better on large buffers. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#define OM_HIDDEN __attribute__((visibility("hidden")))

/* gcc would turn the loops below back into calls to the functions they
 * define. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

OM_HIDDEN size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

OM_HIDDEN size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

OM_HIDDEN int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

OM_HIDDEN int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (!*a || *a != *b)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

OM_HIDDEN int strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int x = lower((unsigned char)*a), y = lower((unsigned char)*b);

		if (!x || x != y)
			return x - y;
	}
	return 0;
}

OM_HIDDEN int strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = lower((unsigned char)*a), y = lower((unsigned char)*b);

		if (!x || x != y)
			return x - y;
	}
}

OM_HIDDEN char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

OM_HIDDEN char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

OM_HIDDEN char *strcpy(char *restrict d, const char *restrict s)
{
	char *r = d;

	while ((*d++ = *s++))
		;
	return r;
}

static int digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}

/* C's strtoul, in the C locale: leading space, a sign (a minus negates
 * in unsigned arithmetic), 0x for base 16 or 0, 0 for octal in base 0;
 * ERANGE and ULONG_MAX on overflow; *end at the first unused character,
 * or at s when there are no digits. */
OM_HIDDEN unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	const char *p = s;
	unsigned long v = 0;
	int neg = 0, over = 0, any = 0, d;

	if (base < 0 || base == 1 || base > 36) {
		if (end)
			*end = (char *)s;
		errno = EINVAL;
		return 0;
	}
	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && lower(p[1]) == 'x' && digit(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = *p == '0' ? 8 : 10;
	}
	for (; (d = digit((unsigned char)*p)) < base; p++, any = 1) {
		if (v > (ULONG_MAX - (unsigned long)d) / (unsigned long)base)
			over = 1;
		else
			v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = (char *)(any ? p : s);
	if (over) {
		errno = ERANGE;
		return ULONG_MAX;
	}
	return neg ? -v : v;
}
