/* The first socket of a process inside a signal handler on a small
 * alternate stack, as crash handlers and watchdogs run: the handler dials
 * PORT and writes 100 bytes (the shim attaches there), and with "fork" it
 * then forks a child that does the same (the child attaches inside
 * fork's handler frame too).  Exits 0 if every dial and write worked;
 * with the stack too small the process dies of SIGSEGV.
 *
 *   altstack PORT STACK_BYTES [fork]
 *
 * The stack is mmapped with a guard page below it, so an overflow faults
 * instead of corrupting memory. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loopback.h"

static int port, do_fork;
static volatile sig_atomic_t ok;

static int dial_write(void)
{
	char buf[100];
	int fd = om_dial_loopback(port);

	memset(buf, 'h', sizeof buf);
	if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
		return -1;
	close(fd);
	return 0;
}

static void handler(int sig)
{
	(void)sig;
	if (dial_write() < 0)
		return;
	if (do_fork) {
		pid_t p = fork();
		int st;

		if (p == 0)
			_exit(dial_write() < 0 ? 1 : 0);
		if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return;
	}
	ok = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	stack_t ss;
	size_t size, page = (size_t)sysconf(_SC_PAGESIZE);
	char *mem;

	if (argc < 3)
		return 2;
	port = atoi(argv[1]);
	size = (size_t)atol(argv[2]);
	do_fork = argc > 3 && !strcmp(argv[3], "fork");
	size = (size + page - 1) / page * page;
	mem = mmap(0, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || mprotect(mem, page, PROT_NONE) < 0)
		return 2;
	ss.ss_sp = mem + page;
	ss.ss_size = size;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, 0) < 0)
		return 2;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, 0) < 0)
		return 2;
	raise(SIGUSR1);
	return ok ? 0 : 1;
}
