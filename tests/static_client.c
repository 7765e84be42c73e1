/* A statically linked client: no dynamic loader, so no preload.  Connects
 * to ADDR PORT, writes a line, holds the connection until the file DONE
 * exists. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: static_client ADDR PORT DONE\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("static_client");
		return 1;
	}
	if (write(fd, "hello, statically\n", 18) != 18)
		return 1;
	while (access(argv[3], F_OK) != 0)
		usleep(20000);
	close(fd);
	return 0;
}
