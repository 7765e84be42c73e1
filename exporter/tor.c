/* Tor's view in the exporter: the control connections, the kernel's
 * destroy notices, and the kernel view's polls feeding the view. */
#include <string.h>

#include "app.h"

static void on_sock(const struct om_diag_sock *s, void *arg)
{
	om_tview_sock(arg, s);
}

static void on_destroyed(uv_poll_t *p, int status, int events)
{
	struct app *a = p->data;

	(void)status;
	(void)events;
	om_tview_destroyed(&a->tv);
}

int om_app_tor_start(struct app *a, uv_loop_t *loop, const char *password_file,
		     const char **why)
{
	int i;

	if (om_tview_init(&a->tv, &a->kv.scope, a->readers, a->nsrc, why) < 0)
		return -1;
	if (uv_poll_init(loop, &a->destroy_poll, a->tv.destroy_fd) < 0) {
		*why = "cannot watch the kernel's destroy notices";
		om_tview_free(&a->tv);
		return -1;
	}
	a->destroy_poll.data = a;
	uv_poll_start(&a->destroy_poll, UV_READABLE, on_destroyed);
	a->kv.each = on_sock;
	a->kv.each_arg = &a->tv;
	for (i = 0; i < a->ntors; i++)
		om_torctl_start(&a->tors[i], loop, &a->tv, i, password_file);
	a->tor_on = 1;
	return 0;
}

void om_app_tor_stop(struct app *a)
{
	int i;

	if (!a->tor_on)
		return;
	for (i = 0; i < a->ntors; i++)
		om_torctl_stop(&a->tors[i]);
	om_tview_free(&a->tv);
	a->tor_on = 0;
}

void om_app_views(const struct app *a, struct om_views *w)
{
	int i;

	memset(w, 0, sizeof *w);
	w->kv = a->kernel_on ? &a->kv : 0;
	if (!a->tor_on)
		return;
	w->tv = &a->tv;
	for (i = 0; i < a->ntors; i++)
		w->tors[i] = &a->tors[i].st;
	w->ntors = a->ntors;
}
