/* Many short threads, then a few that count: a long-lived server that
 * starts a thread per request goes through millions of threads, and
 * nothing the shim keeps per thread may wrap or alias a live one.
 *
 *   thread_churn PORT CHURN K [ONION]
 *
 * CHURN threads, eight at a time, each dial 127.0.0.1:1 (refused) once;
 * then K threads at once each send 1000 bytes to PORT (a sink answering
 * with the count it received) and read the answer.  With ONION, PORT is
 * a SOCKS5 proxy and each asks it for ONION:80 first.  Prints "acked N
 * wrote W read R" (W and R include the SOCKS handshakes). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

static int port;
static const char *onion;
static long wrote, got; /* totals over the workers */

static void *churn(void *arg)
{
	(void)arg;
	if (om_dial_loopback(1) >= 0)
		abort(); /* nothing listens on port 1 */
	return 0;
}

/* A SOCKS5 CONNECT to onion:80 without authentication: 0, or -1. */
static int socks5(int fd, long *w, long *r)
{
	unsigned char req[300] = { 5, 1, 0, 3 }, rep[10];
	size_t n = strlen(onion);

	if (write(fd, "\5\1\0", 3) != 3 || read(fd, rep, 2) != 2 || rep[1] != 0)
		return -1;
	req[4] = (unsigned char)n;
	memcpy(req + 5, onion, n);
	req[5 + n] = 0;
	req[6 + n] = 80;
	if (write(fd, req, 7 + n) != (ssize_t)(7 + n) || read(fd, rep, 10) != 10 || rep[1] != 0)
		return -1;
	*w += 3 + 7 + (long)n;
	*r += 2 + 10;
	return 0;
}

static void *work(void *arg)
{
	char buf[1000], ack[32];
	long n = 0, w = 0, r0 = 0;
	ssize_t r;
	int fd = om_dial_loopback(port);

	(void)arg;
	memset(buf, 'w', sizeof buf);
	if (fd < 0 || (onion && socks5(fd, &w, &r0) < 0) ||
	    write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
		return (void *)-1L;
	w += sizeof buf;
	shutdown(fd, SHUT_WR);
	while ((r = read(fd, ack + n, sizeof ack - 1 - (size_t)n)) > 0)
		n += r;
	ack[n] = '\0';
	close(fd);
	__atomic_fetch_add(&wrote, w, __ATOMIC_RELAXED);
	__atomic_fetch_add(&got, r0 + n, __ATOMIC_RELAXED);
	return (void *)atol(ack);
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	pthread_attr_t small;
	long churned, k, i, acked = 0;

	if (argc != 4 && argc != 5)
		return 2;
	onion = argc == 5 ? argv[4] : 0;
	port = atoi(argv[1]);
	churned = atol(argv[2]);
	k = atol(argv[3]);
	if (k < 1 || k > 64)
		return 2;
	/* small stacks stay in glibc's stack cache: no mmap per thread */
	pthread_attr_init(&small);
	pthread_attr_setstacksize(&small, 64 * 1024);
	for (i = 0; i < churned; i += 8) {
		long j, m = churned - i < 8 ? churned - i : 8;

		for (j = 0; j < m; j++)
			if (pthread_create(&t[j], &small, churn, 0) != 0)
				return 1;
		for (j = 0; j < m; j++)
			pthread_join(t[j], 0);
	}
	for (i = 0; i < k; i++)
		if (pthread_create(&t[i], 0, work, 0) != 0)
			return 1;
	for (i = 0; i < k; i++) {
		void *r;

		pthread_join(t[i], &r);
		if ((long)r < 0)
			return 1;
		acked += (long)r;
	}
	printf("acked %ld wrote %ld read %ld\n", acked, wrote, got);
	return 0;
}
