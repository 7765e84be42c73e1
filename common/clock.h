/* The clocks, in nanoseconds. */
#ifndef OM_CLOCK_H
#define OM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t om_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Elapsed time (dial latency, poll length): CLOCK_MONOTONIC.  Out of
 * line: the shim's slow paths call it from many places. */
uint64_t om_mono_ns(void);

#endif
