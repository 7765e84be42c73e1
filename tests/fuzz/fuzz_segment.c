/* Fuzz the exporter's segment reader: the input overwrites the start of a
 * valid two-slot segment image (header and first slot), and the reader must
 * either refuse it or sum it without reading outside the image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = (size_t)om_layout_size(2);
	struct om_header *h = calloc(1, len);
	struct om_totals t;
	const char *why;

	h->magic = OM_MAGIC;
	h->version = OM_LAYOUT_VERSION;
	h->header_size = OM_HEADER_SIZE;
	h->size = len;
	h->nslots = 2;
	h->nblocks = OM_BLOCKS_PER_SLOT;
	h->slot_size = sizeof(struct om_slot);
	h->block_size = sizeof(struct om_block);
	h->slots_off = OM_HEADER_SIZE;
	h->ring_off = OM_HEADER_SIZE + 2 * sizeof(struct om_slot);
	h->ring_entries = OM_RING_ENTRIES;
	h->ring_entry_size = sizeof(struct om_ring_entry);
	h->ready = 1;
	memcpy(h, data, size < len ? size : len);
	if (om_reader_sum(h, len, -1, &t, &why) == 0 && (t.slots != 2 || t.processes))
		__builtin_trap();
	free(h);
	return 0;
}
