#include "text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *const om_class_names[OM_NCLASS] = OM_CLASS_NAMES;
const char *const om_outcome_names[OM_NOUTCOME] = OM_OUTCOME_NAMES;
const char *const om_leak_names[OM_NLEAK] = OM_LEAK_NAMES;
const char *const om_action_names[OM_NACTION] = OM_ACTION_NAMES;
const char *const om_policy_names[OM_NPOLICY] = OM_POLICY_NAMES;
const char *const om_uncounted_names[OM_NUNCOUNTED] = OM_UNCOUNTED_NAMES;
const char *const om_dir_names[OM_NDIR] = { "ingress", "egress" };

void om_json_str(struct om_buf *b, const char *s)
{
	om_buf_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			om_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			om_buf_printf(b, "\\u%04x", ch);
		else
			om_buf_put(b, s, 1);
	}
	om_buf_put(b, "\"", 1);
}

static void text(char *out, size_t n, const char *s, int backslash)
{
	size_t o = 0;

	for (; *s && o + 5 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || (ch == '\\' && backslash))
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

void om_text_str(char *out, size_t n, const char *s)
{
	text(out, n, s, 1);
}

void om_text_cmd(char *out, size_t n, const char *s)
{
	text(out, n, s, 0);
}

void om_event_dest(char *out, size_t n, const struct om_event *e)
{
	char a[64];

	if (e->family == 4 || e->family == 6) {
		inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof a);
		snprintf(out, n, e->family == 6 ? "[%s]:%u" : "%s:%u", a, e->port);
	} else {
		om_text_str(out, n, e->name);
		if (e->truncated && strlen(out) + 4 < n)
			strcat(out, "...");
	}
}

void om_event_time(char *out, size_t n, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void om_human_bytes(char *out, size_t n, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", d, unit[u]);
}

