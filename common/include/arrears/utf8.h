/* arr_utf8: strict UTF-8 (RFC 3629) decoding, the one decoder every module uses to check or
 * walk text. Well-formed means: the shortest form (no overlong sequence such as C0 80 or
 * E0 80 80), no surrogate (U+D800..U+DFFF, ED A0 80 ..), nothing above U+10FFFF (F4 90 80 80
 * and lead bytes F5..FF), no sequence cut by the end of the input, no stray continuation
 * byte (80..BF where a character should start).
 *
 * Pure: no allocation, no state, nothing kept. The caller owns every buffer; s need not be
 * NUL-terminated (only len bytes are read, and a NUL is an ordinary ASCII character). */
#ifndef ARREARS_UTF8_H
#define ARREARS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed sequence at s[i] of s[0, len), and its code point in *cp;
 * 0 when it is malformed (see above) or when i >= len, *cp then left as it was. */
size_t arr_utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp);

/* 1 when s[0, len) is well-formed UTF-8 throughout (the empty text is; s may then be NULL),
 * else 0. */
int arr_utf8_valid(const char *s, size_t len);

#endif
