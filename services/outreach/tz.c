#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arrears/clock.h"

const char *const outreach_tz_us_names[OUTREACH_TZ_US_COUNT] = {
    "America/Puerto_Rico", "America/New_York",    "America/Chicago",   "America/Denver",
    "America/Phoenix",     "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
};

#define DAY_S 86400
/* RFC 8536 3.2: UT offsets must lie in -89999..93599 (about -25h..+26h). */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599

typedef struct tz_type {
    int32_t utoff;
    int isdst;
} tz_type;

/* A day of the POSIX rule: 'J' Julian n (1..365, Feb 29 never counted), 'D' zero-based n
 * (0..365, Feb 29 counted), 'M' month m, week w (5 = last), weekday d (0 = Sunday). */
typedef struct tz_rule_day {
    char form;
    int n, m, w, d;
} tz_rule_day;

/* The footer: std offset, and optionally a dst offset with its start and end. */
typedef struct tz_posix {
    int has_dst;
    int32_t std_utoff, dst_utoff; /* east-positive, unlike the POSIX text */
    tz_rule_day start, end;
    int32_t start_time, end_time; /* seconds after local midnight, in the clock then in force */
} tz_posix;

struct outreach_tz {
    char name[OUTREACH_TZ_NAME_MAX + 1];
    size_t ntrans;
    int64_t *trans_at;         /* UTC seconds, strictly ascending */
    unsigned char *trans_type; /* index into types */
    size_t ntypes;
    tz_type types[256];
    int has_footer;
    tz_posix footer;
};

struct outreach_tz_db {
    char dir[OUTREACH_TZ_DIR_MAX + 1];
    outreach_tz **zones;
    size_t n, cap;
    const outreach_tz *us[OUTREACH_TZ_US_COUNT];
    int us_loaded;
};

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The project's one calendar (common/clock), in this module's types. */
int64_t outreach_tz_days_from_civil(int64_t year, int month, int day)
{
    return arr_days_from_civil(year, month, day);
}

void outreach_tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int y;
    arr_civil_from_days(days, &y, month, day);
    *year = y;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static int weekday_of(int64_t epoch_day)
{
    return (int)(epoch_day - floor_div(epoch_day + 4, 7) * 7 + 4); /* 1970-01-01: Thursday */
}

/* ---- the footer's POSIX TZ string ---- */

/* std/dst name: three or more letters, or <...> of letters, digits, '+' and '-'. */
static const char *posix_name(const char *p)
{
    const char *s = p;
    if (*p == '<') {
        for (s = ++p; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-';
             p++)
            ;
        return (*p == '>' && p - s >= 3) ? p + 1 : NULL;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

static const char *posix_num(const char *p, int max, int *out)
{
    int v = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || v > max)
        return NULL;
    *out = v;
    return p;
}

/* [+-]hh[:mm[:ss]], hours up to max_hours, into seconds. */
static const char *posix_time(const char *p, int max_hours, int32_t *out)
{
    int sign = 1, h = 0, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!(p = posix_num(p, max_hours, &h)))
        return NULL;
    if (*p == ':' && !(p = posix_num(p + 1, 59, &m)))
        return NULL;
    if (*p == ':' && !(p = posix_num(p + 1, 59, &s)))
        return NULL;
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

/* ",date[/time]" */
static const char *posix_rule_day(const char *p, tz_rule_day *r, int32_t *time)
{
    if (*p++ != ',')
        return NULL;
    memset(r, 0, sizeof *r);
    if (*p == 'J') {
        r->form = 'J';
        if (!(p = posix_num(p + 1, 365, &r->n)) || r->n < 1)
            return NULL;
    } else if (*p == 'M') {
        r->form = 'M';
        if (!(p = posix_num(p + 1, 12, &r->m)) || r->m < 1 || *p++ != '.' ||
            !(p = posix_num(p, 5, &r->w)) || r->w < 1 || *p++ != '.' ||
            !(p = posix_num(p, 6, &r->d)))
            return NULL;
    } else {
        r->form = 'D';
        if (!(p = posix_num(p, 365, &r->n)))
            return NULL;
    }
    *time = 2 * 3600; /* POSIX default: 02:00 */
    if (*p == '/' && !(p = posix_time(p + 1, 167, time)))
        return NULL; /* RFC 8536 3.3.1 widens the hours to -167..167 */
    return p;
}

static arr_err posix_parse(const char *s, tz_posix *out, char *why, size_t whylen)
{
    tz_posix f = {0};
    int32_t off;
    const char *p = posix_name(s);
    if (!p || !(p = posix_time(p, 24, &off)))
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "footer \"%s\": bad std name or offset",
                               s);
    f.std_utoff = -off; /* POSIX offsets count hours west */
    if (*p != '\0') {
        f.has_dst = 1;
        if (!(p = posix_name(p)))
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "footer \"%s\": bad dst name", s);
        f.dst_utoff = f.std_utoff + 3600;
        if (*p != ',' && *p != '\0') {
            if (!(p = posix_time(p, 24, &off)))
                return arr_errbuf_fail(ARR_EDECODE, why, whylen, "footer \"%s\": bad dst offset",
                                       s);
            f.dst_utoff = -off;
        }
        /* The POSIX default rule is implementation-defined; a TZif footer always states it. */
        if (!(p = posix_rule_day(p, &f.start, &f.start_time)) ||
            !(p = posix_rule_day(p, &f.end, &f.end_time)) || *p != '\0')
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "footer \"%s\": bad dst rule", s);
    }
    *out = f;
    return ARR_OK;
}

static int64_t rule_epoch_day(const tz_rule_day *r, int64_t year)
{
    int64_t jan1 = outreach_tz_days_from_civil(year, 1, 1);
    if (r->form == 'J')
        return jan1 + r->n - 1 + (is_leap(year) && r->n >= 60);
    if (r->form == 'D')
        return jan1 + r->n;
    int64_t first = outreach_tz_days_from_civil(year, r->m, 1);
    int64_t day = first + (r->d - weekday_of(first) + 7) % 7 + (int64_t)(r->w - 1) * 7;
    if (day >= first + days_in_month(year, r->m))
        day -= 7; /* week 5 means the last such weekday of the month */
    return day;
}

static tz_type posix_type(const tz_posix *f, int64_t t)
{
    tz_type std = {f->std_utoff, 0}, dst = {f->dst_utoff, 1};
    if (!f->has_dst)
        return std;
    /* The transitions of the local year around t: start is read on the std clock, end on
     * the dst clock. A start after the end is a southern-hemisphere rule. */
    int64_t y;
    int m, d;
    outreach_tz_civil_from_days(floor_div(t + f->std_utoff, DAY_S), &y, &m, &d);
    int64_t start = rule_epoch_day(&f->start, y) * DAY_S + f->start_time - f->std_utoff;
    int64_t end = rule_epoch_day(&f->end, y) * DAY_S + f->end_time - f->dst_utoff;
    int in_dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return in_dst ? dst : std;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static arr_err tzif_header(const unsigned char *data, size_t len, size_t at, tzif_counts *c,
                           char *why, size_t whylen)
{
    if (len < at || len - at < 44 || memcmp(data + at, "TZif", 4) != 0)
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "no TZif header at byte %zu", at);
    const unsigned char *p = data + at + 20;
    *c = (tzif_counts){be32(p), be32(p + 4), be32(p + 8), be32(p + 12), be32(p + 16), be32(p + 20)};
    return ARR_OK;
}

static size_t tzif_block_len(const tzif_counts *c, size_t time_size)
{
    return (size_t)c->time * (time_size + 1) + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

static arr_err tzif_body(outreach_tz *z, const unsigned char *data, size_t len, char *why,
                         size_t whylen)
{
    tzif_counts c;
    arr_err e = tzif_header(data, len, 0, &c, why, whylen);
    if (e != ARR_OK)
        return e;
    if (data[4] < '2')
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "TZif version 1 has no 64-bit data");
    /* Version 1 data is skipped (counts below 2^32 cannot overflow a 64-bit size). */
    size_t at = 44 + tzif_block_len(&c, 4);
    if ((e = tzif_header(data, len, at, &c, why, whylen)) != ARR_OK)
        return e;
    if (c.time > OUTREACH_TZ_MAX_TRANSITIONS)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "%u transitions, more than %d", c.time,
                               OUTREACH_TZ_MAX_TRANSITIONS);
    if (c.leap > 0)
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "leap-second zones are not supported");
    if (c.type == 0 || c.type > 256 || c.chars == 0 || c.chars > 4096 ||
        (c.isstd != 0 && c.isstd != c.type) || (c.isut != 0 && c.isut != c.type))
        goto counts;
    at += 44;
    if (len - at < tzif_block_len(&c, 8))
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "file cut short in the 64-bit data");

    const unsigned char *times = data + at, *idx = times + (size_t)c.time * 8;
    const unsigned char *types = idx + c.time;
    z->ntrans = c.time;
    z->ntypes = c.type;
    if (c.time > 0) {
        z->trans_at = malloc(c.time * sizeof *z->trans_at);
        z->trans_type = malloc(c.time);
        if (!z->trans_at || !z->trans_type)
            return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory");
    }
    for (size_t i = 0; i < c.time; i++) {
        z->trans_at[i] = be64(times + 8 * i);
        z->trans_type[i] = idx[i];
        if (i > 0 && z->trans_at[i] <= z->trans_at[i - 1])
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "transition %zu not ascending", i);
        if (idx[i] >= c.type)
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "transition %zu: type %u of %u", i,
                                   idx[i], c.type);
    }
    for (size_t i = 0; i < c.type; i++) {
        const unsigned char *p = types + 6 * i;
        int32_t utoff = (int32_t)be32(p);
        if (utoff < UTOFF_MIN || utoff > UTOFF_MAX || p[4] > 1 || p[5] >= c.chars)
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "time type %zu is invalid", i);
        z->types[i] = (tz_type){utoff, p[4]};
    }

    /* Footer: "\n<TZ string>\n", the end of the file. */
    at += tzif_block_len(&c, 8);
    const unsigned char *nl = at < len ? memchr(data + at + 1, '\n', len - at - 1) : NULL;
    if (at >= len || data[at] != '\n' || !nl || (size_t)(nl - data) + 1 != len)
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "footer missing or not at the end");
    size_t flen = (size_t)(nl - data) - at - 1;
    char footer[128];
    if (flen >= sizeof footer || memchr(data + at + 1, '\0', flen))
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "footer too long or not text");
    memcpy(footer, data + at + 1, flen);
    footer[flen] = '\0';
    if (flen > 0) {
        if ((e = posix_parse(footer, &z->footer, why, whylen)) != ARR_OK)
            return e;
        z->has_footer = 1;
    }
    return ARR_OK;

counts:
    return arr_errbuf_fail(ARR_EDECODE, why, whylen,
                           "bad counts: %u transitions, %u types, %u leap, %u chars", c.time,
                           c.type, c.leap, c.chars);
}

arr_err outreach_tz_parse(const unsigned char *data, size_t len, const char *name,
                          outreach_tz **out, char *why, size_t whylen)
{
    if (!data || !name || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "tz parse: NULL argument");
    if (strlen(name) > OUTREACH_TZ_NAME_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "zone name longer than %d bytes",
                               OUTREACH_TZ_NAME_MAX);
    if (len > OUTREACH_TZ_FILE_MAX)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "%s: %zu bytes, more than %u", name, len,
                               OUTREACH_TZ_FILE_MAX);
    outreach_tz *z = calloc(1, sizeof *z);
    if (!z)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory");
    strcpy(z->name, name);
    char inner[200] = "";
    arr_err e = tzif_body(z, data, len, inner, sizeof inner);
    if (e != ARR_OK) {
        outreach_tz_free(z);
        return arr_errbuf_fail(e, why, whylen, "%s: %s", name, inner);
    }
    *out = z;
    return ARR_OK;
}

void outreach_tz_free(outreach_tz *z)
{
    if (!z)
        return;
    free(z->trans_at);
    free(z->trans_type);
    free(z);
}

/* ---- queries ---- */

const char *outreach_tz_name(const outreach_tz *z)
{
    return z->name;
}

static tz_type type_at(const outreach_tz *z, int64_t t)
{
    if (z->ntrans == 0)
        return z->has_footer ? posix_type(&z->footer, t) : z->types[0];
    if (t < z->trans_at[0])
        return z->types[0];
    if (t >= z->trans_at[z->ntrans - 1] && z->has_footer)
        return posix_type(&z->footer, t);
    size_t lo = 0, hi = z->ntrans; /* the last transition at or before t is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans_at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->types[z->trans_type[lo]];
}

static int in_range(int64_t ms)
{
    return ms >= OUTREACH_TZ_MIN_MS && ms <= OUTREACH_TZ_MAX_MS;
}

arr_err outreach_tz_offset(const outreach_tz *z, int64_t utc_ms, int32_t *offset_s)
{
    if (!z || !offset_s || !in_range(utc_ms))
        return ARR_EINVAL;
    *offset_s = type_at(z, floor_div(utc_ms, 1000)).utoff;
    return ARR_OK;
}

arr_err outreach_tz_local(const outreach_tz *z, int64_t utc_ms, outreach_local *out)
{
    if (!z || !out || !in_range(utc_ms))
        return ARR_EINVAL;
    int64_t t = floor_div(utc_ms, 1000);
    tz_type ty = type_at(z, t);
    int64_t wall = t + ty.utoff;
    int64_t day = floor_div(wall, DAY_S);
    int64_t sod = wall - day * DAY_S;
    outreach_local l = {0};
    outreach_tz_civil_from_days(day, &l.year, &l.month, &l.day);
    l.hour = (int)(sod / 3600);
    l.minute = (int)(sod / 60 % 60);
    l.second = (int)(sod % 60);
    l.weekday = weekday_of(day);
    l.is_dst = ty.isdst;
    l.offset_s = ty.utoff;
    l.epoch_day = day;
    *out = l;
    return ARR_OK;
}

arr_err outreach_tz_utc_of(const outreach_tz *z, int64_t wall_s, int64_t not_before_ms,
                           int64_t *utc_ms)
{
    /* Keep a day of margin inside the range so every probe below stays valid. */
    if (!z || !utc_ms || wall_s < OUTREACH_TZ_MIN_MS / 1000 + 2 * DAY_S ||
        wall_s > OUTREACH_TZ_MAX_MS / 1000 - 2 * DAY_S)
        return ARR_EINVAL;
    /* The offsets a day either side bracket the (at most one) change near wall_s. */
    int32_t before = type_at(z, wall_s - DAY_S).utoff, after = type_at(z, wall_s + DAY_S).utoff;
    int64_t cand[3];
    int n = 0;
    if (type_at(z, wall_s - before).utoff == before)
        cand[n++] = wall_s - before;
    if (after != before && type_at(z, wall_s - after).utoff == after)
        cand[n++] = wall_s - after;
    if (n == 0) {
        /* Clocks jumped over wall_s: the transition lies in (wall_s - after, wall_s - before];
         * find its first second. */
        int64_t lo = wall_s - after, hi = wall_s - before;
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (type_at(z, mid).utoff == before)
                lo = mid;
            else
                hi = mid;
        }
        cand[n++] = hi;
    }
    int64_t best = INT64_MAX;
    for (int i = 0; i < n; i++) {
        int64_t ms = cand[i] * 1000;
        if (ms >= not_before_ms && ms < best)
            best = ms;
    }
    if (best == INT64_MAX)
        return ARR_ENOTFOUND;
    *utc_ms = best;
    return ARR_OK;
}

/* ---- the db ---- */

static arr_err check_name(const char *name, char *why, size_t whylen)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > OUTREACH_TZ_NAME_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "time zone name empty or too long");
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '+' || ch == '-' || ch == '/';
        if (!ok)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "time zone name: byte %zu (0x%02x) not allowed", i,
                                   (unsigned char)ch);
    }
    /* '.' is already refused above; ".." is named for the reader who greps for it. */
    if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//") || strstr(name, ".."))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "time zone name: leading, trailing or empty path part");
    return ARR_OK;
}

arr_err outreach_tz_db_new(const char *dir, outreach_tz_db **out, char *why, size_t whylen)
{
    if (!out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "tz db: NULL argument");
    if (!dir)
        dir = OUTREACH_TZ_DIR_DEFAULT;
    if (strlen(dir) > OUTREACH_TZ_DIR_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "tz db: directory name too long");
    outreach_tz_db *db = calloc(1, sizeof *db);
    if (!db)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory");
    strcpy(db->dir, dir);
    *out = db;
    return ARR_OK;
}

void outreach_tz_db_free(outreach_tz_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++)
        outreach_tz_free(db->zones[i]);
    free(db->zones);
    free(db);
}

arr_err outreach_tz_db_find(const outreach_tz_db *db, const char *name, const outreach_tz **out,
                            char *why, size_t whylen)
{
    arr_err e = check_name(name, why, whylen);
    if (e != ARR_OK)
        return e;
    if (!db || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "tz db: NULL argument");
    for (size_t i = 0; i < db->n; i++) {
        if (strcmp(db->zones[i]->name, name) == 0) {
            *out = db->zones[i];
            return ARR_OK;
        }
    }
    return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "time zone %s not loaded", name);
}

/* Reads a regular file of at most OUTREACH_TZ_FILE_MAX bytes into a new buffer. */
static arr_err read_zone_file(const char *path, const char *name, unsigned char **data, size_t *len,
                              char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "unknown time zone %s", name);
        return arr_errbuf_fail(ARR_EIO, why, whylen, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    arr_err e = ARR_OK;
    unsigned char *buf = NULL;
    size_t n = 0;
    if (fstat(fd, &st) != 0) {
        e = arr_errbuf_fail(ARR_EIO, why, whylen, "%s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        e = arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "unknown time zone %s (not a file)", name);
    } else if (!(buf = malloc(OUTREACH_TZ_FILE_MAX + 1))) {
        e = arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory");
    } else {
        /* Read to EOF rather than trusting st_size: one byte past the cap proves it too big. */
        while (n <= OUTREACH_TZ_FILE_MAX) {
            ssize_t r = read(fd, buf + n, OUTREACH_TZ_FILE_MAX + 1 - n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                e = arr_errbuf_fail(ARR_EIO, why, whylen, "%s: %s", path, strerror(errno));
                break;
            }
            if (r == 0)
                break;
            n += (size_t)r;
        }
        if (e == ARR_OK && n > OUTREACH_TZ_FILE_MAX)
            e = arr_errbuf_fail(ARR_ELIMIT, why, whylen, "%s: larger than %u bytes", path,
                                OUTREACH_TZ_FILE_MAX);
    }
    close(fd);
    if (e != ARR_OK) {
        free(buf);
        return e;
    }
    *data = buf;
    *len = n;
    return ARR_OK;
}

arr_err outreach_tz_db_load(outreach_tz_db *db, const char *name, const outreach_tz **out,
                            char *why, size_t whylen)
{
    arr_err e = outreach_tz_db_find(db, name, out, why, whylen);
    if (e != ARR_ENOTFOUND)
        return e; /* found, or a bad name */
    if (db->n == OUTREACH_TZ_DB_MAX_ZONES)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "tz db: more than %d zones",
                               OUTREACH_TZ_DB_MAX_ZONES);
    if (db->n == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 16;
        outreach_tz **zones = realloc(db->zones, cap * sizeof *zones);
        if (!zones)
            return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory");
        db->zones = zones;
        db->cap = cap;
    }
    char path[OUTREACH_TZ_DIR_MAX + OUTREACH_TZ_NAME_MAX + 2]; /* both lengths checked */
    snprintf(path, sizeof path, "%s/%s", db->dir, name);
    unsigned char *data = NULL;
    size_t len = 0;
    if ((e = read_zone_file(path, name, &data, &len, why, whylen)) != ARR_OK)
        return e;
    outreach_tz *z;
    e = outreach_tz_parse(data, len, name, &z, why, whylen);
    free(data);
    if (e != ARR_OK)
        return e;
    db->zones[db->n++] = z;
    *out = z;
    return ARR_OK;
}

arr_err outreach_tz_db_load_us(outreach_tz_db *db, char *why, size_t whylen)
{
    if (!db)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "tz db: NULL argument");
    const outreach_tz *us[OUTREACH_TZ_US_COUNT];
    for (size_t i = 0; i < OUTREACH_TZ_US_COUNT; i++) {
        arr_err e = outreach_tz_db_load(db, outreach_tz_us_names[i], &us[i], why, whylen);
        if (e != ARR_OK)
            return e;
    }
    memcpy(db->us, us, sizeof us);
    db->us_loaded = 1;
    return ARR_OK;
}

arr_err outreach_tz_db_us(const outreach_tz_db *db, const outreach_tz *const **zones, char *why,
                          size_t whylen)
{
    if (!db || !zones)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "tz db: NULL argument");
    if (!db->us_loaded)
        return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen,
                               "tz db: US zones not loaded (outreach_tz_db_load_us)");
    *zones = db->us;
    return ARR_OK;
}
