#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arrears/clock.h"

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in ms: 719162 and 2932897 days from the
 * epoch (python's date.toordinal agrees: 1 and 3652060 against 719163 for 1970-01-01). */
#define MIN_MS (-719162LL * 86400000LL)
#define MAX_MS (2932897LL * 86400000LL - 1)

static void assert_format(int64_t ms, const char *want)
{
    char out[ARR_TIME_STRLEN];
    cr_assert_eq(arr_time_format(ms, out, sizeof out), ARR_OK, "format %lld", (long long)ms);
    cr_assert_str_eq(out, want);
}

static void assert_parse(const char *s, int64_t want)
{
    int64_t got = 12345;
    cr_assert_eq(arr_time_parse(s, &got), ARR_OK, "parse %s", s);
    cr_assert_eq(got, want, "%s: got %lld want %lld", s, (long long)got, (long long)want);
}

static void assert_rejected(const char *s)
{
    int64_t got = 12345;
    cr_assert_eq(arr_time_parse(s, &got), ARR_EINVAL, "accepted %s", s);
    cr_assert_eq(got, 12345, "out written on failure for %s", s);
}

Test(clock_format, known_instants)
{
    assert_format(0, "1970-01-01T00:00:00.000Z");
    assert_format(1, "1970-01-01T00:00:00.001Z");
    assert_format(-1, "1969-12-31T23:59:59.999Z");
    assert_format(951782400000LL, "2000-02-29T00:00:00.000Z");
    assert_format(1709210096789LL, "2024-02-29T12:34:56.789Z");
    assert_format(1700000000123LL, "2023-11-14T22:13:20.123Z");
    assert_format(-2203891200000LL, "1900-03-01T00:00:00.000Z");
}

Test(clock_format, four_digit_years_only)
{
    char out[ARR_TIME_STRLEN];
    assert_format(MIN_MS, "0001-01-01T00:00:00.000Z");
    assert_format(MAX_MS, "9999-12-31T23:59:59.999Z");
    cr_assert_eq(arr_time_format(MIN_MS - 1, out, sizeof out), ARR_EINVAL);
    cr_assert_eq(arr_time_format(MAX_MS + 1, out, sizeof out), ARR_EINVAL);
    cr_assert_eq(arr_time_format(INT64_MIN, out, sizeof out), ARR_EINVAL);
    cr_assert_eq(arr_time_format(INT64_MAX, out, sizeof out), ARR_EINVAL);
}

Test(clock_format, needs_room_for_the_nul)
{
    char out[ARR_TIME_STRLEN];
    cr_assert_eq(arr_time_format(0, out, 24), ARR_ELIMIT);
    cr_assert_eq(arr_time_format(0, out, 25), ARR_OK);
    cr_assert_eq(strlen(out), 24);
}

Test(clock_parse, utc_and_fractions)
{
    assert_parse("1970-01-01T00:00:00Z", 0);
    assert_parse("1970-01-01T00:00:00.000Z", 0);
    assert_parse("1970-01-01T00:00:00.1Z", 100);
    assert_parse("1970-01-01T00:00:00.12Z", 120);
    assert_parse("1970-01-01T00:00:00.123Z", 123);
    assert_parse("1970-01-01T00:00:00.1239Z", 123);
    assert_parse("1970-01-01T00:00:00.999999999Z", 999);
    assert_parse("1969-12-31T23:59:59.999Z", -1);
    assert_parse("2024-02-29T12:34:56.789Z", 1709210096789LL);
}

Test(clock_parse, offsets_move_to_utc)
{
    assert_parse("1970-01-01T05:30:00+05:30", 0);
    assert_parse("1969-12-31T16:00:00-08:00", 0);
    assert_parse("1970-01-01T00:00:00-00:00", 0);
    assert_parse("2024-03-01T01:00:00.5+02:00", 1709247600500LL);
    assert_parse("2024-02-29T22:00:00.5-01:00", 1709247600500LL);
}

Test(clock_parse, calendar_ranges)
{
    assert_parse("2000-02-29T00:00:00Z", 951782400000LL);
    assert_parse("0001-01-01T00:00:00Z", MIN_MS);
    assert_parse("9999-12-31T23:59:59.999Z", MAX_MS);
    assert_rejected("2023-02-29T00:00:00Z");
    assert_rejected("1900-02-29T00:00:00Z");
    assert_rejected("2024-04-31T00:00:00Z");
    assert_rejected("2024-13-01T00:00:00Z");
    assert_rejected("2024-00-01T00:00:00Z");
    assert_rejected("2024-01-00T00:00:00Z");
    assert_rejected("2024-01-32T00:00:00Z");
    assert_rejected("2024-01-01T24:00:00Z");
    assert_rejected("2024-01-01T23:60:00Z");
    assert_rejected("2024-01-01T23:59:60Z");
    assert_rejected("0000-12-31T23:59:59Z");
}

Test(clock_parse, syntax)
{
    assert_rejected("");
    assert_rejected("2024-01-01");
    assert_rejected("2024-01-01T00:00:00");
    assert_rejected("2024-01-01 00:00:00Z");
    assert_rejected("2024-01-01t00:00:00Z");
    assert_rejected("2024-01-01T00:00:00z");
    assert_rejected("2024-01-01T00:00:00.Z");
    assert_rejected("2024-01-01T00:00:00.1234567890Z");
    assert_rejected("2024-01-01T00:00:00ZZ");
    assert_rejected("2024-01-01T00:00:00Z ");
    assert_rejected("2024-01-01T00:00:00+0100");
    assert_rejected("2024-01-01T00:00:00+24:00");
    assert_rejected("2024-01-01T00:00:00+01:60");
    assert_rejected("2024-1-01T00:00:00Z");
    assert_rejected("+2024-01-01T00:00:00Z");
    assert_rejected("2024-01-01T0:00:00Z");
    assert_rejected("2024-01-01T00:00:-1Z");
    cr_assert_eq(arr_time_parse(NULL, &(int64_t){0}), ARR_EINVAL);
}

Test(clock_parse, offset_must_not_leave_four_digit_years)
{
    assert_rejected("0001-01-01T00:30:00+01:00");
    assert_rejected("9999-12-31T23:30:00-01:00");
    assert_parse("0001-01-01T01:00:00+01:00", MIN_MS);
}

/* The system's timegm is an independent oracle for the calendar arithmetic. */
Test(clock_parse, agrees_with_timegm_and_round_trips)
{
    int64_t ms = -2208988800000LL; /* 1900-01-01 */
    for (int i = 0; i < 60000; i++) {
        char text[ARR_TIME_STRLEN];
        cr_assert_eq(arr_time_format(ms, text, sizeof text), ARR_OK);
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        cr_assert_eq(sscanf(text, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        cr_assert_eq((int64_t)timegm(&tm) * 1000 + (ms % 1000 + 1000) % 1000, ms, "%s", text);
        int64_t back;
        cr_assert_eq(arr_time_parse(text, &back), ARR_OK);
        cr_assert_eq(back, ms, "%s", text);
        ms += 86400000LL + 3723457LL; /* a day plus an odd time, so every field moves */
    }
}

Test(clock, simulated_moves_only_forward)
{
    arr_clock c;
    arr_clock_init_sim(&c, 1000);
    cr_assert_eq(arr_clock_now_ms(&c), 1000);
    cr_assert_eq(arr_clock_advance(&c, 500), ARR_OK);
    cr_assert_eq(arr_clock_now_ms(&c), 1500);
    cr_assert_eq(arr_clock_set(&c, 1500), ARR_OK);
    cr_assert_eq(arr_clock_set(&c, 1499), ARR_EINVAL);
    cr_assert_eq(arr_clock_advance(&c, -1), ARR_EINVAL);
    cr_assert_eq(arr_clock_advance(&c, INT64_MAX), ARR_EINVAL);
    cr_assert_eq(arr_clock_now_ms(&c), 1500);
    cr_assert_eq(arr_clock_set(&c, 86400000), ARR_OK);
    cr_assert_eq(arr_clock_now_ms(&c), 86400000);
}

Test(clock, real_follows_the_system_and_refuses_to_be_set)
{
    arr_clock c;
    arr_clock_init_real(&c);
    int64_t before = (int64_t)time(NULL) * 1000;
    int64_t now = arr_clock_now_ms(&c);
    cr_assert_geq(now, before);
    cr_assert_lt(now, before + 5000);
    cr_assert_eq(arr_clock_set(&c, now + 1000), ARR_EINVAL);
    cr_assert_eq(arr_clock_advance(&c, 1000), ARR_EINVAL);
}
