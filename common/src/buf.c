#include "arrears/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void arr_buf_init(arr_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static arr_err reserve(arr_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return ARR_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return ARR_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return ARR_ENOMEM;
    b->data = p;
    b->cap = cap;
    return ARR_OK;
}

arr_err arr_buf_append(arr_buf *b, const void *data, size_t len)
{
    arr_err e = reserve(b, len);
    if (e)
        return e;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return ARR_OK;
}

void arr_buf_truncate(arr_buf *b, size_t len)
{
    if (len >= b->len)
        return;
    b->len = len;
    b->data[len] = '\0';
}

arr_err arr_buf_appendf(arr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ARR_EINVAL;
    arr_err e = reserve(b, (size_t)n);
    if (e)
        return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ARR_OK;
}

void arr_buf_reset(arr_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *arr_buf_steal(arr_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void arr_buf_free(arr_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void arr_str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}
