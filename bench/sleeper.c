/* A minimal attached process for benchmarks.
 *
 *   sleeper PORT          one local dial (so its slot has a used byte
 *                         block and an open connection), then wait to be
 *                         killed
 *   sleeper PORT once     the same dial, then exit: the cost of an attach
 *   sleeper PORT forks N  the dial, then N times fork a child that exits
 *                         at once, waited for (each child inherits the
 *                         connection, so it counts it in a slot of its own)
 *   sleeper PORT forksbare N   the same, the connection closed first (an
 *                         attached parent holding no connection)
 *   sleeper PORT forkattach N   ... a child that dials once (claims a
 *                         slot of its own) and exits
 *   sleeper PORT exec CMD...    the dial, then exec CMD (an image that
 *                         finds the slot this one claimed) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_in sa = { .sin_family = AF_INET };

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		(void)!write(fd, "x", 1);
	return fd;
}

int main(int argc, char **argv)
{
	long n = argc > 3 ? atol(argv[3]) : 0, i;
	int fd;

	sa.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 1);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = dial();
	if (argc > 2 && !strcmp(argv[2], "once"))
		return 0;
	if (argc > 3 && !strcmp(argv[2], "exec")) {
		execvp(argv[3], argv + 3);
		return 127;
	}
	if (argc > 2 && !strcmp(argv[2], "forksbare"))
		close(fd);
	if (argc > 2 && (!strcmp(argv[2], "forks") || !strcmp(argv[2], "forksbare") ||
			 !strcmp(argv[2], "forkattach"))) {
		int attach = !strcmp(argv[2], "forkattach");

		for (i = 0; i < n; i++) {
			pid_t p = fork();

			if (p == 0) {
				if (attach)
					dial();
				_exit(0);
			}
			waitpid(p, 0, 0);
		}
		return 0;
	}
	for (;;)
		pause();
}
