#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrears/log.h"

/* The logger writes into a pipe; the test reads back everything once the write end is
 * closed. Lines stay far below the pipe capacity in these tests. */
struct capture {
    int rd;
    int wr;
};

static void capture_open(struct capture *c, arr_log *lg, arr_log_level level)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    c->rd = fds[0];
    c->wr = fds[1];
    arr_log_init(lg, "scoring", "scoring-1", level);
    lg->fd = c->wr;
}

/* Closes the write end and returns everything written (caller frees). */
static char *capture_take(struct capture *c, size_t *len_out)
{
    close(c->wr);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    cr_assert_not_null(buf);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            cr_assert_not_null(buf);
        }
        ssize_t n = read(c->rd, buf + len, cap - len);
        cr_assert_geq(n, 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(c->rd);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Parses exactly one line and checks it is terminated by a single newline. */
static json_t *parse_line(const char *text)
{
    size_t len = strlen(text);
    cr_assert_gt(len, 0, "nothing was logged");
    cr_assert_eq(text[len - 1], '\n', "line not newline-terminated");
    cr_assert_eq(count_lines(text), 1, "expected one line, got: %s", text);
    json_error_t jerr;
    json_t *obj = json_loadb(text, len - 1, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(obj, "not JSON (%s): %s", jerr.text, text);
    cr_assert(json_is_object(obj));
    return obj;
}

static const char *field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    cr_assert_not_null(v, "missing field %s", key);
    cr_assert(json_is_string(v), "field %s is not a string", key);
    return json_string_value(v);
}

static char *log_one(arr_log_level min, arr_log_level level, const char *msg, const char *k1,
                     const char *v1, const char *k2, const char *v2)
{
    struct capture c;
    arr_log lg;
    capture_open(&c, &lg, min);
    arr_log_write(&lg, level, msg, k1, v1, k2, v2, NULL);
    return capture_take(&c, NULL);
}

Test(log, init_defaults_to_stderr)
{
    arr_log lg;
    arr_log_init(&lg, "svc", "svc-1", ARR_LOG_WARN);
    cr_expect_eq(lg.fd, 2);
    cr_expect_str_eq(lg.service, "svc");
    cr_expect_str_eq(lg.instance, "svc-1");
    cr_expect_eq(lg.level, ARR_LOG_WARN);
}

Test(log, level_parse)
{
    arr_log_level l = ARR_LOG_ERROR;
    cr_expect_eq(arr_log_level_parse("debug", &l), ARR_OK);
    cr_expect_eq(l, ARR_LOG_DEBUG);
    cr_expect_eq(arr_log_level_parse("INFO", &l), ARR_OK);
    cr_expect_eq(l, ARR_LOG_INFO);
    cr_expect_eq(arr_log_level_parse("Warn", &l), ARR_OK);
    cr_expect_eq(l, ARR_LOG_WARN);
    cr_expect_eq(arr_log_level_parse("eRRoR", &l), ARR_OK);
    cr_expect_eq(l, ARR_LOG_ERROR);
    l = ARR_LOG_INFO;
    static const char *const bad[] = {"", "verbose", "inf", "info ", "errors", "3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(arr_log_level_parse(bad[i], &l), ARR_EINVAL, "'%s' accepted", bad[i]);
        cr_expect_eq(l, ARR_LOG_INFO, "out written on failure");
    }
    cr_expect_eq(arr_log_level_parse(NULL, &l), ARR_EINVAL);
}

Test(log, standard_fields)
{
    char *text =
        log_one(ARR_LOG_INFO, ARR_LOG_INFO, "batch scored", "tenant", "t-42", "count", "17");
    json_t *obj = parse_line(text);
    cr_expect_str_eq(field(obj, "level"), "info");
    cr_expect_str_eq(field(obj, "service"), "scoring");
    cr_expect_str_eq(field(obj, "instance"), "scoring-1");
    cr_expect_str_eq(field(obj, "msg"), "batch scored");
    cr_expect_str_eq(field(obj, "tenant"), "t-42");
    cr_expect_str_eq(field(obj, "count"), "17");
    cr_expect_eq(json_object_size(obj), 7);
    /* fixed fields first, in the documented order */
    cr_expect_eq(strncmp(text, "{\"ts\":\"", 7), 0, "%s", text);
    const char *order[] = {"\"ts\"",  "\"level\"",  "\"service\"", "\"instance\"",
                           "\"msg\"", "\"tenant\"", "\"count\""};
    const char *prev = text;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *at = strstr(text, order[i]);
        cr_assert_not_null(at, "%s", order[i]);
        cr_expect_geq(at, prev, "%s out of order in %s", order[i], text);
        prev = at;
    }
    json_decref(obj);
    free(text);
}

Test(log, timestamp_is_rfc3339_utc_millis_and_now)
{
    time_t before = time(NULL);
    char *text = log_one(ARR_LOG_DEBUG, ARR_LOG_ERROR, "x", NULL, NULL, NULL, NULL);
    time_t after = time(NULL);
    json_t *obj = parse_line(text);
    const char *ts = field(obj, "ts");
    cr_assert_eq(strlen(ts), 24, "%s", ts);
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++) {
        if (shape[i] == 'd')
            cr_expect(ts[i] >= '0' && ts[i] <= '9', "%s", ts);
        else
            cr_expect_eq(ts[i], shape[i], "%s", ts);
    }
    struct tm tm = {0};
    cr_assert_eq(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                        &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                 6, "%s", ts);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    cr_expect(t >= before && t <= after, "ts %s not within [%ld, %ld]", ts, (long)before,
              (long)after);
    cr_expect_str_eq(field(obj, "level"), "error");
    json_decref(obj);
    free(text);
}

Test(log, escaping_round_trips)
{
    const char *nasty = "quote\" backslash\\ nl\n cr\r tab\t bell\a nul-ish\x01 us\x1f "
                        "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 slash/ del\x7f";
    char *text =
        log_one(ARR_LOG_INFO, ARR_LOG_WARN, "msg \"with\" quotes\n", "k\"ey", nasty, NULL, NULL);
    json_t *obj = parse_line(text);
    cr_expect_str_eq(field(obj, "k\"ey"), nasty);
    cr_expect_str_eq(field(obj, "msg"), "msg \"with\" quotes\n");
    /* control characters must be escaped in the raw line, never written through */
    cr_expect_not_null(strstr(text, "\\u0001"), "%s", text);
    cr_expect_not_null(strstr(text, "\\u001f"), "%s", text);
    cr_expect_not_null(strstr(text, "\\u0007"), "%s", text);
    for (const char *p = text; *p != '\n'; p++)
        cr_assert((unsigned char)*p >= 0x20, "raw control byte 0x%02x", (unsigned char)*p);
    json_decref(obj);
    free(text);
}

Test(log, invalid_utf8_is_replaced)
{
    char *text = log_one(ARR_LOG_INFO, ARR_LOG_INFO, "m", "bad",
                         "a\xff"
                         "b\xc3"
                         "c\xed\xa0\x80",
                         "ok", "fine");
    json_t *obj = parse_line(text);
    cr_expect_str_eq(field(obj, "bad"), "a\xef\xbf\xbd"
                                        "b\xef\xbf\xbd"
                                        "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    cr_expect_str_eq(field(obj, "ok"), "fine");
    json_decref(obj);
    free(text);
}

Test(log, null_value_is_json_null)
{
    char *text = log_one(ARR_LOG_INFO, ARR_LOG_INFO, "m", "gone", NULL, "after", "x");
    json_t *obj = parse_line(text);
    json_t *v = json_object_get(obj, "gone");
    cr_assert_not_null(v);
    cr_expect(json_is_null(v));
    cr_expect_str_eq(field(obj, "after"), "x");
    json_decref(obj);
    free(text);
}

Test(log, null_msg_and_identity_are_empty_strings)
{
    struct capture c;
    arr_log lg;
    capture_open(&c, &lg, ARR_LOG_DEBUG);
    lg.service = NULL;
    lg.instance = NULL;
    arr_log_write(&lg, ARR_LOG_INFO, NULL, NULL);
    char *text = capture_take(&c, NULL);
    json_t *obj = parse_line(text);
    cr_expect_str_eq(field(obj, "msg"), "");
    cr_expect_str_eq(field(obj, "service"), "");
    cr_expect_str_eq(field(obj, "instance"), "");
    json_decref(obj);
    free(text);
}

Test(log, level_filtering)
{
    struct capture c;
    arr_log lg;
    capture_open(&c, &lg, ARR_LOG_WARN);
    arr_log_debug(&lg, "d", NULL);
    arr_log_info(&lg, "i", NULL);
    arr_log_warn(&lg, "w", NULL);
    arr_log_error(&lg, "e", "k", "v", NULL);
    char *text = capture_take(&c, NULL);
    cr_assert_eq(count_lines(text), 2, "%s", text);
    char *nl = strchr(text, '\n');
    json_t *first = json_loadb(text, (size_t)(nl - text), 0, NULL);
    json_t *second = json_loads(nl + 1, 0, NULL);
    cr_assert_not_null(first);
    cr_assert_not_null(second);
    cr_expect_str_eq(field(first, "level"), "warn");
    cr_expect_str_eq(field(first, "msg"), "w");
    cr_expect_str_eq(field(second, "level"), "error");
    cr_expect_str_eq(field(second, "k"), "v");
    json_decref(first);
    json_decref(second);
    free(text);
}

Test(log, debug_level_passes_everything)
{
    struct capture c;
    arr_log lg;
    capture_open(&c, &lg, ARR_LOG_DEBUG);
    arr_log_debug(&lg, "d", NULL);
    arr_log_info(&lg, "i", NULL);
    arr_log_warn(&lg, "w", NULL);
    arr_log_error(&lg, "e", NULL);
    char *text = capture_take(&c, NULL);
    cr_expect_eq(count_lines(text), 4, "%s", text);
    free(text);
}

static char *repeat(const char *unit, size_t times)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * times + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * times] = '\0';
    return s;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

Test(log, long_value_is_truncated_with_marker)
{
    char *big = repeat("a", 100000);
    char *text = log_one(ARR_LOG_INFO, ARR_LOG_INFO, "m", "big", big, "next", "kept");
    cr_expect_leq(strlen(text), 4096);
    json_t *obj = parse_line(text);
    const char *v = field(obj, "big");
    cr_expect_lt(strlen(v), 4096);
    cr_expect_gt(strlen(v), 100);
    cr_expect(ends_with(v, "[truncated]"), "no marker at the end of the value");
    cr_expect_eq(strncmp(v, "aaaaaaaaaa", 10), 0);
    /* one huge value must not push out the fields after it */
    cr_expect_str_eq(field(obj, "next"), "kept");
    json_decref(obj);
    free(text);
    free(big);
}

Test(log, truncation_keeps_escapes_and_utf8_whole)
{
    /* every unit expands (escape) or is multi-byte, so a naive cut would break the JSON */
    static const char *const units[] = {"\xe2\x82\xac", "\x01", "\"", "\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        char *big = repeat(units[i], 5000);
        char *text = log_one(ARR_LOG_INFO, ARR_LOG_INFO, "m", "big", big, NULL, NULL);
        cr_expect_leq(strlen(text), 4096);
        json_t *obj = parse_line(text);
        const char *v = field(obj, "big");
        cr_expect(ends_with(v, "[truncated]"), "unit %zu: no marker", i);
        size_t content = strlen(v) - strlen("...[truncated]");
        cr_expect_eq(content % strlen(units[i]), 0, "unit %zu cut in the middle", i);
        cr_expect_eq(strncmp(v, big, content), 0, "unit %zu: content altered", i);
        json_decref(obj);
        free(text);
        free(big);
    }
}

Test(log, value_that_fits_is_not_truncated)
{
    char *val = repeat("b", 900);
    char *text = log_one(ARR_LOG_INFO, ARR_LOG_INFO, "m", "v", val, NULL, NULL);
    json_t *obj = parse_line(text);
    cr_expect_str_eq(field(obj, "v"), val);
    json_decref(obj);
    free(text);
    free(val);
}

Test(log, too_many_fields_are_dropped_and_flagged)
{
    char *val = repeat("c", 900);
    struct capture c;
    arr_log lg;
    capture_open(&c, &lg, ARR_LOG_INFO);
    arr_log_info(&lg, "m", "f1", val, "f2", val, "f3", val, "f4", val, "f5", val, "f6", val, NULL);
    char *text = capture_take(&c, NULL);
    cr_expect_leq(strlen(text), 4096);
    json_t *obj = parse_line(text);
    cr_expect_str_eq(field(obj, "f1"), val);
    cr_expect_null(json_object_get(obj, "f6"));
    json_t *flag = json_object_get(obj, "truncated");
    cr_assert_not_null(flag, "%s", text);
    cr_expect(json_is_true(flag));
    cr_expect_str_eq(field(obj, "msg"), "m");
    json_decref(obj);
    free(text);
    free(val);
}

Test(log, errno_is_preserved)
{
    struct capture c;
    arr_log lg;
    capture_open(&c, &lg, ARR_LOG_INFO);
    errno = ENOSPC;
    arr_log_info(&lg, "m", NULL);
    cr_expect_eq(errno, ENOSPC);
    free(capture_take(&c, NULL));
}

Test(log, write_error_is_harmless)
{
    arr_log lg;
    arr_log_init(&lg, "s", "i", ARR_LOG_INFO);
    lg.fd = -1;
    arr_log_info(&lg, "into the void", "k", "v", NULL);
    arr_log_write(NULL, ARR_LOG_ERROR, "no logger", NULL);
}

struct thread_arg {
    arr_log *lg;
    int id;
};

#define THREADS 8
#define LINES_PER_THREAD 200

static void *spam(void *p)
{
    struct thread_arg *a = p;
    char id[16];
    char filler[900];
    snprintf(id, sizeof(id), "%d", a->id);
    memset(filler, 'A' + a->id, sizeof(filler) - 1);
    filler[sizeof(filler) - 1] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++)
        arr_log_info(a->lg, "spam", "thread", id, "filler", filler, NULL);
    return NULL;
}

Test(log, concurrent_lines_do_not_interleave)
{
    char path[] = "/tmp/arr_test_log_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    arr_log lg;
    arr_log_init(&lg, "scoring", "scoring-1", ARR_LOG_INFO);
    lg.fd = fd;
    pthread_t th[THREADS];
    struct thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){.lg = &lg, .id = i};
        cr_assert_eq(pthread_create(&th[i], NULL, spam, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    off_t size = lseek(fd, 0, SEEK_END);
    cr_assert_gt(size, 0);
    char *text = malloc((size_t)size + 1);
    cr_assert_not_null(text);
    cr_assert_eq(pread(fd, text, (size_t)size, 0), size);
    text[size] = '\0';
    close(fd);

    cr_assert_eq(count_lines(text), THREADS * LINES_PER_THREAD);
    char *line = text;
    for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        json_t *obj = json_loadb(line, (size_t)(nl - line), 0, NULL);
        cr_assert_not_null(obj, "interleaved or broken line");
        int id = atoi(field(obj, "thread"));
        const char *filler = field(obj, "filler");
        cr_assert_eq(strlen(filler), 899);
        cr_assert_eq(filler[0], 'A' + id);
        cr_assert_eq(filler[898], 'A' + id);
        json_decref(obj);
    }
    free(text);
}
