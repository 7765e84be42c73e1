/* A plugin that does its own networking, loaded with RTLD_DEEPBIND by
 * around.c: its calls bind to libc directly unless the shim rebinds
 * them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

long plugin_send(const char *ip, int port, long n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	char buf[4096];
	long left = n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	memset(buf, 'p', sizeof buf);
	while (left > 0) {
		ssize_t r = write(fd, buf, left < (long)sizeof buf ? (size_t)left : sizeof buf);

		if (r <= 0)
			return -1;
		left -= r;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	return n;
}
