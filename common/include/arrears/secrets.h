/* arr_secrets: per-tenant secrets from one configuration value, "tenant:secret,tenant:secret"
 * (the bearer tokens of the HTTP batch doors, the processors' webhook signing secrets).
 * Secrets of 16 to 127 characters; the list is held by value, nothing is allocated. */
#ifndef ARREARS_SECRETS_H
#define ARREARS_SECRETS_H

#include <stddef.h>
#include "arrears/envelope.h"
#include "arrears/err.h"

#define ARR_SECRETS_MAX 64
#define ARR_SECRET_MIN 16
#define ARR_SECRET_MAX 127

typedef struct arr_secret {
    char tenant[ARR_TENANT_MAX + 1];
    char secret[ARR_SECRET_MAX + 1];
} arr_secret;

typedef struct arr_secrets {
    arr_secret v[ARR_SECRETS_MAX];
    int n;
} arr_secrets;

/* Parses text ("" gives an empty list). ARR_ECONFIG with why naming key and the entry. */
arr_err arr_secrets_parse(const char *key, const char *text, arr_secrets *out, char *why,
                          size_t whylen);
/* 1 when authorization is "Bearer <the tenant's secret>", compared in constant time so the
 * answer's timing does not leak the secret. */
int arr_secrets_bearer_ok(const arr_secrets *s, const char *tenant, const char *authorization);

#endif
