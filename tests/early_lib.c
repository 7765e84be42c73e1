/* A library whose constructor does socket I/O.  Being a dependency of the
 * program, it is initialised before the preloaded shim: its calls reach
 * the shim's wrappers before the shim's own constructor has run. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int early_sent = -1;

__attribute__((constructor)) static void early(void)
{
	const char *port = getenv("EARLY_PORT");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	if (!port)
		return;
	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		early_sent = (int)write(fd, "early bytes!", 12);
	close(fd);
}
