/* arr_jsonw must write exactly what jansson's compact dump writes: the ingest importer hashes
 * its texts and compares them with hashes of texts jansson wrote. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/jsonw.h"

static char *jansson_text(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return s;
}

Test(jsonw, nested_values_match_jansson)
{
    arr_buf b;
    arr_buf_init(&b, 1 << 16);
    arr_jsonw w;
    arr_jsonw_init(&w, &b);
    arr_jsonw_object_begin(&w);
    arr_jsonw_key(&w, "a");
    arr_jsonw_int(&w, -9223372036854775807LL - 1);
    arr_jsonw_key(&w, "list");
    arr_jsonw_array_begin(&w);
    arr_jsonw_bool(&w, 1);
    arr_jsonw_bool(&w, 0);
    arr_jsonw_null(&w);
    arr_jsonw_object_begin(&w);
    arr_jsonw_object_end(&w);
    arr_jsonw_array_begin(&w);
    arr_jsonw_array_end(&w);
    arr_jsonw_string(&w, "x");
    arr_jsonw_array_end(&w);
    arr_jsonw_key(&w, "o");
    arr_jsonw_object_begin(&w);
    arr_jsonw_key(&w, "k\"ey");
    arr_jsonw_raw(&w, "[1,2]", 5);
    arr_jsonw_object_end(&w);
    arr_jsonw_object_end(&w);
    cr_assert_eq(arr_jsonw_finish(&w), ARR_OK);
    json_t *j =
        json_pack("{s:I, s:[b, b, n, {}, [], s], s:{s:[i, i]}}", "a",
                  (json_int_t)(-9223372036854775807LL - 1), "list", 1, 0, "x", "o", "k\"ey", 1, 2);
    char *want = jansson_text(j);
    cr_assert_str_eq(b.data, want);
    free(want);
    arr_buf_free(&b);
}

/* Every byte value that may appear in valid UTF-8 text, escaped as jansson escapes it. */
Test(jsonw, string_escapes_match_jansson)
{
    char s[300];
    size_t n = 0;
    for (int c = 1; c < 128; c++)
        s[n++] = (char)c;
    const char *utf8 = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\x7f";
    memcpy(s + n, utf8, strlen(utf8) + 1);
    arr_buf b;
    arr_buf_init(&b, 4096);
    arr_jsonw w;
    arr_jsonw_init(&w, &b);
    arr_jsonw_string(&w, s);
    cr_assert_eq(arr_jsonw_finish(&w), ARR_OK);
    char *want = jansson_text(json_string(s));
    cr_assert_not_null(want);
    cr_assert_str_eq(b.data, want);
    free(want);
    arr_buf_free(&b);
}

Test(jsonw, invalid_utf8_is_refused)
{
    const char *bad[] = {"\xff",   "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                         "ab\xc3", NULL};
    for (int i = 0; bad[i]; i++) {
        arr_buf b;
        arr_buf_init(&b, 64);
        arr_jsonw w;
        arr_jsonw_init(&w, &b);
        arr_jsonw_string(&w, bad[i]);
        cr_expect_eq(arr_jsonw_finish(&w), ARR_EINVAL, "case %d", i);
        cr_expect_null(json_string(bad[i]), "jansson refuses case %d too", i);
        arr_buf_free(&b);
    }
}

Test(jsonw, misuse_and_cap_are_sticky_errors)
{
    arr_buf b;
    arr_buf_init(&b, 64);
    arr_jsonw w;
    arr_jsonw_init(&w, &b);
    arr_jsonw_object_begin(&w);
    arr_jsonw_int(&w, 1); /* a value where a key is due */
    cr_assert_eq(arr_jsonw_finish(&w), ARR_EINVAL);
    arr_buf_reset(&b);
    arr_jsonw_init(&w, &b);
    arr_jsonw_array_begin(&w);
    cr_assert_eq(arr_jsonw_finish(&w), ARR_EINVAL, "left open");
    arr_buf_reset(&b);
    arr_jsonw_init(&w, &b);
    arr_jsonw_object_begin(&w);
    arr_jsonw_key(&w, "k");
    arr_jsonw_object_end(&w); /* the key's value is missing */
    cr_assert_eq(arr_jsonw_finish(&w), ARR_EINVAL);
    arr_buf_reset(&b);
    arr_jsonw_init(&w, &b);
    arr_jsonw_array_begin(&w);
    for (int i = 0; i < 100; i++)
        arr_jsonw_string(&w, "0123456789");
    arr_jsonw_array_end(&w);
    cr_assert_eq(arr_jsonw_finish(&w), ARR_ELIMIT, "64-byte cap");
    arr_buf_reset(&b);
    arr_jsonw_init(&w, &b);
    for (int i = 0; i <= ARR_JSONW_DEPTH; i++)
        arr_jsonw_array_begin(&w);
    cr_assert_eq(arr_jsonw_finish(&w), ARR_EINVAL, "too deep");
    arr_buf_free(&b);
}
