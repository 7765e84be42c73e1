/* Fuzz the exporter's HTTP request parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_http_req req;
	char *copy = malloc(size ? size : 1); /* exact size: ASan sees overreads */
	long n;

	memcpy(copy, data, size);
	n = om_http_parse(copy, size, &req);
	if (n > (long)size)
		__builtin_trap();
	if (n > 0 && (req.path < copy || req.path + req.path_len > copy + n))
		__builtin_trap();
	free(copy);
	return 0;
}
