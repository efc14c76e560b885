#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "arrears/uuid.h"

static void assert_shape(const char *u, char version)
{
    cr_assert(arr_uuid_valid(u), "not canonical: %s", u);
    cr_assert_eq(strlen(u), 36);
    cr_assert_eq(u[14], version, "version nibble of %s", u);
    cr_assert(strchr("89ab", u[19]) != NULL, "variant of %s", u);
}

Test(uuid, v4_has_version_and_variant_and_differs)
{
    char a[ARR_UUID_STRLEN], b[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_v4(a), ARR_OK);
    cr_assert_eq(arr_uuid_v4(b), ARR_OK);
    assert_shape(a, '4');
    assert_shape(b, '4');
    cr_assert_str_neq(a, b);
}

Test(uuid, v7_encodes_the_timestamp_big_endian)
{
    char u[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_v7(0x0123456789abLL, u), ARR_OK);
    assert_shape(u, '7');
    cr_assert_eq(strncmp(u, "01234567-89ab-7", 15), 0, "got %s", u);
    cr_assert_eq(arr_uuid_v7(0, u), ARR_OK);
    cr_assert_eq(strncmp(u, "00000000-0000-7", 15), 0, "got %s", u);
    cr_assert_eq(arr_uuid_v7(0xffffffffffffLL, u), ARR_OK);
    cr_assert_eq(strncmp(u, "ffffffff-ffff-7", 15), 0, "got %s", u);
}

Test(uuid, v7_sorts_by_time_as_text)
{
    char prev[ARR_UUID_STRLEN], cur[ARR_UUID_STRLEN];
    int64_t ms = 1767323045006LL;
    cr_assert_eq(arr_uuid_v7(ms, prev), ARR_OK);
    for (int i = 0; i < 2000; i++) {
        ms += 1 + (i % 7) * 1000003LL;
        cr_assert_eq(arr_uuid_v7(ms, cur), ARR_OK);
        assert_shape(cur, '7');
        cr_assert_lt(strcmp(prev, cur), 0, "%s then %s", prev, cur);
        memcpy(prev, cur, sizeof cur);
    }
}

Test(uuid, v7_rejects_times_outside_48_bits)
{
    char u[ARR_UUID_STRLEN] = "unchanged";
    cr_assert_eq(arr_uuid_v7(-1, u), ARR_EINVAL);
    cr_assert_eq(arr_uuid_v7(0x1000000000000LL, u), ARR_EINVAL);
    cr_assert_str_eq(u, "unchanged");
}

/* SHA-256("") starts e3b0c44298fc1c149afbf4c8996fb924; octet 6 0x1c becomes 0x8c, octet 8
 * 0x9a keeps its 10 variant bits. */
Test(uuid, named_matches_sha256_of_empty_input)
{
    char u[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_named("", "", u), ARR_OK);
    cr_assert_str_eq(u, "e3b0c442-98fc-8c14-9afb-f4c8996fb924");
}

Test(uuid, named_hashes_namespace_then_name)
{
    char u[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_named("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", u),
                 ARR_OK);
    cr_assert_str_eq(u, "48b09148-ca41-84a2-99b9-f8e2c8a6312c");
    assert_shape(u, '8');
}

Test(uuid, named_is_deterministic_and_input_sensitive)
{
    const char *ns = "0190b9e4-1c2d-7abc-8def-0123456789ab";
    char a[ARR_UUID_STRLEN], b[ARR_UUID_STRLEN], c[ARR_UUID_STRLEN], d[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_named(ns, "score", a), ARR_OK);
    cr_assert_eq(arr_uuid_named(ns, "score", b), ARR_OK);
    cr_assert_eq(arr_uuid_named(ns, "score2", c), ARR_OK);
    cr_assert_eq(arr_uuid_named("0190b9e4-1c2d-7abc-8def-0123456789ac", "score", d), ARR_OK);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    cr_assert_str_neq(a, d);
    assert_shape(a, '8');
    cr_assert_eq(arr_uuid_named(NULL, "x", a), ARR_EINVAL);
    cr_assert_eq(arr_uuid_named(ns, NULL, a), ARR_EINVAL);
}

Test(uuid, valid_accepts_only_canonical_lower_case)
{
    cr_assert(arr_uuid_valid("0190b9e4-1c2d-7abc-8def-0123456789ab"));
    cr_assert(arr_uuid_valid("00000000-0000-0000-0000-000000000000"));
    cr_assert_not(arr_uuid_valid("0190B9E4-1C2D-7ABC-8DEF-0123456789AB"));
    cr_assert_not(arr_uuid_valid("0190b9e41c2d7abc8def0123456789ab"));
    cr_assert_not(arr_uuid_valid("0190b9e4-1c2d-7abc-8def-0123456789a"));
    cr_assert_not(arr_uuid_valid("0190b9e4-1c2d-7abc-8def-0123456789abc"));
    cr_assert_not(arr_uuid_valid("0190b9e4-1c2d-7abc-8def_0123456789ab"));
    cr_assert_not(arr_uuid_valid("0190b9e4-1c2d-7abc-8deg-0123456789ab"));
    cr_assert_not(arr_uuid_valid("{0190b9e4-1c2d-7abc-8def-0123456789a}"));
    cr_assert_not(arr_uuid_valid(""));
    cr_assert_not(arr_uuid_valid(NULL));
}
