/* arr_buf: a growable byte buffer with a hard size cap (no unbounded growth on
 * untrusted input). The buffer owns its memory; arr_buf_free releases it.
 * Content is always NUL-terminated so it can be used as a C string. */
#ifndef ARREARS_BUF_H
#define ARREARS_BUF_H

#include <stddef.h>
#include "arrears/err.h"

typedef struct arr_buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard limit on len; appends past it fail with ARR_ELIMIT */
} arr_buf;

void arr_buf_init(arr_buf *b, size_t max);
arr_err arr_buf_append(arr_buf *b, const void *data, size_t len);
arr_err arr_buf_appendf(arr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arr_buf_reset(arr_buf *b); /* len = 0, keeps the memory */
/* Back to len bytes (no longer than now): undoes appends that must not stay. */
void arr_buf_truncate(arr_buf *b, size_t len);
/* Hands the memory to the caller (free() it) and leaves the buffer empty. */
char *arr_buf_steal(arr_buf *b);
void arr_buf_free(arr_buf *b);

/* Copies what fits of src (NULL: "") into dst of cap >= 1 bytes, always NUL-terminated: for
 * fixed-size fields sized to what their schema allows, where longer is cut, never overrun. */
void arr_str_copy(char *dst, size_t cap, const char *src);

#endif
