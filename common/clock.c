#include "common/clock.h"

uint64_t om_mono_ns(void)
{
	return om_clock_ns(CLOCK_MONOTONIC);
}
