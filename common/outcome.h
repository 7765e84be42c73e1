/* A proxy's reply as a dial outcome: one mapping, used by the shim (the
 * reply the program reads) and by Tor's view (the reply tor sends for a
 * stream's end reason), so both name the same failure alike. */
#ifndef OM_OUTCOME_H
#define OM_OUTCOME_H

#include <stdint.h>

#include "common/segment_layout.h"

/* A SOCKS5 reply's REP byte (RFC 1928 6; tor's extended errors 0xF0..0xF7,
 * proposal 304). */
static inline uint8_t om_socks5_outcome(uint8_t rep)
{
	switch (rep) {
	case 0x00: return OM_OUT_SUCCESS;
	case 0x02: return OM_OUT_DENIED;
	case 0x03:
	case 0x04: return OM_OUT_UNREACHABLE;
	case 0x05: return OM_OUT_REFUSED;
	case 0x06: return OM_OUT_TIMEOUT;
	}
	if (rep >= 0xF0 && rep <= 0xF7)
		return (uint8_t)(OM_OUT_ONION_NOT_FOUND + (rep - 0xF0));
	return OM_OUT_PROXY_ERROR;
}

/* A SOCKS4 reply's CD byte; -1 if it is none. */
static inline int om_socks4_outcome(uint8_t cd)
{
	switch (cd) {
	case 0x5A: return OM_OUT_SUCCESS;
	case 0x5B: return OM_OUT_ERROR; /* "rejected or failed" */
	case 0x5C:
	case 0x5D: return OM_OUT_DENIED; /* identd checks */
	}
	return -1;
}

/* An HTTP proxy's status line.  forward: the request was an absolute-form
 * GET, so a 4xx is the origin's answer, not the proxy's.  A proxy names
 * an unreachable upstream 500 (tinyproxy), 502, 503 or 504, and no header
 * tells one from an error of its own: only 502/503/504 are trusted. */
static inline uint8_t om_http_outcome(unsigned status, int forward)
{
	if (status >= 200 && status < 300)
		return OM_OUT_SUCCESS;
	if (forward && status < 500 && status != 407)
		return OM_OUT_SUCCESS; /* the origin answered */
	switch (status) {
	case 401:
	case 403:
	case 407: return OM_OUT_DENIED;
	case 502:
	case 503: return OM_OUT_UNREACHABLE;
	case 504: return OM_OUT_TIMEOUT;
	}
	return OM_OUT_PROXY_ERROR;
}

#endif
