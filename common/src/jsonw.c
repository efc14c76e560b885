#include "arrears/jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arrears/utf8.h"

void arr_jsonw_init(arr_jsonw *w, arr_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void put(arr_jsonw *w, const char *s, size_t n)
{
    if (!w->err)
        w->err = arr_buf_append(w->out, s, n);
}

/* Before any value: the separator, and the check that a key was not due instead. */
static int value_starts(arr_jsonw *w)
{
    if (w->err)
        return 0;
    if (w->depth > 0) {
        int d = w->depth - 1;
        if (w->in_object[d]) {
            if (w->key_due) {
                w->err = ARR_EINVAL;
                return 0;
            }
            w->key_due = 1;
        } else {
            if (!w->first[d])
                put(w, ",", 1);
            w->first[d] = 0;
        }
    }
    return !w->err;
}

static void open_level(arr_jsonw *w, int object)
{
    if (!value_starts(w))
        return;
    if (w->depth == ARR_JSONW_DEPTH) {
        w->err = ARR_EINVAL;
        return;
    }
    put(w, object ? "{" : "[", 1);
    w->first[w->depth] = 1;
    w->in_object[w->depth] = (unsigned char)object;
    w->depth++;
    w->key_due = object;
}

static void close_level(arr_jsonw *w, int object)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->in_object[w->depth - 1] != object || (object && !w->key_due)) {
        w->err = ARR_EINVAL;
        return;
    }
    put(w, object ? "}" : "]", 1);
    w->depth--;
    w->key_due = w->depth > 0 && w->in_object[w->depth - 1];
}

void arr_jsonw_object_begin(arr_jsonw *w)
{
    open_level(w, 1);
}

void arr_jsonw_object_end(arr_jsonw *w)
{
    close_level(w, 1);
}

void arr_jsonw_array_begin(arr_jsonw *w)
{
    open_level(w, 0);
}

void arr_jsonw_array_end(arr_jsonw *w)
{
    close_level(w, 0);
}

/* What each byte needs inside a JSON string: 0 nothing, 1 an escape, 2 a UTF-8 check. */
static unsigned char byte_class(unsigned char c)
{
    if (c < 0x20 || c == '"' || c == '\\')
        return 1;
    return c >= 0x80 ? 2 : 0;
}

/* Quoted and escaped as jansson does: the two-character escapes it knows, \uXXXX (upper
 * case hex) for other control characters, everything else (UTF-8 included) as is. Plain
 * runs are copied in one piece. */
static void quoted(arr_jsonw *w, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    put(w, "\"", 1);
    const unsigned char *run = s;
    while (*s && !w->err) {
        unsigned char cls = byte_class(*s);
        if (cls == 0) {
            s++;
            continue;
        }
        if (cls == 2) {
            /* Strict UTF-8, as jansson refuses overlong forms, surrogates and code points past
             * U+10FFFF; the sequence ends at the NUL at the latest. */
            uint32_t cp;
            size_t n = arr_utf8_next(s, strnlen((const char *)s, 4), 0, &cp);
            if (n == 0) {
                w->err = ARR_EINVAL;
                return;
            }
            s += n;
            continue;
        }
        const char *esc;
        char u[8];
        switch (*s) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            snprintf(u, sizeof(u), "\\u%04X", *s);
            esc = u;
        }
        put(w, (const char *)run, (size_t)(s - run));
        put(w, esc, strlen(esc));
        run = ++s;
    }
    put(w, (const char *)run, (size_t)(s - run));
    put(w, "\"", 1);
}

void arr_jsonw_key(arr_jsonw *w, const char *key)
{
    if (w->err)
        return;
    if (w->depth == 0 || !w->in_object[w->depth - 1] || !w->key_due) {
        w->err = ARR_EINVAL;
        return;
    }
    int d = w->depth - 1;
    if (!w->first[d])
        put(w, ",", 1);
    w->first[d] = 0;
    quoted(w, key);
    put(w, ":", 1);
    w->key_due = 0;
}

void arr_jsonw_string(arr_jsonw *w, const char *s)
{
    if (value_starts(w))
        quoted(w, s);
}

void arr_jsonw_int(arr_jsonw *w, long long v)
{
    char n[24];
    if (value_starts(w))
        put(w, n, (size_t)snprintf(n, sizeof(n), "%lld", v));
}

void arr_jsonw_bool(arr_jsonw *w, int v)
{
    if (value_starts(w))
        put(w, v ? "true" : "false", v ? 4 : 5);
}

void arr_jsonw_null(arr_jsonw *w)
{
    if (value_starts(w))
        put(w, "null", 4);
}

void arr_jsonw_raw(arr_jsonw *w, const char *json, size_t len)
{
    if (value_starts(w))
        put(w, json, len);
}

arr_err arr_jsonw_finish(const arr_jsonw *w)
{
    if (w->err)
        return w->err;
    return w->depth ? ARR_EINVAL : ARR_OK;
}
