/* The small shared helpers: FNV-1a against its published test vectors, buffer truncation,
 * error-returning messages. */
#include <criterion/criterion.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/err.h"
#include "arrears/hash.h"

Test(hash, fnv1a64_published_vectors)
{
    cr_assert_eq(arr_hash_fnv1a64(""), 0xcbf29ce484222325ULL);
    cr_assert_eq(arr_hash_fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
    cr_assert_eq(arr_hash_fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

Test(hash, buf_truncate_only_shortens)
{
    arr_buf b;
    arr_buf_init(&b, 64);
    cr_assert_eq(arr_buf_append(&b, "abcdef", 6), ARR_OK);
    arr_buf_truncate(&b, 10);
    cr_assert_str_eq(b.data, "abcdef");
    arr_buf_truncate(&b, 2);
    cr_assert_eq(b.len, 2);
    cr_assert_str_eq(b.data, "ab");
    arr_buf_free(&b);
}

Test(hash, errbuf_fail_returns_the_code_with_the_message)
{
    char why[32];
    cr_assert_eq(arr_errbuf_fail(ARR_ELIMIT, why, sizeof(why), "field %s: too long", "x"),
                 ARR_ELIMIT);
    cr_assert_str_eq(why, "field x: too long");
    cr_assert_eq(arr_errbuf_fail(ARR_EINVAL, NULL, 0, "no buffer"), ARR_EINVAL);
}
