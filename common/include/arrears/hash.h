/* arr_hash: FNV-1a, 64 bits, of a NUL-terminated string: a fast, stable, well-spread hash
 * for hash tables, advisory-lock keys and deterministic splits; and splitmix64's finaliser,
 * the step of the generators' seeded random streams. Not for security. */
#ifndef ARREARS_HASH_H
#define ARREARS_HASH_H

#include <stdint.h>

uint64_t arr_hash_fnv1a64(const char *s);

/* splitmix64's output function: a bijection of 64-bit values that spreads every input bit. */
static inline uint64_t arr_hash_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
