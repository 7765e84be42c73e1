#include "kernel.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/diag.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int om_kscope_parse(const char *s, struct om_kscope *out, const char **why)
{
	struct statfs fs;
	struct stat st;
	char *end;

	memset(out, 0, sizeof *out);
	if (!strcmp(s, "netns")) {
		out->kind = OM_KSCOPE_NETNS;
		return 0;
	}
	if (!strncmp(s, "uid=", 4)) {
		unsigned long v = strtoul(s + 4, &end, 10);

		if (!s[4] || *end || v > 0xFFFFFFFEul) {
			*why = "uid=N wants a number";
			return -1;
		}
		out->kind = OM_KSCOPE_UID;
		out->uid = (uint32_t)v;
		return 0;
	}
	if (!strncmp(s, "cgroup=", 7)) {
		/* on cgroup v2 a cgroup's id is its directory's inode number */
		if (statfs(s + 7, &fs) < 0 || stat(s + 7, &st) < 0) {
			*why = "cgroup=PATH: no such directory";
			return -1;
		}
		if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
			*why = "cgroup=PATH must be a cgroup v2 directory (under /sys/fs/cgroup, "
			       "or /sys/fs/cgroup/unified on a hybrid system)";
			return -1;
		}
		out->kind = OM_KSCOPE_CGROUP;
		out->cgroup = (uint64_t)st.st_ino;
		return 0;
	}
	*why = "want netns, uid=N or cgroup=PATH";
	return -1;
}

void om_kview_init(struct om_kview *k, const struct om_kscope *scope,
		   const struct om_config *cfg)
{
	memset(k, 0, sizeof *k);
	k->fd = -1;
	k->scope = *scope;
	k->cfg = *cfg;
}

void om_kview_close(struct om_kview *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	free(k->prev.e);
	free(k->cur.e);
	memset(&k->prev, 0, sizeof k->prev);
	memset(&k->cur, 0, sizeof k->cur);
}

/* A set of sockets by cookie: open addressing, at most half full, so a
 * poll costs a hash and a probe or two per socket and no sort.  Entries
 * of an older gen are empty slots: every probe chain of the current gen
 * was laid and is walked with the same rule.  Cookies are never 0. */
static inline size_t kset_mix(uint64_t cookie)
{
	return (size_t)((cookie * 0x9e3779b97f4a7c15ULL) >> 32);
}

static inline size_t kset_home(const struct om_kset *s, uint64_t cookie)
{
	return kset_mix(cookie) & (s->cap - 1);
}

/* Room for n entries at most half full, the table rebuilt. */
static int kset_reserve(struct om_kset *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 1024, i;
	struct om_kentry *old = s->e, *e;

	while (n * 2 > cap)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	if (!(e = calloc(cap, sizeof *e)))
		return -1;
	if (!s->gen)
		s->gen = 1;
	s->e = e;
	i = s->cap;
	s->cap = cap;
	s->half = cap / 2;
	while (i--)
		if (old[i].gen == s->gen) {
			size_t h = kset_home(s, old[i].cookie);

			while (e[h].gen == s->gen)
				h = (h + 1) & (cap - 1);
			e[h] = old[i];
		}
	free(old);
	return 0;
}

/* cookie's entry, added if it was not there (*fresh 1); NULL out of
 * memory.  mix is kset_mix(cookie), made once for both sets. */
static inline struct om_kentry *kset_put(struct om_kset *s, uint64_t cookie, size_t mix,
					 unsigned kclass, int *fresh)
{
	struct om_kentry *e;
	size_t h;

	*fresh = 0;
	if (__builtin_expect(s->n >= s->half, 0) && kset_reserve(s, s->n + 1) < 0) {
		s->oom = 1;
		return 0;
	}
	for (h = mix & (s->cap - 1); (e = &s->e[h])->gen == s->gen; h = (h + 1) & (s->cap - 1))
		if (e->cookie == cookie)
			return e;
	*e = (struct om_kentry){ .cookie = cookie, .gen = s->gen, .kclass = (uint8_t)kclass };
	s->n++;
	*fresh = 1;
	return e;
}

static inline const struct om_kentry *kset_find(const struct om_kset *s, uint64_t cookie,
						size_t mix)
{
	const struct om_kentry *e;
	size_t h;

	if (!s->n) /* and perhaps no table yet */
		return 0;
	for (h = mix & (s->cap - 1); (e = &s->e[h])->gen == s->gen; h = (h + 1) & (s->cap - 1))
		if (e->cookie == cookie)
			return e;
	return 0;
}

static void kset_clear(struct om_kset *s)
{
	if (s->n && !++s->gen) { /* wrapped: an old entry could pass for new */
		memset(s->e, 0, s->cap * sizeof *s->e);
		s->gen = 1;
	}
	s->n = 0;
	s->oom = 0;
}

static inline int in_scope(const struct om_kview *k, const struct om_diag_sock *s)
{
	int i;

	if (k->scope.kind != OM_KSCOPE_NETNS &&
	    (k->scope.kind == OM_KSCOPE_UID ? s->uid != k->scope.uid : s->cgroup != k->scope.cgroup))
		return 0;
	/* inode 0 (no process) may pass the bit, never the list */
	if (k->ownbits[s->inode % 256 / 64] >> (s->inode % 64) & 1)
		for (i = 0; i < k->nown; i++)
			if (k->own[i] == s->inode)
				return 0; /* the exporter's own: its listener's clients */
	for (i = 0; i < k->npeer; i++) {
		const struct om_kpeer *p = &k->peer[i];
		size_t n = p->family == AF_INET ? 4 : 16;

		if (p->family == s->family && p->sport == s->sport && p->dport == s->dport &&
		    !memcmp(p->src, s->src, n) && !memcmp(p->dst, s->dst, n))
			return 0; /* the other end of one of ours */
	}
	return 1;
}

/* fd's connection seen from its peer: the peer's address is the source. */
static void own_peer(struct om_kview *k, int fd)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof l, rl = sizeof r;
	struct om_kpeer *p;

	if (k->npeer >= (int)(sizeof k->peer / sizeof k->peer[0]) ||
	    getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&r, &rl) < 0 || l.ss_family != r.ss_family)
		return;
	p = &k->peer[k->npeer];
	memset(p, 0, sizeof *p);
	p->family = (uint8_t)l.ss_family;
	if (l.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&l, *b = (const void *)&r;

		memcpy(p->src, &b->sin_addr, 4);
		memcpy(p->dst, &a->sin_addr, 4);
		p->sport = ntohs(b->sin_port);
		p->dport = ntohs(a->sin_port);
	} else if (l.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&l, *b = (const void *)&r;

		memcpy(p->src, &b->sin6_addr, 16);
		memcpy(p->dst, &a->sin6_addr, 16);
		p->sport = ntohs(b->sin6_port);
		p->dport = ntohs(a->sin6_port);
	} else {
		return;
	}
	k->npeer++;
}

/* Inlined into the dump's callback: a call per socket is a tenth of
 * what a socket costs here. */
static inline __attribute__((always_inline)) void account(struct om_kview *k,
							 const struct om_diag_sock *s)
{
	const struct om_kentry *was = 0;
	struct om_kentry *e;
	size_t mix;
	unsigned c;
	int fresh;

	if (!in_scope(k, s))
		return;
	c = om_diag_kclass(&k->cfg, s);
	k->sockets++;
	/* new since the last poll, or held across it: asked as each
	 * socket goes in, not after (a dump may list a socket twice) */
	mix = kset_mix(s->cookie);
	if (!(e = kset_put(&k->cur, s->cookie, mix, c, &fresh)))
		return;
	if (fresh && !(was = kset_find(&k->prev, s->cookie, mix)))
		k->seen_new[c]++;
	if (!s->inode || !om_diag_held(s->state))
		return;
	k->conns[c]++;
	if (s->has_info) {
		k->bytes[c][OM_EGRESS] += s->bytes_out;
		k->bytes[c][OM_INGRESS] += s->bytes_in;
	}
	if (!e->owned) {
		e->owned = 1;
		if (!fresh)
			was = kset_find(&k->prev, s->cookie, mix);
		if (was && was->owned)
			k->aged[c]++;
	}
}

void om_kview_account(struct om_kview *k, const struct om_diag_sock *s)
{
	account(k, s);
}

static void on_sock(const struct om_diag_sock *s, void *arg)
{
	struct om_kview *k = arg;

	if (k->each)
		k->each(s, k->each_arg);
	account(k, s);
}

/* Connected UDP sockets: listed, not compared (the shim counts datagrams,
 * not sockets), and no tcp_info. */
static void on_udp(const struct om_diag_sock *s, void *arg)
{
	struct om_kview *k = arg;

	if (s->inode && in_scope(k, s))
		k->udp[om_diag_kclass(&k->cfg, s)]++;
}

/* The exporter's own sockets, so that a scrape is not a blind spot. */
static void own_inodes(struct om_kview *k)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	k->nown = k->npeer = 0;
	memset(k->ownbits, 0, sizeof k->ownbits);
	if (!d)
		return;
	while ((e = readdir(d)) && k->nown < (int)(sizeof k->own / sizeof k->own[0])) {
		char link[64];
		ssize_t n;
		unsigned long ino;

		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) == 1) {
			k->own[k->nown++] = (uint32_t)ino;
			k->ownbits[ino % 256 / 64] |= 1ull << (ino % 64);
			own_peer(k, atoi(e->d_name));
		}
	}
	closedir(d);
}

void om_kview_begin(struct om_kview *k)
{
	kset_clear(&k->cur);
	/* as many as the last poll saw, without growing on the way (a
	 * failure here shows as out of memory at the first add) */
	kset_reserve(&k->cur, k->prev.n);
	memset(k->aged, 0, sizeof k->aged);
	memset(k->seen_new, 0, sizeof k->seen_new);
	k->sockets = 0;
	memset(k->conns, 0, sizeof k->conns);
	memset(k->bytes, 0, sizeof k->bytes);
	memset(k->udp, 0, sizeof k->udp);
}

void om_kview_end(struct om_kview *k)
{
	struct om_kset t;
	int c;

	for (c = 0; c < OM_NKCLASS; c++)
		k->seen_total[c] += k->seen_new[c];
	t = k->prev;
	k->prev = k->cur;
	k->cur = t;
}

int om_kview_poll(struct om_kview *k)
{
	uint64_t t0 = om_mono_ns();

	if (k->fd < 0 && (k->fd = om_diag_open()) < 0) {
		snprintf(k->error, sizeof k->error, "NETLINK_SOCK_DIAG: %s", strerror(errno));
		k->up = 0;
		return -1;
	}
	own_inodes(k);
	om_kview_begin(k);
	if (om_diag_dump(k->fd, &k->seq, AF_INET, IPPROTO_TCP, on_sock, k, k->error,
			 sizeof k->error) < 0 ||
	    om_diag_dump(k->fd, &k->seq, AF_INET6, IPPROTO_TCP, on_sock, k, k->error,
			 sizeof k->error) < 0 ||
	    om_diag_dump(k->fd, &k->seq, AF_INET, IPPROTO_UDP, on_udp, k, k->error,
			 sizeof k->error) < 0 ||
	    om_diag_dump(k->fd, &k->seq, AF_INET6, IPPROTO_UDP, on_udp, k, k->error,
			 sizeof k->error) < 0 ||
	    k->cur.oom) {
		if (k->cur.oom)
			snprintf(k->error, sizeof k->error, "out of memory");
		/* a failed poll forgets the last: nothing ages across it */
		close(k->fd);
		k->fd = -1;
		kset_clear(&k->prev);
		k->up = 0;
		return -1;
	}
	om_kview_end(k);
	k->polls++;
	k->up = 1;
	k->error[0] = '\0';
	k->poll_seconds = (double)(om_mono_ns() - t0) / 1e9;
	return 0;
}

void om_kview_compare(struct om_kview *k, const uint64_t held[OM_NKCLASS], int single)
{
	int c;

	for (c = 0; c < OM_NKCLASS; c++) {
		uint64_t kern = single ? k->conns[c] : k->aged[c];
		uint64_t raw = kern > held[c] ? kern - held[c] : 0;

		/* a blind spot is one two polls in a row agree on */
		k->unseen[c] = single ? raw : raw < k->unseen_raw[c] ? raw : k->unseen_raw[c];
		k->unseen_raw[c] = raw;
	}
}
