#include "arrears/hash.h"

uint64_t arr_hash_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* the FNV offset basis */
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * 0x100000001b3ULL;
    return h;
}
