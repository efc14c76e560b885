/* Unit tests of services/outreach/tz.c: TZif zones from /usr/share/zoneinfo and hand-built
 * files. Expected offsets are the published ones (EST -5h, EDT -4h, CST -6h, CDT -5h, MST -7h
 * all year in Phoenix, HST -10h, AST -4h all year in Puerto Rico); transition instants are
 * worked out by hand: US clocks change at 02:00 local on the 2nd Sunday of March and the 1st
 * Sunday of November, so New York springs forward at 07:00Z (02:00 EST) and falls back at
 * 06:00Z (02:00 EDT), Chicago one hour later. The glibc sweep at the end is an independent
 * second reader of the same files, for the years beyond the hand-picked instants. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

#define H (3600)
#define HOUR_MS (3600000LL)

/* UTC instant of a civil time, from glibc's timegm (not from the code under test). */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (int64_t)timegm(&tm) * 1000;
}

static outreach_tz_db *us_db(void)
{
    outreach_tz_db *db = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_new(NULL, &db, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(outreach_tz_db_load_us(db, why, sizeof why), ARR_OK, "%s", why);
    return db;
}

static const outreach_tz *zone(outreach_tz_db *db, const char *name)
{
    const outreach_tz *z = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_load(db, name, &z, why, sizeof why), ARR_OK, "%s: %s", name, why);
    cr_assert_str_eq(outreach_tz_name(z), name);
    return z;
}

static void assert_offset(const outreach_tz *z, int64_t ms, int32_t want)
{
    int32_t got = 12345;
    cr_assert_eq(outreach_tz_offset(z, ms, &got), ARR_OK);
    cr_assert_eq(got, want, "%s at %lld: got %d want %d", outreach_tz_name(z), (long long)ms, got,
                 want);
}

Test(outreach_tz, transition_instants_are_the_hand_computed_ones)
{
    /* 2026-03-08 is day 20520 since the epoch: 20520 * 86400 + 7 * 3600 seconds. */
    cr_assert_eq(utc(2026, 3, 8, 7, 0, 0), 1772953200000LL);
    cr_assert_eq(utc(2026, 11, 1, 6, 0, 0), 1793512800000LL);
}

Test(outreach_tz, us_offsets_winter_and_summer)
{
    outreach_tz_db *db = us_db();
    static const struct {
        const char *zone;
        int32_t winter, summer;
    } rows[] = {
        {"America/Puerto_Rico", -4 * H, -4 * H}, {"America/New_York", -5 * H, -4 * H},
        {"America/Chicago", -6 * H, -5 * H},     {"America/Denver", -7 * H, -6 * H},
        {"America/Phoenix", -7 * H, -7 * H},     {"America/Los_Angeles", -8 * H, -7 * H},
        {"America/Anchorage", -9 * H, -8 * H},   {"Pacific/Honolulu", -10 * H, -10 * H},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const outreach_tz *z = zone(db, rows[i].zone);
        assert_offset(z, utc(2026, 1, 15, 12, 0, 0), rows[i].winter);
        assert_offset(z, utc(2026, 7, 15, 12, 0, 0), rows[i].summer);
        assert_offset(z, utc(2026, 12, 31, 23, 59, 59), rows[i].winter);
    }
    outreach_tz_db_free(db);
}

Test(outreach_tz, new_york_and_chicago_change_at_the_exact_second)
{
    outreach_tz_db *db = us_db();
    const outreach_tz *ny = zone(db, "America/New_York"), *chi = zone(db, "America/Chicago");
    int64_t spring = 1772953200000LL, fall = 1793512800000LL;
    assert_offset(ny, spring - 1, -5 * H);
    assert_offset(ny, spring, -4 * H);
    assert_offset(ny, fall - 1, -4 * H);
    assert_offset(ny, fall, -5 * H);
    assert_offset(chi, spring + HOUR_MS - 1, -6 * H);
    assert_offset(chi, spring + HOUR_MS, -5 * H);
    assert_offset(chi, fall + HOUR_MS - 1, -5 * H);
    assert_offset(chi, fall + HOUR_MS, -6 * H);
    /* 2040 lies past the last transition of the file: the footer's rule answers. 2040-03-01
     * is a Thursday, so the 2nd Sunday is March 11; November 1 too, so the 1st is the 4th. */
    assert_offset(ny, utc(2040, 3, 11, 6, 59, 59), -5 * H);
    assert_offset(ny, utc(2040, 3, 11, 7, 0, 0), -4 * H);
    assert_offset(ny, utc(2040, 11, 4, 5, 59, 59), -4 * H);
    assert_offset(ny, utc(2040, 11, 4, 6, 0, 0), -5 * H);
    outreach_tz_db_free(db);
}

static void assert_local(const outreach_tz *z, int64_t ms, int y, int mo, int d, int h, int mi,
                         int s, int wd, int dst, int32_t off)
{
    outreach_local l;
    memset(&l, 0x5a, sizeof l);
    cr_assert_eq(outreach_tz_local(z, ms, &l), ARR_OK);
    cr_assert(l.year == y && l.month == mo && l.day == d && l.hour == h && l.minute == mi &&
                  l.second == s,
              "%lld: got %lld-%02d-%02d %02d:%02d:%02d", (long long)ms, (long long)l.year, l.month,
              l.day, l.hour, l.minute, l.second);
    cr_assert_eq(l.weekday, wd);
    cr_assert_eq(l.is_dst, dst);
    cr_assert_eq(l.offset_s, off);
    cr_assert_eq(l.epoch_day * 86400000LL, utc(y, mo, d, 0, 0, 0));
}

Test(outreach_tz, local_readings_around_the_changes)
{
    outreach_tz_db *db = us_db();
    const outreach_tz *ny = zone(db, "America/New_York");
    int64_t spring = 1772953200000LL, fall = 1793512800000LL;
    /* Sunday 2026-03-08: 01:59:59 EST, then 03:00:00 EDT (02:xx never shows). */
    assert_local(ny, spring - 1000, 2026, 3, 8, 1, 59, 59, 0, 0, -5 * H);
    assert_local(ny, spring, 2026, 3, 8, 3, 0, 0, 0, 1, -4 * H);
    /* Sunday 2026-11-01: 01:30 shows twice, EDT then EST. */
    assert_local(ny, fall - 30 * 60000, 2026, 11, 1, 1, 30, 0, 0, 1, -4 * H);
    assert_local(ny, fall + 30 * 60000, 2026, 11, 1, 1, 30, 0, 0, 0, -5 * H);
    /* A negative millisecond belongs to the second before: 1969-12-31 18:59:59 EST. */
    assert_local(ny, -1, 1969, 12, 31, 18, 59, 59, 3, 0, -5 * H);
    const outreach_tz *hnl = zone(db, "Pacific/Honolulu");
    assert_local(hnl, utc(2026, 6, 16, 18, 0, 0), 2026, 6, 16, 8, 0, 0, 2, 0, -10 * H);
    const outreach_tz *phx = zone(db, "America/Phoenix");
    assert_local(phx, utc(2026, 7, 4, 6, 59, 0), 2026, 7, 3, 23, 59, 0, 5, 0, -7 * H);
    outreach_tz_db_free(db);
}

Test(outreach_tz, utc_of_a_wall_time_missing_doubled_and_plain)
{
    outreach_tz_db *db = us_db();
    const outreach_tz *ny = zone(db, "America/New_York");
    int64_t spring = 1772953200000LL, fall = 1793512800000LL;
    int64_t mar8 = utc(2026, 3, 8, 0, 0, 0) / 1000, nov1 = utc(2026, 11, 1, 0, 0, 0) / 1000;
    int64_t got = 0;
    /* 02:30 on March 8 does not exist: the instant the clocks jump past it. */
    cr_assert_eq(outreach_tz_utc_of(ny, mar8 + 2 * H + 1800, INT64_MIN, &got), ARR_OK);
    cr_assert_eq(got, spring);
    cr_assert_eq(outreach_tz_utc_of(ny, mar8 + 3 * H, INT64_MIN, &got), ARR_OK);
    cr_assert_eq(got, spring);
    cr_assert_eq(outreach_tz_utc_of(ny, mar8 + 8 * H, INT64_MIN, &got), ARR_OK);
    cr_assert_eq(got, utc(2026, 3, 8, 12, 0, 0));
    cr_assert_eq(outreach_tz_utc_of(ny, mar8 + 1 * H, INT64_MIN, &got), ARR_OK);
    cr_assert_eq(got, utc(2026, 3, 8, 6, 0, 0));
    /* 01:30 on November 1 occurs at 05:30Z (EDT) and 06:30Z (EST). */
    cr_assert_eq(outreach_tz_utc_of(ny, nov1 + H + 1800, INT64_MIN, &got), ARR_OK);
    cr_assert_eq(got, fall - 30 * 60000);
    cr_assert_eq(outreach_tz_utc_of(ny, nov1 + H + 1800, fall - 30 * 60000 + 1, &got), ARR_OK);
    cr_assert_eq(got, fall + 30 * 60000);
    got = 777;
    cr_assert_eq(outreach_tz_utc_of(ny, nov1 + H + 1800, fall + 30 * 60000 + 1, &got),
                 ARR_ENOTFOUND);
    cr_assert_eq(got, 777, "no output on error");
    cr_assert_eq(outreach_tz_utc_of(ny, nov1 + 8 * H, INT64_MIN, &got), ARR_OK);
    cr_assert_eq(got, utc(2026, 11, 1, 13, 0, 0));
    outreach_tz_db_free(db);
}

Test(outreach_tz, names_are_checked_before_any_file_is_opened)
{
    outreach_tz_db *db = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_new(NULL, &db, why, sizeof why), ARR_OK);
    static const char *const bad[] = {
        "",
        "../etc/passwd",
        "/etc/passwd",
        "America/../../etc/passwd",
        "America//New_York",
        "America/",
        "America/New York",
        "America/New_York\n",
        "Amérique",
        "America/./New_York",
        "a\\b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const outreach_tz *z = (const outreach_tz *)0x1;
        why[0] = '\0';
        cr_assert_eq(outreach_tz_db_load(db, bad[i], &z, why, sizeof why), ARR_EINVAL, "%s",
                     bad[i]);
        cr_assert_eq(z, (const outreach_tz *)0x1, "no output on error");
        cr_assert_neq(why[0], '\0');
    }
    char longname[OUTREACH_TZ_NAME_MAX + 2];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const outreach_tz *z = NULL;
    cr_assert_eq(outreach_tz_db_load(db, longname, &z, why, sizeof why), ARR_EINVAL);
    cr_assert_eq(outreach_tz_db_load(db, NULL, &z, why, sizeof why), ARR_EINVAL);
    outreach_tz_db_free(db);
}

Test(outreach_tz, unknown_zones_are_not_found_and_loading_is_once)
{
    outreach_tz_db *db = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_new(NULL, &db, why, sizeof why), ARR_OK);
    const outreach_tz *z = NULL, *again = NULL;
    cr_assert_eq(outreach_tz_db_load(db, "Mars/Olympus_Mons", &z, why, sizeof why), ARR_ENOTFOUND);
    cr_assert(strstr(why, "Mars/Olympus_Mons"), "%s", why);
    cr_assert_eq(outreach_tz_db_load(db, "America", &z, why, sizeof why), ARR_ENOTFOUND,
                 "a directory is no zone");
    cr_assert_eq(outreach_tz_db_load(db, "America/New_York/x", &z, why, sizeof why), ARR_ENOTFOUND);
    cr_assert_eq(outreach_tz_db_find(db, "America/Chicago", &z, why, sizeof why), ARR_ENOTFOUND);
    const outreach_tz *const *us = NULL;
    cr_assert_eq(outreach_tz_db_us(db, &us, why, sizeof why), ARR_ENOTFOUND);
    cr_assert_eq(outreach_tz_db_load(db, "America/Chicago", &z, why, sizeof why), ARR_OK);
    cr_assert_eq(outreach_tz_db_load(db, "America/Chicago", &again, why, sizeof why), ARR_OK);
    cr_assert_eq(z, again, "the second load returns the same zone");
    cr_assert_eq(outreach_tz_db_find(db, "America/Chicago", &again, why, sizeof why), ARR_OK);
    cr_assert_eq(z, again);
    cr_assert_eq(outreach_tz_db_load_us(db, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(outreach_tz_db_us(db, &us, why, sizeof why), ARR_OK);
    cr_assert_str_eq(outreach_tz_name(us[0]), "America/Puerto_Rico");
    cr_assert_str_eq(outreach_tz_name(us[2]), "America/Chicago");
    cr_assert_eq(us[2], z, "the US list shares the zone loaded before");
    cr_assert_str_eq(outreach_tz_name(us[7]), "Pacific/Honolulu");
    outreach_tz_db_free(db);
}

Test(outreach_tz, queries_reject_out_of_range_instants)
{
    outreach_tz_db *db = us_db();
    const outreach_tz *ny = zone(db, "America/New_York");
    int32_t off = 99;
    outreach_local l;
    cr_assert_eq(outreach_tz_offset(ny, OUTREACH_TZ_MAX_MS + 1, &off), ARR_EINVAL);
    cr_assert_eq(outreach_tz_offset(ny, OUTREACH_TZ_MIN_MS - 1, &off), ARR_EINVAL);
    cr_assert_eq(off, 99);
    cr_assert_eq(outreach_tz_offset(NULL, 0, &off), ARR_EINVAL);
    cr_assert_eq(outreach_tz_local(ny, INT64_MAX, &l), ARR_EINVAL);
    /* 9999-12-31T23:59:59.999Z is 18:59:59 EST on the same day. */
    cr_assert_eq(outreach_tz_local(ny, OUTREACH_TZ_MAX_MS, &l), ARR_OK);
    cr_assert(l.year == 9999 && l.month == 12 && l.day == 31 && l.hour == 18);
    outreach_tz_db_free(db);
}

/* ---- hand-built TZif files ---- */

typedef struct bytes {
    unsigned char b[8192];
    size_t n;
} bytes;

static void put(bytes *o, const void *p, size_t n)
{
    cr_assert_leq(o->n + n, sizeof o->b);
    if (n > 0)
        memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put32(bytes *o, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    put(o, b, 4);
}

static void put64(bytes *o, int64_t v)
{
    put32(o, (uint32_t)((uint64_t)v >> 32));
    put32(o, (uint32_t)v);
}

static void header(bytes *o, char version, uint32_t leap, uint32_t ntime, uint32_t ntype)
{
    put(o, "TZif", 4);
    put(o, &version, 1);
    put(o, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
    put32(o, 0);     /* isut */
    put32(o, 0);     /* isstd */
    put32(o, leap);  /* leap */
    put32(o, ntime); /* time */
    put32(o, ntype); /* type */
    put32(o, 4);     /* chars: "LMT\0" */
}

/* A version-2 file: an empty version-1 block (one type), then the 64-bit data and footer. */
static void tzif(bytes *o, const int64_t *at, const unsigned char *idx, size_t ntime,
                 const int32_t *utoff, const unsigned char *isdst, size_t ntype, const char *footer)
{
    o->n = 0;
    header(o, '2', 0, 0, 1);
    put32(o, 0);
    put(o, "\0\0LMT", 6); /* isdst 0, desigidx 0, then the 4 chars */
    header(o, '2', 0, (uint32_t)ntime, (uint32_t)ntype);
    for (size_t i = 0; i < ntime; i++)
        put64(o, at[i]);
    put(o, idx, ntime);
    for (size_t i = 0; i < ntype; i++) {
        put32(o, (uint32_t)utoff[i]);
        put(o, &isdst[i], 1);
        put(o, "\0", 1);
    }
    put(o, "LMT", 4);
    put(o, "\n", 1);
    put(o, footer, strlen(footer));
    put(o, "\n", 1);
}

static outreach_tz *parse_ok(const bytes *o)
{
    outreach_tz *z = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_parse(o->b, o->n, "Test/Zone", &z, why, sizeof why), ARR_OK, "%s",
                 why);
    return z;
}

Test(outreach_tz, footer_alone_gives_us_rules)
{
    int32_t utoff[] = {-5 * H};
    unsigned char isdst[] = {0};
    bytes o;
    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5EDT,M3.2.0,M11.1.0");
    outreach_tz *z = parse_ok(&o);
    assert_offset(z, 1772953200000LL - 1, -5 * H);
    assert_offset(z, 1772953200000LL, -4 * H);
    assert_offset(z, 1793512800000LL - 1, -4 * H);
    assert_offset(z, 1793512800000LL, -5 * H);
    /* 2100-03-01 is a Monday: 2nd Sunday March 14; 2100-11-01 a Monday: 1st Sunday Nov 7. */
    assert_offset(z, utc(2100, 3, 14, 6, 59, 59), -5 * H);
    assert_offset(z, utc(2100, 3, 14, 7, 0, 0), -4 * H);
    assert_offset(z, utc(2100, 11, 7, 6, 0, 0), -5 * H);
    outreach_tz_free(z);
}

Test(outreach_tz, footer_forms_last_week_julian_zero_based_and_southern)
{
    static const struct {
        const char *footer;
        int y, mo, d, h, mi, s;
        int32_t before, after; /* offsets a second before and at that instant */
    } rows[] = {
        /* Last Sunday of March 2026 is the 29th; CET changes at 01:00Z both ways. */
        {"CET-1CEST,M3.5.0,M10.5.0/3", 2026, 3, 29, 1, 0, 0, 1 * H, 2 * H},
        /* Reversed (southern) order: dst from the last Sunday of October 03:00 +1 (02:00Z)
         * to the last Sunday of March 02:00 +2 (00:00Z). */
        {"CET-1CEST,M10.5.0/3,M3.5.0", 2026, 10, 25, 2, 0, 0, 1 * H, 2 * H},
        {"CET-1CEST,M10.5.0/3,M3.5.0", 2026, 3, 29, 0, 0, 0, 2 * H, 1 * H},
        {"CET-1CEST,M3.5.0,M10.5.0/3", 2026, 10, 25, 1, 0, 0, 2 * H, 1 * H},
        /* Sydney: DST ends Sunday 2026-04-05 03:00 AEDT = 04-04 16:00Z, starts 10-04 02:00
         * AEST = 10-03 16:00Z. */
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", 2026, 4, 4, 16, 0, 0, 11 * H, 10 * H},
        {"AEST-10AEDT,M10.1.0,M4.1.0/3", 2026, 10, 3, 16, 0, 0, 10 * H, 11 * H},
        /* J60 is March 1 even in the leap year 2028; 02:00 at -5h is 07:00Z. */
        {"AAA5BBB,J60,J300", 2028, 3, 1, 7, 0, 0, -5 * H, -4 * H},
        /* Zero-based day 59 of 2028 is February 29. */
        {"AAA5BBB,59,300", 2028, 2, 29, 7, 0, 0, -5 * H, -4 * H},
        /* Explicit dst offset and times with minutes: start 2026-03-08 01:30 at -3:30. */
        {"<-0330>3:30<-0130>1:30,M3.2.0/1:30,M11.1.0", 2026, 3, 8, 5, 0, 0, -(3 * H + 1800),
         -(1 * H + 1800)},
        /* No DST at all. */
        {"MST7", 2026, 7, 1, 0, 0, 0, -7 * H, -7 * H},
        /* Permanent DST (RFC 8536 3.3.1 example form). */
        {"EST5EDT,0/0,J365/25", 2026, 7, 1, 0, 0, 0, -4 * H, -4 * H},
        {"EST5EDT,0/0,J365/25", 2027, 1, 1, 0, 0, 0, -4 * H, -4 * H},
    };
    int32_t utoff[] = {0};
    unsigned char isdst[] = {0};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bytes o;
        tzif(&o, NULL, NULL, 0, utoff, isdst, 1, rows[i].footer);
        outreach_tz *z = parse_ok(&o);
        int64_t t = utc(rows[i].y, rows[i].mo, rows[i].d, rows[i].h, rows[i].mi, rows[i].s);
        int32_t got = 0;
        cr_assert_eq(outreach_tz_offset(z, t - 1000, &got), ARR_OK);
        cr_assert_eq(got, rows[i].before, "%s before: %d", rows[i].footer, got);
        cr_assert_eq(outreach_tz_offset(z, t, &got), ARR_OK);
        cr_assert_eq(got, rows[i].after, "%s at: %d", rows[i].footer, got);
        outreach_tz_free(z);
    }
}

Test(outreach_tz, transitions_then_footer)
{
    /* Type 0 (-5h) before 2000-01-01, type 1 (+1h) after, footer "UTC0" after 2001-01-01. */
    int64_t at[] = {utc(2000, 1, 1, 0, 0, 0) / 1000, utc(2001, 1, 1, 0, 0, 0) / 1000};
    unsigned char idx[] = {1, 2};
    int32_t utoff[] = {-5 * H, 1 * H, 0};
    unsigned char isdst[] = {0, 0, 0};
    bytes o;
    tzif(&o, at, idx, 2, utoff, isdst, 3, "UTC0");
    outreach_tz *z = parse_ok(&o);
    assert_offset(z, at[0] * 1000 - 1, -5 * H);
    assert_offset(z, at[0] * 1000, 1 * H);
    assert_offset(z, at[1] * 1000 - 1, 1 * H);
    assert_offset(z, at[1] * 1000, 0);
    outreach_tz_free(z);
    /* Empty footer: the last type holds on. */
    tzif(&o, at, idx, 2, utoff, isdst, 3, "");
    z = parse_ok(&o);
    assert_offset(z, utc(2050, 1, 1, 0, 0, 0), 0);
    outreach_tz_free(z);
}

static void assert_refused(const bytes *o, arr_err want, const char *what)
{
    outreach_tz *z = (outreach_tz *)0x1;
    char why[256] = "";
    cr_assert_eq(outreach_tz_parse(o->b, o->n, "Bad/Zone", &z, why, sizeof why), want, "%s: %s",
                 what, why);
    cr_assert_eq(z, (outreach_tz *)0x1, "%s: no output on error", what);
    cr_assert(strstr(why, "Bad/Zone"), "%s: %s", what, why);
}

Test(outreach_tz, bad_files_are_refused)
{
    int64_t at[] = {100, 50};
    unsigned char idx[] = {0, 0}, bad_idx[] = {0, 3};
    int32_t utoff[] = {-5 * H};
    unsigned char isdst[] = {0};
    bytes o;

    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.b[0] = 'X';
    assert_refused(&o, ARR_EDECODE, "magic");

    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.b[4] = '\0';
    assert_refused(&o, ARR_EDECODE, "version 1");

    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.n -= 10;
    assert_refused(&o, ARR_EDECODE, "cut short");

    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.n = 30;
    assert_refused(&o, ARR_EDECODE, "cut in the header");

    tzif(&o, at, idx, 2, utoff, isdst, 1, "EST5");
    assert_refused(&o, ARR_EDECODE, "transitions not ascending");

    at[1] = 200;
    tzif(&o, at, bad_idx, 2, utoff, isdst, 1, "EST5");
    assert_refused(&o, ARR_EDECODE, "type index");

    int32_t wild[] = {100 * H};
    tzif(&o, NULL, NULL, 0, wild, isdst, 1, "EST5");
    assert_refused(&o, ARR_EDECODE, "offset of 100 hours");

    static const char *const footers[] = {"EST",
                                          "E5",
                                          "EST5EDT",
                                          "EST5EDT,M3.2.0",
                                          "EST5EDT,M13.2.0,M11.1.0",
                                          "EST5EDT,M3.6.0,M11.1.0",
                                          "EST5EDT,M3.2.7,M11.1.0",
                                          "EST5EDT,J0,J300",
                                          "EST5EDT,M3.2.0/168,M11.1.0",
                                          "EST25",
                                          "<AB>5",
                                          "EST5EDT,M3.2.0,M11.1.0x"};
    for (size_t i = 0; i < sizeof footers / sizeof footers[0]; i++) {
        tzif(&o, NULL, NULL, 0, utoff, isdst, 1, footers[i]);
        assert_refused(&o, ARR_EDECODE, footers[i]);
    }

    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.n -= 1; /* no newline after the footer */
    assert_refused(&o, ARR_EDECODE, "footer unterminated");
    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    put(&o, "junk", 4);
    assert_refused(&o, ARR_EDECODE, "bytes after the footer");

    /* The second header starts at byte 54 (44 + a 10-byte version-1 block); its counts at
     * 74 (isut), 78 (isstd), 82 (leap), 86 (time), 90 (type), 94 (chars), big-endian. */
    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.b[85] = 1; /* leapcnt = 1 */
    assert_refused(&o, ARR_EDECODE, "leap seconds");

    /* Too many transitions, judged from the header alone. */
    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5");
    o.b[88] = 0x20; /* timecnt = 0x2000 = 8192 */
    assert_refused(&o, ARR_ELIMIT, "transition cap");

    static unsigned char big[OUTREACH_TZ_FILE_MAX + 1];
    outreach_tz *z = (outreach_tz *)0x1;
    char why[128] = "";
    cr_assert_eq(outreach_tz_parse(big, sizeof big, "Big/Zone", &z, why, sizeof why), ARR_ELIMIT);
    cr_assert_eq(z, (outreach_tz *)0x1);
}

Test(outreach_tz, a_zone_file_from_a_directory_of_our_own)
{
    char dir[] = "/tmp/outreach-tz-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/Test_Zone", dir);
    int32_t utoff[] = {-5 * H};
    unsigned char isdst[] = {0};
    bytes o;
    tzif(&o, NULL, NULL, 0, utoff, isdst, 1, "EST5EDT,M3.2.0,M11.1.0");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(o.b, 1, o.n, f), o.n);
    fclose(f);
    snprintf(path, sizeof path, "%s/Huge", dir);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; i <= OUTREACH_TZ_FILE_MAX; i++)
        fputc('x', f);
    fclose(f);

    outreach_tz_db *db = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_new(dir, &db, why, sizeof why), ARR_OK);
    const outreach_tz *z = NULL;
    cr_assert_eq(outreach_tz_db_load(db, "Test_Zone", &z, why, sizeof why), ARR_OK, "%s", why);
    assert_offset(z, 1772953200000LL, -4 * H);
    cr_assert_eq(outreach_tz_db_load(db, "Huge", &z, why, sizeof why), ARR_ELIMIT);
    cr_assert_eq(outreach_tz_db_load_us(db, why, sizeof why), ARR_ENOTFOUND,
                 "this directory has no US zones");
    outreach_tz_db_free(db);

    snprintf(path, sizeof path, "%s/Test_Zone", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/Huge", dir);
    remove(path);
    rmdir(dir);
}

Test(outreach_tz, agrees_with_glibc_every_half_hour_2020_to_2045)
{
    outreach_tz_db *db = us_db();
    const outreach_tz *const *us = NULL;
    char why[128];
    cr_assert_eq(outreach_tz_db_us(db, &us, why, sizeof why), ARR_OK);
    for (size_t i = 0; i < OUTREACH_TZ_US_COUNT; i++) {
        char tzenv[160];
        snprintf(tzenv, sizeof tzenv, ":%s", outreach_tz_us_names[i]);
        setenv("TZ", tzenv, 1);
        tzset();
        for (time_t t = utc(2020, 1, 1, 0, 0, 0) / 1000; t < utc(2046, 1, 1, 0, 0, 0) / 1000;
             t += 1800) {
            for (time_t s = t - 1; s <= t; s++) {
                struct tm tm;
                outreach_local l;
                cr_assert_not_null(localtime_r(&s, &tm));
                cr_assert_eq(outreach_tz_local(us[i], (int64_t)s * 1000, &l), ARR_OK);
                if (l.offset_s != tm.tm_gmtoff || l.hour != tm.tm_hour || l.day != tm.tm_mday ||
                    l.is_dst != (tm.tm_isdst > 0) || l.weekday != tm.tm_wday)
                    cr_assert_fail("%s at %lld: ours %d, glibc %ld", outreach_tz_us_names[i],
                                   (long long)s, l.offset_s, tm.tm_gmtoff);
            }
        }
    }
    outreach_tz_db_free(db);
}
