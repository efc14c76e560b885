#include "arrears/secrets.h"

#include <sodium.h>
#include <string.h>

arr_err arr_secrets_parse(const char *key, const char *text, arr_secrets *out, char *why,
                          size_t whylen)
{
    memset(out, 0, sizeof(*out));
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        size_t tl = colon ? (size_t)(colon - p) : 0, sl = colon ? len - tl - 1 : 0;
        if (out->n == ARR_SECRETS_MAX || !colon || tl == 0 || tl > ARR_TENANT_MAX ||
            sl < ARR_SECRET_MIN || sl > ARR_SECRET_MAX)
            return arr_errbuf_fail(ARR_ECONFIG, why, whylen,
                                   "%s: entry %d must be tenant:secret with a secret of %d to %d "
                                   "characters",
                                   key, out->n + 1, ARR_SECRET_MIN, ARR_SECRET_MAX);
        arr_secret *s = &out->v[out->n];
        memcpy(s->tenant, p, tl);
        memcpy(s->secret, colon + 1, sl);
        if (!arr_tenant_valid(s->tenant))
            return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: '%s' is not a valid tenant", key,
                                   s->tenant);
        out->n++;
        p += len + (p[len] == ',');
    }
    return ARR_OK;
}

int arr_secrets_bearer_ok(const arr_secrets *s, const char *tenant, const char *authorization)
{
    static const char prefix[] = "Bearer ";
    if (!authorization || strncmp(authorization, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *given = authorization + sizeof(prefix) - 1;
    size_t glen = strlen(given);
    for (int i = 0; i < s->n; i++) {
        size_t n = strlen(s->v[i].secret);
        if (strcmp(s->v[i].tenant, tenant) == 0 && glen == n &&
            sodium_memcmp(given, s->v[i].secret, n) == 0)
            return 1;
    }
    return 0;
}
