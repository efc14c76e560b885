/* arr_uuid: identifiers as 36-character lower-case text (plus NUL).
 *   v4: random (libsodium's CSPRNG).
 *   v7: time-ordered (RFC 9562), for new event ids: index-friendly in PostgreSQL.
 *   v8 name-based: SHA-256 of a namespace and a name (RFC 9562 appendix B.2 style), for
 *      ids that must come out the same when the same input is processed again, e.g. the id
 *      of the event a service derives from an input event, so duplicates are recognisable. */
#ifndef ARREARS_UUID_H
#define ARREARS_UUID_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

#define ARR_UUID_STRLEN 37

arr_err arr_uuid_v4(char out[ARR_UUID_STRLEN]);
arr_err arr_uuid_v7(int64_t unix_ms, char out[ARR_UUID_STRLEN]);
arr_err arr_uuid_named(const char *ns, const char *name, char out[ARR_UUID_STRLEN]);
/* 1 when s is a canonical UUID (8-4-4-4-12 hex, any version), else 0. */
int arr_uuid_valid(const char *s);

#endif
