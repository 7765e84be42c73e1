/* Fuzz the control-protocol client and Tor's view: the input is what a
 * control port (tor, or whatever answers there) sends.  Byte 0 picks where
 * the handshake stands; the rest is split into lines and handled as the
 * connection's reader does.  After each input the view is reset and the
 * clock moved on: every stream and connection must then be gone (nothing
 * a port says may keep memory). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "torctl.h"
#include "torview.h"

static struct om_tview v;
static struct om_torctl c;

static void feed(const char *line, size_t len, void *arg)
{
	(void)arg;
	if (!c.down) /* what follows a failure is not read */
		om_torctl_line(&c, line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct om_kscope scope = { OM_KSCOPE_NETNS, 0, 0 };
	static struct om_tc_lines lines;
	static int init;
	const char *why;

	if (!init) {
		if (om_tview_init(&v, &scope, 0, 0, &why) < 0)
			abort();
		om_torctl_parse(&c, "127.0.0.1:9051", &why);
		om_torctl_session(&c, 0);
		c.view = &v;
		c.logged = 0; /* quiet: it was down already */
		init = 1;
	}
	if (size < 1)
		return 0;
	/* the session's steps: PROTOCOLINFO (1) .. subscribed (8) */
	c.sess.step = 1 + data[0] % 8;
	c.sess.in_data = c.sess.in_event = c.sess.failed = 0;
	c.sess.reply_ok = 1;
	c.down = 0;
	lines.n = 0;
	v.now_ns = 1;
	om_tc_lines_feed(&lines, (const char *)data + 1, size - 1, feed, 0);
	om_tview_reset(&v, 0);
	v.now_ns = 1 + 3600000000000ull;
	om_tview_poll_begin(&v);
	om_tview_poll_end(&v);
	if (v.nents || v.npending || v.nfree != OM_TV_MAX || v.nlisteners)
		__builtin_trap();
	memset(v.open, 0, sizeof v.open);
	return 0;
}
