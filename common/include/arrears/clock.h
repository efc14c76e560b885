/* arr_clock: the injectable clock. Decisions take time from events, never from here; the
 * clock stamps produced_at, drives timers and, when simulated, lets tests, the demo and
 * replays run days in seconds. Times are milliseconds since the Unix epoch, UTC. */
#ifndef ARREARS_CLOCK_H
#define ARREARS_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

typedef enum arr_clock_kind {
    ARR_CLOCK_REAL = 0, /* CLOCK_REALTIME */
    ARR_CLOCK_SIM,      /* a value that only moves when told to */
} arr_clock_kind;

typedef struct arr_clock {
    arr_clock_kind kind;
    int64_t sim_ms; /* current time of a simulated clock */
} arr_clock;

void arr_clock_init_real(arr_clock *c);
void arr_clock_init_sim(arr_clock *c, int64_t start_ms);
int64_t arr_clock_now_ms(const arr_clock *c);
/* Simulated clocks only: ARR_EINVAL on a real clock or when going backwards. */
arr_err arr_clock_set(arr_clock *c, int64_t ms);
arr_err arr_clock_advance(arr_clock *c, int64_t delta_ms);

/* RFC 3339 in UTC with milliseconds: "2026-11-26T22:13:48.123Z" (25 bytes incl. NUL). */
#define ARR_TIME_STRLEN 32
arr_err arr_time_format(int64_t ms, char *out, size_t outlen);
/* The proleptic Gregorian calendar: days since 1970-01-01 of y-m-d (m 1-12, d 1-31, not
 * checked), and back. Shared so that every date in arrears counts days the same way. */
int64_t arr_days_from_civil(int64_t y, int m, int d);
void arr_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Accepts "YYYY-MM-DDTHH:MM:SS[.fff...]" followed by "Z" or "+HH:MM"/"-HH:MM". */
arr_err arr_time_parse(const char *s, int64_t *out_ms);

#endif
