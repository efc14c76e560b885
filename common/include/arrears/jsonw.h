/* arr_jsonw: a streaming JSON writer onto an arr_buf, for the hot paths where building a
 * jansson tree per record would cost more than the record's whole validation.
 *
 * The output is byte for byte what json_dumps(..., JSON_COMPACT) gives for the same values
 * in the same order (same escapes, no spaces), so texts written here and texts jansson wrote
 * hash alike. Errors are sticky: after the first failure (buffer cap, invalid UTF-8, nesting
 * deeper than ARR_JSONW_DEPTH, a value where a key is due) every call does nothing and
 * arr_jsonw_error() reports it, so call sites need no check per value.
 *
 * Ownership: the writer borrows `out` (the caller owns it and must keep it alive while the
 * writer is used); the writer itself owns nothing and needs no freeing. */
#ifndef ARREARS_JSONW_H
#define ARREARS_JSONW_H

#include <stddef.h>
#include "arrears/buf.h"
#include "arrears/err.h"

#define ARR_JSONW_DEPTH 16

typedef struct arr_jsonw {
    arr_buf *out;                         /* borrowed */
    int depth;                            /* open objects and arrays */
    unsigned char first[ARR_JSONW_DEPTH]; /* nothing written yet at that level */
    unsigned char in_object[ARR_JSONW_DEPTH];
    int key_due; /* inside an object, a key must come next */
    arr_err err;
} arr_jsonw;

/* Appends to out (whatever it already holds stays). */
void arr_jsonw_init(arr_jsonw *w, arr_buf *out);
void arr_jsonw_object_begin(arr_jsonw *w);
void arr_jsonw_object_end(arr_jsonw *w);
void arr_jsonw_array_begin(arr_jsonw *w);
void arr_jsonw_array_end(arr_jsonw *w);
/* A member's key; the next call writes its value. */
void arr_jsonw_key(arr_jsonw *w, const char *key);
/* s must be valid UTF-8 (else ARR_EINVAL). */
void arr_jsonw_string(arr_jsonw *w, const char *s);
void arr_jsonw_int(arr_jsonw *w, long long v);
void arr_jsonw_bool(arr_jsonw *w, int v);
void arr_jsonw_null(arr_jsonw *w);
/* A value already serialised as JSON (trusted: written as is). */
void arr_jsonw_raw(arr_jsonw *w, const char *json, size_t len);
/* ARR_OK, or the first error; ARR_EINVAL also when objects or arrays are left open. */
arr_err arr_jsonw_finish(const arr_jsonw *w);

#endif
