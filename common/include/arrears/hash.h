/* arr_hash: FNV-1a, 64 bits, of a NUL-terminated string: a fast, stable, well-spread hash
 * for hash tables, advisory-lock keys and deterministic splits. Not for security. */
#ifndef ARREARS_HASH_H
#define ARREARS_HASH_H

#include <stdint.h>

uint64_t arr_hash_fnv1a64(const char *s);

#endif
