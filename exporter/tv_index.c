#include "tv_index.h"

#include <netinet/in.h>
#include <stdlib.h>

static uint32_t home(const struct om_tv_index *x, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & x->mask;
}

uint32_t om_tv_idx_find(const struct om_tv_index *x, uint64_t key)
{
	uint32_t i;

	for (i = home(x, key); x->keys[i]; i = (i + 1) & x->mask)
		if (x->keys[i] == key)
			return x->vals[i];
	return 0;
}

void om_tv_idx_put(struct om_tv_index *x, uint64_t key, uint32_t val)
{
	uint32_t i;

	for (i = home(x, key); x->keys[i] && x->keys[i] != key; i = (i + 1) & x->mask)
		;
	x->keys[i] = key;
	x->vals[i] = val;
}

void om_tv_idx_del(struct om_tv_index *x, uint64_t key)
{
	uint32_t i, j, k;

	for (i = home(x, key); x->keys[i] != key; i = (i + 1) & x->mask)
		if (!x->keys[i])
			return;
	for (j = i;;) {
		x->keys[i] = 0;
		for (;;) {
			j = (j + 1) & x->mask;
			if (!x->keys[j])
				return;
			k = home(x, x->keys[j]);
			/* it stays if its home lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		x->keys[i] = x->keys[j];
		x->vals[i] = x->vals[j];
		i = j;
	}
}

uint64_t om_tv_tkey(int family, const uint8_t *addr, uint16_t port)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)family;
	int i, n = family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 0x100000001b3ULL;
	h = (h ^ port) * 0x100000001b3ULL;
	return h ? h : 1;
}

int om_tv_idx_init(struct om_tv_index *x, uint32_t size)
{
	x->keys = calloc(size, sizeof *x->keys);
	x->vals = calloc(size, sizeof *x->vals);
	x->mask = size - 1;
	return x->keys && x->vals ? 0 : -1;
}

void om_tv_idx_free(struct om_tv_index *x)
{
	free(x->keys);
	free(x->vals);
	x->keys = 0;
	x->vals = 0;
}
