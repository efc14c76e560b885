/* ingest_fields: strict parsers for the single fields of a billing export (see fields.h).
 *
 * Conventions shared by every parser here:
 *   - blanks around a field (space, tab, CR, LF) are ignored: exports pad columns and leave
 *     stray CRs, and that is never meaningful; anything else unexpected is rejected;
 *   - out-parameters are written only on ARR_OK, so a rejected field never leaves a
 *     half-written value behind;
 *   - no locale-dependent <ctype.h> calls: a billing export must parse the same way whatever
 *     LC_CTYPE the process happens to run under;
 *   - money is integer cents from the first digit on: no strtod, no float. */
#include "fields.h"

#include <string.h>

/* ---------------------------------------------------------------- small text helpers */

typedef struct span {
    const char *p;
    size_t n;
} span;

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_alpha(char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}

static int is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

static char to_lower(char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static char to_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* The text without its surrounding blanks; NULL reads as empty so callers need no check. */
static span trimmed(const char *text)
{
    span s = {"", 0};
    if (!text)
        return s;
    while (is_blank(*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && is_blank(text[n - 1]))
        n--;
    s.p = text;
    s.n = n;
    return s;
}

/* Case-insensitive comparison of a span with a lower-case literal. */
static int span_is(span s, const char *lit)
{
    size_t n = strlen(lit);
    if (n != s.n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (to_lower(s.p[i]) != lit[i])
            return 0;
    }
    return 1;
}

static int span_in(span s, const char *const *list)
{
    for (; *list; list++) {
        if (span_is(s, *list))
            return 1;
    }
    return 0;
}

/* Value of n digits at p (the caller has checked they are digits). */
static int digits_value(const char *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* ---------------------------------------------------------------------------- amounts */

/* 10^12 cents (ten billion dollars): far above any consumer balance, far below INT64_MAX,
 * so a bigger value is a broken export rather than a debt. */
#define AMOUNT_MAX_CENTS 1000000000000LL
#define AMOUNT_MAX_MAJOR (AMOUNT_MAX_CENTS / 100)

typedef struct amount_scan {
    const char *p, *end;
    int negative;
    int64_t value; /* major units (DECIMAL) or cents (CENTS), capped; see over */
    int over;      /* the digits went past the cap: reported once the syntax is known good */
    int int_digits, frac_digits;
    int64_t frac; /* the fraction digits read so far (at most 2 are accepted) */
} amount_scan;

static arr_err amount_fail(char *why, size_t whylen, const char *reason)
{
    arr_errbuf_set(why, whylen, "%s", reason);
    return ARR_EINVAL;
}

static arr_err bad_char(char *why, size_t whylen, char c)
{
    if (is_alpha(c))
        arr_errbuf_set(why, whylen, "letter '%c' in amount", c);
    else
        arr_errbuf_set(why, whylen, "unexpected character '%c' in amount", c);
    return ARR_EINVAL;
}

/* Separators are checked up front: the same character as decimal and thousands separator
 * would make "1.234" mean two different amounts. */
static arr_err amount_opts_check(const ingest_amount_opts *o, char *dec, char *thou, char *why,
                                 size_t whylen)
{
    *dec = (o && o->decimal_sep) ? o->decimal_sep : '.';
    *thou = o ? o->thousands_sep : 0;
    if (*dec != '.' && *dec != ',')
        return amount_fail(why, whylen, "decimal separator must be '.' or ','");
    if (*thou != 0 && *thou != ',' && *thou != '.' && *thou != ' ' && *thou != '\'')
        return amount_fail(why, whylen, "thousands separator must be ',' '.' ' ' or '''");
    if (*thou == *dec)
        return amount_fail(why, whylen, "decimal and thousands separators are the same");
    return ARR_OK;
}

/* Sign, parentheses and currency symbol. Parentheses already mean negative, so a sign
 * inside them is a contradiction and rejected; "$" may only follow the sign. */
static arr_err amount_prefix(amount_scan *s, int allow_symbol, char *why, size_t whylen)
{
    if (s->p < s->end && *s->p == '(') {
        if (s->end[-1] != ')')
            return amount_fail(why, whylen, "unbalanced parenthesis in amount");
        s->p++;
        s->end--;
        s->negative = 1;
    } else if (s->p < s->end && (*s->p == '-' || *s->p == '+')) {
        s->negative = *s->p == '-';
        s->p++;
    }
    if (s->p < s->end && *s->p == '$') {
        if (!allow_symbol)
            return amount_fail(why, whylen, "currency symbol not allowed");
        s->p++;
    }
    return ARR_OK;
}

static void amount_add_digit(amount_scan *s, int64_t cap, char c)
{
    if (s->value > cap) {
        s->over = 1;
        return;
    }
    s->value = s->value * 10 + (c - '0');
    if (s->value > cap)
        s->over = 1;
}

/* The integer part of a decimal amount. With a thousands separator configured, grouping is
 * optional, but when present it must be 1-3 digits then groups of exactly 3: "1,23" or
 * "12,3456" are more likely a misread decimal than a real amount. */
static arr_err amount_integer(amount_scan *s, char dec, char thou, char *why, size_t whylen)
{
    int group = 0, grouped = 0;
    for (; s->p < s->end && *s->p != dec; s->p++) {
        char c = *s->p;
        if (is_digit(c)) {
            amount_add_digit(s, AMOUNT_MAX_MAJOR, c);
            s->int_digits++;
            group++;
            continue;
        }
        if (!thou || c != thou)
            return bad_char(why, whylen, c);
        if (group == 0 || (grouped && group != 3) || (!grouped && group > 3))
            return amount_fail(why, whylen, "bad thousands grouping");
        grouped = 1;
        group = 0;
    }
    if (grouped && group != 3)
        return amount_fail(why, whylen, "bad thousands grouping");
    return ARR_OK;
}

static arr_err amount_fraction(amount_scan *s, char *why, size_t whylen)
{
    for (; s->p < s->end; s->p++) {
        if (!is_digit(*s->p))
            return bad_char(why, whylen, *s->p);
        if (++s->frac_digits > 2)
            return amount_fail(why, whylen, "more than 2 decimals");
        s->frac = s->frac * 10 + (*s->p - '0');
    }
    return ARR_OK;
}

static arr_err amount_decimal(amount_scan *s, char dec, char thou, int64_t *cents, char *why,
                              size_t whylen)
{
    arr_err e = amount_integer(s, dec, thou, why, whylen);
    if (e != ARR_OK)
        return e;
    if (s->p < s->end) {
        s->p++; /* the decimal separator */
        e = amount_fraction(s, why, whylen);
        if (e != ARR_OK)
            return e;
    }
    if (s->int_digits + s->frac_digits == 0)
        return amount_fail(why, whylen, "no digits in amount");
    if (s->frac_digits == 1)
        s->frac *= 10; /* "1.5" is 1.50 */
    if (s->over || s->value * 100 + s->frac > AMOUNT_MAX_CENTS)
        return amount_fail(why, whylen, "amount over 10^12 cents");
    *cents = s->value * 100 + s->frac;
    return ARR_OK;
}

/* CENTS exports are already minor units: digits only, a separator would be a unit mix-up. */
static arr_err amount_cents(amount_scan *s, int64_t *cents, char *why, size_t whylen)
{
    if (s->p == s->end)
        return amount_fail(why, whylen, "no digits in amount");
    for (; s->p < s->end; s->p++) {
        if (!is_digit(*s->p))
            return bad_char(why, whylen, *s->p);
        amount_add_digit(s, AMOUNT_MAX_CENTS, *s->p);
    }
    if (s->over)
        return amount_fail(why, whylen, "amount over 10^12 cents");
    *cents = s->value;
    return ARR_OK;
}

arr_err ingest_parse_amount(const char *text, const ingest_amount_opts *o, int64_t *cents,
                            char *why, size_t whylen)
{
    char dec, thou;
    arr_err e = amount_opts_check(o, &dec, &thou, why, whylen);
    if (e != ARR_OK)
        return e;
    span t = trimmed(text);
    if (t.n == 0)
        return amount_fail(why, whylen, "empty amount");
    amount_scan s = {.p = t.p, .end = t.p + t.n};
    int cents_format = o && o->format == INGEST_AMOUNT_CENTS;
    /* "$" in front of a count of cents would read as dollars: refuse it in that format. */
    e = amount_prefix(&s, !cents_format && o && o->allow_currency_symbol, why, whylen);
    if (e != ARR_OK)
        return e;
    int64_t v = 0;
    e = cents_format ? amount_cents(&s, &v, why, whylen)
                     : amount_decimal(&s, dec, thou, &v, why, whylen);
    if (e != ARR_OK)
        return e;
    *cents = s.negative ? -v : v;
    return ARR_OK;
}

/* ------------------------------------------------------------------------------ dates */

static const char *const date_formats[] = {"%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y%m%d",
                                           "%d.%m.%Y", "%m-%d-%Y", NULL};

int ingest_date_format_known(const char *format)
{
    if (!format)
        return 0;
    for (const char *const *f = date_formats; *f; f++) {
        if (strcmp(format, *f) == 0)
            return 1;
    }
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[m - 1] + (m == 2 && is_leap(y));
}

/* Reads one %Y/%m/%d field. Without separators ("%Y%m%d") only fixed widths can tell the
 * fields apart; with them, "1/5/2026" is as common as "01/05/2026" in exports. */
static int date_field(span t, size_t *pos, char spec, int fixed, int *value)
{
    size_t lo = spec == 'Y' ? 4 : (fixed ? 2 : 1);
    size_t hi = spec == 'Y' ? 4 : 2;
    size_t n = 0;
    while (n < hi && *pos + n < t.n && is_digit(t.p[*pos + n]))
        n++;
    if (n < lo)
        return 0;
    *value = digits_value(t.p + *pos, n);
    *pos += n;
    return 1;
}

/* Walks the format against the text: y/m/d fields into ymd[], literals matched exactly. */
static int date_walk(span t, const char *format, int ymd[3])
{
    int fixed =
        strchr(format, '-') == NULL && strchr(format, '/') == NULL && strchr(format, '.') == NULL;
    size_t pos = 0;
    for (const char *f = format; *f; f++) {
        if (*f != '%') {
            if (pos >= t.n || t.p[pos] != *f)
                return 0;
            pos++;
            continue;
        }
        f++;
        int *slot = *f == 'Y' ? &ymd[0] : *f == 'm' ? &ymd[1] : &ymd[2];
        if (!date_field(t, &pos, *f, fixed, slot))
            return 0;
    }
    return pos == t.n ? 1 : -1; /* -1: a good date followed by trailing characters */
}

static void write_iso_date(int y, int m, int d, char out[11])
{
    const int parts[3] = {y, m, d};
    const int widths[3] = {4, 2, 2};
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        if (i > 0)
            out[k++] = '-';
        for (int w = widths[i] - 1, v = parts[i]; w >= 0; w--, v /= 10)
            out[k + (size_t)w] = (char)('0' + v % 10);
        k += (size_t)widths[i];
    }
    out[k] = '\0';
}

arr_err ingest_parse_date(const char *text, const char *format, char out[11], char *why,
                          size_t whylen)
{
    if (!ingest_date_format_known(format)) {
        arr_errbuf_set(why, whylen, "unknown date format");
        return ARR_EINVAL;
    }
    span t = trimmed(text);
    if (t.n == 0) {
        arr_errbuf_set(why, whylen, "empty date");
        return ARR_EINVAL;
    }
    int ymd[3] = {0, 0, 0};
    int walked = date_walk(t, format, ymd);
    if (walked < 0) {
        arr_errbuf_set(why, whylen, "trailing characters after date");
        return ARR_EINVAL;
    }
    if (walked == 0) {
        arr_errbuf_set(why, whylen, "not a date in format %s", format);
        return ARR_EINVAL;
    }
    if (ymd[0] < 1900 || ymd[0] > 2999) {
        arr_errbuf_set(why, whylen, "year %d outside 1900..2999", ymd[0]);
        return ARR_EINVAL;
    }
    if (ymd[1] < 1 || ymd[1] > 12) {
        arr_errbuf_set(why, whylen, "month %d out of range", ymd[1]);
        return ARR_EINVAL;
    }
    if (ymd[2] < 1 || ymd[2] > days_in_month(ymd[0], ymd[1])) {
        arr_errbuf_set(why, whylen, "day %d does not exist in %04d-%02d", ymd[2], ymd[0], ymd[1]);
        return ARR_EINVAL;
    }
    write_iso_date(ymd[0], ymd[1], ymd[2], out);
    return ARR_OK;
}

/* Day number in the proleptic Gregorian calendar (an arbitrary fixed origin; only
 * differences are used). Counting years from March puts the leap day at the very end of a
 * counting year, so the days before a month no longer depend on leap years and the days
 * before a year are 365 per year plus the leap days of the years 1..y. Pure arithmetic:
 * no timegm/mktime, so no dependence on TZ or the C library's time range. */
static long day_number(int y, int m, int d)
{
    if (m <= 2) {
        y -= 1;
        m += 12; /* January and February are months 13 and 14 of the previous year */
    }
    long days = 365L * y + y / 4 - y / 100 + y / 400;
    days += (153L * (m - 3) + 2) / 5; /* days in March..(m-1): 31,30,31,30,31 repeating */
    return days + d - 1;
}

int ingest_days_between(const char *a, const char *b)
{
    long da = day_number(digits_value(a, 4), digits_value(a + 5, 2), digits_value(a + 8, 2));
    long db = day_number(digits_value(b, 4), digits_value(b + 5, 2), digits_value(b + 8, 2));
    return (int)(db - da);
}

/* ----------------------------------------------------------------------------- email */

#define EMAIL_MAX 254 /* RFC 5321 path limit minus the angle brackets */
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63

static int email_local_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~.-", c) != NULL);
}

/* The unquoted (dot-atom) local part: quoted local parts are legal but almost never real,
 * and a mail provider would reject most of what they allow anyway. */
static const char *email_local_problem(span l)
{
    if (l.n == 0)
        return "empty local part";
    if (l.n > EMAIL_LOCAL_MAX)
        return "local part longer than 64 bytes";
    if (l.p[0] == '.' || l.p[l.n - 1] == '.')
        return "local part starts or ends with a dot";
    for (size_t i = 0; i < l.n; i++) {
        if (!email_local_char(l.p[i]))
            return "character not allowed in local part";
        if (l.p[i] == '.' && i + 1 < l.n && l.p[i + 1] == '.')
            return "two dots in a row in local part";
    }
    return NULL;
}

static const char *email_label_problem(span label, int is_tld)
{
    if (label.n == 0)
        return "empty domain label";
    if (label.n > EMAIL_LABEL_MAX)
        return "domain label longer than 63 bytes";
    if (label.p[0] == '-' || label.p[label.n - 1] == '-')
        return "domain label starts or ends with a hyphen";
    for (size_t i = 0; i < label.n; i++) {
        if (is_tld && !is_alpha(label.p[i]))
            return "top-level domain must be letters";
        if (!is_alnum(label.p[i]) && label.p[i] != '-')
            return "character not allowed in domain";
    }
    if (is_tld && label.n < 2)
        return "top-level domain shorter than 2 letters";
    return NULL;
}

/* A host name of at least two labels: a bare "localhost" or "example" cannot receive mail
 * from the outside world. */
static const char *email_domain_problem(span d)
{
    if (d.n == 0)
        return "empty domain";
    size_t start = 0;
    int labels = 0;
    for (size_t i = 0; i <= d.n; i++) {
        if (i < d.n && d.p[i] != '.')
            continue;
        span label = {d.p + start, i - start};
        const char *why = email_label_problem(label, i == d.n);
        if (why)
            return why;
        labels++;
        start = i + 1;
    }
    return labels < 2 ? "domain without a dot" : NULL;
}

arr_err ingest_parse_email(const char *text, char out[255], char *why, size_t whylen)
{
    span t = trimmed(text);
    const char *at = t.n ? memchr(t.p, '@', t.n) : NULL;
    const char *problem = NULL;
    if (t.n == 0)
        problem = "empty email";
    else if (t.n > EMAIL_MAX)
        problem = "email longer than 254 bytes";
    else if (!at)
        problem = "no '@' in email";
    else if (memchr(at + 1, '@', t.n - (size_t)(at + 1 - t.p)))
        problem = "more than one '@' in email";
    span local = {t.p, at ? (size_t)(at - t.p) : 0};
    span domain = {at ? at + 1 : t.p, at ? t.n - local.n - 1 : 0};
    if (!problem)
        problem = email_local_problem(local);
    if (!problem)
        problem = email_domain_problem(domain);
    if (problem) {
        arr_errbuf_set(why, whylen, "%s", problem);
        return ARR_EINVAL;
    }
    /* Only the domain is case-insensitive everywhere; the local part belongs to the
     * receiving server, which may treat case as significant, so it is kept as given. */
    memcpy(out, local.p, local.n);
    out[local.n] = '@';
    for (size_t i = 0; i < domain.n; i++)
        out[local.n + 1 + i] = to_lower(domain.p[i]);
    out[t.n] = '\0';
    return ARR_OK;
}

/* ----------------------------------------------------------------------------- phones */

#define PHONE_DIGITS_MAX 15 /* E.164 */

typedef struct phone_scan {
    char digits[PHONE_DIGITS_MAX + 1];
    size_t n; /* digits seen, may exceed PHONE_DIGITS_MAX (then only the first are kept) */
    int plus; /* written with a leading '+': the country code is explicit */
} phone_scan;

/* Collects the digits of "(512) 555-0100", "+1 512.555.0100" and the like. Letters are
 * refused rather than mapped from a keypad: "1-800-FLOWERS" in a billing export is a data
 * error, and so is an extension, which cannot be dialled by an automated system anyway. */
static const char *phone_collect(span t, phone_scan *s)
{
    int depth = 0;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        if (is_digit(c)) {
            if (s->n < PHONE_DIGITS_MAX)
                s->digits[s->n] = c;
            s->n++;
        } else if (c == '+' && i == 0) {
            s->plus = 1;
        } else if (c == '(' || c == ')') {
            if ((c == '(') != (depth == 0))
                return "unbalanced parenthesis in phone number";
            depth = c == '(';
        } else if (is_alpha(c)) {
            return "letters in phone number";
        } else if (c != ' ' && c != '-' && c != '.') {
            return "unexpected character in phone number";
        }
    }
    if (depth != 0)
        return "unbalanced parenthesis in phone number";
    s->digits[s->n < PHONE_DIGITS_MAX ? s->n : PHONE_DIGITS_MAX] = '\0';
    return NULL;
}

/* The ten NANP digits: area code and exchange both start with 2-9 (0 and 1 were reserved for
 * operator and long-distance prefixes, so such a number cannot be dialled). */
static const char *nanp_problem(const char *ten)
{
    if (ten[0] < '2')
        return "area code starts with 0 or 1";
    if (ten[3] < '2')
        return "exchange code starts with 0 or 1";
    return NULL;
}

static const char *phone_normalise(const phone_scan *s, char e164[17])
{
    const char *ten = NULL;
    if (s->plus && s->n > 0 && s->digits[0] != '1') {
        if (s->n < 8 || s->n > PHONE_DIGITS_MAX)
            return "international number must have 8 to 15 digits";
        if (s->digits[0] == '0')
            return "country code starts with 0";
        e164[0] = '+';
        memcpy(e164 + 1, s->digits, s->n + 1);
        return NULL;
    }
    if (s->n == 11 && s->digits[0] == '1')
        ten = s->digits + 1;
    else if (s->n == 10 && !s->plus)
        ten = s->digits;
    if (!ten)
        return "not a 10-digit North American number";
    const char *problem = nanp_problem(ten);
    if (problem)
        return problem;
    e164[0] = '+';
    e164[1] = '1';
    memcpy(e164 + 2, ten, 11);
    return NULL;
}

arr_err ingest_parse_phone(const char *text, char out[17], char *why, size_t whylen)
{
    span t = trimmed(text);
    phone_scan s = {.n = 0};
    char e164[17];
    const char *problem = t.n == 0 ? "empty phone number" : phone_collect(t, &s);
    if (!problem)
        problem = phone_normalise(&s, e164);
    if (problem) {
        arr_errbuf_set(why, whylen, "%s", problem);
        return ARR_EINVAL;
    }
    memcpy(out, e164, strlen(e164) + 1);
    return ARR_OK;
}

arr_err ingest_parse_phone_type(const char *text, int *landline, char *why, size_t whylen)
{
    static const char *const mobile[] = {"mobile", "cell", "wireless", "m", NULL};
    static const char *const fixed[] = {"landline", "home", "work", "fixed", "l", NULL};
    span t = trimmed(text);
    if (span_in(t, mobile)) {
        *landline = 0;
        return ARR_OK;
    }
    if (span_in(t, fixed)) {
        *landline = 1;
        return ARR_OK;
    }
    arr_errbuf_set(why, whylen, "phone type must be mobile or landline");
    return ARR_EINVAL;
}

arr_err ingest_parse_bool(const char *text, int *out, char *why, size_t whylen)
{
    static const char *const yes[] = {"yes", "true", "1", "y", NULL};
    static const char *const no[] = {"no", "false", "0", "n", NULL};
    span t = trimmed(text);
    if (span_in(t, yes)) {
        *out = 1;
        return ARR_OK;
    }
    if (span_in(t, no)) {
        *out = 0;
        return ARR_OK;
    }
    arr_errbuf_set(why, whylen, "expected yes/no, true/false, y/n or 1/0");
    return ARR_EINVAL;
}

/* ------------------------------------------------------------------ states and ZIP codes */

/* The US zones, east to west; a zone set is a bit mask over this list, and names are always
 * returned in this order so the same address gives the same list every time. */
enum us_zone {
    TZ_NEW_YORK,
    TZ_CHICAGO,
    TZ_DENVER,
    TZ_PHOENIX,
    TZ_LOS_ANGELES,
    TZ_ANCHORAGE,
    TZ_ADAK,
    TZ_HONOLULU,
    TZ_PUERTO_RICO,
    TZ_ST_THOMAS,
    TZ_GUAM,
    TZ_PAGO_PAGO,
    TZ_SAIPAN,
    TZ__COUNT
};

static const char *const us_zone_names[TZ__COUNT] = {
    [TZ_NEW_YORK] = "America/New_York",
    [TZ_CHICAGO] = "America/Chicago",
    [TZ_DENVER] = "America/Denver",
    [TZ_PHOENIX] = "America/Phoenix",
    [TZ_LOS_ANGELES] = "America/Los_Angeles",
    [TZ_ANCHORAGE] = "America/Anchorage",
    [TZ_ADAK] = "America/Adak",
    [TZ_HONOLULU] = "Pacific/Honolulu",
    [TZ_PUERTO_RICO] = "America/Puerto_Rico",
    [TZ_ST_THOMAS] = "America/St_Thomas",
    [TZ_GUAM] = "Pacific/Guam",
    [TZ_PAGO_PAGO] = "Pacific/Pago_Pago",
    [TZ_SAIPAN] = "Pacific/Saipan",
};

#define ET (1u << TZ_NEW_YORK)
#define CT (1u << TZ_CHICAGO)
#define MT (1u << TZ_DENVER)
#define PT (1u << TZ_LOS_ANGELES)
#define AKT (1u << TZ_ANCHORAGE)
#define HAT (1u << TZ_ADAK)

/* A range of 5-digit ZIP codes and the zones an address there may be in. Ranges are tried
 * in order, so a narrow exception comes before the wider range it sits in.
 *
 * The ranges only claim a single zone where the whole range is believed to lie in it, from
 * public facts: which counties 49 CFR part 71 puts in each zone, and the towns each ZIP
 * prefix serves (not checked against a USPS ZIP-to-county file: when in doubt, a range got
 * both zones). Every range that straddles a boundary, and any ZIP matching no range, gets
 * all the zones of the state. Returning several zones is the safe default: the contact rules must
 * then hold in each of them, so an unsure answer costs a narrower contact window, never a call at
 * 7:30 in the morning. */
typedef struct zip_rule {
    long lo, hi;
    unsigned zones;
} zip_rule;

/* Phenix City, Lanett, Valley and Smiths Station keep Eastern time unofficially with
 * Columbus, GA; everyone else in Alabama is Central. */
static const zip_rule al_rules[] = {{36850, 36879, CT | ET}, {35000, 36999, CT}};
/* Aleutians west of 169°30'W (Adak, Atka) are Hawaii-Aleutian; the Pribilofs sit near that
 * line, so they get both. The rest of Alaska is on Alaska time. */
static const zip_rule ak_rules[] = {{99546, 99547, AKT | HAT},
                                    {99591, 99591, AKT | HAT},
                                    {99660, 99660, AKT | HAT},
                                    {99500, 99999, AKT}};
/* The panhandle west of the Apalachicola River is Central: 325 (Pensacola, Fort Walton) and
 * 324 (Panama City, Marianna), except Port St. Joe in southern Gulf County, which is Eastern
 * while the north of the county is Central. */
static const zip_rule fl_rules[] = {
    {32456, 32457, ET | CT}, {32400, 32599, CT}, {32000, 32399, ET}, {32600, 34999, ET}};
/* Southern Idaho is Mountain; the panhandle (838) is Pacific. 835 (Lewiston, Grangeville,
 * Riggins) lies along the Salmon River boundary, and Warren is in Idaho County south of it. */
static const zip_rule id_rules[] = {{83671, 83671, MT | PT},
                                    {83200, 83499, MT},
                                    {83500, 83599, MT | PT},
                                    {83600, 83799, MT},
                                    {83800, 83899, PT}};
/* Indiana's Central counties: Lake, Porter, LaPorte, Jasper, Newton, Starke in the north
 * west (463-464, with Starke also in 465 and Newton/Jasper in 479) and Vanderburgh, Posey,
 * Gibson, Warrick, Spencer in the south west (476-477, with Perry in 475). */
static const zip_rule in_rules[] = {
    {46000, 46299, ET},      {46300, 46499, CT}, {46500, 46599, ET | CT}, {46600, 47499, ET},
    {47500, 47599, ET | CT}, {47600, 47799, CT}, {47800, 47899, ET},      {47900, 47999, ET | CT}};
/* Kansas: only Sherman, Wallace, Greeley and Hamilton counties are Mountain (677-678). */
static const zip_rule ks_rules[] = {
    {66000, 67699, CT}, {67700, 67899, CT | MT}, {67900, 67999, CT}};
/* Kentucky: the boundary runs through 401 (Breckinridge is Central, Meade Eastern), 425-426
 * (Russell, Clinton, Cumberland Central; Pulaski, Wayne Eastern) and 427 (Hardin Eastern,
 * Grayson, Hart, Green Central). */
static const zip_rule ky_rules[] = {{40000, 40099, ET},
                                    {40100, 40199, ET | CT},
                                    {40200, 41899, ET},
                                    {42000, 42499, CT},
                                    {42500, 42799, ET | CT}};
/* Michigan: Gogebic, Iron, Dickinson and Menominee counties (Upper Peninsula, 498-499) are
 * Central; the UP's other counties share those prefixes. */
static const zip_rule mi_rules[] = {{48000, 49799, ET}, {49800, 49999, ET | CT}};
/* North Dakota: the south west is Mountain; 585 (Bismarck: Grant, Sioux), 586 (Dickinson,
 * with Morton County towns) and 588 (Williston: McKenzie) straddle the line. */
static const zip_rule nd_rules[] = {
    {58000, 58499, CT}, {58500, 58699, CT | MT}, {58700, 58799, CT}, {58800, 58899, CT | MT}};
/* Nebraska: the panhandle (693) is Mountain; 690-692 straddle the line (Chase, Dundy, Keith,
 * Perkins, Arthur, Grant, Hooker and western Cherry are Mountain). */
static const zip_rule ne_rules[] = {
    {68000, 68999, CT}, {69000, 69299, CT | MT}, {69300, 69399, MT}};
/* Nevada: West Wendover moved to Mountain time in 1999 and Jackpot follows Idaho; both are in
 * Elko County's 898. */
static const zip_rule nv_rules[] = {{88900, 89799, PT}, {89800, 89899, PT | MT}};
/* Oregon: most of Malheur County (Ontario, Nyssa, Vale: 979) is Mountain. */
static const zip_rule or_rules[] = {{97000, 97899, PT}, {97900, 97999, PT | MT}};
/* South Dakota: West River (577) is Mountain; 575 (Pierre) and 576 (Mobridge) straddle it. */
static const zip_rule sd_rules[] = {
    {57000, 57499, CT}, {57500, 57699, CT | MT}, {57700, 57799, MT}};
/* Tennessee: East Tennessee is Eastern. 373 (Chattanooga area: Marion, Bledsoe, Sequatchie are
 * Central) and 377 (Knoxville area, with Crab Orchard in Cumberland County) straddle it.
 * 370-372 is Nashville and 375, 380-385 Memphis and Middle Tennessee: all Central. */
static const zip_rule tn_rules[] = {
    {37000, 37299, CT}, {37300, 37399, ET | CT}, {37400, 37499, ET}, {37500, 37599, CT},
    {37600, 37699, ET}, {37700, 37799, ET | CT}, {37800, 37999, ET}, {38000, 38599, CT}};
/* Texas: El Paso (799, and its 885 box numbers) is Mountain. 798 also serves Hudspeth County
 * (Mountain) but Alpine, Marfa and Van Horn (Central), so it gets both. */
static const zip_rule tx_rules[] = {{73300, 73399, CT},
                                    {75000, 79799, CT},
                                    {79800, 79899, CT | MT},
                                    {79900, 79999, MT},
                                    {88500, 88599, MT}};

typedef struct state_zones {
    char code[3];
    unsigned zones; /* every zone of the state: the answer when the ZIP does not decide */
    const zip_rule *rules;
    size_t n_rules;
} state_zones;

#define RULES(r) r, sizeof(r) / sizeof(r[0])
#define ZONE(z) (1u << (z))

/* Military mail codes (AA, AE, AP) are valid addresses with no zone at all: the addressee
 * may be anywhere in the world, so no list of zones would be truthful. */
static const state_zones states[] = {
    {"AL", CT | ET, RULES(al_rules)},
    {"AK", AKT | HAT, RULES(ak_rules)},
    {"AZ", ZONE(TZ_PHOENIX), NULL, 0}, /* no DST; the Navajo Nation's DST is not modelled */
    {"AR", CT, NULL, 0},
    {"CA", PT, NULL, 0},
    {"CO", MT, NULL, 0},
    {"CT", ET, NULL, 0},
    {"DE", ET, NULL, 0},
    {"DC", ET, NULL, 0},
    {"FL", ET | CT, RULES(fl_rules)},
    {"GA", ET, NULL, 0},
    {"HI", ZONE(TZ_HONOLULU), NULL, 0},
    {"ID", MT | PT, RULES(id_rules)},
    {"IL", CT, NULL, 0},
    {"IN", ET | CT, RULES(in_rules)},
    {"IA", CT, NULL, 0},
    {"KS", CT | MT, RULES(ks_rules)},
    {"KY", ET | CT, RULES(ky_rules)},
    {"LA", CT, NULL, 0},
    {"ME", ET, NULL, 0},
    {"MD", ET, NULL, 0},
    {"MA", ET, NULL, 0},
    {"MI", ET | CT, RULES(mi_rules)},
    {"MN", CT, NULL, 0},
    {"MS", CT, NULL, 0},
    {"MO", CT, NULL, 0},
    {"MT", MT, NULL, 0},
    {"NE", CT | MT, RULES(ne_rules)},
    {"NV", PT | MT, RULES(nv_rules)},
    {"NH", ET, NULL, 0},
    {"NJ", ET, NULL, 0},
    {"NM", MT, NULL, 0},
    {"NY", ET, NULL, 0},
    {"NC", ET, NULL, 0},
    {"ND", CT | MT, RULES(nd_rules)},
    {"OH", ET, NULL, 0},
    {"OK", CT, NULL, 0},
    {"OR", PT | MT, RULES(or_rules)},
    {"PA", ET, NULL, 0},
    {"RI", ET, NULL, 0},
    {"SC", ET, NULL, 0},
    {"SD", CT | MT, RULES(sd_rules)},
    {"TN", ET | CT, RULES(tn_rules)},
    {"TX", CT | MT, RULES(tx_rules)},
    {"UT", MT, NULL, 0},
    {"VT", ET, NULL, 0},
    {"VA", ET, NULL, 0},
    {"WA", PT, NULL, 0},
    {"WV", ET, NULL, 0},
    {"WI", CT, NULL, 0},
    {"WY", MT, NULL, 0},
    {"PR", ZONE(TZ_PUERTO_RICO), NULL, 0},
    {"VI", ZONE(TZ_ST_THOMAS), NULL, 0},
    {"GU", ZONE(TZ_GUAM), NULL, 0},
    {"AS", ZONE(TZ_PAGO_PAGO), NULL, 0},
    {"MP", ZONE(TZ_SAIPAN), NULL, 0},
    {"AA", 0, NULL, 0},
    {"AE", 0, NULL, 0},
    {"AP", 0, NULL, 0},
};

static const state_zones *find_state(span t)
{
    if (t.n != 2)
        return NULL;
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        if (to_upper(t.p[0]) == states[i].code[0] && to_upper(t.p[1]) == states[i].code[1])
            return &states[i];
    }
    return NULL;
}

arr_err ingest_parse_state(const char *text, char out[3], char *why, size_t whylen)
{
    const state_zones *s = find_state(trimmed(text));
    if (!s) {
        arr_errbuf_set(why, whylen, "not a USPS state or territory code");
        return ARR_EINVAL;
    }
    memcpy(out, s->code, 3);
    return ARR_OK;
}

static int all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return 0;
    }
    return 1;
}

/* A ZIP code keeps its leading zeros: a 4-digit "2134" is Boston's 02134 after a
 * spreadsheet ate the zero, but guessing that is the creditor's call, not ours. */
arr_err ingest_parse_zip(const char *text, char out[11], char *why, size_t whylen)
{
    span t = trimmed(text);
    int ok = (t.n == 5 && all_digits(t.p, 5)) || (t.n == 9 && all_digits(t.p, 9)) ||
             (t.n == 10 && all_digits(t.p, 5) && t.p[5] == '-' && all_digits(t.p + 6, 4));
    if (!ok) {
        arr_errbuf_set(why, whylen, "ZIP code must be 12345 or 12345-6789");
        return ARR_EINVAL;
    }
    memcpy(out, t.p, 5);
    out[5] = '\0';
    if (t.n > 5) {
        out[5] = '-';
        memcpy(out + 6, t.p + t.n - 4, 4);
        out[10] = '\0';
    }
    return ARR_OK;
}

/* ----------------------------------------------------------------------------- zones */

/* Canonical US names first, then the finer US zones a creditor may already store (equal to
 * one of the above for current dates) and common zones of other countries. "UTC" is left
 * out on purpose: no consumer lives in UTC, and a creditor sending it means "unknown". */
static const char *const known_zones[] = {
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "America/Adak", "Pacific/Honolulu",
    "America/Puerto_Rico", "America/St_Thomas", "Pacific/Guam", "Pacific/Pago_Pago",
    "Pacific/Saipan", "America/Detroit", "America/Indiana/Indianapolis", "America/Indiana/Knox",
    "America/Indiana/Marengo", "America/Indiana/Petersburg", "America/Indiana/Tell_City",
    "America/Indiana/Vevay", "America/Indiana/Vincennes", "America/Indiana/Winamac",
    "America/Kentucky/Louisville", "America/Kentucky/Monticello", "America/Menominee",
    "America/North_Dakota/Center", "America/North_Dakota/New_Salem", "America/North_Dakota/Beulah",
    "America/Boise", "America/Juneau", "America/Sitka", "America/Yakutat", "America/Nome",
    "America/Metlakatla",
    /* Canada, Mexico, Caribbean, Central and South America */
    "America/Toronto", "America/Vancouver", "America/Edmonton", "America/Winnipeg",
    "America/Regina", "America/Halifax", "America/St_Johns", "America/Mexico_City",
    "America/Tijuana", "America/Monterrey", "America/Cancun", "America/Guatemala",
    "America/El_Salvador", "America/Tegucigalpa", "America/Santo_Domingo", "America/Jamaica",
    "America/Bogota", "America/Lima", "America/Caracas", "America/Santiago", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    /* Europe, Asia, Oceania, Africa */
    "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Madrid", "Europe/Paris",
    "Europe/Berlin", "Europe/Amsterdam", "Europe/Rome", "Europe/Warsaw", "Europe/Athens",
    "Europe/Kiev", "Europe/Moscow", "Asia/Manila", "Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo",
    "Asia/Seoul", "Asia/Ho_Chi_Minh", "Asia/Dubai", "Asia/Jerusalem", "Australia/Sydney",
    "Pacific/Auckland", "Africa/Lagos", "Africa/Johannesburg", NULL};

int ingest_timezone_known(const char *tz)
{
    if (!tz)
        return 0;
    for (const char *const *z = known_zones; *z; z++) {
        if (strcmp(tz, *z) == 0)
            return 1;
    }
    return 0;
}

/* The 5-digit ZIP as a number, or -1 when the text is not a valid ZIP. */
static long zip5(const char *zip)
{
    char norm[11];
    if (ingest_parse_zip(zip, norm, NULL, 0) != ARR_OK)
        return -1;
    long v = 0;
    for (int i = 0; i < 5; i++)
        v = v * 10 + (norm[i] - '0');
    return v;
}

static unsigned zones_for_zip(const state_zones *s, const char *zip)
{
    long z = s->n_rules ? zip5(zip) : -1;
    for (size_t i = 0; z >= 0 && i < s->n_rules; i++) {
        if (z >= s->rules[i].lo && z <= s->rules[i].hi)
            return s->rules[i].zones;
    }
    return s->zones;
}

/* When out has room for fewer names than the address needs, nothing is filled and 0 comes
 * back: a truncated list would silently drop a zone the contact rules must respect, while
 * 0 sends the caller to its unknown-zone handling, which is the strict one. */
int ingest_timezones_for(const char *state, const char *zip, char (*out)[40], int max)
{
    const state_zones *s = find_state(trimmed(state));
    if (!s || !out || max <= 0)
        return 0;
    unsigned zones = zones_for_zip(s, zip);
    int n = 0;
    for (int z = 0; z < TZ__COUNT; z++)
        n += (zones >> z) & 1u;
    if (n > max)
        return 0;
    n = 0;
    for (int z = 0; z < TZ__COUNT; z++) {
        if (zones & (1u << z)) {
            size_t len = strlen(us_zone_names[z]);
            memcpy(out[n], us_zone_names[z], len + 1);
            n++;
        }
    }
    return n;
}
