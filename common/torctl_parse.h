/* Tor's control protocol (control-spec.txt), parsed: lines, replies and
 * the asynchronous events the Tor view uses.  Pure and bounded: the bytes
 * come from tor, but are read as if from anyone (a port that is not tor,
 * a tor gone wrong): a line longer than OM_TC_LINE_MAX ends the
 * connection, every field is copied into a fixed buffer or cut, and
 * nothing here allocates. */
#ifndef OM_TORCTL_PARSE_H
#define OM_TORCTL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define OM_TC_LINE_MAX 16384 /* a STREAM event is a few hundred bytes */
#define OM_TC_HOST_MAX 256   /* a target host kept (a DNS name is 253 at most) */

/* Splits a byte stream into lines (CRLF or LF, the ending stripped). */
struct om_tc_lines {
	size_t n;
	char buf[OM_TC_LINE_MAX];
};
typedef void (*om_tc_line_fn)(const char *line, size_t len, void *arg);
/* Calls fn for each whole line in data; 0, or -1 if a line is too long
 * (what came before it was delivered). */
int om_tc_lines_feed(struct om_tc_lines *l, const char *data, size_t n, om_tc_line_fn fn,
		     void *arg);

/* One reply line: "250-...", "250 ...", "250+..." (a data section
 * follows, up to a line "."), "650 ...". */
struct om_tc_line {
	int code;       /* 100..999 */
	char sep;       /* '-', ' ' or '+' */
	const char *text;
	size_t len;
};
/* 0, or -1 if the line is not a reply line. */
int om_tc_line(const char *s, size_t n, struct om_tc_line *out);

/* The value of KEY=VALUE in text (a QuotedString or CString unquoted, C
 * escapes read as control-spec 2.1.1 says), cut to fit out (cap >= 1).
 * Its length, or -1 if text has no KEY=.  Only whole keys match, after a
 * space or at the start. */
int om_tc_value(const char *text, size_t len, const char *key, char *out, size_t cap);

enum om_tc_status {
	OM_TC_NEW, OM_TC_NEWRESOLVE, OM_TC_REMAP, OM_TC_SENTCONNECT, OM_TC_SENTRESOLVE,
	OM_TC_SUCCEEDED, OM_TC_FAILED, OM_TC_CLOSED, OM_TC_DETACHED, OM_TC_OTHER
};
enum om_tc_proto { OM_TC_SOCKS4, OM_TC_SOCKS5, OM_TC_HTTPCONNECT, OM_TC_PROTO_OTHER };
enum om_tc_src { OM_TC_SRC_NONE, OM_TC_SRC_INET, OM_TC_SRC_UNIX };

/* "STREAM ID STATUS CIRC TARGET [KEY=VALUE...]" (the text after "650 "). */
struct om_tc_stream {
	uint64_t id;
	int status;     /* enum om_tc_status */
	uint64_t circ;
	char host[OM_TC_HOST_MAX]; /* the target's host, lower case */
	uint16_t port;
	int onion;      /* host is *.onion */
	int user;       /* PURPOSE=USER (NEW): a client's stream, not tor's own */
	int proto;      /* CLIENT_PROTOCOL, enum om_tc_proto */
	int src;        /* SOURCE_ADDR (NEW): enum om_tc_src */
	int src_family; /* 4 or 6 */
	uint8_t src_addr[16];
	uint16_t src_port;
	char reason[24], remote_reason[24]; /* REASON=, REMOTE_REASON= */
};
/* 0, or -1 if text is not a STREAM event. */
int om_tc_stream(const char *text, size_t len, struct om_tc_stream *out);

/* "STREAM_BW ID WRITTEN READ [TIME]": what the application wrote (tor
 * read) and read since the last such event.  0, or -1. */
int om_tc_stream_bw(const char *text, size_t len, uint64_t *id, uint64_t *written,
		    uint64_t *read);

/* "CIRC ID STATUS ..." : BUILT, FAILED, ...; PURPOSE and TIME_CREATED. */
struct om_tc_circ {
	uint64_t id;
	int built, failed, launched;
	int general;      /* PURPOSE=GENERAL, or an onion client's circuit */
	int64_t created_us; /* TIME_CREATED as UTC microseconds, or -1 */
};
int om_tc_circ(const char *text, size_t len, struct om_tc_circ *out);

/* "STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=N ...": N, or -1. */
int om_tc_bootstrap(const char *text, size_t len);
/* "NETWORK_LIVENESS UP|DOWN": 1, 0, or -1. */
int om_tc_liveness(const char *text, size_t len);
/* "HS_DESC ACTION ADDRESS ...": the action (RECEIVED, FAILED, ...) into
 * action and the address into addr; 0, or -1. */
int om_tc_hs_desc(const char *text, size_t len, char *action, size_t acap, char *addr,
		  size_t cap);

/* Does host (len bytes) name an onion service: *.onion, any case, a
 * trailing dot allowed? */
int om_host_is_onion(const char *host, size_t len);

#endif
