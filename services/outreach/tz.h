/* outreach_tz: IANA time zones read from TZif files, for the contact-time rules.
 *
 * A zone is loaded once from <dir>/<Name> (RFC 8536, version 2 or later: the 64-bit data and
 * the footer's POSIX TZ string). Loading is the only I/O; every query afterwards is pure.
 * Instants are milliseconds since the Unix epoch (UTC); offsets are seconds east of UTC
 * (New York in winter: -18000).
 *
 * Which rule gives the offset of an instant t:
 *   - before the first transition: time type 0 (RFC 8536 section 3.2);
 *   - between transitions: the type of the last transition at or before t;
 *   - at or after the last transition: the footer's TZ string ("EST5EDT,M3.2.0,M11.1.0"),
 *     or the last type when the footer is empty. All three POSIX rule forms are read
 *     (Jn, n and Mm.w.d, with an optional /time of -167..167 hours).
 * Leap-second ("right/") files are refused: their transition times are not POSIX times.
 *
 * Thread safety: loading changes the db; once loading is over (at startup), any number of
 * threads may query it and its zones. */
#ifndef ARREARS_OUTREACH_TZ_H
#define ARREARS_OUTREACH_TZ_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

#define OUTREACH_TZ_DIR_DEFAULT "/usr/share/zoneinfo"
#define OUTREACH_TZ_NAME_MAX 127           /* bytes of a zone name */
#define OUTREACH_TZ_DIR_MAX 1024           /* bytes of the zoneinfo directory name */
#define OUTREACH_TZ_FILE_MAX (64u * 1024u) /* a larger zone file is refused */
#define OUTREACH_TZ_MAX_TRANSITIONS 4096   /* fat files hold a few hundred */
#define OUTREACH_TZ_DB_MAX_ZONES 1024      /* the tz database has about 600 */
/* Instants the queries accept: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. */
#define OUTREACH_TZ_MIN_MS (-62135596800000LL)
#define OUTREACH_TZ_MAX_MS (253402300799999LL)

/* The zones that cover the United States, east to west, for a consumer whose zone is
 * unknown: a time is allowed only when it is allowed in every one of them. */
#define OUTREACH_TZ_US_COUNT 8
extern const char *const outreach_tz_us_names[OUTREACH_TZ_US_COUNT];
/* = America/Puerto_Rico, America/New_York, America/Chicago, America/Denver, America/Phoenix,
 *   America/Los_Angeles, America/Anchorage, Pacific/Honolulu. */

typedef struct outreach_tz outreach_tz;
typedef struct outreach_tz_db outreach_tz_db;

/* Wall-clock reading of an instant in a zone. */
typedef struct outreach_local {
    int64_t year;
    int month;   /* 1..12 */
    int day;     /* 1..31 */
    int hour;    /* 0..23 */
    int minute;  /* 0..59 */
    int second;  /* 0..59 */
    int weekday; /* 0 = Sunday .. 6 = Saturday */
    int is_dst;
    int32_t offset_s;  /* seconds east of UTC */
    int64_t epoch_day; /* the local date as days since 1970-01-01 */
} outreach_local;

/* ---- the database (all the I/O) ---- */

/* A new, empty db reading zones from dir (NULL: OUTREACH_TZ_DIR_DEFAULT; copied). The caller
 * owns *out and frees it with outreach_tz_db_free. ARR_EINVAL (dir longer than
 * OUTREACH_TZ_DIR_MAX), ARR_ENOMEM. */
arr_err outreach_tz_db_new(const char *dir, outreach_tz_db **out, char *why, size_t whylen);
/* Frees the db and every zone it loaded (their pointers die with it). NULL is fine. */
void outreach_tz_db_free(outreach_tz_db *db);

/* Loads zone name (once; a second call returns the same zone without I/O). *out is owned by
 * the db and lives until outreach_tz_db_free. Errors: ARR_EINVAL (a name that is not a zone
 * name: empty, too long, a byte outside [A-Za-z0-9_+-/], "..", a leading or trailing '/',
 * "//"), ARR_ENOTFOUND (no such zone file), ARR_EIO, ARR_ELIMIT (file over
 * OUTREACH_TZ_FILE_MAX, too many transitions, too many zones), ARR_EDECODE (not a valid
 * TZif version 2+ file; why says what is wrong), ARR_ENOMEM. */
arr_err outreach_tz_db_load(outreach_tz_db *db, const char *name, const outreach_tz **out,
                            char *why, size_t whylen);
/* Loads the OUTREACH_TZ_US_COUNT zones of outreach_tz_us_names. Errors as _load. */
arr_err outreach_tz_db_load_us(outreach_tz_db *db, char *why, size_t whylen);

/* Pure look-up of an already loaded zone. ARR_EINVAL (bad name), ARR_ENOTFOUND (not loaded). */
arr_err outreach_tz_db_find(const outreach_tz_db *db, const char *name, const outreach_tz **out,
                            char *why, size_t whylen);
/* The US zones, in outreach_tz_us_names order: *zones points into the db (OUTREACH_TZ_US_COUNT
 * entries, valid until outreach_tz_db_free). ARR_ENOTFOUND when _load_us was not called. */
arr_err outreach_tz_db_us(const outreach_tz_db *db, const outreach_tz *const **zones, char *why,
                          size_t whylen);

/* ---- zones without a db (tests, embedded data) ---- */

/* Parses a TZif file held in memory (data need not outlive the call) into a new zone named
 * name (copied; not validated as a file name). The caller owns *out: outreach_tz_free.
 * Errors: ARR_EDECODE, ARR_ELIMIT, ARR_EINVAL (name too long), ARR_ENOMEM. */
arr_err outreach_tz_parse(const unsigned char *data, size_t len, const char *name,
                          outreach_tz **out, char *why, size_t whylen);
/* Frees a zone from outreach_tz_parse (never one owned by a db). NULL is fine. */
void outreach_tz_free(outreach_tz *z);

/* ---- pure queries ---- */

/* The zone's name, owned by the zone. */
const char *outreach_tz_name(const outreach_tz *z);
/* Offset from UTC at utc_ms. ARR_EINVAL when z is NULL or utc_ms outside the accepted range. */
arr_err outreach_tz_offset(const outreach_tz *z, int64_t utc_ms, int32_t *offset_s);
/* Local calendar reading at utc_ms. Errors as outreach_tz_offset. */
arr_err outreach_tz_local(const outreach_tz *z, int64_t utc_ms, outreach_local *out);

/* The first instant at or after not_before_ms at which the zone's clocks read wall_s (local
 * date and time as seconds since 1970-01-01T00:00 local). A time that occurs twice (clocks
 * set back) gives its first occurrence still at or after not_before_ms; a time that does not
 * occur (clocks set forward over it) gives the instant the clocks jump past it. ARR_ENOTFOUND
 * when the clocks read wall_s only before not_before_ms; ARR_EINVAL out of range. Assumes at
 * most one offset change within a day of wall_s, which holds for every zone in use today. */
arr_err outreach_tz_utc_of(const outreach_tz *z, int64_t wall_s, int64_t not_before_ms,
                           int64_t *utc_ms);

/* Proleptic Gregorian calendar: days since 1970-01-01 and back (no range checks: callers
 * keep years within +-1e9). */
int64_t outreach_tz_days_from_civil(int64_t year, int month, int day);
void outreach_tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

#endif
