#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrears/buf.h"

Test(buf, init_is_empty)
{
    arr_buf b;
    arr_buf_init(&b, 100);
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    cr_expect_eq(b.cap, 0);
    cr_expect_eq(b.max, 100);
    arr_buf_free(&b);
}

Test(buf, append_keeps_nul_terminated_content)
{
    arr_buf b;
    arr_buf_init(&b, 1024);
    cr_assert_eq(arr_buf_append(&b, "abc", 3), ARR_OK);
    cr_assert_eq(arr_buf_append(&b, "defg", 4), ARR_OK);
    cr_expect_eq(b.len, 7);
    cr_expect_str_eq(b.data, "abcdefg");
    cr_expect_eq(b.data[b.len], '\0');
    cr_expect_geq(b.cap, b.len + 1);
    arr_buf_free(&b);
}

Test(buf, empty_append_gives_empty_string)
{
    arr_buf b;
    arr_buf_init(&b, 16);
    cr_assert_eq(arr_buf_append(&b, "", 0), ARR_OK);
    cr_assert_not_null(b.data);
    cr_expect_str_eq(b.data, "");
    arr_buf_free(&b);
}

Test(buf, binary_content_is_copied_exactly)
{
    const char bytes[] = {'a', '\0', 'b', '\xff'};
    arr_buf b;
    arr_buf_init(&b, 16);
    cr_assert_eq(arr_buf_append(&b, bytes, sizeof(bytes)), ARR_OK);
    cr_expect_eq(b.len, sizeof(bytes));
    cr_expect_eq(memcmp(b.data, bytes, sizeof(bytes)), 0);
    arr_buf_free(&b);
}

Test(buf, growth_over_many_appends)
{
    arr_buf b;
    arr_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(arr_buf_append(&b, (i % 2) ? "x" : "y", 1), ARR_OK);
    cr_assert_eq(b.len, 10000);
    for (size_t i = 0; i < b.len; i++)
        cr_assert_eq(b.data[i], (i % 2) ? 'x' : 'y', "byte %zu", i);
    cr_expect_eq(b.data[10000], '\0');
    arr_buf_free(&b);
}

Test(buf, cap_is_enforced_and_content_kept)
{
    arr_buf b;
    arr_buf_init(&b, 10);
    cr_assert_eq(arr_buf_append(&b, "12345678", 8), ARR_OK);
    cr_expect_eq(arr_buf_append(&b, "abc", 3), ARR_ELIMIT);
    cr_expect_eq(b.len, 8);
    cr_expect_str_eq(b.data, "12345678");
    /* exactly at the cap is allowed */
    cr_expect_eq(arr_buf_append(&b, "9A", 2), ARR_OK);
    cr_expect_str_eq(b.data, "123456789A");
    cr_expect_eq(arr_buf_append(&b, "B", 1), ARR_ELIMIT);
    cr_expect_eq(b.len, 10);
    cr_expect_str_eq(b.data, "123456789A");
    arr_buf_free(&b);
}

Test(buf, zero_cap_rejects_any_byte)
{
    arr_buf b;
    arr_buf_init(&b, 0);
    cr_expect_eq(arr_buf_append(&b, "a", 1), ARR_ELIMIT);
    cr_expect_eq(b.len, 0);
    arr_buf_free(&b);
}

Test(buf, huge_length_does_not_overflow)
{
    arr_buf b;
    arr_buf_init(&b, SIZE_MAX);
    cr_assert_eq(arr_buf_append(&b, "ab", 2), ARR_OK);
    /* len + extra + 1 would wrap around; must fail rather than under-allocate */
    cr_expect_neq(arr_buf_append(&b, "x", SIZE_MAX - 1), ARR_OK);
    cr_expect_eq(b.len, 2);
    cr_expect_str_eq(b.data, "ab");
    arr_buf_free(&b);
}

Test(buf, appendf_formats)
{
    arr_buf b;
    arr_buf_init(&b, 1024);
    cr_assert_eq(arr_buf_appendf(&b, "%s=%d", "n", 42), ARR_OK);
    cr_assert_eq(arr_buf_appendf(&b, ";%05.1f;%c", 3.14159, 'z'), ARR_OK);
    cr_expect_str_eq(b.data, "n=42;003.1;z");
    cr_expect_eq(b.len, strlen("n=42;003.1;z"));
    arr_buf_free(&b);
}

Test(buf, appendf_long_output_grows)
{
    char big[3000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    arr_buf b;
    arr_buf_init(&b, 10000);
    cr_assert_eq(arr_buf_append(&b, "<", 1), ARR_OK);
    cr_assert_eq(arr_buf_appendf(&b, "%s>", big), ARR_OK);
    cr_expect_eq(b.len, 1 + 2999 + 1);
    cr_expect_eq(b.data[0], '<');
    cr_expect_eq(b.data[2999], 'q');
    cr_expect_eq(b.data[3000], '>');
    cr_expect_eq(b.data[3001], '\0');
    arr_buf_free(&b);
}

Test(buf, appendf_respects_cap)
{
    arr_buf b;
    arr_buf_init(&b, 8);
    cr_assert_eq(arr_buf_appendf(&b, "%d", 1234), ARR_OK);
    cr_expect_eq(arr_buf_appendf(&b, "%s", "56789"), ARR_ELIMIT);
    cr_expect_eq(b.len, 4);
    cr_expect_str_eq(b.data, "1234");
    cr_expect_eq(arr_buf_appendf(&b, "%s", "5678"), ARR_OK);
    cr_expect_str_eq(b.data, "12345678");
    arr_buf_free(&b);
}

Test(buf, reset_keeps_memory)
{
    arr_buf b;
    arr_buf_init(&b, 1024);
    cr_assert_eq(arr_buf_append(&b, "hello", 5), ARR_OK);
    char *data = b.data;
    size_t cap = b.cap;
    arr_buf_reset(&b);
    cr_expect_eq(b.len, 0);
    cr_expect_eq(b.data, data);
    cr_expect_eq(b.cap, cap);
    cr_expect_str_eq(b.data, "");
    cr_assert_eq(arr_buf_append(&b, "xy", 2), ARR_OK);
    cr_expect_str_eq(b.data, "xy");
    arr_buf_free(&b);
}

Test(buf, reset_restores_room_under_cap)
{
    arr_buf b;
    arr_buf_init(&b, 4);
    cr_assert_eq(arr_buf_append(&b, "abcd", 4), ARR_OK);
    cr_assert_eq(arr_buf_append(&b, "e", 1), ARR_ELIMIT);
    arr_buf_reset(&b);
    cr_expect_eq(arr_buf_append(&b, "efgh", 4), ARR_OK);
    cr_expect_str_eq(b.data, "efgh");
    arr_buf_free(&b);
}

Test(buf, reset_of_unused_buffer)
{
    arr_buf b;
    arr_buf_init(&b, 4);
    arr_buf_reset(&b);
    cr_expect_eq(b.len, 0);
    cr_expect_null(b.data);
    arr_buf_free(&b);
}

Test(buf, steal_hands_over_memory)
{
    arr_buf b;
    arr_buf_init(&b, 1024);
    cr_assert_eq(arr_buf_append(&b, "payload", 7), ARR_OK);
    char *p = arr_buf_steal(&b);
    cr_assert_not_null(p);
    cr_expect_str_eq(p, "payload");
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    cr_expect_eq(b.cap, 0);
    cr_expect_eq(b.max, 1024);
    /* the buffer is usable again and independent of the stolen memory */
    cr_assert_eq(arr_buf_append(&b, "new", 3), ARR_OK);
    cr_expect_str_eq(b.data, "new");
    cr_expect_str_eq(p, "payload");
    free(p);
    arr_buf_free(&b);
}

Test(buf, steal_of_empty_buffer_is_empty_string)
{
    arr_buf b;
    arr_buf_init(&b, 16);
    char *p = arr_buf_steal(&b);
    cr_assert_not_null(p);
    cr_expect_str_eq(p, "");
    free(p);
    arr_buf_free(&b);
}

Test(buf, free_is_idempotent)
{
    arr_buf b;
    arr_buf_init(&b, 16);
    cr_assert_eq(arr_buf_append(&b, "abc", 3), ARR_OK);
    arr_buf_free(&b);
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    cr_expect_eq(b.cap, 0);
    arr_buf_free(&b);
    cr_expect_null(b.data);
}

Test(buf, str_copy_cuts_and_terminates)
{
    char d[5];
    memset(d, 'x', sizeof(d));
    arr_str_copy(d, sizeof(d), "abcdefgh");
    cr_assert_str_eq(d, "abcd");
    arr_str_copy(d, sizeof(d), "ab");
    cr_assert_str_eq(d, "ab");
    arr_str_copy(d, sizeof(d), NULL);
    cr_assert_str_eq(d, "");
    char one[1] = {'x'};
    arr_str_copy(one, sizeof(one), "abc");
    cr_assert_eq(one[0], '\0');
}
