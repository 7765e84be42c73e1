/* The system resolver's entry points.  glibc sends its DNS packets through
 * internal calls no preload can see, so lookups are judged here, by name:
 * a *.onion name is always a leak (it went to a DNS server instead of Tor);
 * under tor-only and onion-only any name that needs DNS is one. */
#include <errno.h>
#include <netdb.h>

#include "acct/leak.h"
#include "core/real.h"

#define OM_EXPORT __attribute__((visibility("default")))

OM_EXPORT int getaddrinfo(const char *node, const char *service,
			  const struct addrinfo *hints, struct addrinfo **res)
{
	if (om_leak_lookup(node, hints && (hints->ai_flags & AI_NUMERICHOST)))
		return EAI_FAIL;
	return OM_REAL(getaddrinfo)(node, service, hints, res);
}

OM_EXPORT struct hostent *gethostbyname(const char *name)
{
	if (om_leak_lookup(name, 0)) {
		h_errno = HOST_NOT_FOUND;
		return 0;
	}
	return OM_REAL(gethostbyname)(name);
}

OM_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	if (om_leak_lookup(name, 0)) {
		h_errno = HOST_NOT_FOUND;
		return 0;
	}
	return OM_REAL(gethostbyname2)(name, af);
}

OM_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
			      size_t len, struct hostent **result, int *herr)
{
	if (om_leak_lookup(name, 0)) {
		*result = 0;
		*herr = HOST_NOT_FOUND;
		return ENOENT;
	}
	return OM_REAL(gethostbyname_r)(name, ret, buf, len, result, herr);
}

OM_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret,
			       char *buf, size_t len, struct hostent **result,
			       int *herr)
{
	if (om_leak_lookup(name, 0)) {
		*result = 0;
		*herr = HOST_NOT_FOUND;
		return ENOENT;
	}
	return OM_REAL(gethostbyname2_r)(name, af, ret, buf, len, result, herr);
}

#ifdef __GLIBC__
/* Asynchronous lookups (glibc only): refused as a whole if any name is. */
OM_EXPORT int getaddrinfo_a(int mode, struct gaicb **list, int n,
			    struct sigevent *sev)
{
	int i, refuse = 0;

	for (i = 0; list && i < n; i++)
		if (list[i] && om_leak_lookup(list[i]->ar_name,
					      list[i]->ar_request &&
						      (list[i]->ar_request->ai_flags & AI_NUMERICHOST)))
			refuse = 1;
	if (refuse)
		return EAI_FAIL;
	return OM_REAL(getaddrinfo_a)(mode, list, n, sev);
}
#endif
