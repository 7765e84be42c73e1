/* onionmeter-supervise: the part of onionmeter-run that stays with the
 * command (scripts/onionmeter-run execs it for --report, --report-json,
 * --fail-on-leak and --exporter).
 *
 * It runs the command as its child, forwards the signals sent to it,
 * reaps every child (as PID 1 of a container it inherits orphans), starts
 * and stops the exporter around the command, asks the exporter for the
 * report, removes a private segment, and ends the way the command ended:
 * the same exit status, or death by the same signal.  The status comes
 * from waitpid(), so an exit 130 and a death by SIGINT stay apart, which a
 * shell's wait cannot tell. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "torwatch.h"
#include "unseen.h"

#define EXIT_LEAK 3 /* --fail-on-leak: the command succeeded, a leak was counted */
#define LOOK_MS 250 /* how often the run's connections are looked at, for the report */

static const char usage[] =
"Usage: onionmeter-supervise --exporter-bin PATH [OPTION]... -- COMMAND [ARG]...\n"
"Internal to onionmeter-run (see onionmeter-run --help).\n"
"\n"
"  --exporter-bin PATH  the onionmeter-exporter to run\n"
"  --preload LIST       LD_PRELOAD for COMMAND (the supervisor runs without)\n"
"  --segment S          the segment COMMAND counts into\n"
"  --listen ADDR        serve /metrics on ADDR while COMMAND runs\n"
"  --report             when COMMAND ends, print the report to stderr\n"
"  --report-json FILE   ... and write it as JSON to FILE\n"
"  --fail-on-leak       exit 3 if COMMAND exited 0 but a leak was counted\n"
"  --private-dir DIR    the segment is DIR/segment: remove both at the end\n"
"  --tor-control ADDR   for the report: tor's control port, to name where\n"
"                       each stream to tor's ports went\n"
"  --tor-password-file F  its password, if it takes one\n";

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
				 SIGWINCH, SIGALRM };
#define NFWD (int)(sizeof forwarded / sizeof forwarded[0])

static sigset_t blocked, original;

static void die(const char *what)
{
	fprintf(stderr, "onionmeter-run: %s: %s\n", what, strerror(errno));
	exit(125);
}

/* In a child: the signal mask the supervisor was given, and LD_PRELOAD as
 * the command (or none, for the exporter) must see it. */
static void child_setup(const char *preload)
{
	sigprocmask(SIG_SETMASK, &original, 0);
	if (preload)
		setenv("LD_PRELOAD", preload, 1);
	else
		unsetenv("LD_PRELOAD");
}

/* Fork and exec argv.  out_fd: the child's stdout (-1: ours). */
static pid_t spawn(char *const argv[], const char *preload, int out_fd)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		child_setup(preload);
		if (out_fd >= 0 && dup2(out_fd, 1) < 0)
			_exit(125);
		execvp(argv[0], argv);
		fprintf(stderr, "onionmeter-run: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	return pid;
}

/* Wait for pid, reaping any other child meanwhile (orphans, under PID 1),
 * without taking signals: forwarding is over. */
static int wait_for(pid_t pid)
{
	int st;

	while (waitpid(-1, &st, 0) != pid)
		if (errno == ECHILD)
			return -1;
	return st;
}

/* Run the exporter once, its stdout to out_fd; returns its exit status. */
static int exporter_once(const char *bin, char **args, int nargs, int out_fd)
{
	char *argv[24];
	int i, st;

	argv[0] = (char *)bin;
	for (i = 0; i < nargs && i < 22; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = 0;
	st = wait_for(spawn(argv, 0, out_fd));
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* argv as a shell would need it typed, for the report's "command:" line. */
static char *quoted(char *const argv[])
{
	size_t cap = 1, n = 0;
	char *out, *p;
	int i;

	for (i = 0; argv[i]; i++)
		cap += 4 * strlen(argv[i]) + 3;
	if (!(out = malloc(cap)))
		return 0;
	for (i = 0; argv[i]; i++) {
		const char *a = argv[i];
		int plain = *a != '\0';

		for (p = (char *)a; *p && plain; p++)
			plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_./:=@%+,-", *p) != 0;
		if (i)
			out[n++] = ' ';
		if (plain) {
			n += (size_t)sprintf(out + n, "%s", a);
			continue;
		}
		out[n++] = '\'';
		for (; *a; a++)
			n += (size_t)(*a == '\'' ? sprintf(out + n, "'\\''") : sprintf(out + n, "%c", *a));
		out[n++] = '\'';
	}
	out[n] = '\0';
	return out;
}

/* Die of sig as the command did, so our parent sees what it would have
 * seen.  As PID 1 no signal can kill us: 128+N is the convention there. */
static void die_of(int sig)
{
	struct rlimit none = { 0, 0 };
	sigset_t one;

	if (getpid() != 1) {
		setrlimit(RLIMIT_CORE, &none); /* the command dumped core, if anyone */
		signal(sig, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigprocmask(SIG_UNBLOCK, &one, 0);
		raise(sig);
	}
	exit(128 + sig);
}

static long long mono_ms(void)
{
	return (long long)(om_mono_ns() / 1000000);
}

int main(int argc, char **argv)
{
	enum { O_EXPORTER = 256, O_PRELOAD, O_SEGMENT, O_LISTEN, O_REPORT, O_JSON, O_FAIL,
	       O_PRIVATE, O_TOR, O_TOR_PW };
	static const struct option opts[] = {
		{ "exporter-bin", required_argument, 0, O_EXPORTER },
		{ "preload", required_argument, 0, O_PRELOAD },
		{ "segment", required_argument, 0, O_SEGMENT },
		{ "listen", required_argument, 0, O_LISTEN },
		{ "report", no_argument, 0, O_REPORT },
		{ "report-json", required_argument, 0, O_JSON },
		{ "fail-on-leak", no_argument, 0, O_FAIL },
		{ "private-dir", required_argument, 0, O_PRIVATE },
		{ "tor-control", required_argument, 0, O_TOR },
		{ "tor-password-file", required_argument, 0, O_TOR_PW },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *exporter = 0, *preload = 0, *segment = 0, *listen = 0, *json = 0;
	const char *private_dir = 0, *tor = 0, *tor_pw = 0;
	struct om_torwatch *torwatch = 0;
	int report = 0, fail_on_leak = 0, opt, i, st = 0, leaked = 0;
	char exit_s[24], *cmdline, *args[20];
	pid_t child, exp_pid = -1;
	struct om_unseen *unseen = 0;
	long long next_look;
	char unseen_path[4096] = "";

	while ((opt = getopt_long(argc, argv, "+h", opts, 0)) != -1) {
		switch (opt) {
		case O_EXPORTER: exporter = optarg; break;
		case O_PRELOAD: preload = optarg; break;
		case O_SEGMENT: segment = optarg; break;
		case O_LISTEN: listen = optarg; break;
		case O_REPORT: report = 1; break;
		case O_JSON: json = optarg; break;
		case O_FAIL: fail_on_leak = 1; break;
		case O_PRIVATE: private_dir = optarg; break;
		case O_TOR: tor = optarg; break;
		case O_TOR_PW: tor_pw = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 125;
		}
	}
	if (!exporter || optind >= argc) {
		fputs(usage, stderr);
		return 125;
	}

	/* Signals wait for sigwaitinfo(): none is lost between fork and wait,
	 * and none is handled in the middle of our own work. */
	sigemptyset(&blocked);
	for (i = 0; i < NFWD; i++)
		sigaddset(&blocked, forwarded[i]);
	sigaddset(&blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blocked, &original);

	if (listen) {
		char *eargv[] = { (char *)exporter, "--listen", (char *)listen,
				  segment ? "--segment" : 0, (char *)segment, 0 };

		exp_pid = spawn(eargv, 0, -1);
	}
	/* for the report: the run's processes stay ours when orphaned, and
	 * their connections are looked at while they run */
	if ((report || json) && segment) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		unseen = om_unseen_new(segment, exp_pid);
		if (unseen && tor) {
			char err[300];

			/* before the command starts: its streams' events are ours */
			if (!(torwatch = om_torwatch_open(tor, tor_pw, err, sizeof err)))
				fprintf(stderr, "onionmeter-run: warning: tor's control port %s; the "
					"report will not name where streams through tor went\n", err);
			om_unseen_tor(unseen, torwatch);
		}
	}
	child = spawn(argv + optind, preload, -1);
	next_look = mono_ms() + LOOK_MS;
	for (;;) {
		siginfo_t si;
		pid_t p;
		int s, got;

		if (unseen) {
			/* by the clock, not by quiet spells: a run whose children
			 * exit all the time is looked at as often */
			long long left = next_look - mono_ms();
			struct timespec look = { 0, 0 };

			if (left > 0) {
				look.tv_sec = left / 1000;
				look.tv_nsec = left % 1000 * 1000000L;
			}
			got = sigtimedwait(&blocked, &si, &look);
			if (mono_ms() >= next_look) {
				om_torwatch_poll(torwatch);
				om_unseen_poll(unseen);
				next_look = mono_ms() + LOOK_MS;
			}
		} else {
			got = sigwaitinfo(&blocked, &si);
		}
		if (got < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			/* a signal from the terminal reached the command already
			 * (it is in the foreground process group); one sent to
			 * us by a process is for the command */
			if (si.si_code <= 0)
				kill(child, si.si_signo);
			continue;
		}
		while ((p = waitpid(-1, &s, WNOHANG)) > 0) {
			if (p == child) {
				st = s;
				child = 0;
			} else if (p == exp_pid) {
				exp_pid = -1;
				fprintf(stderr, "onionmeter-run: the exporter exited (status %d)\n",
					WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s));
			}
		}
		if (!child)
			break;
	}

	if (exp_pid > 0) {
		kill(exp_pid, SIGTERM);
		wait_for(exp_pid);
	}
	if (WIFSIGNALED(st))
		snprintf(exit_s, sizeof exit_s, "signal:%d", WTERMSIG(st));
	else
		snprintf(exit_s, sizeof exit_s, "%d", WEXITSTATUS(st));
	cmdline = quoted(argv + optind);
	if (unseen) {
		FILE *f;
		int fd;

		snprintf(unseen_path, sizeof unseen_path, "%s/onionmeter-unseen.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if ((fd = mkstemp(unseen_path)) < 0 || !(f = fdopen(fd, "w"))) {
			unseen_path[0] = '\0';
		} else {
			om_unseen_write(unseen, f);
			fclose(f);
		}
		om_unseen_free(unseen);
		om_torwatch_close(torwatch);
	}
	if (report || json || fail_on_leak) {
		int n = 0, rc;

		if (unseen_path[0]) {
			args[n++] = "--run-unseen";
			args[n++] = unseen_path;
		}

		args[n++] = "--once";
		if (segment) {
			args[n++] = "--segment";
			args[n++] = (char *)segment;
		}
		args[n++] = "--run-command";
		args[n++] = cmdline ? cmdline : "?";
		args[n++] = "--run-exit";
		args[n++] = exit_s;
		args[n++] = "--fail-on-leak";
		args[n++] = "--format";
		if (json) {
			int fd = open(json, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd < 0) {
				fprintf(stderr, "onionmeter-run: --report-json %s: %s\n", json,
					strerror(errno));
			} else {
				args[n] = "report-json";
				rc = exporter_once(exporter, args, n + 1, fd);
				leaked |= rc == EXIT_LEAK;
				close(fd);
			}
		}
		if (report || !json) {
			args[n] = "report";
			rc = exporter_once(exporter, args, n + 1, report ? 2 : open("/dev/null", O_WRONLY | O_CLOEXEC));
			leaked |= rc == EXIT_LEAK;
		}
	}
	free(cmdline);
	if (unseen_path[0])
		unlink(unseen_path);
	if (private_dir) {
		char *rargv[] = { (char *)exporter, "--remove", "--segment", (char *)segment, 0 };
		struct stat sb;
		int gone = stat(segment, &sb) < 0 && errno == ENOENT;

		if (!gone) {
			int rst = wait_for(spawn(rargv, 0, open("/dev/null", O_WRONLY | O_CLOEXEC)));

			gone = rst >= 0 && WIFEXITED(rst) && WEXITSTATUS(rst) == 0;
		}
		if (gone)
			rmdir(private_dir);
		else
			fprintf(stderr, "onionmeter-run: keeping %s: processes the command left "
				"running still count into it\n", segment);
	}

	if (WIFSIGNALED(st))
		die_of(WTERMSIG(st));
	if (fail_on_leak && leaked && WEXITSTATUS(st) == 0)
		return EXIT_LEAK;
	return WEXITSTATUS(st);
}
