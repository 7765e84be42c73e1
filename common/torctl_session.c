#include "common/torctl_session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sha256.h"
#include "common/torctl_parse.h"

enum { M_NULL = 1, M_HASHEDPASSWORD = 2, M_COOKIE = 4, M_SAFECOOKIE = 8 };

enum step {
	S_IDLE, S_PROTOCOLINFO, S_CHALLENGE, S_AUTHENTICATE, S_SOCKS_PORTS, S_HTTP_PORTS,
	S_SETEVENTS, S_STATUS, S_UP
};

static const char server_key[] = "Tor safe cookie authentication server-to-controller hash";
static const char client_key[] = "Tor safe cookie authentication controller-to-server hash";

static const char *const allowed[] = { "PROTOCOLINFO", "AUTHCHALLENGE", "AUTHENTICATE",
				       "SETEVENTS", "GETINFO" };

int om_tc_verb_allowed(const char *verb)
{
	unsigned i;

	for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (!strcmp(verb, allowed[i]))
			return 1;
	return 0;
}

int om_tc_addr(const char *spec, struct sockaddr_storage *sa, unsigned *salen, int *is_unix,
	       const char **why)
{
	char host[64];
	const char *colon;
	unsigned long port;
	char *end;
	size_t n;

	memset(sa, 0, sizeof *sa);
	*is_unix = 0;
	if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)sa;

		if (spec[5] != '/' || strlen(spec + 5) >= sizeof un->sun_path) {
			*why = "unix:PATH wants an absolute path, shorter than 108 bytes";
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, spec + 5);
		*salen = sizeof *un;
		*is_unix = 1;
		return 0;
	}
	colon = strrchr(spec, ':');
	if (!colon || colon[1] < '0' || colon[1] > '9' ||
	    (port = strtoul(colon + 1, &end, 10), *end) || !port || port > 65535) {
		*why = "want HOST:PORT, [V6]:PORT or unix:PATH (tor's ControlPort or ControlSocket)";
		return -1;
	}
	n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']')
		spec++, n -= 2;
	if (n >= sizeof host) {
		*why = "host too long";
		return -1;
	}
	memcpy(host, spec, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
		*salen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
		*salen = sizeof(struct sockaddr_in6);
	} else {
		*why = "HOST must be an IP address or localhost (no name is looked up)";
		return -1;
	}
	return 0;
}

static void fail(struct om_tc_session *s, const char *why)
{
	if (why != s->error)
		snprintf(s->error, sizeof s->error, "%s", why);
	s->failed = 1;
}

/* The one writer of commands: "VERB ARGS\r\n", for the five verbs only. */
static void command(struct om_tc_session *s, int step, const char *verb, const char *args)
{
	char line[640];
	int n;

	s->step = step;
	if (!om_tc_verb_allowed(verb) || strpbrk(args, "\r\n")) {
		fail(s, "refusing to send a command outside the read-only five");
		return;
	}
	n = snprintf(line, sizeof line, "%s%s%s\r\n", verb, *args ? " " : "", args);
	if (n < 0 || (size_t)n >= sizeof line || s->send(s->arg, line, (size_t)n) < 0)
		fail(s, "cannot write to tor");
	memset(line, 0, sizeof line); /* it may have held a secret */
}

void om_tc_session_begin(struct om_tc_session *s)
{
	s->step = S_IDLE;
	s->in_data = s->in_event = s->failed = 0;
	s->reply_ok = 1;
	s->methods = 0;
	s->cookie_file[0] = s->version[0] = s->error[0] = '\0';
	s->server_hash[0] = s->server_nonce[0] = '\0';
	command(s, S_PROTOCOLINFO, "PROTOCOLINFO", "1");
}

int om_tc_session_up(const struct om_tc_session *s)
{
	return s->step == S_UP && !s->failed;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;

	if (strlen(h) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++) {
		int v = h[i] >= '0' && h[i] <= '9' ? h[i] - '0'
		      : h[i] >= 'a' && h[i] <= 'f' ? h[i] - 'a' + 10
		      : h[i] >= 'A' && h[i] <= 'F' ? h[i] - 'A' + 10 : -1;

		if (v < 0)
			return -1;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] << 4 | v : v);
	}
	return 0;
}

/* --- authentication --- */

/* tor's 32-byte cookie, from the file PROTOCOLINFO named: 0, or -1 with
 * s->error saying what to do.  The path comes from whoever answers on the
 * port: only a regular file is opened (a device's open() can act). */
static int read_cookie(struct om_tc_session *s, uint8_t cookie[32])
{
	struct stat st;
	ssize_t n = -1;
	int fd = -1, err = ENOENT;

	if (s->cookie_file[0] == '/' && stat(s->cookie_file, &st) == 0 && S_ISREG(st.st_mode)) {
		fd = open(s->cookie_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		err = errno;
	} else if (errno == EACCES) {
		err = EACCES;
	}
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 32)
		n = read(fd, cookie, 32);
	if (fd >= 0)
		close(fd);
	if (n == 32)
		return 0;
	snprintf(s->error, sizeof s->error,
		 fd < 0 && err == EACCES
			 ? "cannot read tor's cookie file %s: run in tor's group (debian-tor), "
			   "with CookieAuthFileGroupReadable 1"
			 : "tor's cookie file %s is missing or not 32 bytes",
		 s->cookie_file);
	return -1;
}

/* The password file's first line as a QuotedString: 0, or -1. */
static int password(struct om_tc_session *s, char *out, size_t cap)
{
	char pw[256];
	ssize_t n;
	size_t i, o = 0;
	int fd = open(s->password_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		snprintf(s->error, sizeof s->error, "--tor-password-file %s: %s",
			 s->password_file, strerror(errno));
		return -1;
	}
	n = read(fd, pw, sizeof pw);
	close(fd);
	for (i = 0; n > 0 && i < (size_t)n; i++)
		if (pw[i] == '\n' || pw[i] == '\r') {
			n = (ssize_t)i;
			break;
		}
	if (n <= 0 || (size_t)n == sizeof pw) {
		snprintf(s->error, sizeof s->error,
			 "--tor-password-file %s: want one line of 1 to 255 bytes", s->password_file);
		memset(pw, 0, sizeof pw);
		return -1;
	}
	out[o++] = '"';
	for (i = 0; i < (size_t)n && o + 6 < cap; i++) {
		unsigned char ch = (unsigned char)pw[i];

		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\%03o", ch);
		else
			out[o++] = (char)ch;
	}
	out[o++] = '"';
	out[o] = '\0';
	memset(pw, 0, sizeof pw);
	return 0;
}

static void authenticate(struct om_tc_session *s)
{
	uint8_t cookie[32];
	char arg[600];

	if (s->password_file) {
		if (!(s->methods & (M_HASHEDPASSWORD | M_NULL))) {
			fail(s, "a password file is given, but tor takes no password "
				"(HashedControlPassword is not set)");
		} else if (password(s, arg, sizeof arg) < 0) {
			fail(s, s->error);
		} else {
			command(s, S_AUTHENTICATE, "AUTHENTICATE", arg);
			memset(arg, 0, sizeof arg);
		}
	} else if (s->methods & M_NULL) {
		command(s, S_AUTHENTICATE, "AUTHENTICATE", "");
	} else if (s->methods & M_SAFECOOKIE) {
		if (read_cookie(s, cookie) < 0) {
			fail(s, s->error);
			return;
		}
		memset(cookie, 0, sizeof cookie);
		if (getrandom(s->nonce, sizeof s->nonce, 0) != (ssize_t)sizeof s->nonce) {
			fail(s, "getrandom failed");
			return;
		}
		memcpy(arg, "SAFECOOKIE ", 11);
		hex(s->nonce, sizeof s->nonce, arg + 11);
		command(s, S_CHALLENGE, "AUTHCHALLENGE", arg);
	} else if ((s->methods & M_COOKIE) && s->is_unix) {
		if (read_cookie(s, cookie) < 0) {
			fail(s, s->error);
			return;
		}
		hex(cookie, sizeof cookie, arg);
		memset(cookie, 0, sizeof cookie);
		command(s, S_AUTHENTICATE, "AUTHENTICATE", arg);
		memset(arg, 0, sizeof arg);
	} else {
		fail(s, s->methods & M_COOKIE
			     ? "tor offers only COOKIE on a TCP port, which another process could "
			       "have taken first: enable SAFECOOKIE (tor >= 0.2.3), or use its "
			       "ControlSocket (unix:PATH)"
			     : "no authentication method onionmeter can use: give a password "
			       "file, or set CookieAuthentication 1");
	}
}

/* AUTHCHALLENGE's answer: tor proves it knows the cookie, then we do. */
static void challenge(struct om_tc_session *s)
{
	uint8_t cookie[32], snonce[32], want[32], got[32], msg[96];
	char arg[80];
	unsigned diff = 0, i;

	if (unhex(s->server_hash, got, 32) < 0 || unhex(s->server_nonce, snonce, 32) < 0) {
		fail(s, "AUTHCHALLENGE: tor's answer is malformed");
		return;
	}
	if (read_cookie(s, cookie) < 0) {
		fail(s, s->error);
		return;
	}
	memcpy(msg, cookie, 32);
	memcpy(msg + 32, s->nonce, 32);
	memcpy(msg + 64, snonce, 32);
	memset(cookie, 0, sizeof cookie);
	om_hmac_sha256(server_key, sizeof server_key - 1, msg, sizeof msg, want);
	for (i = 0; i < 32; i++)
		diff |= (unsigned)(want[i] ^ got[i]);
	if (diff) {
		memset(msg, 0, sizeof msg);
		fail(s, "AUTHCHALLENGE: the port does not know tor's cookie: "
			"is something else listening there?");
		return;
	}
	om_hmac_sha256(client_key, sizeof client_key - 1, msg, sizeof msg, want);
	memset(msg, 0, sizeof msg);
	hex(want, 32, arg);
	command(s, S_AUTHENTICATE, "AUTHENTICATE", arg);
}

/* --- replies --- */

static const char *step_verb(int step)
{
	return step == S_AUTHENTICATE ? "AUTHENTICATE" : step == S_CHALLENGE ? "AUTHCHALLENGE"
	     : step == S_SETEVENTS ? "SETEVENTS" : step == S_PROTOCOLINFO ? "PROTOCOLINFO"
	     : "GETINFO";
}

/* One line of a GETINFO answer: "key=value" to the caller. */
static void info(struct om_tc_session *s, const char *t, size_t n)
{
	char key[64], value[PATH_MAX];
	const char *eq = memchr(t, '=', n);
	size_t k, m;

	if (!eq || !s->info || (k = (size_t)(eq - t)) >= sizeof key)
		return;
	memcpy(key, t, k);
	key[k] = '\0';
	m = n - k - 1 < sizeof value - 1 ? n - k - 1 : sizeof value - 1;
	memcpy(value, eq + 1, m);
	value[m] = '\0';
	s->info(s->arg, key, value);
}

static void reply_line(struct om_tc_session *s, const struct om_tc_line *l)
{
	char v[PATH_MAX];
	const char *t = l->text;
	size_t n = l->len;

	if (l->code != 250) {
		/* a GETINFO key this tor lacks is no reason to give up */
		s->reply_ok = l->code == 552 && (s->step == S_HTTP_PORTS || s->step == S_STATUS);
		if (l->sep == ' ' && !s->reply_ok) {
			snprintf(s->error, sizeof s->error, "%s refused: %d %.*s", step_verb(s->step),
				 l->code, (int)(n > 120 ? 120 : n), t);
			fail(s, s->error);
			return;
		}
	}
	switch (s->step) {
	case S_PROTOCOLINFO:
		if (n > 5 && !memcmp(t, "AUTH ", 5)) {
			if (om_tc_value(t, n, "METHODS", v, sizeof v) > 0) {
				char *m, *save;

				for (m = strtok_r(v, ",", &save); m; m = strtok_r(0, ",", &save))
					s->methods |= !strcmp(m, "NULL") ? M_NULL
						    : !strcmp(m, "HASHEDPASSWORD") ? M_HASHEDPASSWORD
						    : !strcmp(m, "COOKIE") ? M_COOKIE
						    : !strcmp(m, "SAFECOOKIE") ? M_SAFECOOKIE : 0;
			}
			om_tc_value(t, n, "COOKIEFILE", s->cookie_file, sizeof s->cookie_file);
		} else if (n > 8 && !memcmp(t, "VERSION ", 8)) {
			om_tc_value(t, n, "Tor", s->version, sizeof s->version);
		}
		break;
	case S_CHALLENGE:
		if (n > 14 && !memcmp(t, "AUTHCHALLENGE ", 14)) {
			om_tc_value(t, n, "SERVERHASH", s->server_hash, sizeof s->server_hash);
			om_tc_value(t, n, "SERVERNONCE", s->server_nonce, sizeof s->server_nonce);
		}
		break;
	case S_SOCKS_PORTS:
	case S_HTTP_PORTS:
	case S_STATUS:
		if (l->code == 250)
			info(s, t, n);
		break;
	}
	if (l->sep != ' ')
		return;
	/* the reply is whole */
	s->reply_ok = 1;
	switch (s->step) {
	case S_PROTOCOLINFO:
		authenticate(s);
		break;
	case S_CHALLENGE:
		challenge(s);
		break;
	case S_AUTHENTICATE:
		command(s, S_SOCKS_PORTS, "GETINFO", "net/listeners/socks");
		break;
	case S_SOCKS_PORTS:
		command(s, S_HTTP_PORTS, "GETINFO", "net/listeners/httptunnel");
		break;
	case S_HTTP_PORTS:
		/* the ports are known before the first stream's event */
		command(s, S_SETEVENTS, "SETEVENTS", s->events);
		break;
	case S_SETEVENTS:
		if (s->status_keys) {
			command(s, S_STATUS, "GETINFO", s->status_keys);
			break;
		}
		/* fall through */
	case S_STATUS:
		s->step = S_UP;
		if (s->up)
			s->up(s->arg);
		break;
	default:
		break;
	}
}

void om_tc_session_line(struct om_tc_session *s, const char *line, size_t len)
{
	struct om_tc_line l;

	if (s->failed)
		return;
	if (s->in_data) { /* up to a line "." */
		if (len == 1 && line[0] == '.')
			s->in_data = 0;
		return;
	}
	if (om_tc_line(line, len, &l) < 0) {
		fail(s, "not tor's control protocol");
		return;
	}
	if (l.sep == '+')
		s->in_data = 1;
	if (l.code == 650) {
		if (!s->in_event && s->event)
			s->event(s->arg, l.text, l.len);
		s->in_event = l.sep != ' ';
		return;
	}
	if (s->step == S_IDLE || s->step == S_UP) {
		fail(s, "tor answered what was not asked");
		return;
	}
	reply_line(s, &l);
}
