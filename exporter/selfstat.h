/* The exporter's own process_* metrics, read from /proc/self. */
#ifndef OM_SELFSTAT_H
#define OM_SELFSTAT_H

struct om_selfstat {
	double cpu_seconds, start_time;
	double resident_bytes, virtual_bytes;
	double open_fds, max_fds;
	int ok;
};

void om_selfstat_read(struct om_selfstat *s);

#endif
