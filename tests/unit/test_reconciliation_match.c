/* Unit tests of services/reconciliation/match.c: reference tokens, name similarity, the
 * matching rules and their configuration. Expected values are worked out by hand in the
 * comments (Jaro-Winkler values are the textbook ones from Winkler's papers). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

#define FIXTURES ARR_FIXTURES_DIR "/payments"
#define DEFAULT_CONFIG ARR_SOURCE_DIR "/deploy/reconciliation/matching.json"

typedef char token_t[RECON_ID_MAX + 1];

static void config_text(const char *json, recon_match_config *c)
{
    json_error_t jerr;
    json_t *j = json_loads(json, 0, &jerr);
    cr_assert_not_null(j, "test JSON: %s", jerr.text);
    char why[256] = "";
    arr_err e = recon_match_config_from_json(j, c, why, sizeof why);
    json_decref(j);
    cr_assert_eq(e, ARR_OK, "%s", why);
}

static void assert_tokens(token_t *got, size_t n, const char *const *want, size_t n_want,
                          const char *label)
{
    cr_assert_eq(n, n_want, "%s: %zu tokens, want %zu (first %s)", label, n, n_want,
                 n ? got[0] : "-");
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(got[i], want[i], "%s: token %zu", label, i);
}

#define WANT(...) ((const char *const[]){__VA_ARGS__})
#define NWANT(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* ------------------------------------------------------------------ configuration */

Test(recon_match_config, brief_example_and_defaults)
{
    recon_match_config c;
    config_text("{\"version\":\"default-1\",\"patterns\":[{\"regex\":\"ACCT[- ]?([0-9]{6,})\","
                "\"prefix\":\"ACCT-\"}],\"min_token_len\":5,\"name_threshold_bp\":9000}",
                &c);
    cr_assert_eq(c.n_patterns, 1);
    cr_assert_str_eq(c.patterns[0].prefix, "ACCT-");
    cr_assert_str_eq(c.patterns[0].source, "ACCT[- ]?([0-9]{6,})");
    cr_assert_eq(c.patterns[0].group, 1);
    cr_assert_eq(c.min_token_len, 5);
    cr_assert_eq(c.name_threshold_bp, 9000);
    cr_assert_str_eq(c.version, "default-1");
    recon_match_config_free(&c);
    recon_match_config_free(&c); /* twice is harmless */
    cr_assert_eq(c.n_patterns, 0);

    config_text("{\"_note\":\"comments allowed\",\"version\":\"v2\",\"patterns\":[]}", &c);
    cr_assert_eq(c.min_token_len, 4);
    cr_assert_eq(c.name_threshold_bp, 8500);
    cr_assert_eq(c.n_patterns, 0);
    recon_match_config_free(&c);
}

Test(recon_match_config, bad_settings_are_refused_with_the_field)
{
    static const struct {
        const char *json, *field, *reason;
    } cases[] = {
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"ACCT([0-9]+\"}]}", "patterns[0].regex",
         "does not compile"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"ACCT[0-9]+\"}]}", "patterns[0].regex",
         "no capture group"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"(A)\"},{\"regex\":\"(ACCT|INV) ([0-9]+)\"}"
         "]}",
         "patterns[1].regex", "2 capture groups"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"(ACCT|INV) ([0-9]+)\",\"group\":3}]}",
         "patterns[0].regex", "\"group\" is 3"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"(A)\",\"group\":0}]}", "patterns[0].group",
         "integer from 1 to 9"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"\"}]}", "patterns[0].regex",
         "1 to 255 bytes"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":7}]}", "patterns[0].regex", "string"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"(A)\",\"prefix\":"
         "\"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345\"}]}",
         "patterns[0].prefix", "at most 31"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"(A)\",\"prefix\":\"A B\"}]}",
         "patterns[0].prefix", "no spaces"},
        {"{\"version\":\"v\",\"patterns\":[{\"regex\":\"(A)\",\"prefx\":\"A\"}]}",
         "patterns[0].prefx", "unknown setting"},
        {"{\"version\":\"v\",\"patterns\":[\"(A)\"]}", "patterns[0]", "must be an object"},
        {"{\"version\":\"v\",\"patterns\":{}}", "patterns", "must be an array"},
        {"{\"version\":\"v\"}", "patterns", "must be an array"},
        {"{\"version\":\"v\",\"patterns\":[],\"name_threshold_bp\":10001}", "name_threshold_bp",
         "from 0 to 10000"},
        {"{\"version\":\"v\",\"patterns\":[],\"name_threshold_bp\":-1}", "name_threshold_bp",
         "from 0 to 10000"},
        {"{\"version\":\"v\",\"patterns\":[],\"name_threshold_bp\":8500.5}", "name_threshold_bp",
         "integer"},
        {"{\"version\":\"v\",\"patterns\":[],\"name_threshold_bp\":\"8500\"}", "name_threshold_bp",
         "integer"},
        {"{\"version\":\"v\",\"patterns\":[],\"min_token_len\":0}", "min_token_len",
         "from 1 to 128"},
        {"{\"version\":\"v\",\"patterns\":[],\"name_treshold_bp\":8500}", "name_treshold_bp",
         "unknown setting"},
        {"{\"patterns\":[]}", "version", "printable"},
        {"{\"version\":\"a b\",\"patterns\":[]}", "version", "no spaces"},
        {"[]", "(settings)", "object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t jerr;
        json_t *j = json_loads(cases[i].json, 0, &jerr);
        cr_assert_not_null(j, "case %zu: %s", i, jerr.text);
        recon_match_config c;
        memset(&c, 0x5a, sizeof c);
        char why[256] = "";
        arr_err e = recon_match_config_from_json(j, &c, why, sizeof why);
        json_decref(j);
        cr_assert_eq(e, ARR_ECONFIG, "case %zu", i);
        cr_assert(strncmp(why, cases[i].field, strlen(cases[i].field)) == 0,
                  "case %zu: why \"%s\" should start with %s", i, why, cases[i].field);
        cr_assert_not_null(strstr(why, cases[i].reason), "case %zu: why \"%s\" lacks \"%s\"", i,
                           why, cases[i].reason);
        /* *out untouched on failure */
        const unsigned char *b = (const unsigned char *)&c;
        for (size_t k = 0; k < sizeof c; k++)
            cr_assert_eq(b[k], 0x5a, "case %zu: out written at byte %zu", i, k);
    }
}

Test(recon_match_config, seventeen_patterns_are_too_many)
{
    char json[2048] = "{\"version\":\"v\",\"patterns\":[";
    for (int i = 0; i < 17; i++)
        strcat(json, i ? ",{\"regex\":\"(A)\"}" : "{\"regex\":\"(A)\"}");
    strcat(json, "]}");
    json_t *j = json_loads(json, 0, NULL);
    cr_assert_not_null(j);
    recon_match_config c;
    char why[256] = "";
    cr_assert_eq(recon_match_config_from_json(j, &c, why, sizeof why), ARR_ECONFIG);
    cr_assert_not_null(strstr(why, "at most 16"), "%s", why);
    json_decref(j);
}

static const char file_json[] =
    "{\"_comment\":\"x\",\"tenants\":{"
    "\"acme\":{\"version\":\"acme-3\",\"patterns\":[{\"regex\":\"(A)\"}],\"min_token_len\":6},"
    "\"*\":{\"version\":\"default-1\",\"patterns\":[]},"
    "\"broken\":{\"version\":\"b\",\"patterns\":[{\"regex\":\"x\"}]}}}";

Test(recon_match_config, tenant_entry_else_star)
{
    recon_match_config c;
    char why[256] = "";
    cr_assert_eq(
        recon_match_config_parse(file_json, strlen(file_json), "acme", &c, why, sizeof why), ARR_OK,
        "%s", why);
    cr_assert_str_eq(c.version, "acme-3");
    cr_assert_eq(c.min_token_len, 6);
    recon_match_config_free(&c);
    cr_assert_eq(
        recon_match_config_parse(file_json, strlen(file_json), "globex", &c, why, sizeof why),
        ARR_OK, "%s", why);
    cr_assert_str_eq(c.version, "default-1");
    recon_match_config_free(&c);

    cr_assert_eq(
        recon_match_config_parse(file_json, strlen(file_json), "broken", &c, why, sizeof why),
        ARR_ECONFIG);
    cr_assert_not_null(strstr(why, "tenants.broken.patterns[0].regex"), "%s", why);

    static const char no_star[] = "{\"tenants\":{\"acme\":{\"version\":\"a\",\"patterns\":[]}}}";
    cr_assert_eq(recon_match_config_parse(no_star, strlen(no_star), "globex", &c, why, sizeof why),
                 ARR_ECONFIG);
    cr_assert_not_null(strstr(why, "globex"), "%s", why);

    static const char truncated[] = "{\"tenants\":{\"*\":{\"version\":\"a\",\n\"patterns\":[";
    cr_assert_eq(recon_match_config_parse(truncated, strlen(truncated), "x", &c, why, sizeof why),
                 ARR_ECONFIG);
    cr_assert_not_null(strstr(why, "line 2"), "%s", why);

    static const char stray[] = "{\"tenant\":{}}";
    cr_assert_eq(recon_match_config_parse(stray, strlen(stray), "x", &c, why, sizeof why),
                 ARR_ECONFIG);
    cr_assert_not_null(strstr(why, "tenants"), "%s", why);
}

Test(recon_match_config, load_file)
{
    recon_match_config c;
    char why[512] = "";
    cr_assert_eq(recon_match_config_load(DEFAULT_CONFIG, "any-tenant", &c, why, sizeof why), ARR_OK,
                 "%s", why);
    cr_assert_str_eq(c.version, "default-1");
    cr_assert_eq(c.n_patterns, 3);
    cr_assert_eq(c.min_token_len, 4);
    cr_assert_eq(c.name_threshold_bp, 8500);
    recon_match_config_free(&c);

    cr_assert_eq(
        recon_match_config_load(ARR_SOURCE_DIR "/no/such/matching.json", "t", &c, why, sizeof why),
        ARR_EIO);
    cr_assert_not_null(strstr(why, "no/such/matching.json"), "%s", why);
}

/* ------------------------------------------------------------------ reference tokens */

static const char acct_inv_json[] = "{\"version\":\"t\",\"patterns\":["
                                    "{\"regex\":\"ACCT[- ]?([0-9]{6,})\",\"prefix\":\"ACCT-\"},"
                                    "{\"regex\":\"INV[ #]?([0-9]{4,})\",\"prefix\":\"INV\"}]}";

Test(recon_match_refs, patterns_then_bare_tokens)
{
    recon_match_config c;
    config_text(acct_inv_json, &c);
    token_t out[RECON_MATCH_TOKENS_MAX];

    /* pattern 1: ACCT-123456; bare: "123456" (Payment, thanks have no digit) */
    size_t n = recon_match_refs(&c, "Payment acct 123456 thanks", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("ACCT-123456", "123456"), 2, "one pattern");

    /* pattern 1 first (ACCT-123456), then pattern 2 left to right (INV5555, INV7777); bare
     * runs: INV (no digit), 5555, ACCT-123456 (already there), INV, 7777 */
    n = recon_match_refs(&c, "INV#5555 and ACCT-123456, INV 7777", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("ACCT-123456", "INV5555", "INV7777", "5555", "7777"), 5,
                  "two patterns");

    /* case-insensitive pattern; the bare token keeps the text's own case */
    n = recon_match_refs(&c, "acct123456", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("ACCT-123456", "acct123456"), 2, "case");

    /* three spellings of one account: one pattern token; bare 123456, ACCT-123456 (dup),
     * acct123456 */
    n = recon_match_refs(&c, "ACCT 123456 ACCT-123456 acct123456", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("ACCT-123456", "123456", "acct123456"), 3, "dedupe");

    /* ACCT with 5 digits is not the pattern (needs 6); bare 12345 is */
    n = recon_match_refs(&c, "ACCT 12345", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("12345"), 1, "pattern length");
    recon_match_config_free(&c);
}

Test(recon_match_refs, bare_token_shapes_and_min_length)
{
    token_t out[RECON_MATCH_TOKENS_MAX];
    /* NULL config: no patterns, min length 4. A1 (2), B12 (3) too short; C123 (4), D1234 */
    size_t n = recon_match_refs(NULL, "A1 B12 C123 D1234 ABCDEF", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("C123", "D1234"), 2, "min 4");

    recon_match_config c;
    config_text("{\"version\":\"t\",\"patterns\":[],\"min_token_len\":5}", &c);
    n = recon_match_refs(&c, "A1 B12 C123 D1234 ABCDEF", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("D1234"), 1, "min 5");
    recon_match_config_free(&c);

    /* '/' and '.' only between alphanumerics; the sentence's final '.' ends the run;
     * hyphens and underscores trimmed at the ends; "12.5" joined; "x/" ends at x */
    n = recon_match_refs(NULL, "see 2024/0001. then 12.50, a.b1 -TA0001- __77_7__ x/ 1/", out,
                         RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("2024/0001", "12.50", "a.b1", "TA0001", "77_7"), 5, "shapes");

    /* no digits, nothing */
    n = recon_match_refs(NULL, "THANK YOU VERY MUCH", out, RECON_MATCH_TOKENS_MAX);
    cr_assert_eq(n, 0);
    cr_assert_eq(recon_match_refs(NULL, "", out, RECON_MATCH_TOKENS_MAX), 0);
    cr_assert_eq(recon_match_refs(NULL, NULL, out, RECON_MATCH_TOKENS_MAX), 0);
}

Test(recon_match_refs, cap_and_lengths)
{
    token_t out[RECON_MATCH_TOKENS_MAX];
    /* 20 distinct tokens T0001..T0020: at most 3, then at most 16, first ones first */
    char text[512] = "";
    for (int i = 1; i <= 20; i++) {
        char t[16];
        snprintf(t, sizeof t, "T%04d ", i);
        strcat(text, t);
    }
    size_t n = recon_match_refs(NULL, text, out, 3);
    assert_tokens(out, n, WANT("T0001", "T0002", "T0003"), 3, "max 3");
    n = recon_match_refs(NULL, text, out, RECON_MATCH_TOKENS_MAX);
    cr_assert_eq(n, 16);
    cr_assert_str_eq(out[15], "T0016");

    /* 128 characters fit RECON_ID_MAX, 129 are dropped rather than cut */
    char id[200];
    memset(id, '7', 129);
    id[129] = 0;
    cr_assert_eq(recon_match_refs(NULL, id, out, RECON_MATCH_TOKENS_MAX), 0);
    id[128] = 0;
    n = recon_match_refs(NULL, id, out, RECON_MATCH_TOKENS_MAX);
    cr_assert_eq(n, 1);
    cr_assert_eq(strlen(out[0]), 128);

    /* prefix + capture beyond RECON_ID_MAX is dropped too: ACCT- (5) + 124 digits = 129 */
    recon_match_config c;
    config_text(acct_inv_json, &c);
    char t2[200] = "ACCT";
    memset(t2 + 4, '1', 124);
    t2[128] = 0;
    n = recon_match_refs(&c, t2, out, RECON_MATCH_TOKENS_MAX);
    /* the bare token ACCT1...1 (128 characters) is still there */
    cr_assert_eq(n, 1);
    cr_assert_eq(strncmp(out[0], "ACCT1", 5), 0);
    recon_match_config_free(&c);
}

Test(recon_match_refs, text_cap_never_cuts_a_token)
{
    /* 1018 bytes of "x " filler, a 12-character id at 1018..1029 across the 1024 cap */
    char text[1200];
    memcpy(text, "K9999 ", 6);
    for (size_t p = 6; p < 1018; p++)
        text[p] = (p % 2) ? ' ' : 'x';
    memcpy(text + 1018, "TA0123456789 TB0000000001", 25);
    text[1043] = 0;
    token_t out[RECON_MATCH_TOKENS_MAX];
    size_t n = recon_match_refs(NULL, text, out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("K9999"), 1, "cap");
}

Test(recon_match_refs, default_config_patterns)
{
    recon_match_config c;
    char why[512] = "";
    cr_assert_eq(recon_match_config_load(DEFAULT_CONFIG, "t", &c, why, sizeof why), ARR_OK, "%s",
                 why);
    token_t out[RECON_MATCH_TOKENS_MAX];
    /* ACCOUNT pattern: "12" (too short to be a bare token); INVOICE pattern: 2024/17; REF
     * pattern: TA0123456789 (final '.' not part of it); bare tokens repeat the last two */
    size_t n = recon_match_refs(&c, "Payment ACCOUNT NO. 12, inv#2024/17 ref: TA0123456789.", out,
                                RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("12", "2024/17", "TA0123456789"), 3, "default");

    /* keyword glued to the id: no pattern match; the bare token is the whole id */
    n = recon_match_refs(&c, "INV0123456789 ACCOUNT CLOSED", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("INV0123456789"), 1, "glued");

    /* Acct Nr 55-1234-9 */
    n = recon_match_refs(&c, "Acct Nr 55-1234-9 REFUND", out, RECON_MATCH_TOKENS_MAX);
    assert_tokens(out, n, WANT("55-1234-9"), 1, "hyphenated");
    recon_match_config_free(&c);
}

/* Real remittance text: BAI2 type 16 records of moov-io's sample1.txt, field 9 (after eight
 * commas, up to the closing '/'). Read by eye: "TFR 1020 0345678" -> 1020, 0345678;
 * "1000 ISLANDS MALL" -> 1000; "RTN-UNKNOWN" has no digit. */
Test(recon_match_refs, bai2_fixture_text)
{
    FILE *f = fopen(FIXTURES "/bai2/sample1.txt", "r");
    cr_assert_not_null(f);
    char line[256];
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "16,", 3) != 0)
            continue;
        char *t = line;
        for (int commas = 0; commas < 8 && t; commas++)
            t = strchr(t, ',') ? strchr(t, ',') + 1 : NULL;
        cr_assert_not_null(t);
        char *slash = strrchr(t, '/');
        if (slash)
            *slash = 0;
        token_t out[RECON_MATCH_TOKENS_MAX];
        size_t n = recon_match_refs(NULL, t, out, RECON_MATCH_TOKENS_MAX);
        if (strncmp(t, "TFR 1020 0345678", 16) == 0) {
            assert_tokens(out, n, WANT("1020", "0345678"), 2, t);
            seen |= 1;
        } else if (strncmp(t, "1000 ISLANDS MALL", 17) == 0) {
            assert_tokens(out, n, WANT("1000"), 1, t);
            seen |= 2;
        } else if (strncmp(t, "RTN-UNKNOWN", 11) == 0) {
            cr_assert_eq(n, 0, "%s", t);
            seen |= 4;
        }
    }
    fclose(f);
    cr_assert_eq(seen, 7, "the fixture lines were not all found");
}

/* ------------------------------------------------------------------ name similarity */

Test(recon_name_similarity, exact_after_normalising)
{
    static const char *const same[][2] = {
        {"Paul Jones", "Paul Jones"},
        {"paul jones", "PAUL JONES"},
        {"JONES, PAUL", "Paul Jones"},
        {"José Núñez", "JOSE NUNEZ"},
        {"Jose\xcc\x81 Nun\xcc\x83"
         "ez",
         "JOSE NUNEZ"}, /* combining accents */
        {"François Lefèvre", "FRANCOIS LEFEVRE"},
        {"Ærøskøbing Straße", "AEROSKOBING STRASSE"},
        {"Łukasz Żółć", "LUKASZ ZOLC"},
        {"Mr. Paul Jones Jr.", "Paul Jones"},
        {"DR MARIA GARCIA III", "maria garcia"},
        {"O'Brien, Sean", "SEAN OBRIEN"},
        {"O\xe2\x80\x99"
         "Brien Sean",
         "Sean OBrien"}, /* U+2019 */
        {"Jean-Pierre Martin", "MARTIN JEAN PIERRE"},
        {"\xff\xfePaul  Jones\x01", "paul jones"}, /* stray bytes separate */
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        cr_assert_eq(recon_name_similarity_bp(same[i][0], same[i][1]), 10000, "%s | %s", same[i][0],
                     same[i][1]);
        cr_assert_eq(recon_name_similarity_bp(same[i][1], same[i][0]), 10000, "%s | %s", same[i][1],
                     same[i][0]);
    }
}

Test(recon_name_similarity, hand_computed_scores)
{
    static const struct {
        const char *a, *b;
        int bp;
    } cases[] = {
        /* Jaro-Winkler textbook pairs: MARTHA/MARHTA jaro (1+1+5/6)/3 = 0.9444, prefix 3 ->
         * 0.9611; DWAYNE/DUANE jaro (4/6+4/5+1)/3 = 0.8222, prefix 1 -> 0.8400; DIXON/DICKSONX
         * jaro (4/5+4/8+1)/3 = 0.7667, prefix 2 -> 0.8133 */
        {"Martha", "Marhta", 9611},
        {"Dwayne", "Duane", 8400},
        {"Dixon", "Dicksonx", 8133},
        /* initial: weakest pair 0.9 */
        {"P JONES", "Paul Jones", 9000},
        {"P. Jones", "Jones, Paul", 9000},
        /* missing middle initial: 1.0 - 0.05 */
        {"Paul Jones", "Paul A Jones", 9500},
        /* Spanish double surname with a middle name: 1.0 - 0.10 - 0.10 */
        {"Jose Nunez", "José Antonio Núñez García", 8000},
        /* one token against two: 1.0 - 0.10 */
        {"JONES", "Paul Jones", 9000},
        /* initial of another name: weakest pair 0 */
        {"Q Jones", "Paul Jones", 0},
        /* JONES/JOHNSON: window 2, matches J O N S in order, jaro (4/5+4/7+1)/3 = 0.7905,
         * prefix 2 -> 0.8324; the weakest pair decides */
        {"Paul Jones", "Paul Johnson", 8324},
        /* SMITH/SMYTH jaro (4/5+4/5+1)/3 = 0.8667, prefix 2 -> 0.8933 (JOHN/JON 0.9333) */
        {"Smith, John", "JON SMYTH", 8933},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ab = recon_name_similarity_bp(cases[i].a, cases[i].b);
        int ba = recon_name_similarity_bp(cases[i].b, cases[i].a);
        cr_assert_eq(ab, cases[i].bp, "%s | %s: %d", cases[i].a, cases[i].b, ab);
        cr_assert_eq(ba, cases[i].bp, "%s | %s: %d", cases[i].b, cases[i].a, ba);
    }
}

Test(recon_name_similarity, unrelated_empty_and_long)
{
    /* every token pair below 0.7 (MARIA/PAUL jaro (1/5+1/4+1)/3 = 0.48; no shared letters
     * for MARIA/JONES, GARCIA/JONES; HOLDINGS/JONES (3/8+3/5+1)/3 = 0.66) */
    cr_assert_eq(recon_name_similarity_bp("Maria Garcia", "Paul Jones"), 0);
    cr_assert_eq(recon_name_similarity_bp("ACME HOLDINGS", "Paul Jones"), 0);
    cr_assert_lt(recon_name_similarity_bp("Jones Paul", "James Pauline"), 10000);
    cr_assert_eq(recon_name_similarity_bp("", "Paul Jones"), 0);
    cr_assert_eq(recon_name_similarity_bp("Paul Jones", ""), 0);
    cr_assert_eq(recon_name_similarity_bp(NULL, "Paul Jones"), 0);
    cr_assert_eq(recon_name_similarity_bp("Mr", "Mr"), 0); /* only a title */
    cr_assert_eq(recon_name_similarity_bp("!!! ...", "!!! ..."), 0);

    /* 100 000 bytes: capped at 8 tokens of 32 characters from the first 1024 bytes */
    size_t big = 100000;
    char *a = malloc(big + 1), *b = malloc(big + 1);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    for (size_t i = 0; i < big; i++)
        a[i] = (i % 11 == 10) ? ' ' : (char)('A' + i % 11);
    a[big] = 0;
    memcpy(b, a, big + 1);
    cr_assert_eq(recon_name_similarity_bp(a, b), 10000);
    int bp = recon_name_similarity_bp(a, "Paul Jones");
    cr_assert(bp >= 0 && bp < 5000, "%d", bp);
    /* one 100 000-letter token equals its first 32 letters once capped */
    memset(a, 'Q', big);
    char q32[33];
    memset(q32, 'Q', 32);
    q32[32] = 0;
    cr_assert_eq(recon_name_similarity_bp(a, q32), 10000);
    /* many short tokens: only the first 8 count, so a ninth that differs changes nothing */
    cr_assert_eq(
        recon_name_similarity_bp("A1 B2 C3 D4 E5 F6 G7 H8 XX", "A1 B2 C3 D4 E5 F6 G7 H8 YY"),
        10000);
    free(a);
    free(b);
}

/* ------------------------------------------------------------------ deciding */

static recon_candidate cand(const char *id, const char *cur, int64_t bal, int64_t inst,
                            int64_t settle, const char *name, int open, unsigned found)
{
    recon_candidate x;
    memset(&x, 0, sizeof x);
    snprintf(x.account_id, sizeof x.account_id, "%s", id);
    snprintf(x.currency, sizeof x.currency, "%s", cur);
    x.open_balance_cents = bal;
    x.instalment_due_cents = inst;
    x.settlement_due_cents = settle;
    x.name = name;
    x.status_open = open;
    x.found_by = found;
    return x;
}

#define H RECON_FOUND_HINT
#define A RECON_FOUND_ACCOUNT
#define I RECON_FOUND_INVOICE
#define M RECON_FOUND_AMOUNT

typedef struct decide_case {
    const char *label;
    int64_t amount;
    const char *currency, *payer;
    int threshold;
    size_t n;
    recon_candidate c[5];
    recon_match_via via;
    const char *reason;
    int chosen; /* -1: none */
    int closed;
    const char *detail_has; /* a word the detail must hold, or NULL */
} decide_case;

static const char *const personal[] = {"Paul",   "PAUL", "Jones", "JONES", "Maria",
                                       "Garcia", "Ana",  "Ruiz",  "TA",    "UA"};

static void run_case(const decide_case *k)
{
    recon_match_config c;
    config_text("{\"version\":\"t\",\"patterns\":[]}", &c);
    if (k->threshold)
        c.name_threshold_bp = k->threshold;
    recon_match_input in = {.amount_cents = k->amount,
                            .currency = k->currency,
                            .payer_name = k->payer,
                            .candidates = k->c,
                            .n_candidates = k->n};
    recon_match_result r;
    memset(&r, 0x77, sizeof r);
    recon_match_decide(&c, &in, &r);
    cr_assert_eq(r.via, k->via, "%s: via %d (%s: %s)", k->label, r.via, r.reason, r.detail);
    cr_assert_str_eq(r.reason, k->reason, "%s: %s", k->label, r.detail);
    cr_assert_eq(r.chosen, k->chosen, "%s", k->label);
    if (k->chosen >= 0) {
        cr_assert_gt(r.n_ranked, 0, "%s", k->label);
        cr_assert_eq(r.ranked[0], k->chosen, "%s: the chosen account ranks first", k->label);
    }
    cr_assert_eq(r.account_closed, k->closed, "%s", k->label);
    cr_assert(strlen(r.detail) > 0 && strlen(r.detail) < sizeof r.detail, "%s", k->label);
    if (k->detail_has)
        cr_assert_not_null(strstr(r.detail, k->detail_has), "%s: detail \"%s\"", k->label,
                           r.detail);
    for (size_t p = 0; p < sizeof personal / sizeof personal[0]; p++)
        cr_assert_null(strstr(r.detail, personal[p]), "%s: detail \"%s\" holds \"%s\"", k->label,
                       r.detail, personal[p]);
    recon_match_config_free(&c);
}

Test(recon_match_decide, rules_table)
{
    /* clang-format off */
    const decide_case cases[] = {
        /* rule 1 */
        {"hint", 5000, "USD", "Paul Jones", 0, 2,
         {cand("TA01", "USD", 9000, 0, 0, "Maria Garcia", 1, H),
          cand("TA02", "USD", 5000, 0, 0, "Paul Jones", 1, A)},
         RECON_MATCH_HINT, "hint", 0, 0, NULL},
        {"hint closed", 5000, "USD", "", 0, 1,
         {cand("TA01", "USD", 0, 0, 0, NULL, 0, H)},
         RECON_MATCH_HINT, "hint", 0, 1, "closed"},
        {"hint other currency beats a reference", 5000, "USD", "Paul Jones", 0, 2,
         {cand("TA02", "USD", 5000, 0, 0, "Paul Jones", 1, A),
          cand("TA01", "CAD", 5000, 0, 0, "Paul Jones", 1, H)},
         RECON_MATCH_NONE, "currency_mismatch", -1, 0, "named"},
        {"two hinted accounts", 5000, "USD", "", 0, 2,
         {cand("TA01", "USD", 1, 0, 0, NULL, 1, H),
          cand("TA02", "USD", 1, 0, 0, NULL, 1, H)},
         RECON_MATCH_NONE, "ambiguous_hint", -1, 0, "2 different"},
        {"hint twice, one account", 5000, "USD", "", 0, 2,
         {cand("TA01", "USD", 1, 0, 0, NULL, 1, A),
          cand("TA01", "USD", 1, 0, 0, NULL, 1, H)},
         RECON_MATCH_HINT, "hint", 0, 0, NULL},
        /* rule 2 */
        {"reference, partial payment", 2500, "USD", "Somebody Else", 0, 1,
         {cand("TA01", "USD", 10000, 0, 0, "Paul Jones", 1, A)},
         RECON_MATCH_REFERENCE, "reference", 0, 0, "exactly one"},
        {"reference by invoice, overpayment", 20000, "EUR", "", 0, 2,
         {cand("TA05", "EUR", 10000, 0, 0, NULL, 1, M),
          cand("TA01", "EUR", 10000, 0, 0, NULL, 1, I)},
         RECON_MATCH_REFERENCE, "reference", 1, 0, NULL},
        {"one account by id and by invoice", 100, "EUR", "", 0, 2,
         {cand("TA01", "EUR", 10000, 0, 0, NULL, 1, I),
          cand("TA01", "EUR", 10000, 0, 0, NULL, 1, A)},
         RECON_MATCH_REFERENCE, "reference", 0, 0, NULL},
        {"reference closed", 100, "EUR", "", 0, 1,
         {cand("TA01", "EUR", 0, 0, 0, NULL, 0, A)},
         RECON_MATCH_REFERENCE, "reference", 0, 1, "closed"},
        {"reference: other currency one ignored", 100, "EUR", "", 0, 2,
         {cand("TA09", "USD", 100, 0, 0, NULL, 1, A),
          cand("TA01", "EUR", 5, 0, 0, NULL, 1, I)},
         RECON_MATCH_REFERENCE, "reference", 1, 0, NULL},
        {"two referenced accounts", 100, "EUR", "", 0, 2,
         {cand("TA01", "EUR", 100, 0, 0, NULL, 1, A),
          cand("TA02", "EUR", 100, 0, 0, NULL, 1, I)},
         RECON_MATCH_NONE, "ambiguous_reference", -1, 0, "2 accounts"},
        {"reference only in other currency, amount match ignored", 100, "EUR", "Paul Jones", 0, 2,
         {cand("TA01", "USD", 100, 0, 0, "Paul Jones", 1, A),
          cand("TA02", "EUR", 100, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "currency_mismatch", -1, 0, "other currencies"},
        /* rule 3 */
        {"amount + name (balance)", 4200, "USD", "JONES, PAUL", 0, 3,
         {cand("TA01", "USD", 4300, 0, 0, "Paul Jones", 1, M),
          cand("TA02", "USD", 4200, 0, 0, "Maria Garcia", 1, M),
          cand("TA03", "USD", 4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_AMOUNT_NAME, "amount_name", 2, 0, "10000 bp"},
        {"amount + name (instalment)", 1500, "USD", "P Jones", 0, 1,
         {cand("TA01", "USD", 9000, 1500, 0, "Paul Jones", 1, M)},
         RECON_MATCH_AMOUNT_NAME, "amount_name", 0, 0, "9000 bp"},
        {"amount + name (settlement)", 6000, "USD", "Paul Jones", 0, 1,
         {cand("TA01", "USD", 9000, 1500, 6000, "Paul Jones", 1, M)},
         RECON_MATCH_AMOUNT_NAME, "amount_name", 0, 0, NULL},
        {"initial below a strict threshold", 1500, "USD", "P Jones", 9100, 1,
         {cand("TA01", "USD", 1500, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "amount_only_name_mismatch", -1, 0, "9000 bp, below 9100"},
        {"initial at the threshold", 1500, "USD", "P Jones", 9000, 1,
         {cand("TA01", "USD", 1500, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_AMOUNT_NAME, "amount_name", 0, 0, NULL},
        {"two amount + name", 4200, "USD", "Paul Jones", 0, 2,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 1, M),
          cand("TA02", "USD", 0, 4200, 0, "JONES PAUL", 1, M)},
         RECON_MATCH_NONE, "ambiguous_amount_name", -1, 0, "2 open accounts"},
        {"amount, names differ", 4200, "USD", "Ana Ruiz", 0, 2,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 1, M),
          cand("TA02", "USD", 4200, 0, 0, NULL, 1, M)},
         RECON_MATCH_NONE, "amount_only_name_mismatch", -1, 0, "2 account(s)"},
        {"amount, no payer name", 4200, "USD", "", 0, 1,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "amount_only_no_name", -1, 0, "no payer name"},
        {"amount, NULL payer name", 4200, "USD", NULL, 0, 1,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "amount_only_no_name", -1, 0, NULL},
        {"amount, payer name only a title", 4200, "USD", "Mr.", 0, 1,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "amount_only_no_name", -1, 0, NULL},
        {"amount + name, closed", 4200, "USD", "Paul Jones", 0, 2,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 0, M),
          cand("TA02", "USD", 4200, 0, 0, "Maria Garcia", 1, M)},
         RECON_MATCH_NONE, "account_closed", -1, 0, "closed"},
        {"amount + name, one open one closed", 4200, "USD", "Paul Jones", 0, 2,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 0, M),
          cand("TA02", "USD", 4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_AMOUNT_NAME, "amount_name", 1, 0, NULL},
        /* rule 4 */
        {"nothing", 4200, "USD", "Paul Jones", 0, 0, {cand("-", "USD", 0, 0, 0, NULL, 0, 0)},
         RECON_MATCH_NONE, "no_candidate", -1, 0, "0 candidate"},
        {"amount differs", 4200, "USD", "Paul Jones", 0, 1,
         {cand("TA01", "USD", 4201, 4199, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "no_candidate", -1, 0, NULL},
        {"amount equal in another currency", 4200, "USD", "Paul Jones", 0, 1,
         {cand("TA01", "CAD", 4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "no_candidate", -1, 0, NULL},
        {"equal negative balance never owes", 4200, "USD", "Paul Jones", 0, 1,
         {cand("TA01", "USD", -4200, 0, 0, "Paul Jones", 1, M)},
         RECON_MATCH_NONE, "no_candidate", -1, 0, NULL},
        {"equal balance but not from the amount lookup", 4200, "USD", "Paul Jones", 0, 1,
         {cand("TA01", "USD", 4200, 0, 0, "Paul Jones", 1, 0)},
         RECON_MATCH_NONE, "no_candidate", -1, 0, NULL},
        {"lower-case currency is another currency", 4200, "usd", "", 0, 1,
         {cand("TA01", "USD", 4200, 0, 0, NULL, 1, H)},
         RECON_MATCH_NONE, "currency_mismatch", -1, 0, NULL},
        /* bad input */
        {"zero amount", 0, "USD", "", 0, 1,
         {cand("TA01", "USD", 1, 0, 0, NULL, 1, H)},
         RECON_MATCH_NONE, "invalid_input", -1, 0, NULL},
        {"no currency", 100, "", "", 0, 1,
         {cand("TA01", "USD", 1, 0, 0, NULL, 1, H)},
         RECON_MATCH_NONE, "invalid_input", -1, 0, NULL},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}

Test(recon_match_decide, ranking_for_the_exceptions_queue)
{
    /* ambiguous reference; by name (high first), then |due - amount|, then input order:
     *  0 TA01 unrelated name, exact amount            -> last of the referenced
     *  1 TA02 exact name, balance 5000 (off by 1000)  -> third
     *  2 TA03 exact name, instalment 4000 (exact)     -> first
     *  3 TA04 exact name, balance 3000 (off by 1000)  -> fourth (same as TA02, later)
     *  4 TA05 amount-only candidate, other tier       -> after every referenced one */
    recon_candidate c[] = {
        cand("TA01", "USD", 4000, 0, 0, "Maria Garcia", 1, A),
        cand("TA02", "USD", 5000, 0, 0, "Paul Jones", 1, I),
        cand("TA03", "USD", 9000, 4000, 0, "Paul Jones", 1, A),
        cand("TA04", "USD", 3000, 0, 0, "JONES PAUL", 1, A),
        cand("TA05", "USD", 4000, 0, 0, "Paul Jones", 1, M),
    };
    recon_match_input in = {.amount_cents = 4000,
                            .currency = "USD",
                            .payer_name = "Paul Jones",
                            .candidates = c,
                            .n_candidates = 5};
    recon_match_result r;
    recon_match_decide(NULL, &in, &r);
    cr_assert_str_eq(r.reason, "ambiguous_reference");
    cr_assert_str_eq(r.detail, "the reference text names 4 accounts in USD; ranked by name "
                               "similarity, then amount closeness");
    cr_assert_eq(r.n_ranked, 5);
    static const int order[] = {2, 1, 3, 0, 4};
    for (int k = 0; k < 5; k++)
        cr_assert_eq(r.ranked[k], order[k], "rank %d: %d", k, r.ranked[k]);
    cr_assert_eq(r.name_bp[0], 10000);
    cr_assert_eq(r.name_bp[2], 10000);
    cr_assert_lt(r.name_bp[3], 5000);
}

Test(recon_match_decide, tiers_and_duplicates_in_ranking)
{
    /* hint wins; then reference, amount-equal, other same-currency, other currency; TA02 given
     * twice appears once, at its better (reference) place */
    recon_candidate c[] = {
        cand("TA09", "EUR", 4000, 0, 0, "Paul Jones", 1, A), /* other currency */
        cand("TA07", "USD", 1, 0, 0, "Paul Jones", 1, M),    /* same currency, no amount */
        cand("TA05", "USD", 4000, 0, 0, "Paul Jones", 1, M), /* amount equal */
        cand("TA02", "USD", 4000, 0, 0, "Paul Jones", 1, M), /* amount equal ... */
        cand("TA02", "USD", 4000, 0, 0, "Paul Jones", 1, I), /* ... and referenced */
        cand("TA01", "USD", 0, 0, 0, "Maria Garcia", 1, H),  /* hinted */
    };
    recon_match_input in = {.amount_cents = 4000,
                            .currency = "USD",
                            .payer_name = "Paul Jones",
                            .candidates = c,
                            .n_candidates = 6};
    recon_match_result r;
    recon_match_decide(NULL, &in, &r);
    cr_assert_str_eq(r.reason, "hint");
    cr_assert_eq(r.chosen, 5);
    cr_assert_eq(r.n_ranked, 5);
    static const int order[] = {5, 4, 2, 1, 0};
    for (int k = 0; k < 5; k++)
        cr_assert_eq(r.ranked[k], order[k], "rank %d: %d", k, r.ranked[k]);
}

Test(recon_match_decide, many_candidates)
{
    /* 40 distinct open accounts owe the amount under the payer's name: ambiguous, 32 ranked */
    static recon_candidate c[41];
    for (int i = 0; i < 40; i++) {
        char id[16];
        snprintf(id, sizeof id, "TA%03d", i);
        c[i] = cand(id, "USD", 4000, 0, 0, "Paul Jones", 1, M);
    }
    recon_match_input in = {.amount_cents = 4000,
                            .currency = "USD",
                            .payer_name = "Paul Jones",
                            .candidates = c,
                            .n_candidates = 40};
    recon_match_result r;
    recon_match_decide(NULL, &in, &r);
    cr_assert_str_eq(r.reason, "ambiguous_amount_name");
    cr_assert_not_null(strstr(r.detail, "more than 32 open accounts"), "%s", r.detail);
    cr_assert_eq(r.n_ranked, RECON_MATCH_CANDIDATES_MAX);
    for (int k = 0; k < RECON_MATCH_CANDIDATES_MAX; k++)
        cr_assert_eq(r.ranked[k], k); /* all equal: input order */

    /* the hinted account last of 41 still wins and ranks first */
    c[40] = cand("UA999", "USD", 1, 0, 0, NULL, 1, H);
    in.n_candidates = 41;
    recon_match_decide(NULL, &in, &r);
    cr_assert_str_eq(r.reason, "hint");
    cr_assert_eq(r.chosen, 40);
    cr_assert_eq(r.ranked[0], 40);
    cr_assert_eq(r.n_ranked, RECON_MATCH_CANDIDATES_MAX);
    cr_assert_eq(r.ranked[31], 30);
}

Test(recon_match_decide, null_input_and_names)
{
    recon_match_result r;
    recon_match_decide(NULL, NULL, &r);
    cr_assert_eq(r.via, RECON_MATCH_NONE);
    cr_assert_str_eq(r.reason, "invalid_input");
    cr_assert_eq(r.chosen, -1);
    recon_match_decide(NULL, NULL, NULL); /* nothing to fill, no crash */
    cr_assert_str_eq(recon_match_via_name(RECON_MATCH_HINT), "hint");
    cr_assert_str_eq(recon_match_via_name(RECON_MATCH_REFERENCE), "reference");
    cr_assert_str_eq(recon_match_via_name(RECON_MATCH_AMOUNT_NAME), "amount_name");
    cr_assert_str_eq(recon_match_via_name(RECON_MATCH_NONE), "none");
}
