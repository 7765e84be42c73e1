/* A minimal attached process for benchmarks: under the shim it makes one
 * local dial (so its slot has a used counter block), then waits to be
 * killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 1);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		(void)!write(fd, "x", 1);
	for (;;)
		pause();
}
