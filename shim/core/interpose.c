/* Keeping the program's calls bound to us when something would bind them
 * past us.
 *
 * - dlsym(handle, name) on an object whose `name` is libc's (torsocks
 *   resolves libc's connect() so, stacked before us): answered with our
 *   wrapper, which calls libc.  RTLD_NEXT keeps its exact meaning
 *   (dlsym.S).
 * - dlopen(..., RTLD_DEEPBIND) (PHP loads extensions so): the objects it
 *   loaded look symbols up in their own dependencies first, libc among
 *   them, and would never call us.  Their GOT entries for the functions
 *   we wrap are pointed at our wrappers, as the global scope would have
 *   bound them.
 * - a library that defines our functions after us in LD_PRELOAD (torsocks
 *   or proxychains in the wrong order): said once; its resolver is not
 *   judged (it may well answer .onion names itself), and its dials are
 *   followed from the bytes it writes. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/interpose.h"
#include "core/log.h"
#include "core/real.h"

#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#define OM_BIND 1 /* bind.S provides dlsym() and dlopen() */

/* Our own object: where it is, and a handle to look our symbols up. */
static uintptr_t self_lo, self_hi;
static void *self_handle;

static int self_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	int i;

	(void)size;
	(void)arg;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (uintptr_t)&self_phdr >= lo &&
		    (uintptr_t)&self_phdr < lo + ph->p_memsz) {
			int j;

			self_lo = ~(uintptr_t)0;
			for (j = 0; j < info->dlpi_phnum; j++) {
				const ElfW(Phdr) *q = &info->dlpi_phdr[j];

				if (q->p_type != PT_LOAD)
					continue;
				if (info->dlpi_addr + q->p_vaddr < self_lo)
					self_lo = info->dlpi_addr + q->p_vaddr;
				if (info->dlpi_addr + q->p_vaddr + q->p_memsz > self_hi)
					self_hi = info->dlpi_addr + q->p_vaddr + q->p_memsz;
			}
			return 1;
		}
	}
	return 0;
}

static void self_once(void)
{
	static int done;
	Dl_info di;

	if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		return;
	dl_iterate_phdr(self_phdr, 0);
	if (dladdr((void *)&self_phdr, &di) && di.dli_fname)
		self_handle = dlopen(di.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}

static int is_ours(const void *p)
{
	return (uintptr_t)p >= self_lo && (uintptr_t)p < self_hi;
}

void *(*om_real_dlsym)(void *, const char *);
void *(*om_real_dlopen)(const char *, int);

/* A sanitizer's runtime calls dlsym() while it starts, before instrumented
 * code may run: the paths it takes are not instrumented. */
#define OM_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

/* The function after us, by one of glibc's versions of it.  We do not
 * wrap dlvsym, so asking it is safe. */
static OM_NO_SANITIZE void *next_versioned(const char *name)
{
	static const char *const versions[] = { "GLIBC_2.34", "GLIBC_2.2.5", "GLIBC_2.17", 0 };
	void *f = 0;
	int i;

	for (i = 0; !f && versions[i]; i++)
		f = dlvsym(RTLD_NEXT, name, versions[i]);
	return f;
}

/* bind.S, on the first call */
OM_NO_SANITIZE void *om_dlsym_resolve(void)
{
	void *f = next_versioned("dlsym");

	__atomic_store_n(&om_real_dlsym, (void *(*)(void *, const char *))f, __ATOMIC_RELEASE);
	return f;
}

OM_NO_SANITIZE void *om_dlopen_resolve(void)
{
	void *f = next_versioned("dlopen");

	__atomic_store_n(&om_real_dlopen, (void *(*)(const char *, int))f, __ATOMIC_RELEASE);
	return f;
}

/* Our wrapper for name if we have one, and the definition it stands in
 * front of (the next one after us: libc's, normally). */
static void *ours_for(const char *name, void **next)
{
	void *w;

	self_once();
	if (!self_handle || !name || (!om_real_dlsym && !om_dlsym_resolve()))
		return 0;
	w = om_real_dlsym(self_handle, name);
	if (!w || !is_ours(w))
		return 0;
	*next = om_real_resolve(name);
	return *next ? w : 0;
}

/* p is what the caller's object answered for name: ours instead, if it is
 * the definition we stand in front of. */
static void *ours_instead(const char *name, void *p)
{
	void *w, *next = 0;

	w = ours_for(name, &next);
	return w && p == next && !is_ours(p) ? w : p;
}

/* bind.S, for every handle but RTLD_NEXT. */
OM_NO_SANITIZE void *om_dlsym(void *handle, const char *name)
{
	void *p;

	if (!om_real_dlsym && !om_dlsym_resolve())
		return 0;
	p = om_real_dlsym(handle, name);
	if (!p || handle == RTLD_DEFAULT)
		return p; /* the global scope finds us first anyway */
	return ours_instead(name, p);
}

/* --- RTLD_DEEPBIND --- */

struct objset {
	uintptr_t base[256];
	int n;
};

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct objset *s = arg;

	(void)size;
	if (s->n < (int)(sizeof s->base / sizeof s->base[0]))
		s->base[s->n++] = info->dlpi_addr;
	return 0;
}

static int known(const struct objset *s, uintptr_t base)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->base[i] == base)
			return 1;
	return 0;
}

/* A d_ptr of the dynamic section: relocated in place by glibc's loader,
 * an offset from the base elsewhere. */
static uintptr_t dptr(uintptr_t base, ElfW(Addr) v)
{
	return v < base ? base + v : v;
}

/* The object's RELRO range: made read-only after relocation; anything
 * else we write to was writable and must stay so (a lazy .got.plt shares
 * its page with .data). */
struct relro {
	uintptr_t lo, hi;
};

static void patch(uintptr_t *slot, void *to, const struct relro *ro)
{
	uintptr_t ps = (uintptr_t)getauxval(AT_PAGESZ), page = (uintptr_t)slot & ~(ps - 1);
	int was_ro = page >= (ro->lo & ~(ps - 1)) && page + ps <= ((ro->hi + ps - 1) & ~(ps - 1));

	if (!was_ro) {
		__atomic_store_n(slot, (uintptr_t)to, __ATOMIC_RELEASE);
		return;
	}
	if (mprotect((void *)page, ps, PROT_READ | PROT_WRITE) == 0) {
		__atomic_store_n(slot, (uintptr_t)to, __ATOMIC_RELEASE);
		mprotect((void *)page, ps, PROT_READ);
	}
}

#if defined(__x86_64__)
#define OM_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define OM_R_GLOB_DAT R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define OM_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define OM_R_GLOB_DAT R_AARCH64_GLOB_DAT
#endif

static void bind_relocs(uintptr_t base, const ElfW(Rela) *r, size_t n, const ElfW(Sym) *syms,
			const char *strs, uintptr_t lo, uintptr_t hi, const struct relro *ro)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned type = (unsigned)ELF64_R_TYPE(r[i].r_info);
		const char *name;
		uintptr_t *slot, cur;
		void *w, *next = 0;

		if (type != OM_R_JUMP_SLOT && type != OM_R_GLOB_DAT)
			continue;
		name = strs + syms[ELF64_R_SYM(r[i].r_info)].st_name;
		if (!(w = ours_for(name, &next)))
			continue;
		slot = (uintptr_t *)(base + r[i].r_offset);
		cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		/* bound to the definition past us, or not bound yet (a lazy
		 * slot still points into the object's own PLT) */
		if (cur == (uintptr_t)next || (type == OM_R_JUMP_SLOT && cur >= lo && cur < hi))
			patch(slot, w, ro);
	}
}

static int bind_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const struct objset *before = arg;
	const ElfW(Dyn) *d = 0;
	const ElfW(Rela) *jmprel = 0, *rela = 0;
	const ElfW(Sym) *syms = 0;
	const char *strs = 0;
	size_t jmpsz = 0, relasz = 0;
	uintptr_t base = info->dlpi_addr, lo = ~(uintptr_t)0, hi = 0;
	struct relro ro = { 0, 0 };
	int i;

	(void)size;
	if (known(before, base) || !info->dlpi_name || !info->dlpi_name[0])
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_DYNAMIC)
			d = (const ElfW(Dyn) *)(base + ph->p_vaddr);
		if (ph->p_type == PT_GNU_RELRO) {
			ro.lo = base + ph->p_vaddr;
			ro.hi = ro.lo + ph->p_memsz;
		}
		if (ph->p_type == PT_LOAD) {
			if (base + ph->p_vaddr < lo)
				lo = base + ph->p_vaddr;
			if (base + ph->p_vaddr + ph->p_memsz > hi)
				hi = base + ph->p_vaddr + ph->p_memsz;
		}
	}
	for (; d && d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_JMPREL: jmprel = (const void *)dptr(base, d->d_un.d_ptr); break;
		case DT_PLTRELSZ: jmpsz = d->d_un.d_val; break;
		case DT_RELA: rela = (const void *)dptr(base, d->d_un.d_ptr); break;
		case DT_RELASZ: relasz = d->d_un.d_val; break;
		case DT_SYMTAB: syms = (const void *)dptr(base, d->d_un.d_ptr); break;
		case DT_STRTAB: strs = (const void *)dptr(base, d->d_un.d_ptr); break;
		}
	}
	if (!syms || !strs)
		return 0;
	if (jmprel)
		bind_relocs(base, jmprel, jmpsz / sizeof *jmprel, syms, strs, lo, hi, &ro);
	if (rela)
		bind_relocs(base, rela, relasz / sizeof *rela, syms, strs, lo, hi, &ro);
	return 0;
}

/* bind.S, for dlopen(..., RTLD_DEEPBIND): the objects this call loads
 * are bound to our wrappers.  (Their RUNPATH search uses ours, not the
 * caller's: a DEEPBIND dlopen of a bare name that relies on the caller's
 * RUNPATH is the one thing this changes.) */
void *om_dlopen_deep(const char *file, int mode)
{
	struct objset before;
	void *h;

	if (!om_real_dlopen && !om_dlopen_resolve())
		return 0;
	before.n = 0;
	dl_iterate_phdr(collect, &before);
	h = om_real_dlopen(file, mode);
	if (h) {
		int err = errno;

		dl_iterate_phdr(bind_object, &before);
		errno = err;
	}
	return h;
}
#endif

/* --- LD_PRELOAD order --- */

static const char *owner_of(void *f)
{
	Dl_info di;

	return f && dladdr(f, &di) && di.dli_fname ? di.dli_fname : 0;
}

static int is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc.musl", 9) ||
	       !strncmp(base, "ld-musl", 7);
}

int om_resolver_behind(void)
{
	static int state; /* 0 unknown, 1 libc, 2 another library */
	const char *who;

	if (__builtin_expect(state != 0, 1))
		return state == 2;
	who = owner_of(om_real_resolve("getaddrinfo"));
	if (who && !is_libc(who)) {
		om_say("LD_PRELOAD puts ", who, " after onionmeter; onionmeter must come ",
		       "last (onionmeter-run puts it there).  Its dials are still counted, ",
		       "from the bytes it writes; its name lookups are not judged", (char *)0);
		state = 2;
	} else {
		state = 1;
	}
	return state == 2;
}
