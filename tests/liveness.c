/* Threads and liveness under the shim.
 *
 *   liveness PORT claimer-exits   a thread makes the process's first dial
 *                                 (it claims the slot) and exits, leaving
 *                                 the connection open; main says "ready",
 *                                 waits for a line on stdin, then closes
 *                                 the connection, says "closed", waits
 *                                 again and exits
 *   liveness PORT main-exits      main starts a thread that dials and
 *                                 keeps the connection, says "ready" and
 *                                 calls pthread_exit(); the thread waits
 *                                 for a line on stdin, then exits the
 *                                 process */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int port, conn = -1;

static void *dial(void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	char line[64];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conn = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(conn, (struct sockaddr *)&sa, sizeof sa) < 0 || write(conn, "hello", 5) != 5)
		exit(3);
	if (arg) { /* main-exits: this thread outlives main */
		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			exit(4);
		exit(0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char line[64];

	if (argc < 3)
		return 2;
	port = atoi(argv[1]);
	if (!strcmp(argv[2], "claimer-exits")) {
		pthread_create(&t, 0, dial, 0);
		pthread_join(t, 0);
		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return 4;
		close(conn);
		printf("closed\n");
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return 4;
		return 0;
	}
	pthread_create(&t, 0, dial, (void *)1);
	pthread_exit(0);
}
