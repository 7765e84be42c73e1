/* The exporter's command line: its help, and the parsers of option values
 * (main.c reads the options and acts on them). */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/segpath.h"

const char om_usage[] =
"Usage: onionmeter-exporter [OPTION]...\n"
"Serve the counters that libonionmeter.so writes to a shared-memory segment\n"
"as Prometheus metrics.  The segment is only ever read.\n"
"\n"
"  -l, --listen ADDR     listen on ADDR: HOST:PORT, [V6]:PORT, or :PORT for\n"
"                        every address; HOST may be a name (every address\n"
"                        it has).  May be repeated; default " OM_DEFAULT_LISTEN ".\n"
"                        --web.listen-address is the same option\n"
"  -s, --segment NAME    read segment NAME: /NAME for POSIX shared memory\n"
"                        (/dev/shm/NAME) or an absolute file path; may be\n"
"                        repeated (series then carry a segment label);\n"
"                        default $ONIONMETER_SEGMENT or " OM_DEFAULT_SEGMENT "\n"
"      --segment-owner USER\n"
"                        also trust a segment owned by USER (a name or a\n"
"                        uid; may be repeated) in a directory others can\n"
"                        write, such as /dev/shm; trusted without it: root,\n"
"                        our own user, and the owner of a directory only\n"
"                        that owner can write\n"
"      --once            print one exposition to stdout and exit; exit\n"
"                        status 1 if any segment is down\n"
"      --watch[=SECONDS] the summary redrawn every SECONDS (default 1) with\n"
"                        rates, the busiest processes and the latest leaks,\n"
"                        until Ctrl-C; plain lines when not on a terminal\n"
"  -f, --format FMT      output of --once: prometheus (default),\n"
"                        openmetrics, json or summary (json and summary\n"
"                        include the recent leak events), report or\n"
"                        report-json (a run's verdict and its leak events\n"
"                        grouped, as onionmeter-run --report shows it)\n"
"      --run-command CMD, --run-exit STATUS, --run-unseen FILE\n"
"                        for the report formats: the command line the run\n"
"                        was, how it ended (a number, or signal:N), and the\n"
"                        connections onionmeter-run saw the shim miss\n"
"      --fail-on-leak    with --once: exit status 3 if any leak was counted\n"
"      --remove          delete each segment (its file and its liveness\n"
"                        semaphores) and exit; refused while a live process\n"
"                        still counts into it\n"
"      --kernel-interval MS\n"
"                        poll the kernel's list of TCP connections (and\n"
"                        connected UDP sockets) every MS milliseconds\n"
"                        (default 500; 0: no kernel view); a poll longer\n"
"                        than a twentieth of MS spaces the next to 20 times\n"
"                        its length\n"
"      --kernel-scope S  which of them: netns (default: the whole network\n"
"                        namespace), uid=N, or cgroup=PATH (cgroup v2)\n"
"      --tor-control ADDR\n"
"                        Tor's view: follow every stream of the tor whose\n"
"                        control port is ADDR (HOST:PORT, or unix:PATH for a\n"
"                        ControlSocket); may be repeated (up to 8 tors);\n"
"                        default $ONIONMETER_TOR_CONTROL (comma-separated).\n"
"                        Needs the kernel view.  Only PROTOCOLINFO,\n"
"                        AUTHCHALLENGE, AUTHENTICATE, SETEVENTS and GETINFO\n"
"                        are ever sent\n"
"      --tor-password-file FILE\n"
"                        authenticate with the password in FILE (one line)\n"
"                        instead of tor's cookie file\n"
"      --web.config.file FILE\n"
"                        exporter-toolkit's web configuration: basic_auth_users\n"
"                        (USER: bcrypt hash) asks every client but /-/healthy\n"
"                        for a password; TLS is not built in (put a proxy in\n"
"                        front, see onionmeter-exporter(1))\n"
"      --web.telemetry-path PATH\n"
"                        where the metrics are served (default /metrics)\n"
"      --log.level LEVEL debug, info (default), warn or error\n"
"      --log.format FMT  logfmt (default) or json\n"
"      --leaks-endpoint  serve the recent leak events as JSON on /leaks.\n"
"                        Off by default: events hold destination addresses\n"
"                        and names, which /metrics never shows\n"
"  -h, --help            show this help and exit\n"
"  -V, --version         show the version and exit\n"
"\n"
"Endpoints: /metrics (Prometheus text, or OpenMetrics 1.0 when the Accept\n"
"header asks for it), / (landing page), /-/healthy, /-/ready (200 once\n"
"every segment is attached), /leaks with --leaks-endpoint.  A segment that\n"
"does not exist yet is waited for and reported as onionmeter_segment_up 0,\n"
"its leak series at 0.  SIGHUP re-opens every segment; SIGTERM and SIGINT\n"
"stop the exporter.  Log lines (logfmt) go to stderr.\n"
"\n"
"Examples:\n"
"  onionmeter-exporter\n"
"  onionmeter-exporter --listen :9477 --segment /shared/onionmeter.seg\n"
"  onionmeter-exporter --once --format summary\n";

int om_opt_tor_add(struct app *a, const char *spec)
{
	const char *why;

	if (a->ntors == OM_TV_TORS) {
		fprintf(stderr, "onionmeter-exporter: at most %d --tor-control\n", OM_TV_TORS);
		return -1;
	}
	if (om_torctl_parse(&a->tors[a->ntors], spec, &why) < 0) {
		fprintf(stderr, "onionmeter-exporter: --tor-control %s: %s\n", spec, why);
		return -1;
	}
	a->ntors++;
	return 0;
}

int om_opt_tor_env(struct app *a)
{
	const char *v = getenv("ONIONMETER_TOR_CONTROL");
	char item[PATH_MAX + 8];

	while (v && *v) {
		size_t n = strcspn(v, ",");

		if (n && n < sizeof item) {
			memcpy(item, v, n);
			item[n] = '\0';
			if (om_opt_tor_add(a, item) < 0)
				return -1;
		} else if (n) {
			fprintf(stderr, "onionmeter-exporter: ONIONMETER_TOR_CONTROL: an item is "
				"too long\n");
			return -1;
		}
		v += n + (v[n] == ',');
	}
	return 0;
}

int om_opt_format(const char *s, enum om_format *f, int *report)
{
	static const char *const names[] = { "prometheus", "openmetrics", "json",
					     "summary" };
	int i;

	*report = !strcmp(s, "report") ? 1 : !strcmp(s, "report-json") ? 2 : 0;
	if (*report)
		return 0;
	for (i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*f = (enum om_format)i;
			return 0;
		}
	return -1;
}

int om_opt_exit(const char *s, struct om_run *run)
{
	char *end;
	long v;

	run->exited = strncmp(s, "signal:", 7) != 0;
	v = strtol(run->exited ? s : s + 7, &end, 10);
	if (*end || end == s || v < 0 || v > 255)
		return -1;
	run->code = (int)v;
	return 0;
}

int om_opt_owner(const char *s, uid_t *uid)
{
	struct passwd *pw = getpwnam(s);
	char *end;
	unsigned long v;

	if (pw) {
		*uid = pw->pw_uid;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v >= (uid_t)-1 || *s == '-')
		return -1;
	*uid = (uid_t)v;
	return 0;
}
