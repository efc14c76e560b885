/* arr_utf8: the one strict UTF-8 decoder (RFC 3629 section 4's well-formed sequences) that
 * the log, the JSON writer, ingest's reader, outreach's templates, channels and callbacks and
 * gen-payments share. A table of the edge cases, then every code point and every two- and
 * three-byte sequence. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include "arrears/utf8.h"

typedef struct utf8_case {
    const char *what;
    const char *bytes;
    size_t len;
    size_t want_len; /* of the sequence at bytes[0]; 0: malformed */
    uint32_t want_cp;
} utf8_case;

#define C(what, lit, n, cp)                                                                        \
    {                                                                                              \
        what, lit, sizeof(lit) - 1, n, cp                                                          \
    }

static const utf8_case CASES[] = {
    /* ASCII, NUL included: an ordinary character */
    C("NUL", "\x00", 1, 0x00),
    C("A", "A", 1, 0x41),
    C("DEL", "\x7F", 1, 0x7F),
    /* two bytes */
    C("U+0080", "\xC2\x80", 2, 0x80),
    C("U+00E9", "\xC3\xA9", 2, 0xE9),
    C("U+07FF", "\xDF\xBF", 2, 0x7FF),
    /* three bytes */
    C("U+0800", "\xE0\xA0\x80", 3, 0x800),
    C("U+20AC", "\xE2\x82\xAC", 3, 0x20AC),
    C("U+D7FF", "\xED\x9F\xBF", 3, 0xD7FF),
    C("U+E000", "\xEE\x80\x80", 3, 0xE000),
    C("U+FFFD", "\xEF\xBF\xBD", 3, 0xFFFD),
    C("U+FFFF", "\xEF\xBF\xBF", 3, 0xFFFF),
    /* four bytes */
    C("U+10000", "\xF0\x90\x80\x80", 4, 0x10000),
    C("U+1F600", "\xF0\x9F\x98\x80", 4, 0x1F600),
    C("U+10FFFF", "\xF4\x8F\xBF\xBF", 4, 0x10FFFF),
    /* overlong forms */
    C("overlong NUL, 2 bytes", "\xC0\x80", 0, 0),
    C("overlong U+007F", "\xC1\xBF", 0, 0),
    C("overlong NUL, 3 bytes", "\xE0\x80\x80", 0, 0),
    C("overlong U+07FF", "\xE0\x9F\xBF", 0, 0),
    C("overlong NUL, 4 bytes", "\xF0\x80\x80\x80", 0, 0),
    C("overlong U+FFFF", "\xF0\x8F\xBF\xBF", 0, 0),
    /* surrogates */
    C("U+D800", "\xED\xA0\x80", 0, 0),
    C("U+DBFF", "\xED\xAF\xBF", 0, 0),
    C("U+DC00", "\xED\xB0\x80", 0, 0),
    C("U+DFFF", "\xED\xBF\xBF", 0, 0),
    C("surrogate pair, CESU-8", "\xED\xA0\xBD\xED\xB8\x80", 0, 0),
    /* above U+10FFFF */
    C("U+110000", "\xF4\x90\x80\x80", 0, 0),
    C("lead F5", "\xF5\x80\x80\x80", 0, 0),
    C("lead F7", "\xF7\xBF\xBF\xBF", 0, 0),
    C("lead F8, 5 bytes", "\xF8\x88\x80\x80\x80", 0, 0),
    C("lead FC, 6 bytes", "\xFC\x84\x80\x80\x80\x80", 0, 0),
    C("FE", "\xFE", 0, 0),
    C("FF", "\xFF", 0, 0),
    /* truncated: the input ends inside the sequence */
    C("C2 at the end", "\xC2", 0, 0),
    C("E2 at the end", "\xE2", 0, 0),
    C("E2 82 at the end", "\xE2\x82", 0, 0),
    C("F0 at the end", "\xF0", 0, 0),
    C("F0 9F 98 at the end", "\xF0\x9F\x98", 0, 0),
    /* cut: a character starts where a continuation byte is due */
    C("C3 then A", "\xC3\x41", 0, 0),
    C("E2 82 then A", "\xE2\x82\x41", 0, 0),
    C("F0 9F 98 then A", "\xF0\x9F\x98\x41", 0, 0),
    C("C3 then NUL", "\xC3\x00", 0, 0),
    C("E2 then C3 A9", "\xE2\xC3\xA9", 0, 0),
    /* stray continuation bytes */
    C("stray 80", "\x80", 0, 0),
    C("stray BF", "\xBF", 0, 0),
    C("stray 80 before A", "\x80\x41", 0, 0),
};

#define NCASES (sizeof CASES / sizeof CASES[0])

Test(utf8, table)
{
    for (size_t k = 0; k < NCASES; k++) {
        const utf8_case *t = &CASES[k];
        const unsigned char *s = (const unsigned char *)t->bytes;
        uint32_t cp = 0xDEADBEEF;
        size_t n = arr_utf8_next(s, t->len, 0, &cp);
        cr_assert_eq(n, t->want_len, "%s: length %zu, want %zu", t->what, n, t->want_len);
        if (n)
            cr_assert_eq(cp, t->want_cp, "%s: U+%04X, want U+%04X", t->what, (unsigned)cp,
                         (unsigned)t->want_cp);
        else
            cr_assert_eq(cp, 0xDEADBEEF, "%s: *cp written on failure", t->what);
        /* valid when the sequence is the whole case (every well-formed case is one sequence) */
        cr_assert_eq(arr_utf8_valid(t->bytes, t->len), n == t->len, "%s: arr_utf8_valid", t->what);
    }
}

Test(utf8, offsets_inside_a_text)
{
    /* "a" U+00E9 U+20AC U+1F600 "z" */
    static const char text[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
    const unsigned char *s = (const unsigned char *)text;
    size_t len = sizeof text - 1;
    static const uint32_t want_cp[] = {'a', 0xE9, 0x20AC, 0x1F600, 'z'};
    static const size_t want_len[] = {1, 2, 3, 4, 1};
    size_t i = 0, k = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = arr_utf8_next(s, len, i, &cp);
        cr_assert_eq(n, want_len[k], "character %zu", k);
        cr_assert_eq(cp, want_cp[k], "character %zu", k);
        i += n;
        k++;
    }
    cr_assert_eq(k, 5);
    cr_assert(arr_utf8_valid(text, len));
    uint32_t cp = 7;
    cr_assert_eq(arr_utf8_next(s, len, len, &cp), 0, "at the end: nothing");
    cr_assert_eq(arr_utf8_next(s, len, len + 3, &cp), 0, "past the end: nothing");
    cr_assert_eq(cp, 7);
    cr_assert_eq(arr_utf8_next(s, len, 2, &cp), 0, "inside U+00E9: a continuation byte");
    /* len bounds the input, not the NUL: a sequence cut by len is truncated */
    cr_assert_eq(arr_utf8_next(s, 5, 3, &cp), 0);
    cr_assert_eq(arr_utf8_next(s, 6, 3, &cp), 3);
    cr_assert(!arr_utf8_valid(text, 9), "U+1F600 cut");
    cr_assert(arr_utf8_valid(text, 6));
}

Test(utf8, valid_texts)
{
    cr_assert(arr_utf8_valid(NULL, 0));
    cr_assert(arr_utf8_valid("", 0));
    static const char ascii[] = "plain ASCII, 100% of it";
    cr_assert(arr_utf8_valid(ascii, strlen(ascii)));
    cr_assert(arr_utf8_valid("a\0b", 3), "NUL is a character");
    static const char name[] = "Jos\xC3\xA9 M\xC3\xBCller \xE2\x82\xAC"
                               "12";
    cr_assert(arr_utf8_valid(name, sizeof name - 1));
    /* one bad byte anywhere spoils the text, after a long ASCII run too */
    char buf[300];
    memset(buf, 'x', sizeof buf);
    cr_assert(arr_utf8_valid(buf, sizeof buf));
    for (size_t at = 0; at < sizeof buf; at += 37) {
        buf[at] = (char)0x80;
        cr_assert(!arr_utf8_valid(buf, sizeof buf), "stray byte at %zu", at);
        buf[at] = (char)0xC0;
        cr_assert(!arr_utf8_valid(buf, sizeof buf), "C0 at %zu", at);
        buf[at] = 'x';
    }
    buf[sizeof buf - 1] = (char)0xE2; /* a lead byte as the last byte */
    cr_assert(!arr_utf8_valid(buf, sizeof buf));
}

/* The reference encoder of RFC 3629 section 3. */
static size_t encode(uint32_t cp, unsigned char *u)
{
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | cp >> 18);
    u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

Test(utf8, every_code_point_round_trips)
{
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        unsigned char u[4];
        size_t n = encode(cp, u);
        uint32_t got = 0xFFFFFFFF;
        size_t len = arr_utf8_next(u, n, 0, &got);
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            cr_assert_eq(len, 0, "surrogate U+%04X accepted", (unsigned)cp);
            continue;
        }
        cr_assert_eq(len, n, "U+%04X: length %zu, want %zu", (unsigned)cp, len, n);
        cr_assert_eq(got, cp, "U+%04X decoded as U+%04X", (unsigned)cp, (unsigned)got);
        if (n > 1)
            cr_assert_eq(arr_utf8_next(u, n - 1, 0, &got), 0, "U+%04X cut", (unsigned)cp);
    }
}

Test(utf8, every_two_and_three_byte_sequence)
{
    /* Exactly the shortest forms are accepted: U+0080..U+07FF in two bytes, U+0800..U+FFFF
     * less the 2048 surrogates in three. */
    size_t two = 0, three = 0;
    for (unsigned a = 0x80; a <= 0xFF; a++) {
        for (unsigned b = 0; b <= 0xFF; b++) {
            unsigned char u[3] = {(unsigned char)a, (unsigned char)b, 0};
            uint32_t cp;
            if (arr_utf8_next(u, 2, 0, &cp) == 2)
                two++;
            for (unsigned c = 0x80; c <= 0xBF; c++) {
                u[2] = (unsigned char)c;
                if (arr_utf8_next(u, 3, 0, &cp) == 3)
                    three++;
            }
        }
    }
    cr_assert_eq(two, 0x800 - 0x80);
    cr_assert_eq(three, 0x10000 - 0x800 - 0x800);
}
