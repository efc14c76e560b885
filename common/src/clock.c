#include "arrears/clock.h"

#include <stdio.h>
#include <time.h>

#define MS_PER_SEC 1000LL
#define MS_PER_DAY 86400000LL
/* 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: four-digit years only, so the
 * text form always has the same width and sorts like the number it stands for. */
#define DAYS_0001_01_01 (-719162LL)
#define DAYS_10000_01_01 2932897LL
#define MIN_MS (DAYS_0001_01_01 * MS_PER_DAY)
#define MAX_MS (DAYS_10000_01_01 * MS_PER_DAY - 1)

void arr_clock_init_real(arr_clock *c)
{
    c->kind = ARR_CLOCK_REAL;
    c->sim_ms = 0;
}

void arr_clock_init_sim(arr_clock *c, int64_t start_ms)
{
    c->kind = ARR_CLOCK_SIM;
    c->sim_ms = start_ms;
}

int64_t arr_clock_now_ms(const arr_clock *c)
{
    if (c->kind == ARR_CLOCK_SIM)
        return c->sim_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * MS_PER_SEC + ts.tv_nsec / 1000000;
}

arr_err arr_clock_set(arr_clock *c, int64_t ms)
{
    /* Going backwards would let a replay or the demo re-run timers that already fired. */
    if (c->kind != ARR_CLOCK_SIM || ms < c->sim_ms)
        return ARR_EINVAL;
    c->sim_ms = ms;
    return ARR_OK;
}

arr_err arr_clock_advance(arr_clock *c, int64_t delta_ms)
{
    if (c->kind != ARR_CLOCK_SIM || delta_ms < 0 || c->sim_ms > INT64_MAX - delta_ms)
        return ARR_EINVAL;
    c->sim_ms += delta_ms;
    return ARR_OK;
}

/* Proleptic Gregorian calendar, days since 1970-01-01. Counting years from March puts the
 * leap day at the end of the year, so month lengths follow a fixed pattern. */
int64_t arr_days_from_civil(int64_t y, int m, int d)
{
    if (m <= 2)
        y -= 1;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                         /* 0..399 */
    int64_t mp = (m + 9) % 12;                           /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void arr_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

arr_err arr_time_format(int64_t ms, char *out, size_t outlen)
{
    if (!out || ms < MIN_MS || ms > MAX_MS)
        return ARR_EINVAL;
    if (outlen < 25)
        return ARR_ELIMIT;
    int64_t days = floor_div(ms, MS_PER_DAY);
    int64_t rem = ms - days * MS_PER_DAY;
    int y, mo, d;
    arr_civil_from_days(days, &y, &mo, &d);
    int h = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60);
    int s = (int)(rem / 1000 % 60), frac = (int)(rem % 1000);
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, frac);
    return (n == 24) ? ARR_OK : ARR_EINVAL;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap(y)) ? 29 : len[m - 1];
}

/* Reads exactly n decimal digits; no sign, no spaces (unlike strtol). */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return 0;
    (*p)++;
    return 1;
}

typedef struct civil_time {
    int year, month, day, hour, minute, second, ms;
    int offset_min; /* local minus UTC */
} civil_time;

static int parse_date(const char **p, civil_time *t)
{
    return read_digits(p, 4, &t->year) && expect(p, '-') && read_digits(p, 2, &t->month) &&
           expect(p, '-') && read_digits(p, 2, &t->day) && t->year >= 1 && t->month >= 1 &&
           t->month <= 12 && t->day >= 1 && t->day <= days_in_month(t->year, t->month);
}

static int parse_clock(const char **p, civil_time *t)
{
    return read_digits(p, 2, &t->hour) && expect(p, ':') && read_digits(p, 2, &t->minute) &&
           expect(p, ':') && read_digits(p, 2, &t->second) && t->hour <= 23 && t->minute <= 59 &&
           t->second <= 59;
}

/* Up to nine digits (nanoseconds); digits past the millisecond are dropped, not rounded, so
 * a time never moves into the next second or day. */
static int parse_fraction(const char **p, civil_time *t)
{
    t->ms = 0;
    if (**p != '.')
        return 1;
    (*p)++;
    int n = 0;
    while ((*p)[n] >= '0' && (*p)[n] <= '9') {
        if (n < 3)
            t->ms = t->ms * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n == 0 || n > 9)
        return 0;
    for (int i = n; i < 3; i++)
        t->ms *= 10;
    *p += n;
    return 1;
}

static int parse_offset(const char **p, civil_time *t)
{
    t->offset_min = 0;
    if (expect(p, 'Z'))
        return 1;
    char sign = **p;
    if (sign != '+' && sign != '-')
        return 0;
    (*p)++;
    int oh, om;
    if (!read_digits(p, 2, &oh) || !expect(p, ':') || !read_digits(p, 2, &om) || oh > 23 || om > 59)
        return 0;
    t->offset_min = (sign == '-' ? -1 : 1) * (oh * 60 + om);
    return 1;
}

arr_err arr_time_parse(const char *s, int64_t *out_ms)
{
    if (!s || !out_ms)
        return ARR_EINVAL;
    civil_time t;
    const char *p = s;
    if (!parse_date(&p, &t) || !expect(&p, 'T') || !parse_clock(&p, &t) ||
        !parse_fraction(&p, &t) || !parse_offset(&p, &t) || *p != '\0')
        return ARR_EINVAL;
    int64_t days = arr_days_from_civil(t.year, t.month, t.day);
    int64_t secs = days * 86400 + t.hour * 3600 + t.minute * 60 + t.second - t.offset_min * 60LL;
    int64_t ms = secs * MS_PER_SEC + t.ms;
    /* An offset can carry a valid local time outside the years we can write back out. */
    if (ms < MIN_MS || ms > MAX_MS)
        return ARR_EINVAL;
    *out_ms = ms;
    return ARR_OK;
}
