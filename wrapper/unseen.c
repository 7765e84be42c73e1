#include "torwatch.h"
#include "unseen.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/reader.h"

#define MAX_PROCS 1024
#define MAX_SOCKS 65536
#define MAX_RECORDS 256

struct ksock {
	uint32_t inode;
	struct om_diag_sock s;
};

struct proc {
	pid_t pid, ppid;
};

struct record {
	pid_t pid;
	uint64_t cookie;
	int unseen; /* over the process's account in two looks in a row */
	int attached;
	uint64_t accounted, held;
	unsigned kclass;
	char dest[320]; /* the peer; through tor: "onion HOST:PORT" or "exit HOST:PORT" */
	char comm[17];
	char cmd[OM_CMD_LEN];
};

struct om_unseen {
	struct om_reader reader;
	struct om_config cfg;
	pid_t self, exporter;
	int fd;
	uint32_t seq;
	struct ksock *socks;
	size_t nsocks;
	struct proc procs[MAX_PROCS];
	int nprocs;
	struct om_procs slots;
	/* (pid, cookie) held in the last look, and whether its process held
	 * more than it accounted for: recorded when the next look finds them
	 * held again (and unseen when it finds the excess again) */
	struct cand {
		pid_t pid;
		uint64_t cookie;
		int excess;
	} cand[MAX_RECORDS], prev[MAX_RECORDS];
	int ncand, nprev;
	struct record rec[MAX_RECORDS];
	int nrec;
	const struct om_torwatch *tor;
};

void om_unseen_tor(struct om_unseen *u, const struct om_torwatch *w)
{
	u->tor = w;
}

struct om_unseen *om_unseen_new(const char *segment, pid_t exporter)
{
	struct om_unseen *u = calloc(1, sizeof *u);

	if (!u)
		return 0;
	if (!(u->socks = malloc(sizeof *u->socks * MAX_SOCKS))) {
		free(u);
		return 0;
	}
	if (om_reader_init(&u->reader, segment) < 0)
		u->reader.path[0] = '\0';
	/* the environment the command got; the shim in it says what is wrong */
	om_config_read(&u->cfg, om_env_plain, om_warn_none);
	u->self = getpid();
	u->exporter = exporter;
	u->fd = -1;
	return u;
}

void om_unseen_free(struct om_unseen *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	om_reader_close(&u->reader);
	free(u->socks);
	free(u);
}

static void on_sock(const struct om_diag_sock *s, void *arg)
{
	struct om_unseen *u = arg;

	if (!s->inode || !om_diag_held(s->state) || u->nsocks >= MAX_SOCKS)
		return;
	u->socks[u->nsocks].inode = s->inode;
	u->socks[u->nsocks].s = *s;
	u->nsocks++;
}

static int by_inode(const void *a, const void *b)
{
	const struct ksock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static const struct ksock *sock_by_inode(const struct om_unseen *u, uint32_t inode)
{
	struct ksock key;

	key.inode = inode;
	return bsearch(&key, u->socks, u->nsocks, sizeof key, by_inode);
}

/* Every process whose ancestry leads to us (we are the subreaper of the
 * run: orphans stay ours), bar the exporter. */
static void list_procs(struct om_unseen *u)
{
	struct proc all[8192];
	int nall = 0, i, grew = 1;
	DIR *d = opendir("/proc");
	struct dirent *e;

	u->nprocs = 0;
	if (!d)
		return;
	while ((e = readdir(d)) && nall < (int)(sizeof all / sizeof all[0])) {
		char path[64], buf[512], *rp;
		int fd;
		ssize_t n;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%.20s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid": comm may hold anything, so the last ')' */
		if (!(rp = strrchr(buf, ')')) || sscanf(rp + 1, " %*c %d", &all[nall].ppid) != 1)
			continue;
		all[nall].pid = atoi(e->d_name);
		nall++;
	}
	closedir(d);
	while (grew) {
		grew = 0;
		for (i = 0; i < nall && u->nprocs < MAX_PROCS; i++) {
			int j, ours = all[i].ppid == u->self, known = 0;

			if (all[i].pid == u->exporter || all[i].pid == u->self)
				continue;
			for (j = 0; j < u->nprocs; j++) {
				known |= u->procs[j].pid == all[i].pid;
				ours |= u->procs[j].pid == all[i].ppid;
			}
			if (ours && !known) {
				u->procs[u->nprocs++] = all[i];
				grew = 1;
			}
		}
	}
}

static const struct om_proc_info *slot_of(const struct om_unseen *u, pid_t pid)
{
	int i;

	for (i = 0; i < u->slots.n; i++)
		if ((pid_t)u->slots.p[i].pid == pid && u->slots.p[i].live)
			return &u->slots.p[i];
	return 0;
}

static const struct cand *was_held(const struct om_unseen *u, pid_t pid, uint64_t cookie)
{
	int i;

	for (i = 0; i < u->nprev; i++)
		if (u->prev[i].pid == pid && u->prev[i].cookie == cookie)
			return &u->prev[i];
	return 0;
}

static void record(struct om_unseen *u, pid_t pid, const struct ksock *k, unsigned kclass,
		   const struct om_proc_info *slot, uint64_t held, int unseen)
{
	struct record *r;
	char path[64];
	int i, fd;
	ssize_t n;

	for (i = 0; i < u->nrec; i++)
		if (u->rec[i].pid == pid && u->rec[i].cookie == k->s.cookie) {
			u->rec[i].unseen |= unseen;
			return;
		}
	if (u->nrec >= MAX_RECORDS)
		return;
	r = &u->rec[u->nrec++];
	memset(r, 0, sizeof *r);
	r->pid = pid;
	r->cookie = k->s.cookie;
	r->unseen = unseen;
	r->attached = slot != 0;
	r->kclass = kclass;
	r->accounted = slot ? slot->socks[r->kclass] : 0;
	r->held = held;
	if (r->kclass != OM_KCLASS_PROXY || om_torwatch_target(u->tor, &k->s, r->dest, sizeof r->dest) < 0)
		om_diag_peer(&k->s, r->dest, sizeof r->dest);
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, r->comm, sizeof r->comm - 1);
		close(fd);
		for (i = 0; i < n; i++)
			if (r->comm[i] == '\t' || r->comm[i] == '\n')
				r->comm[i] = i == n - 1 ? '\0' : ' ';
	}
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, r->cmd, sizeof r->cmd - 1);
		close(fd);
		for (i = 0; i < n; i++)
			if (r->cmd[i] == '\0' || r->cmd[i] == '\t' || r->cmd[i] == '\n')
				r->cmd[i] = ' ';
		while (n > 0 && r->cmd[n - 1] == ' ')
			r->cmd[--n] = '\0';
	}
}

/* One process: its sockets that the kernel lists as connections, and how
 * many of each class its slot holds. */
static void check_proc(struct om_unseen *u, pid_t pid)
{
	const struct ksock *mine[256];
	const struct om_proc_info *slot = slot_of(u, pid);
	uint64_t held[OM_NKCLASS] = { 0 };
	unsigned kc[256];
	char dir[64];
	DIR *d;
	struct dirent *e;
	int n = 0, i;

	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	if (!(d = opendir(dir)))
		return; /* gone, or another user's */
	while ((e = readdir(d)) && n < (int)(sizeof mine / sizeof mine[0])) {
		char link[64];
		ssize_t len = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
		unsigned long ino;
		const struct ksock *k;

		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) == 1 && (k = sock_by_inode(u, (uint32_t)ino))) {
			kc[n] = om_diag_kclass(&u->cfg, &k->s);
			held[kc[n]]++;
			mine[n++] = k;
		}
	}
	closedir(d);
	/* more connections of a class than it accounts for: which of them
	 * cannot be told, so all of that class are marked */
	for (i = 0; i < n; i++) {
		const struct cand *c = was_held(u, pid, mine[i]->s.cookie);
		int excess = held[kc[i]] > (slot ? slot->socks[kc[i]] : 0);

		if (c)
			record(u, pid, mine[i], kc[i], slot, held[kc[i]], excess && c->excess);
		if (u->ncand < MAX_RECORDS) {
			u->cand[u->ncand].pid = pid;
			u->cand[u->ncand].cookie = mine[i]->s.cookie;
			u->cand[u->ncand].excess = excess;
			u->ncand++;
		}
	}
}

void om_unseen_poll(struct om_unseen *u)
{
	char err[160];
	int i;

	if (u->fd < 0 && (u->fd = om_diag_open()) < 0)
		return;
	u->nsocks = 0;
	if (om_diag_dump(u->fd, &u->seq, AF_INET, IPPROTO_TCP, on_sock, u, err, sizeof err) < 0 ||
	    om_diag_dump(u->fd, &u->seq, AF_INET6, IPPROTO_TCP, on_sock, u, err, sizeof err) < 0) {
		close(u->fd);
		u->fd = -1;
		return;
	}
	qsort(u->socks, u->nsocks, sizeof *u->socks, by_inode);
	/* the slots after the dump: a socket the shim counted meanwhile is
	 * then counted on both sides */
	u->slots.n = 0;
	if (u->reader.path[0] && om_reader_procs(&u->reader, &u->slots) < 0)
		u->slots.n = 0;
	list_procs(u);
	u->ncand = 0;
	for (i = 0; i < u->nprocs; i++)
		check_proc(u, u->procs[i].pid);
	memcpy(u->prev, u->cand, sizeof u->cand[0] * (size_t)u->ncand);
	u->nprev = u->ncand;
}

int om_unseen_write(const struct om_unseen *u, FILE *f)
{
	static const char *const kc[] = OM_KCLASS_NAMES;
	int i;

	for (i = 0; i < u->nrec; i++) {
		const struct record *r = &u->rec[i];

		fprintf(f, "%d\t%d\t%d\t%llu\t%llu\t%s\t%s\t%s\t%s\n", (int)r->pid, r->unseen,
			r->attached,
			(unsigned long long)r->accounted, (unsigned long long)r->held,
			kc[r->kclass < OM_NKCLASS ? r->kclass : OM_KCLASS_DIRECT], r->dest,
			r->comm, r->cmd);
	}
	return u->nrec;
}
