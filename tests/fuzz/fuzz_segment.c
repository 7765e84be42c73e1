/* Fuzz the exporter's segment reader: the input overwrites the start of a
 * valid two-slot segment image (header, pid table and the first slot), and
 * the reader must either refuse it or sum it without reading outside the
 * image, whatever the header and the slots say. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct om_geom g;
	struct om_header h, copy;
	struct om_totals t;
	struct om_events *ev;
	unsigned short live[2] = { 1, 0 };
	char *img;

	om_geom_compute(2, &g);
	img = calloc(1, g.size);
	memset(&h, 0, sizeof h);
	h.magic = OM_MAGIC;
	h.version = OM_LAYOUT_VERSION;
	h.header_size = OM_HEADER_SIZE;
	h.size = g.size;
	h.nslots = 2;
	h.slot_size = g.slot_size;
	h.tblocks = OM_TBLOCKS;
	h.tblock_size = sizeof(struct om_tblock);
	h.pblock_size = sizeof(struct om_pblock);
	h.nrecs = OM_NRECS;
	h.pidtab_off = g.pidtab_off;
	h.slots_off = g.slots_off;
	h.recs_off = g.recs_off;
	h.ring_off = g.ring_off;
	h.ring_entries = OM_RING_ENTRIES;
	h.ring_entry_size = sizeof(struct om_ring_entry);
	h.hand_off = g.hand_off;
	h.nhand = OM_NHAND;
	h.hand_size = sizeof(struct om_hand);
	h.ready = 1;
	memcpy(img, &h, sizeof h);
	/* the input lands on the header, and past it on the slots and ring */
	if (size > 0) {
		size_t n = size < OM_HEADER_SIZE ? size : OM_HEADER_SIZE;

		memcpy(img, data, n);
		if (size > n) {
			size_t rest = size - n, m = rest < g.slot_size ? rest : g.slot_size;

			memcpy(img + g.slots_off, data + n, m);
			if (rest > m)
				memcpy(img + g.ring_off, data + n + m,
				       rest - m < g.size - g.ring_off ? rest - m : g.size - g.ring_off);
		}
	}
	memcpy(&copy, img, sizeof copy);
	if (!om_layout_check(&copy, g.size, &g)) {
		uint64_t hwm = 0;

		om_reader_sum(img, &g, live, &t, &hwm);
		if (t.slots != 2 || t.processes > 1)
			__builtin_trap();
		ev = malloc(sizeof *ev);
		om_events_from(img, &g, ev);
		free(ev);
		{
			struct om_procs *pr = malloc(sizeof *pr);
			int i;

			om_procs_from(img, &g, hwm, live, pr);
			for (i = 0; i < pr->n; i++)
				if (strnlen(pr->p[i].cmd, sizeof pr->p[i].cmd) == sizeof pr->p[i].cmd ||
				    strnlen(pr->p[i].comm, sizeof pr->p[i].comm) == sizeof pr->p[i].comm)
					__builtin_trap(); /* not terminated */
			if (pr->n > 2)
				__builtin_trap();
			free(pr);
		}
	}
	free(img);
	return 0;
}
