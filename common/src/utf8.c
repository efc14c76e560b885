#include "arrears/utf8.h"

size_t arr_utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    if (i >= len)
        return 0;
    unsigned char c = s[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    /* The lead bytes: C2..DF, E0..EF, F0..F4. 80..BF are continuation bytes, C0 and C1 could
     * only start an overlong form, F5..FF only a value above U+10FFFF. */
    uint32_t v;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        v = c & 0x1Fu;
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        v = c & 0x0Fu;
        n = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
        v = c & 0x07u;
        n = 4;
    } else {
        return 0;
    }
    if (len - i < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        unsigned char cc = s[i + k];
        if ((cc & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (cc & 0x3Fu);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return n;
}

int arr_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (u[i] < 0x80) { /* ASCII runs, most text, without the decoder */
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = arr_utf8_next(u, len, i, &cp);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}
