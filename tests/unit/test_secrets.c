/* Unit tests of common/src/secrets.c: the per-tenant secret lists of the HTTP doors. */
#include <criterion/criterion.h>
#include <string.h>

#include "arrears/secrets.h"

Test(secrets, parses_and_checks_bearer_tokens)
{
    arr_secrets s;
    char why[256];
    cr_assert_eq(arr_secrets_parse("K", "acme:0123456789abcdef,beta:fedcba9876543210xyz", &s,
                                   why, sizeof why),
                 ARR_OK, "%s", why);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.v[1].tenant, "beta");
    cr_assert_str_eq(s.v[1].secret, "fedcba9876543210xyz");
    cr_assert(arr_secrets_bearer_ok(&s, "acme", "Bearer 0123456789abcdef"));
    cr_assert_not(arr_secrets_bearer_ok(&s, "beta", "Bearer 0123456789abcdef")); /* not beta's */
    cr_assert_not(arr_secrets_bearer_ok(&s, "acme", "Bearer 0123456789abcde"));  /* a prefix */
    cr_assert_not(arr_secrets_bearer_ok(&s, "acme", "0123456789abcdef"));        /* no scheme */
    cr_assert_not(arr_secrets_bearer_ok(&s, "acme", NULL));
    cr_assert_eq(arr_secrets_parse("K", "", &s, why, sizeof why), ARR_OK);
    cr_assert_eq(s.n, 0);
}

Test(secrets, refuses_what_is_not_tenant_colon_secret)
{
    arr_secrets s;
    char why[256];
    cr_assert_eq(arr_secrets_parse("ARR_X", "acme:short", &s, why, sizeof why), ARR_ECONFIG);
    cr_assert(strstr(why, "ARR_X: entry 1") && strstr(why, "16 to 127"), "%s", why);
    cr_assert_eq(arr_secrets_parse("ARR_X", "acme:0123456789abcdef,nocolon", &s, why, sizeof why),
                 ARR_ECONFIG);
    cr_assert(strstr(why, "entry 2"), "%s", why);
    cr_assert_eq(arr_secrets_parse("ARR_X", "Bad Tenant:0123456789abcdef", &s, why, sizeof why),
                 ARR_ECONFIG);
    cr_assert(strstr(why, "not a valid tenant"), "%s", why);
}
