/* Unit tests of services/ingest/fields.c: the single-field parsers of a billing export.
 * Every expected value is worked out here from the contract in fields.h and the public facts
 * it relies on (the Gregorian calendar, NANP numbering, USPS codes, US time zone lines),
 * never read back from the code. Tables first, one loop per table, and each failure names
 * the row so a broken case is found without a debugger. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "fields.h"

#define WHY_LEN 128

/* ---------------------------------------------------------------------------- amounts */

static const ingest_amount_opts DEC = {INGEST_AMOUNT_DECIMAL, '.', 0, 0};
static const ingest_amount_opts US_GROUPED = {INGEST_AMOUNT_DECIMAL, '.', ',', 0};
static const ingest_amount_opts EU_GROUPED = {INGEST_AMOUNT_DECIMAL, ',', '.', 0};
static const ingest_amount_opts EU_SPACED = {INGEST_AMOUNT_DECIMAL, ',', ' ', 0};
static const ingest_amount_opts CH_GROUPED = {INGEST_AMOUNT_DECIMAL, '.', '\'', 0};
static const ingest_amount_opts DOLLAR = {INGEST_AMOUNT_DECIMAL, '.', ',', 1};
static const ingest_amount_opts CENTS = {INGEST_AMOUNT_CENTS, '.', 0, 0};
static const ingest_amount_opts CENTS_DOLLAR = {INGEST_AMOUNT_CENTS, '.', 0, 1};

typedef struct amount_ok {
    const char *text;
    const ingest_amount_opts *o;
    int64_t cents;
} amount_ok;

Test(ingest_fields, amount_accepts_and_converts_to_cents)
{
    static const amount_ok rows[] = {
        {"1234.5", &DEC, 123450}, /* one decimal means tens of cents */
        {"0.99", &DEC, 99},
        {"-12.00", &DEC, -1200},
        {"(12.00)", &DEC, -1200}, /* accounting negative */
        {"+5", &DEC, 500},
        {".5", &DEC, 50},
        {"5.", &DEC, 500},
        {"0", &DEC, 0},
        {"-0", &DEC, 0},
        {"007.05", &DEC, 705},
        {"  42.10\t", &DEC, 4210}, /* blanks around the field are padding */
        {"12.34\r", &DEC, 1234},   /* a CR left by a CRLF file */
        {"1,234.56", &US_GROUPED, 123456},
        {"1,234,567.89", &US_GROUPED, 123456789},
        {"999", &US_GROUPED, 99900}, /* grouping is optional */
        {"1234.56", &US_GROUPED, 123456},
        {"1.234,56", &EU_GROUPED, 123456},
        {"1.234", &EU_GROUPED, 123400}, /* here '.' groups thousands: 1234 dollars */
        {"0,5", &EU_GROUPED, 50},
        {"1 234,56", &EU_SPACED, 123456},
        {"1'234.50", &CH_GROUPED, 123450},
        {"$12.00", &DOLLAR, 1200},
        {"-$12.00", &DOLLAR, -1200},
        {"+$5", &DOLLAR, 500},
        {"($3.50)", &DOLLAR, -350},
        {"$1,000", &DOLLAR, 100000},
        {"123450", &CENTS, 123450},
        {"-75", &CENTS, -75},
        {"(75)", &CENTS, -75},
        {"10000000000", &DEC, 1000000000000LL},      /* exactly 10^12 cents: the cap itself */
        {"-10000000000.00", &DEC, -1000000000000LL}, /* the cap holds for negatives too */
        {"1000000000000", &CENTS, 1000000000000LL},
        {"9999999999.99", &DEC, 999999999999LL},
        {"12.34", NULL, 1234}, /* no options: decimal point, no grouping */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t cents = 777;
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_amount(rows[i].text, rows[i].o, &cents, why, sizeof(why));
        cr_expect_eq(e, ARR_OK, "row %zu \"%s\": rejected (%s)", i, rows[i].text, why);
        cr_expect_eq(cents, rows[i].cents, "row %zu \"%s\": %lld cents, expected %lld", i,
                     rows[i].text, (long long)cents, (long long)rows[i].cents);
    }
}

typedef struct amount_bad {
    const char *text;
    const ingest_amount_opts *o;
    const char *why; /* a word the reason must contain, or NULL */
} amount_bad;

Test(ingest_fields, amount_rejects_malformed_text)
{
    static const amount_bad rows[] = {
        {"12.345", &DEC, "more than 2 decimals"},
        {"12.340", &DEC, "more than 2 decimals"}, /* even a trailing zero: strict */
        {"1,234.56", &DEC, NULL},                 /* ',' not configured */
        {"1 234", &DEC, NULL},
        {"$12.00", &DEC, "currency"},
        {"", &DEC, "empty"},
        {" ", &DEC, "empty"},
        {NULL, &DEC, "empty"},
        {"abc", &DEC, "letter"},
        {"1e3", &DEC, "letter"},
        {"12..0", &DEC, NULL},
        {"--1", &DEC, NULL},
        {"+-1", &DEC, NULL},
        {".", &DEC, "no digits"},
        {"-", &DEC, "no digits"},
        {"()", &DEC, "no digits"},
        {"(12.00", &DEC, "parenthesis"},
        {"12.00)", &DEC, NULL},
        {"(-12)", &DEC, NULL}, /* parentheses already mean negative */
        {"-(12)", &DEC, NULL},
        {"- 12", &DEC, NULL},
        {"12 .5", &DEC, NULL},
        {"12-", &DEC, NULL},
        {"USD 12", &DEC, "letter"},
        {"$-12", &DOLLAR, NULL}, /* the sign goes before the symbol */
        {"12$", &DOLLAR, NULL},
        {"$$12", &DOLLAR, NULL},
        {"1,23", &US_GROUPED, "grouping"},
        {"12,3456", &US_GROUPED, "grouping"},
        {"1234,567", &US_GROUPED, "grouping"},   /* the first group has at most 3 digits */
        {"1,23,456", &US_GROUPED, "grouping"},   /* lakh-style groups are not US grouping */
        {"1,2345,678", &US_GROUPED, "grouping"}, /* every group after the first is 3 digits */
        {",123", &US_GROUPED, "grouping"},
        {"1,234,", &US_GROUPED, "grouping"},
        {"1,,234", &US_GROUPED, "grouping"},
        {"1,234.5,6", &US_GROUPED, NULL}, /* no grouping in the decimals */
        {"1.234.56", &EU_GROUPED, "grouping"},
        {"5.", &EU_GROUPED, "grouping"},
        {"12.5", &CENTS, NULL},
        {"1,000", &CENTS, NULL},
        {"", &CENTS, "empty"},
        {"-", &CENTS, "no digits"},
        {"$100", &CENTS_DOLLAR, "currency"}, /* "$" before a count of cents reads as dollars */
        {"10000000000.01", &DEC, "10^12"},   /* one cent over the cap */
        {"10000000001", &DEC, "10^12"},
        {"-10000000001", &DEC, "10^12"},
        {"99999999999999999999999999", &DEC, "10^12"}, /* would overflow int64 */
        {"1000000000001", &CENTS, "10^12"},
        {"9223372036854775808", &CENTS, "10^12"}, /* INT64_MAX + 1 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t cents = 777;
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_amount(rows[i].text, rows[i].o, &cents, why, sizeof(why));
        cr_expect_eq(e, ARR_EINVAL, "row %zu \"%s\": accepted as %lld", i,
                     rows[i].text ? rows[i].text : "(null)", (long long)cents);
        cr_expect_eq(cents, 777, "row %zu: output written on rejection", i);
        cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
        if (rows[i].why)
            cr_expect_not_null(strstr(why, rows[i].why), "row %zu: reason \"%s\" lacks \"%s\"", i,
                               why, rows[i].why);
    }
}

Test(ingest_fields, amount_rejects_inconsistent_options)
{
    static const ingest_amount_opts bad[] = {
        {INGEST_AMOUNT_DECIMAL, ';', 0, 0},   /* unknown decimal separator */
        {INGEST_AMOUNT_DECIMAL, '.', '_', 0}, /* unknown thousands separator */
        {INGEST_AMOUNT_DECIMAL, '.', '.', 0}, /* the same for both: ambiguous */
        {INGEST_AMOUNT_DECIMAL, ',', ',', 0},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t cents = 777;
        cr_expect_eq(ingest_parse_amount("12", &bad[i], &cents, NULL, 0), ARR_EINVAL, "row %zu", i);
        cr_expect_eq(cents, 777);
    }
    /* A zero decimal separator means the default '.', as the header says. */
    const ingest_amount_opts zeroed = {INGEST_AMOUNT_DECIMAL, 0, 0, 0};
    int64_t cents = 0;
    cr_expect_eq(ingest_parse_amount("3.25", &zeroed, &cents, NULL, 0), ARR_OK);
    cr_expect_eq(cents, 325);
}

/* ------------------------------------------------------------------------------ dates */

typedef struct date_ok {
    const char *text, *format, *iso;
} date_ok;

Test(ingest_fields, date_accepts_every_format)
{
    static const date_ok rows[] = {
        {"2026-01-15", "%Y-%m-%d", "2026-01-15"},
        {"2026-1-5", "%Y-%m-%d", "2026-01-05"},
        {"01/15/2026", "%m/%d/%Y", "2026-01-15"},
        {"1/5/2026", "%m/%d/%Y", "2026-01-05"},
        {"15/01/2026", "%d/%m/%Y", "2026-01-15"},
        {"5/1/2026", "%d/%m/%Y", "2026-01-05"},
        {"20260115", "%Y%m%d", "2026-01-15"},
        {"15.01.2026", "%d.%m.%Y", "2026-01-15"},
        {"01-15-2026", "%m-%d-%Y", "2026-01-15"},
        {"2024-02-29", "%Y-%m-%d", "2024-02-29"}, /* 2024 is divisible by 4 */
        {"2000-02-29", "%Y-%m-%d", "2000-02-29"}, /* divisible by 400: leap */
        {"2026-04-30", "%Y-%m-%d", "2026-04-30"},
        {"2026-12-31", "%Y-%m-%d", "2026-12-31"},
        {"1900-01-01", "%Y-%m-%d", "1900-01-01"}, /* both ends of the allowed years */
        {"2999-12-31", "%Y-%m-%d", "2999-12-31"},
        {" 2026-01-15 ", "%Y-%m-%d", "2026-01-15"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[11] = "";
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_date(rows[i].text, rows[i].format, out, why, sizeof(why));
        cr_expect_eq(e, ARR_OK, "row %zu \"%s\": rejected (%s)", i, rows[i].text, why);
        cr_expect_str_eq(out, rows[i].iso, "row %zu", i);
    }
}

Test(ingest_fields, date_rejects_impossible_and_malformed)
{
    static const date_ok rows[] = {
        {"2026-02-29", "%Y-%m-%d", NULL}, /* 2026 is not a leap year */
        {"1900-02-29", "%Y-%m-%d", NULL}, /* divisible by 100, not by 400 */
        {"2026-04-31", "%Y-%m-%d", NULL}, /* April has 30 days */
        {"2026-06-31", "%Y-%m-%d", NULL},
        {"2026-01-32", "%Y-%m-%d", NULL},
        {"2026-01-00", "%Y-%m-%d", NULL},
        {"2026-13-01", "%Y-%m-%d", NULL},
        {"2026-00-10", "%Y-%m-%d", NULL},
        {"1899-12-31", "%Y-%m-%d", NULL},
        {"3000-01-01", "%Y-%m-%d", NULL},
        {"2026-01-15T10:00", "%Y-%m-%d", NULL}, /* trailing characters */
        {"2026-01-150", "%Y-%m-%d", NULL},
        {"2026-01-15x", "%Y-%m-%d", NULL},
        {"2026/01/15", "%Y-%m-%d", NULL},
        {"26-01-15", "%Y-%m-%d", NULL},
        {"2026-001-15", "%Y-%m-%d", NULL},
        {"2026-01- 5", "%Y-%m-%d", NULL},
        {"+2026-01-15", "%Y-%m-%d", NULL},
        {"", "%Y-%m-%d", NULL},
        {NULL, "%Y-%m-%d", NULL},
        {"01/15/2026", "%d/%m/%Y", NULL}, /* month 15 */
        {"2026115", "%Y%m%d", NULL},      /* no separators: widths are fixed */
        {"2026-1-5", "%Y%m%d", NULL},
        {"202601150", "%Y%m%d", NULL},
        {"15-01-2026", "%d.%m.%Y", NULL},
        {"2026-01-15", "%Y/%m/%d", NULL}, /* unsupported format */
        {"2026-01-15", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[11] = "untouched";
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_date(rows[i].text, rows[i].format, out, why, sizeof(why));
        cr_expect_eq(e, ARR_EINVAL, "row %zu \"%s\": accepted as %s", i,
                     rows[i].text ? rows[i].text : "(null)", out);
        cr_expect_str_eq(out, "untouched", "row %zu: output written on rejection", i);
        cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
    }
}

Test(ingest_fields, date_trailing_text_is_named_in_the_reason)
{
    char out[11], why[WHY_LEN] = "";
    cr_assert_eq(ingest_parse_date("2026-01-15 12:00", "%Y-%m-%d", out, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_not_null(strstr(why, "trailing"), "reason: %s", why);
}

Test(ingest_fields, date_format_known_lists_exactly_the_supported_formats)
{
    static const char *const known[] = {"%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y",
                                        "%Y%m%d",   "%d.%m.%Y", "%m-%d-%Y"};
    static const char *const unknown[] = {"%Y/%m/%d",   "%y-%m-%d", "%d-%m-%Y",
                                          "YYYY-MM-DD", "",         "%Y-%m-%d "};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        cr_expect_eq(ingest_date_format_known(known[i]), 1, "%s", known[i]);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        cr_expect_eq(ingest_date_format_known(unknown[i]), 0, "\"%s\"", unknown[i]);
    cr_expect_eq(ingest_date_format_known(NULL), 0);
}

typedef struct days_row {
    const char *a, *b;
    int days;
} days_row;

Test(ingest_fields, days_between_counts_calendar_days)
{
    static const days_row rows[] = {
        {"2026-01-15", "2026-01-15", 0},
        {"2026-01-15", "2026-01-16", 1},
        {"2024-02-28", "2024-03-01", 2},  /* across the leap day */
        {"2023-02-28", "2023-03-01", 1},  /* no leap day */
        {"2024-03-01", "2024-02-28", -2}, /* b before a: negative */
        {"2000-02-28", "2000-03-01", 2},  /* 2000 is a leap year (divisible by 400) */
        {"1900-02-28", "1900-03-01", 1},  /* 1900 is not (divisible by 100 only) */
        {"2025-12-31", "2026-01-01", 1},  /* across a year end */
        {"2026-01-01", "2025-12-31", -1},
        {"2026-01-01", "2026-12-31", 364},
        {"2024-01-01", "2025-01-01", 366},
        {"2025-01-01", "2026-01-01", 365},
        {"2026-01-31", "2026-03-01", 29}, /* Jan 31 -> Feb 28 is 28 days, +1 */
        /* 30 years of 365 days plus the leap days of 1972..1996 (7). */
        {"1970-01-01", "2000-01-01", 30 * 365 + 7},
        /* 56 years from 1970 with the 14 leap days 1972..2024, then 14 days into January. */
        {"1970-01-01", "2026-01-15", 56 * 365 + 14 + 14},
        /* 1100 years 1900..2999 hold 275 years divisible by 4, minus 1900, 2100, 2200, 2300,
         * 2500, 2600, 2700, 2900: 267 leap years; the span ends one day before 3000-01-01. */
        {"1900-01-01", "2999-12-31", 1100 * 365 + 267 - 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int d = ingest_days_between(rows[i].a, rows[i].b);
        cr_expect_eq(d, rows[i].days, "row %zu %s -> %s: %d, expected %d", i, rows[i].a, rows[i].b,
                     d, rows[i].days);
    }
}

/* ------------------------------------------------------------------------------ email */

typedef struct email_row {
    const char *text, *out;
} email_row;

Test(ingest_fields, email_accepts_and_lowers_only_the_domain)
{
    static const email_row rows[] = {
        {"John.Doe@Example.COM", "John.Doe@example.com"},
        {"  a@b.co  ", "a@b.co"},
        {"o'brien+bills@mail.example.org", "o'brien+bills@mail.example.org"},
        {"x_y-z@sub-domain.Example.US", "x_y-z@sub-domain.example.us"},
        {"!#$%&'*+/=?^_`{|}~-@example.com", "!#$%&'*+/=?^_`{|}~-@example.com"},
        {"a@xn--bcher-kva.example", "a@xn--bcher-kva.example"}, /* punycode label */
        {"a@123.example.com", "a@123.example.com"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[255] = "";
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_email(rows[i].text, out, why, sizeof(why));
        cr_expect_eq(e, ARR_OK, "row %zu \"%s\": rejected (%s)", i, rows[i].text, why);
        cr_expect_str_eq(out, rows[i].out, "row %zu", i);
    }
}

Test(ingest_fields, email_rejects_malformed_addresses)
{
    static const char *const rows[] = {
        "",
        "   ",
        "plain",
        "a@@b.com",
        "a@b@c.com",
        "@example.com",
        "a@",
        "a@example",     /* no dot in the domain */
        "a@example.c",   /* TLD shorter than 2 */
        "a@example.c0m", /* TLD with a digit */
        "a@example.123",
        "a@-example.com", /* label starting with a hyphen */
        "a@example-.com", /* label ending with one */
        "a@exa_mple.com",
        "a@example..com",
        "a@.example.com",
        "a@example.com.",
        ".a@example.com",   /* leading dot */
        "a.@example.com",   /* trailing dot */
        "a..b@example.com", /* double dot */
        "a b@example.com",
        "a(b)@example.com",
        "\"a\"@example.com", /* quoted local parts are not supported */
        "a@exam ple.com",
        "caf\xc3\xa9@example.com", /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[255] = "untouched";
        char why[WHY_LEN] = "";
        cr_expect_eq(ingest_parse_email(rows[i], out, why, sizeof(why)), ARR_EINVAL,
                     "row %zu \"%s\": accepted as %s", i, rows[i], out);
        cr_expect_str_eq(out, "untouched", "row %zu: output written on rejection", i);
        cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
    }
    cr_expect_eq(ingest_parse_email(NULL, (char[255]){0}, NULL, 0), ARR_EINVAL);
}

/* local@domain with the given part lengths; the domain is labels of up to 63 letters ending
 * in ".com". */
static void long_email(char *buf, size_t local_len, size_t domain_len)
{
    size_t k = 0;
    for (size_t i = 0; i < local_len; i++)
        buf[k++] = 'l';
    buf[k++] = '@';
    size_t body = domain_len - 4, in_label = 0; /* 4 = ".com" */
    for (size_t i = 0; i < body; i++) {
        /* a dot after every 63 letters, but never as the last character of the body */
        if (in_label == 63 && i + 1 < body) {
            buf[k++] = '.';
            in_label = 0;
        } else {
            buf[k++] = 'd';
            in_label++;
        }
    }
    memcpy(buf + k, ".com", 5);
}

Test(ingest_fields, email_length_limits)
{
    char text[400], out[255], why[WHY_LEN];
    /* 64 + 1 + 189 = 254 bytes: the longest address accepted. */
    long_email(text, 64, 189);
    cr_assert_eq(strlen(text), 254);
    cr_expect_eq(ingest_parse_email(text, out, why, sizeof(why)), ARR_OK, "%s", why);
    cr_expect_str_eq(out, text);
    /* One more byte in the domain: 255. */
    long_email(text, 64, 190);
    cr_assert_eq(strlen(text), 255);
    cr_expect_eq(ingest_parse_email(text, out, why, sizeof(why)), ARR_EINVAL);
    /* A 65-byte local part (the SMTP limit is 64). */
    long_email(text, 65, 20);
    cr_expect_eq(ingest_parse_email(text, out, why, sizeof(why)), ARR_EINVAL);
    /* A 64-letter domain label (the DNS limit is 63). */
    char label[100] = "a@";
    memset(label + 2, 'x', 64);
    strcpy(label + 66, ".com");
    cr_expect_eq(ingest_parse_email(label, out, why, sizeof(why)), ARR_EINVAL);
    label[64] = '.'; /* 62 letters, then ".x.com": every label within the limit */
    cr_expect_eq(ingest_parse_email(label, out, why, sizeof(why)), ARR_OK, "%s", why);
}

/* ----------------------------------------------------------------------------- phones */

typedef struct phone_row {
    const char *text, *e164;
} phone_row;

Test(ingest_fields, phone_normalises_to_e164)
{
    static const phone_row rows[] = {
        {"(512) 555-0100", "+15125550100"},
        {"512.555.0100", "+15125550100"},
        {"+1 512 555 0100", "+15125550100"},
        {"15125550100", "+15125550100"},
        {"512-555-0100", "+15125550100"},
        {"1 (512) 555-0100", "+15125550100"},
        {"+1 (512) 555-0100", "+15125550100"},
        {"  5125550100 ", "+15125550100"},
        {"2002000000", "+12002000000"}, /* lowest valid area and exchange */
        {"9999999999", "+19999999999"},
        {"+44 20 7946 0958", "+442079460958"},
        {"+49 30 123456", "+4930123456"},             /* 10 digits */
        {"+61 2 1234 5", "+61212345"},                /* 8 digits: the shortest accepted */
        {"+86 123 4567 8901 23", "+861234567890123"}, /* 15 digits: the longest */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[17] = "";
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_phone(rows[i].text, out, why, sizeof(why));
        cr_expect_eq(e, ARR_OK, "row %zu \"%s\": rejected (%s)", i, rows[i].text, why);
        cr_expect_str_eq(out, rows[i].e164, "row %zu", i);
    }
}

Test(ingest_fields, phone_rejects_wrong_numbers)
{
    static const char *const rows[] = {
        "",
        "512-555-010",  /* 9 digits */
        "512555010000", /* 12 digits */
        "25125550100",  /* 11 digits not starting with 1 */
        "0125550100",   /* area code starts with 0 */
        "1125550100",   /* area code starts with 1 */
        "1 112 555 0100",
        "5120550100",     /* exchange starts with 0 */
        "5121550100",     /* exchange starts with 1 */
        "+1 512 555 010", /* +1 needs 10 more digits */
        "+1 512 555 01000",
        "+1 012 555 0100",
        "1-800-FLOWERS",
        "512-555-0100 x12", /* extensions cannot be auto-dialled */
        "5125550100#",
        "512+5550100",
        "++15125550100",
        "(512 555-0100",
        "512) 555-0100",
        "((512)) 555-0100",
        "+44 1234",          /* 6 digits */
        "+4412345678901234", /* 16 digits */
        "+0 123 456 7890",   /* no country code starts with 0 */
        "+",
        "-",
        "512/555/0100",
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[17] = "untouched";
        char why[WHY_LEN] = "";
        cr_expect_eq(ingest_parse_phone(rows[i], out, why, sizeof(why)), ARR_EINVAL,
                     "row %zu \"%s\": accepted as %s", i, rows[i], out);
        cr_expect_str_eq(out, "untouched", "row %zu: output written on rejection", i);
        cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
    }
    cr_expect_eq(ingest_parse_phone(NULL, (char[17]){0}, NULL, 0), ARR_EINVAL);
}

typedef struct flag_row {
    const char *text;
    int value; /* -1: rejected */
} flag_row;

Test(ingest_fields, phone_type_words)
{
    static const flag_row rows[] = {
        {"mobile", 0}, {"CELL", 0}, {" Wireless ", 0}, {"m", 0},   {"M", 0}, {"landline", 1},
        {"Home", 1},   {"work", 1}, {"FIXED", 1},      {"l", 1},   {"", -1}, {"voip", -1},
        {"mob", -1},   {"x", -1},   {"cellular", -1},  {NULL, -1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int landline = 42;
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_phone_type(rows[i].text, &landline, why, sizeof(why));
        if (rows[i].value < 0) {
            cr_expect_eq(e, ARR_EINVAL, "row %zu accepted", i);
            cr_expect_eq(landline, 42, "row %zu: output written on rejection", i);
            cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
        } else {
            cr_expect_eq(e, ARR_OK, "row %zu \"%s\" rejected", i, rows[i].text);
            cr_expect_eq(landline, rows[i].value, "row %zu", i);
        }
    }
}

Test(ingest_fields, bool_words)
{
    static const flag_row rows[] = {
        {"yes", 1},   {"YES", 1}, {"Yes", 1},   {"true", 1}, {"TRUE", 1}, {"1", 1},
        {"y", 1},     {"Y", 1},   {" yes ", 1}, {"no", 0},   {"No", 0},   {"false", 0},
        {"0", 0},     {"n", 0},   {"N", 0},     {"", -1},    {"2", -1},   {"ja", -1},
        {"yess", -1}, {"t", -1},  {"on", -1},   {"01", -1},  {NULL, -1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int v = 42;
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_bool(rows[i].text, &v, why, sizeof(why));
        if (rows[i].value < 0) {
            cr_expect_eq(e, ARR_EINVAL, "row %zu accepted", i);
            cr_expect_eq(v, 42, "row %zu: output written on rejection", i);
            cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
        } else {
            cr_expect_eq(e, ARR_OK, "row %zu \"%s\" rejected", i, rows[i].text);
            cr_expect_eq(v, rows[i].value, "row %zu", i);
        }
    }
}

/* ------------------------------------------------------------------ states and ZIP codes */

/* The 50 states, DC, the five inhabited territories and the three military codes. */
static const char *const all_codes[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
    "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
    "VA", "WA", "WV", "WI", "WY", "DC", "PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP",
};
#define N_CODES (sizeof(all_codes) / sizeof(all_codes[0]))

Test(ingest_fields, state_accepts_every_usps_code_in_any_case)
{
    cr_assert_eq(N_CODES, 50 + 1 + 5 + 3);
    for (size_t i = 0; i < N_CODES; i++) {
        char lower[3] = {(char)(all_codes[i][0] - 'A' + 'a'), (char)(all_codes[i][1] - 'A' + 'a'),
                         '\0'};
        char mixed[3] = {all_codes[i][0], lower[1], '\0'};
        const char *forms[] = {all_codes[i], lower, mixed};
        for (size_t f = 0; f < 3; f++) {
            char out[3] = "";
            cr_expect_eq(ingest_parse_state(forms[f], out, NULL, 0), ARR_OK, "%s", forms[f]);
            cr_expect_str_eq(out, all_codes[i]);
        }
    }
    char out[3] = "";
    cr_expect_eq(ingest_parse_state(" tx ", out, NULL, 0), ARR_OK);
    cr_expect_str_eq(out, "TX");
}

Test(ingest_fields, state_rejects_other_codes)
{
    static const char *const rows[] = {
        "",   "T",   "TXX", "XX", "ZZ", "Texas", "CZ" /* obsolete */, "ON" /* Ontario */,
        "PI", "T X", "1A"};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[3] = "-";
        char why[WHY_LEN] = "";
        cr_expect_eq(ingest_parse_state(rows[i], out, why, sizeof(why)), ARR_EINVAL, "\"%s\"",
                     rows[i]);
        cr_expect_str_eq(out, "-", "\"%s\": output written on rejection", rows[i]);
        cr_expect_neq(why[0], '\0');
    }
    cr_expect_eq(ingest_parse_state(NULL, (char[3]){0}, NULL, 0), ARR_EINVAL);
}

typedef struct zip_row {
    const char *text, *out; /* out NULL: rejected */
} zip_row;

Test(ingest_fields, zip_five_and_nine_digits)
{
    static const zip_row rows[] = {
        {"78701", "78701"},
        {"78701-1234", "78701-1234"},
        {"787011234", "78701-1234"},
        {" 02134 ", "02134"}, /* leading zero kept */
        {"00501", "00501"},
        {"2134", NULL}, /* a spreadsheet ate the zero: not ours to guess */
        {"787012", NULL},
        {"78701-123", NULL},
        {"78701 1234", NULL},
        {"78701-", NULL},
        {"78701-12345", NULL},
        {"1234567890", NULL},
        {"7870a", NULL},
        {"78701-12a4", NULL},
        {"", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[11] = "untouched";
        char why[WHY_LEN] = "";
        arr_err e = ingest_parse_zip(rows[i].text, out, why, sizeof(why));
        if (rows[i].out) {
            cr_expect_eq(e, ARR_OK, "row %zu rejected (%s)", i, why);
            cr_expect_str_eq(out, rows[i].out, "row %zu", i);
        } else {
            cr_expect_eq(e, ARR_EINVAL, "row %zu accepted as %s", i, out);
            cr_expect_str_eq(out, "untouched", "row %zu: output written on rejection", i);
            cr_expect_neq(why[0], '\0', "row %zu: no reason given", i);
        }
    }
}

/* ----------------------------------------------------------------------------- zones */

Test(ingest_fields, timezone_known_names)
{
    static const char *const known[] = {
        "America/New_York",    "America/Chicago",
        "America/Denver",      "America/Phoenix",
        "America/Los_Angeles", "America/Anchorage",
        "America/Adak",        "Pacific/Honolulu",
        "America/Puerto_Rico", "America/St_Thomas",
        "Pacific/Guam",        "Pacific/Pago_Pago",
        "Pacific/Saipan",      "America/Indiana/Indianapolis",
        "America/Detroit",     "America/Boise",
        "Europe/London",       "America/Toronto",
        "America/Mexico_City", "Asia/Manila",
    };
    static const char *const unknown[] = {
        "",
        "america/chicago" /* IANA names are case-sensitive */,
        "America/Chicag",
        "Chicago",
        "EST",
        "CST6CDT",
        "UTC" /* nobody lives in UTC */,
        "Mars/Olympus",
        "America/Chicago ",
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        cr_expect_eq(ingest_timezone_known(known[i]), 1, "%s", known[i]);
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        cr_expect_eq(ingest_timezone_known(unknown[i]), 0, "\"%s\"", unknown[i]);
    cr_expect_eq(ingest_timezone_known(NULL), 0);
}

#define NY "America/New_York"
#define CHI "America/Chicago"
#define DEN "America/Denver"
#define PHX "America/Phoenix"
#define LA "America/Los_Angeles"
#define ANC "America/Anchorage"
#define ADAK "America/Adak"

typedef struct tz_row {
    const char *state, *zip;
    int n;
    const char *zones[2]; /* east to west */
} tz_row;

static void expect_zones(const tz_row *r, size_t i)
{
    char out[4][40];
    memset(out, 'Z', sizeof(out));
    int n = ingest_timezones_for(r->state, r->zip, out, 4);
    cr_expect_eq(n, r->n, "row %zu %s %s: %d zones, expected %d", i, r->state ? r->state : "-",
                 r->zip ? r->zip : "-", n, r->n);
    for (int k = 0; k < n && k < r->n; k++)
        cr_expect_str_eq(out[k], r->zones[k], "row %zu %s %s zone %d", i, r->state,
                         r->zip ? r->zip : "-", k);
    /* nothing written past the returned names */
    for (int k = n < 0 ? 0 : n; k < 4; k++)
        cr_expect_eq(out[k][0], 'Z', "row %zu: slot %d written", i, k);
}

Test(ingest_fields, timezones_single_zone_states_ignore_the_zip)
{
    static const tz_row rows[] = {
        {"NY", "10001", 1, {NY}},
        {"ny", NULL, 1, {NY}},
        {"DC", "20500", 1, {NY}},
        {"GA", "30301", 1, {NY}},
        {"IL", "60601", 1, {CHI}},
        {"CO", "80202", 1, {DEN}},
        {"AZ", "85001", 1, {PHX}}, /* no DST */
        {"CA", NULL, 1, {LA}},
        {"WA", "98101", 1, {LA}},
        {"HI", "96813", 1, {"Pacific/Honolulu"}},
        {"PR", "00901", 1, {"America/Puerto_Rico"}},
        {"VI", "00802", 1, {"America/St_Thomas"}},
        {"GU", "96910", 1, {"Pacific/Guam"}},
        {"AS", "96799", 1, {"Pacific/Pago_Pago"}},
        {"MP", "96950", 1, {"Pacific/Saipan"}},
        {" ca ", "garbage", 1, {LA}},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect_zones(&rows[i], i);
}

Test(ingest_fields, timezones_split_states_decided_by_zip)
{
    static const tz_row rows[] = {
        {"FL", "32501", 1, {CHI}}, /* Pensacola, west of the Apalachicola */
        {"FL", "32401", 1, {CHI}}, /* Panama City */
        {"FL", "32301", 1, {NY}},  /* Tallahassee */
        {"FL", "33101", 1, {NY}},  /* Miami */
        {"FL", "33101-1234", 1, {NY}}, {"TX", "79901", 1, {DEN}}, /* El Paso */
        {"TX", "88510", 1, {DEN}},                                /* El Paso box numbers */
        {"TX", "78701", 1, {CHI}},                                /* Austin */
        {"tx", "752011234", 1, {CHI}},                            /* Dallas, 9 digits */
        {"TN", "37902", 1, {NY}},                                 /* Knoxville */
        {"TN", "37402", 1, {NY}},                                 /* Chattanooga */
        {"TN", "37601", 1, {NY}},                                 /* Johnson City */
        {"TN", "37201", 1, {CHI}},                                /* Nashville */
        {"TN", "38103", 1, {CHI}},                                /* Memphis */
        {"KY", "40202", 1, {NY}},                                 /* Louisville */
        {"KY", "40507", 1, {NY}},                                 /* Lexington */
        {"KY", "42001", 1, {CHI}},                                /* Paducah */
        {"KY", "42101", 1, {CHI}},                                /* Bowling Green */
        {"IN", "46204", 1, {NY}},                                 /* Indianapolis */
        {"IN", "46320", 1, {CHI}},                                /* Hammond */
        {"IN", "47708", 1, {CHI}},                                /* Evansville */
        {"MI", "48226", 1, {NY}},                                 /* Detroit */
        {"ND", "58102", 1, {CHI}},                                /* Fargo */
        {"SD", "57104", 1, {CHI}},                                /* Sioux Falls */
        {"SD", "57701", 1, {DEN}},                                /* Rapid City */
        {"NE", "68102", 1, {CHI}},                                /* Omaha */
        {"NE", "69361", 1, {DEN}},                                /* Scottsbluff */
        {"KS", "66101", 1, {CHI}},                                /* Kansas City */
        {"KS", "67901", 1, {CHI}},                                /* Liberal */
        {"ID", "83702", 1, {DEN}},                                /* Boise */
        {"ID", "83638", 1, {DEN}},                                /* McCall */
        {"ID", "83814", 1, {LA}},                                 /* Coeur d'Alene */
        {"OR", "97201", 1, {LA}},                                 /* Portland */
        {"NV", "89101", 1, {LA}},                                 /* Las Vegas */
        {"AK", "99501", 1, {ANC}},                                /* Anchorage */
        {"AK", "99701", 1, {ANC}},                                /* Fairbanks */
        {"AL", "35203", 1, {CHI}},                                /* Birmingham */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect_zones(&rows[i], i);
}

/* Where the ZIP does not settle it, every zone of the state comes back, east to west. */
Test(ingest_fields, timezones_split_states_undecided_return_all_zones)
{
    static const tz_row rows[] = {
        {"FL", NULL, 2, {NY, CHI}},
        {"FL", "", 2, {NY, CHI}},
        {"FL", "3250", 2, {NY, CHI}},   /* not a valid ZIP */
        {"FL", "10001", 2, {NY, CHI}},  /* a ZIP of another state */
        {"FL", "32456", 2, {NY, CHI}},  /* Port St. Joe: Gulf County is split */
        {"TX", "79830", 2, {CHI, DEN}}, /* 798: Alpine (Central) shares it with Hudspeth */
        {"TX", NULL, 2, {CHI, DEN}},
        {"TN", "37347", 2, {NY, CHI}}, /* 373: Marion County is Central */
        {"TN", "37723", 2, {NY, CHI}}, /* 377: Crab Orchard, Cumberland County */
        {"KY", "40143", 2, {NY, CHI}}, /* 401: Breckinridge County */
        {"KY", "42501", 2, {NY, CHI}}, /* 425: Somerset region */
        {"IN", "47546", 2, {NY, CHI}}, /* 475 */
        {"IN", "46534", 2, {NY, CHI}}, /* 465: Starke County */
        {"MI", "49801", 2, {NY, CHI}}, /* Upper Peninsula */
        {"ND", "58601", 2, {CHI, DEN}},
        {"SD", "57501", 2, {CHI, DEN}},
        {"NE", "69101", 2, {CHI, DEN}},
        {"KS", "67735", 2, {CHI, DEN}}, /* Goodland, Sherman County */
        {"ID", "83501", 2, {DEN, LA}},
        {"ID", "83671", 2, {DEN, LA}},   /* Warren, Idaho County */
        {"OR", "97914", 2, {DEN, LA}},   /* Ontario, Malheur County */
        {"NV", "89883", 2, {DEN, LA}},   /* West Wendover */
        {"AK", "99546", 2, {ANC, ADAK}}, /* Adak */
        {"AK", NULL, 2, {ANC, ADAK}},
        {"AL", "36867", 2, {NY, CHI}}, /* Phenix City keeps Eastern time */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect_zones(&rows[i], i);
}

Test(ingest_fields, timezones_unknown_state_or_no_zone)
{
    static const tz_row rows[] = {
        {"ZZ", "10001", 0, {NULL}},
        {"", NULL, 0, {NULL}},
        {NULL, "10001", 0, {NULL}},
        {"Texas", "78701", 0, {NULL}},
        {"ON", NULL, 0, {NULL}},
        /* military mail can be anywhere in the world: no zone is truthful */
        {"AE", "09001", 0, {NULL}},
        {"AP", "96201", 0, {NULL}},
        {"AA", "34001", 0, {NULL}},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect_zones(&rows[i], i);
}

Test(ingest_fields, timezones_never_truncate_the_list)
{
    char out[4][40];
    /* Two zones do not fit in one slot: 0 (unknown) rather than a list missing a zone. */
    cr_expect_eq(ingest_timezones_for("FL", NULL, out, 1), 0);
    cr_expect_eq(ingest_timezones_for("FL", NULL, out, 2), 2);
    cr_expect_str_eq(out[0], NY);
    cr_expect_str_eq(out[1], CHI);
    cr_expect_eq(ingest_timezones_for("FL", "32501", out, 1), 1);
    cr_expect_str_eq(out[0], CHI);
    cr_expect_eq(ingest_timezones_for("NY", NULL, out, 0), 0);
    cr_expect_eq(ingest_timezones_for("NY", NULL, NULL, 4), 0);
}

/* Whatever the state and ZIP, every zone handed out is one ingest_timezone_known accepts,
 * so a derived zone always passes the same check as a given one. */
Test(ingest_fields, timezones_derived_are_all_known)
{
    static const char *const zips[] = {NULL,    "00000", "10001", "32456", "37347", "40143",
                                       "46320", "49801", "58601", "67735", "79830", "83671",
                                       "89883", "97914", "99546", "99999"};
    for (size_t s = 0; s < N_CODES; s++) {
        for (size_t z = 0; z < sizeof(zips) / sizeof(zips[0]); z++) {
            char out[4][40];
            int n = ingest_timezones_for(all_codes[s], zips[z], out, 4);
            cr_expect(n >= 0 && n <= 2, "%s %s: %d zones", all_codes[s], zips[z] ? zips[z] : "-",
                      n);
            for (int k = 0; k < n; k++)
                cr_expect_eq(ingest_timezone_known(out[k]), 1, "%s: %s", all_codes[s], out[k]);
        }
    }
}
