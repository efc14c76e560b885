#include "arrears/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "arrears/utf8.h"

/* Writes of at most PIPE_BUF (4096 on Linux) bytes to a pipe are atomic, and services log to
 * pipes (containers, journald), so a line never exceeds that. */
#define LOG_LINE_MAX 4096
/* One value may not eat the whole line: the fields after it matter too. */
#define LOG_VALUE_MAX 1024
/* Room kept for the tail of a line: the truncation field, "}" and "\n". */
#define LOG_TAIL_ROOM 32

static const char TRUNC_MARK[] = "...[truncated]";

/* A bounded line under construction. cap excludes the tail room so the closing of the JSON
 * object always fits. */
struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    size_t cap;
    bool dropped; /* a field did not fit and was left out */
};

static const char *level_name(arr_log_level level)
{
    switch (level) {
    case ARR_LOG_DEBUG:
        return "debug";
    case ARR_LOG_INFO:
        return "info";
    case ARR_LOG_WARN:
        return "warn";
    case ARR_LOG_ERROR:
        return "error";
    }
    return "unknown";
}

void arr_log_init(arr_log *lg, const char *service, const char *instance, arr_log_level level)
{
    lg->service = service;
    lg->instance = instance;
    lg->level = level;
    lg->fd = 2;
}

arr_err arr_log_level_parse(const char *s, arr_log_level *out)
{
    static const arr_log_level all[] = {ARR_LOG_DEBUG, ARR_LOG_INFO, ARR_LOG_WARN, ARR_LOG_ERROR};
    if (!s || !out)
        return ARR_EINVAL;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcasecmp(s, level_name(all[i])) == 0) {
            *out = all[i];
            return ARR_OK;
        }
    }
    return ARR_EINVAL;
}

static void put_raw(struct line *ln, const char *s, size_t n)
{
    memcpy(ln->buf + ln->len, s, n);
    ln->len += n;
}

/* Escapes the unit starting at s into out (at least 7 bytes); returns the output length and
 * sets *used to the number of input bytes consumed. */
static size_t escape_unit(const char *s, size_t n, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = (unsigned char)s[0];
    const char *short_esc = NULL;
    *used = 1;
    switch (c) {
    case '"':
        short_esc = "\\\"";
        break;
    case '\\':
        short_esc = "\\\\";
        break;
    case '\n':
        short_esc = "\\n";
        break;
    case '\r':
        short_esc = "\\r";
        break;
    case '\t':
        short_esc = "\\t";
        break;
    }
    if (short_esc) {
        memcpy(out, short_esc, 2);
        return 2;
    }
    if (c < 0x20) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 0xF];
        return 6;
    }
    /* Invalid UTF-8 would make the whole line unparseable JSON, so it is replaced, not copied. */
    uint32_t cp;
    size_t len = c < 0x80 ? 1 : arr_utf8_next((const unsigned char *)s, n, 0, &cp);
    if (len == 0) {
        memcpy(out, "\\ufffd", 6);
        return 6;
    }
    memcpy(out, s, len);
    *used = len;
    return len;
}

/* Appends s as a JSON string of at most max output bytes (quotes included). A value that
 * does not fit is cut back to the last character boundary that leaves room for TRUNC_MARK. */
static void put_string(struct line *ln, const char *s, size_t max)
{
    size_t n = strlen(s);
    size_t limit = max - 2;                           /* content bytes if nothing is cut */
    size_t budget = limit - (sizeof(TRUNC_MARK) - 1); /* content bytes before the marker */
    ln->buf[ln->len++] = '"';
    size_t start = ln->len;
    size_t fit = start; /* end of the content that still fits together with the marker */
    while (n > 0) {
        char unit[8];
        size_t used;
        size_t ulen = escape_unit(s, n, unit, &used);
        if (ln->len - start + ulen > limit) {
            ln->len = fit;
            put_raw(ln, TRUNC_MARK, sizeof(TRUNC_MARK) - 1);
            break;
        }
        put_raw(ln, unit, ulen);
        if (ln->len - start <= budget)
            fit = ln->len;
        s += used;
        n -= used;
    }
    ln->buf[ln->len++] = '"';
}

/* Smallest room worth starting a string in: quotes, marker and a few bytes of content. */
#define MIN_STRING_ROOM (2 + sizeof(TRUNC_MARK) - 1 + 8)

/* Appends ,"key":value; value NULL is JSON null. A field that cannot fit even truncated is
 * dropped whole so the line stays valid JSON. */
static void put_field(struct line *ln, const char *key, const char *value, bool first)
{
    size_t room = ln->cap - ln->len;
    /* Keys come from code and are short; cap them anyway so a value always has room. */
    size_t key_max = MIN_STRING_ROOM + 48;
    size_t need = (first ? 0 : 1) + key_max + 1 + (value ? MIN_STRING_ROOM : 4);
    if (ln->dropped || room < need) {
        ln->dropped = true;
        return;
    }
    if (!first)
        ln->buf[ln->len++] = ',';
    put_string(ln, key, key_max);
    ln->buf[ln->len++] = ':';
    if (!value) {
        put_raw(ln, "null", 4);
        return;
    }
    room = ln->cap - ln->len;
    put_string(ln, value, room < LOG_VALUE_MAX ? room : LOG_VALUE_MAX);
}

static void format_ts(char *out, size_t outlen)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, outlen - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* One write() per line keeps concurrent lines whole; the loop only matters for signals and
 * the rare short write to a full pipe or disk, where the rest is still worth emitting. */
static void emit(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a logging failure */
        }
        buf += n;
        len -= (size_t)n;
    }
}

void arr_log_write(const arr_log *lg, arr_log_level level, const char *msg, ...)
{
    if (!lg || level < lg->level)
        return;
    int saved_errno = errno; /* callers often log right before reading errno */
    struct line ln = {.len = 0, .cap = LOG_LINE_MAX - LOG_TAIL_ROOM, .dropped = false};
    char ts[40];
    format_ts(ts, sizeof(ts));

    ln.buf[ln.len++] = '{';
    put_field(&ln, "ts", ts, true);
    put_field(&ln, "level", level_name(level), false);
    put_field(&ln, "service", lg->service ? lg->service : "", false);
    put_field(&ln, "instance", lg->instance ? lg->instance : "", false);
    put_field(&ln, "msg", msg ? msg : "", false);

    va_list ap;
    va_start(ap, msg);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        put_field(&ln, key, value, false);
    }
    va_end(ap);

    if (ln.dropped)
        put_raw(&ln, ",\"truncated\":true", 17);
    put_raw(&ln, "}\n", 2);
    emit(lg->fd, ln.buf, ln.len);
    errno = saved_errno;
}
