/* ingest_validate: one raw record -> an ingest_record and a verdict. The fields are checked
 * in a fixed order (the order of ingest_field, with the country before the state and ZIP it
 * governs) and the first error rejects the record, so the same bad export always gets the
 * same reason. Details never repeat personal values: rejects are kept and shown to people
 * who need not see a consumer's e-mail or phone number to fix the export. */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "arrears/jsonw.h"
#include "fields.h"

/* The currencies our tenants bill in today: all have 2 minor digits, which the amount
 * parser assumes. A new one is a deliberate change. */
static const char *const currencies[] = {"USD", "CAD", "MXN", "EUR", "GBP", NULL};
static const char *const regimes[] = {"creditor", "third_party", NULL};
static const char *const service_types[] = {"electricity", "gas",   "water", "telecom",
                                            "medical",     "other", NULL};

/* Credit bureaus do not report medical collections whose original balance is under $500. */
#define MEDICAL_REPORT_MIN_CENTS 50000

typedef struct vctx {
    const ingest_raw *raw;
    const ingest_mapping *m;
    ingest_record *r;
    ingest_verdict *v;
} vctx;

/* ------------------------------------------------------------------ verdict */

static const char *field_name(ingest_field f)
{
    const char *n = ingest_field_name(f);
    return n ? n : "unknown";
}

/* Records the rejection; returns -1 so a check can `return reject(...)`. */
static int reject(vctx *c, const char *code, ingest_field f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int reject(vctx *c, const char *code, ingest_field f, const char *fmt, ...)
{
    ingest_issue *is = &c->v->reject;
    c->v->accepted = 0;
    is->code = code;
    snprintf(is->field, sizeof(is->field), "%s", field_name(f));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->detail, sizeof(is->detail), fmt, ap);
    va_end(ap);
    return -1;
}

/* field may be "" for a warning about the whole record. */
static void warn(vctx *c, const char *code, const char *field, const char *detail)
{
    if (c->v->n_warnings >= INGEST_MAX_WARNINGS)
        return; /* the record can produce at most 6; the cap only guards the array */
    ingest_issue *is = &c->v->warnings[c->v->n_warnings++];
    is->code = code;
    snprintf(is->field, sizeof(is->field), "%s", field);
    snprintf(is->detail, sizeof(is->detail), "%s", detail);
}

/* ------------------------------------------------------------------ text helpers */

static int blank_char(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* The text without surrounding blanks: start in the return value, length in *n. */
static const char *trimmed(const char *s, size_t *n)
{
    while (blank_char(*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && blank_char(s[len - 1]))
        len--;
    *n = len;
    return s;
}

static int blank(const char *s)
{
    size_t n;
    return !s || (trimmed(s, &n), n == 0);
}

/* The value of f: the export's text, else the mapping's default, else NULL. A blank value
 * counts as absent: a CSV export writes an empty cell where it has nothing to say. */
static const char *value_of(const vctx *c, ingest_field f)
{
    const char *s = c->raw->v[f];
    if (blank(s) && c->m)
        s = c->m->defaults[f];
    return blank(s) ? NULL : s;
}

/* Copies the trimmed value of f into out. 0: absent (out is ""); 1: copied; -1: rejected
 * with `code` because it does not fit (too_long for free text; for a code such as a currency
 * an over-long value is simply not a valid code). */
static int take(vctx *c, ingest_field f, char *out, size_t outlen, const char *code)
{
    out[0] = '\0';
    const char *s = value_of(c, f);
    if (!s)
        return 0;
    size_t n;
    const char *p = trimmed(s, &n);
    if (n >= outlen) {
        if (strcmp(code, "too_long") == 0)
            return reject(c, code, f, "is longer than %zu bytes", outlen - 1);
        return reject(c, code, f, "is not a recognised value");
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static int take_text(vctx *c, ingest_field f, char *out, size_t outlen)
{
    return take(c, f, out, outlen, "too_long");
}

static void ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static void ascii_upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
}

static int two_letters(const char *s)
{
    for (int i = 0; i < 2; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return 0;
    }
    return s[2] == '\0';
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* A required value that must be one of `list` (compared case-insensitively, stored in the
 * list's case by the caller's normalise). */
static int take_choice(vctx *c, ingest_field f, char *out, size_t outlen, const char *const *list,
                       void (*normalise)(char *), const char *code, const char *detail)
{
    int got = take(c, f, out, outlen, code);
    if (got < 0)
        return -1;
    if (got == 0)
        return reject(c, "missing_field", f, "is required");
    normalise(out);
    if (!in_list(out, list))
        return reject(c, code, f, "%s", detail);
    return 0;
}

/* ------------------------------------------------------------------ parser settings */

static ingest_amount_opts amount_opts(const vctx *c)
{
    if (c->m)
        return c->m->amount;
    return (ingest_amount_opts){INGEST_AMOUNT_DECIMAL, '.', 0, 0};
}

static const char *date_format(const vctx *c)
{
    return c->m && c->m->date_format[0] ? c->m->date_format : "%Y-%m-%d";
}

/* An optional (required = 0) or required date in the mapping's format. */
static int take_date(vctx *c, ingest_field f, char out[11], int required)
{
    const char *s = value_of(c, f);
    out[0] = '\0';
    if (!s)
        return required ? reject(c, "missing_field", f, "is required") : 0;
    char why[96] = "";
    if (ingest_parse_date(s, date_format(c), out, why, sizeof why) != ARR_OK)
        return reject(c, "bad_date", f, "is not a valid date in the format %s: %s", date_format(c),
                      why);
    return 0;
}

static int take_amount(vctx *c, ingest_field f, int64_t *cents)
{
    ingest_amount_opts o = amount_opts(c);
    char why[96] = "";
    if (ingest_parse_amount(value_of(c, f), &o, cents, why, sizeof why) != ARR_OK)
        return reject(c, "bad_amount", f, "is not a valid amount: %s", why);
    return 0;
}

/* ------------------------------------------------------------------ field groups */

static int check_account(vctx *c)
{
    char *id = c->r->account_id;
    int got = take_text(c, IF_ACCOUNT_ID, id, sizeof(c->r->account_id));
    if (got < 0)
        return -1;
    if (got == 0)
        return reject(c, "missing_account_id", IF_ACCOUNT_ID, "is required");
    if (!arr_account_valid(id))
        return reject(c, "bad_account_id", IF_ACCOUNT_ID,
                      "must be printable ASCII characters without spaces");
    return 0;
}

static int check_terms(vctx *c)
{
    if (take_choice(c, IF_REGIME, c->r->regime, sizeof(c->r->regime), regimes, ascii_lower,
                    "bad_regime", "must be creditor or third_party") < 0)
        return -1;
    return take_choice(c, IF_CURRENCY, c->r->currency, sizeof(c->r->currency), currencies,
                       ascii_upper, "unknown_currency", "must be one of USD CAD MXN EUR GBP");
}

static int check_amounts(vctx *c)
{
    ingest_record *r = c->r;
    if (!value_of(c, IF_BALANCE))
        return reject(c, "missing_field", IF_BALANCE, "is required");
    if (take_amount(c, IF_BALANCE, &r->balance_cents) < 0)
        return -1;
    if (!value_of(c, IF_ORIGINAL_BALANCE)) {
        /* Not given: the debt has not moved since it arose. A credit's original debt is
         * unknown; 0 rather than a negative "original debt" that cannot exist. */
        r->original_balance_cents = r->balance_cents > 0 ? r->balance_cents : 0;
        return 0;
    }
    if (take_amount(c, IF_ORIGINAL_BALANCE, &r->original_balance_cents) < 0)
        return -1;
    if (r->original_balance_cents < 0)
        return reject(c, "bad_amount", IF_ORIGINAL_BALANCE, "must not be negative");
    return 0;
}

static int check_debt(vctx *c)
{
    ingest_record *r = c->r;
    if (take_text(c, IF_INVOICE_ID, r->invoice_id, sizeof(r->invoice_id)) < 0 ||
        take_date(c, IF_ISSUE_DATE, r->issue_date, 0) < 0 ||
        take_date(c, IF_DUE_DATE, r->due_date, 1) < 0)
        return -1;
    if (take_choice(c, IF_SERVICE_TYPE, r->service_type, sizeof(r->service_type), service_types,
                    ascii_lower, "bad_service_type",
                    "must be electricity, gas, water, telecom, medical or other") < 0)
        return -1;
    return take_text(c, IF_DEBTOR_REF, r->debtor_ref, sizeof(r->debtor_ref)) < 0 ? -1 : 0;
}

static int check_names(vctx *c)
{
    ingest_debtor *d = &c->r->debtor;
    if (take_text(c, IF_FIRST_NAME, d->first_name, sizeof(d->first_name)) < 0)
        return -1;
    return take_text(c, IF_LAST_NAME, d->last_name, sizeof(d->last_name)) < 0 ? -1 : 0;
}

static int check_emails(vctx *c)
{
    static const ingest_field fields[INGEST_MAX_EMAILS] = {IF_EMAIL, IF_EMAIL2};
    ingest_debtor *d = &c->r->debtor;
    for (int i = 0; i < INGEST_MAX_EMAILS; i++) {
        const char *s = value_of(c, fields[i]);
        if (!s)
            continue;
        ingest_email *e = &d->emails[d->n_emails];
        char why[96];
        if (ingest_parse_email(s, e->address, why, sizeof why) != ARR_OK)
            return reject(c, "bad_email", fields[i], "is not a valid email address");
        int dup = 0;
        for (int k = 0; k < d->n_emails; k++)
            dup |= strcmp(d->emails[k].address, e->address) == 0;
        if (dup) {
            memset(e, 0, sizeof(*e)); /* one address, one entry: outreach sends once */
            continue;
        }
        /* No consent column exists yet: an address given by the creditor may be written to
         * (every message still carries the opt-out that Regulation F requires). */
        e->consent = 1;
        d->n_emails++;
    }
    return 0;
}

/* The raw fields of one phone; a third is one more row of the table below. */
typedef struct phone_fields {
    ingest_field number, type, sms, voice;
} phone_fields;

static const phone_fields phone_table[] = {
    {IF_PHONE, IF_PHONE_TYPE, IF_PHONE_SMS_CONSENT, IF_PHONE_VOICE_CONSENT},
    {IF_PHONE2, IF_PHONE2_TYPE, IF_PHONE2_SMS_CONSENT, IF_PHONE2_VOICE_CONSENT},
};

/* A consent flag: absent means no consent (the TCPA needs it given, not presumed). */
static int take_consent(vctx *c, ingest_field f, int *out)
{
    const char *s = value_of(c, f);
    *out = 0;
    if (!s)
        return 0;
    char why[96] = "";
    if (ingest_parse_bool(s, out, why, sizeof why) != ARR_OK)
        return reject(c, "bad_bool", f, "must be yes/no, true/false, y/n or 1/0");
    return 0;
}

static int parse_phone(vctx *c, const phone_fields *pf, ingest_phone *p)
{
    char why[96] = "";
    if (ingest_parse_phone(value_of(c, pf->number), p->e164, why, sizeof why) != ARR_OK)
        return reject(c, "bad_phone", pf->number, "is not a valid phone number");
    /* An unknown line type is taken as mobile: the TCPA's consent rules for mobiles are the
     * stricter ones, so the assumption never permits a call or text a mobile would forbid. */
    int landline = 0;
    const char *type = value_of(c, pf->type);
    if (type && ingest_parse_phone_type(type, &landline, why, sizeof why) != ARR_OK)
        return reject(c, "bad_phone_type", pf->type, "must be mobile or landline");
    p->type = landline ? INGEST_PHONE_LANDLINE : INGEST_PHONE_MOBILE;
    if (take_consent(c, pf->sms, &p->sms_consent) < 0 ||
        take_consent(c, pf->voice, &p->voice_consent) < 0)
        return -1;
    if (p->type == INGEST_PHONE_LANDLINE && p->sms_consent) {
        /* Consent to texts only means something for a number that can receive them. */
        p->sms_consent = 0;
        warn(c, "landline_sms_consent", field_name(pf->sms),
             "a landline was marked for SMS: consent not carried");
    }
    return 0;
}

/* The same number twice keeps one entry with the consents both rows agree on: a "no" in
 * either is the consumer's word and must win. */
static int merge_duplicate_phone(ingest_debtor *d, const ingest_phone *p)
{
    for (int k = 0; k < d->n_phones; k++) {
        ingest_phone *q = &d->phones[k];
        if (strcmp(q->e164, p->e164) == 0) {
            q->sms_consent = q->sms_consent && p->sms_consent;
            q->voice_consent = q->voice_consent && p->voice_consent;
            return 1;
        }
    }
    return 0;
}

static int check_phones(vctx *c)
{
    ingest_debtor *d = &c->r->debtor;
    size_t n = sizeof(phone_table) / sizeof(phone_table[0]);
    for (size_t i = 0; i < n && d->n_phones < INGEST_MAX_PHONES; i++) {
        if (!value_of(c, phone_table[i].number))
            continue; /* type and consent of an absent number describe nothing */
        ingest_phone p;
        memset(&p, 0, sizeof p);
        if (parse_phone(c, &phone_table[i], &p) < 0)
            return -1;
        if (!merge_duplicate_phone(d, &p))
            d->phones[d->n_phones++] = p;
    }
    return 0;
}

static int is_us(const ingest_address *a)
{
    return strcmp(a->country, "US") == 0;
}

/* ISO 3166 alpha-2, upper case; "US" when not given. "USA" is common enough in billing
 * exports to accept as it is meant. */
static int check_country(vctx *c, ingest_address *a)
{
    char buf[8];
    int got = take(c, IF_COUNTRY, buf, sizeof buf, "bad_country");
    if (got < 0)
        return -1;
    if (got == 0 || strcasecmp(buf, "USA") == 0)
        snprintf(buf, sizeof buf, "US");
    if (!two_letters(buf))
        return reject(c, "bad_country", IF_COUNTRY, "must be an ISO 3166 two-letter code");
    ascii_upper(buf);
    memcpy(a->country, buf, 3);
    return 0;
}

/* US: USPS state and ZIP, checked (they decide the time zone). Elsewhere the province and
 * postal code are kept as given: we do not know their rules and derive nothing from them. */
static int check_state_zip(vctx *c, ingest_address *a)
{
    if (!is_us(a)) {
        if (take_text(c, IF_STATE, a->state, sizeof(a->state)) < 0)
            return -1;
        return take_text(c, IF_ZIP, a->zip, sizeof(a->zip)) < 0 ? -1 : 0;
    }
    char why[96] = "";
    const char *state = value_of(c, IF_STATE), *zip = value_of(c, IF_ZIP);
    if (state && ingest_parse_state(state, a->state, why, sizeof why) != ARR_OK)
        return reject(c, "bad_state", IF_STATE, "is not a USPS state or territory code");
    if (zip && ingest_parse_zip(zip, a->zip, why, sizeof why) != ARR_OK)
        return reject(c, "bad_zip", IF_ZIP, "must be 12345 or 12345-6789");
    return 0;
}

static int check_address(vctx *c)
{
    ingest_address *a = &c->r->debtor.address;
    if (take_text(c, IF_ADDRESS_LINE1, a->line1, sizeof(a->line1)) < 0 ||
        take_text(c, IF_ADDRESS_LINE2, a->line2, sizeof(a->line2)) < 0 ||
        take_text(c, IF_CITY, a->city, sizeof(a->city)) < 0 || check_country(c, a) < 0)
        return -1;
    return check_state_zip(c, a);
}

/* A given zone is the only one. Otherwise the zones a US address may be in; several mean a
 * contact time must suit all of them, none means the contact rules must assume the worst. */
static int check_timezone(vctx *c)
{
    ingest_debtor *d = &c->r->debtor;
    char tz[sizeof(d->timezones[0])];
    int got = take(c, IF_TIMEZONE, tz, sizeof tz, "bad_timezone");
    if (got < 0)
        return -1;
    if (got > 0) {
        if (!ingest_timezone_known(tz))
            return reject(c, "bad_timezone", IF_TIMEZONE, "is not a known IANA time zone");
        memcpy(d->timezones[0], tz, sizeof tz);
        d->n_timezones = 1;
        return 0;
    }
    const ingest_address *a = &d->address;
    if (is_us(a) && a->state[0])
        d->n_timezones = ingest_timezones_for(a->state, a->zip, d->timezones, INGEST_MAX_TZ);
    if (d->n_timezones <= 0) {
        d->n_timezones = 0;
        warn(c, "timezone_unknown", "timezone", "no time zone given or derivable");
        return 0;
    }
    d->tz_derived = 1;
    warn(c, "timezone_derived", "timezone", "derived from the address");
    if (d->n_timezones > 1)
        warn(c, "timezone_ambiguous", "timezone", "several zones: contact must suit all");
    return 0;
}

/* A two-letter ISO 639-1 code, lower case; English unless told otherwise. */
static int check_language(vctx *c)
{
    char *lang = c->r->debtor.language;
    int got = take(c, IF_LANGUAGE, lang, sizeof(c->r->debtor.language), "bad_language");
    if (got < 0)
        return -1;
    if (got == 0)
        snprintf(lang, sizeof(c->r->debtor.language), "en");
    if (!two_letters(lang))
        return reject(c, "bad_language", IF_LANGUAGE, "must be a two-letter language code");
    ascii_lower(lang);
    return 0;
}

/* A count: digits only, at most 9 of them (fits an int). -1 when absent. */
static int take_count(vctx *c, ingest_field f, int *out)
{
    const char *s = value_of(c, f);
    *out = -1;
    if (!s)
        return 0;
    size_t n;
    const char *p = trimmed(s, &n);
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || n > 9)
            return reject(c, "bad_number", f, "must be a whole number from 0 to 999999999");
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static int check_profile(vctx *c)
{
    ingest_profile *pr = &c->r->profile;
    if (take_count(c, IF_TENURE_MONTHS, &pr->tenure_months) < 0)
        return -1;
    const char *autopay = value_of(c, IF_AUTOPAY);
    pr->autopay = -1;
    char why[96] = "";
    if (autopay && ingest_parse_bool(autopay, &pr->autopay, why, sizeof why) != ARR_OK)
        return reject(c, "bad_bool", IF_AUTOPAY, "must be yes/no, true/false, y/n or 1/0");
    if (take_count(c, IF_PRIOR_DELINQUENCIES, &pr->prior_delinquencies) < 0)
        return -1;
    return take_count(c, IF_PAYMENTS_12M, &pr->payments_12m);
}

/* ------------------------------------------------------------------ derived values */

static const char *aging_bucket(int days)
{
    if (days <= 0)
        return "current";
    if (days <= 30)
        return "1-30";
    if (days <= 60)
        return "31-60";
    if (days <= 90)
        return "61-90";
    if (days <= 180)
        return "91-180";
    return "180+";
}

static void derive(vctx *c, const char *as_of)
{
    ingest_record *r = c->r;
    int days = as_of ? ingest_days_between(r->due_date, as_of) : 0;
    r->days_past_due = days > 0 ? days : 0; /* not yet due counts as current */
    r->aging_bucket = aging_bucket(r->days_past_due);
    r->medical_no_report = strcmp(r->service_type, "medical") == 0 &&
                           r->original_balance_cents < MEDICAL_REPORT_MIN_CENTS;
}

static void record_warnings(vctx *c)
{
    const ingest_record *r = c->r;
    if (r->debtor.n_emails == 0 && r->debtor.n_phones == 0)
        warn(c, "no_contact_point", "", "no email address and no phone number");
    if (r->original_balance_cents < r->balance_cents)
        warn(c, "original_below_balance", field_name(IF_ORIGINAL_BALANCE),
             "the original balance is below the current balance");
}

typedef int (*check_fn)(vctx *c);

/* The fixed order of the checks: the first failing one decides the reason. */
static const check_fn checks[] = {check_account,  check_terms,    check_amounts, check_debt,
                                  check_names,    check_emails,   check_phones,  check_address,
                                  check_timezone, check_language, check_profile};

void ingest_validate(const ingest_raw *raw, const ingest_mapping *m, const char *as_of,
                     ingest_record *out, ingest_verdict *v)
{
    memset(out, 0, sizeof(*out));
    memset(v, 0, sizeof(*v));
    out->profile = (ingest_profile){-1, -1, -1, -1};
    out->aging_bucket = "current";
    vctx c = {raw, m, out, v};
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        if (checks[i](&c) < 0) {
            v->n_warnings = 0; /* a rejected record carries its reason only */
            return;
        }
    }
    derive(&c, as_of);
    record_warnings(&c);
    v->accepted = 1;
}

/* ------------------------------------------------------------------ payload text */

/* The same payload written straight to text, keys sorted at every level (so it is also the
 * canonical form the hash needs): the importer's hot path, where a jansson tree per record
 * cost more than reading and validating it. */
static void w_text(arr_jsonw *w, const char *key, const char *s)
{
    if (s[0]) {
        arr_jsonw_key(w, key);
        arr_jsonw_string(w, s);
    }
}

static void w_int(arr_jsonw *w, const char *key, long long v)
{
    arr_jsonw_key(w, key);
    arr_jsonw_int(w, v);
}

static void w_bool(arr_jsonw *w, const char *key, int v)
{
    arr_jsonw_key(w, key);
    arr_jsonw_bool(w, v);
}

static void w_count(arr_jsonw *w, const char *key, int v)
{
    if (v >= 0)
        w_int(w, key, v);
}

static void w_address(arr_jsonw *w, const ingest_address *ad)
{
    arr_jsonw_key(w, "address");
    arr_jsonw_object_begin(w);
    w_text(w, "city", ad->city);
    w_text(w, "country", ad->country);
    w_text(w, "line1", ad->line1);
    w_text(w, "line2", ad->line2);
    w_text(w, "state", ad->state);
    w_text(w, "zip", ad->zip);
    arr_jsonw_object_end(w);
}

static void w_debtor(arr_jsonw *w, const ingest_debtor *d)
{
    arr_jsonw_key(w, "debtor");
    arr_jsonw_object_begin(w);
    w_address(w, &d->address);
    arr_jsonw_key(w, "emails");
    arr_jsonw_array_begin(w);
    for (int i = 0; i < d->n_emails; i++) {
        arr_jsonw_object_begin(w);
        w_text(w, "address", d->emails[i].address);
        w_bool(w, "consent", d->emails[i].consent);
        arr_jsonw_object_end(w);
    }
    arr_jsonw_array_end(w);
    w_text(w, "first_name", d->first_name);
    w_text(w, "language", d->language);
    w_text(w, "last_name", d->last_name);
    arr_jsonw_key(w, "phones");
    arr_jsonw_array_begin(w);
    for (int i = 0; i < d->n_phones; i++) {
        const ingest_phone *p = &d->phones[i];
        arr_jsonw_object_begin(w);
        w_text(w, "number", p->e164);
        w_bool(w, "sms_consent", p->sms_consent);
        w_text(w, "type", p->type == INGEST_PHONE_LANDLINE ? "landline" : "mobile");
        w_bool(w, "voice_consent", p->voice_consent);
        arr_jsonw_object_end(w);
    }
    arr_jsonw_array_end(w);
    w_bool(w, "timezone_derived", d->tz_derived);
    arr_jsonw_key(w, "timezones");
    arr_jsonw_array_begin(w);
    for (int i = 0; i < d->n_timezones; i++)
        arr_jsonw_string(w, d->timezones[i]);
    arr_jsonw_array_end(w);
    arr_jsonw_object_end(w);
}

static void w_profile(arr_jsonw *w, const ingest_profile *p)
{
    arr_jsonw_key(w, "profile");
    arr_jsonw_object_begin(w);
    if (p->autopay >= 0)
        w_bool(w, "autopay", p->autopay);
    w_count(w, "payments_12m", p->payments_12m);
    w_count(w, "prior_delinquencies", p->prior_delinquencies);
    w_count(w, "tenure_months", p->tenure_months);
    arr_jsonw_object_end(w);
}

/* cut[] gets where the two moving members (aging_bucket, days_past_due) start and end in
 * out, so the hash can leave them out without writing the payload twice. */
static arr_err write_payload(const ingest_record *r, arr_buf *out, size_t cut[4])
{
    arr_jsonw w;
    arr_jsonw_init(&w, out);
    arr_jsonw_object_begin(&w);
    w_text(&w, "account_id", r->account_id);
    cut[0] = out->len;
    w_text(&w, "aging_bucket", r->aging_bucket ? r->aging_bucket : "current");
    cut[1] = out->len;
    w_int(&w, "balance_cents", r->balance_cents);
    w_text(&w, "currency", r->currency);
    cut[2] = out->len;
    w_int(&w, "days_past_due", r->days_past_due);
    cut[3] = out->len;
    w_debtor(&w, &r->debtor);
    w_text(&w, "debtor_ref", r->debtor_ref);
    w_text(&w, "due_date", r->due_date);
    w_text(&w, "invoice_id", r->invoice_id);
    w_text(&w, "issue_date", r->issue_date);
    w_bool(&w, "medical_no_report", r->medical_no_report);
    w_int(&w, "original_balance_cents", r->original_balance_cents);
    w_profile(&w, &r->profile);
    w_text(&w, "regime", r->regime);
    w_text(&w, "service_type", r->service_type);
    arr_jsonw_object_end(&w);
    return arr_jsonw_finish(&w);
}

/* A member written first has no comma before it but one after: that one goes instead. */
static void cut_member(const char *text, size_t *from, size_t *to)
{
    if (text[*from] != ',' && text[*to] == ',')
        (*to)++;
}

/* SHA-256, fetched once: EVP_sha256() would look the implementation up again on every
 * digest, which cost a fifth of the hash. Shared by the threads (it is immutable), each
 * digest with a context of its own. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 of the payload without the moving members, the three pieces in turn (OpenSSL's:
 * it uses the CPU's SHA instructions, three times faster than libsodium's portable code on
 * the hot path). ARR_ENOMEM when OpenSSL fails. */
static arr_err hash_without_moving(const char *text, size_t len, size_t cut[4], char hash[65])
{
    cut_member(text, &cut[0], &cut[1]);
    cut_member(text, &cut[2], &cut[3]);
    const size_t piece[3][2] = {{0, cut[0]}, {cut[1], cut[2]}, {cut[3], len}};
    pthread_once(&sha256_once, sha256_fetch);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char h[SHA256_DIGEST_LENGTH];
    unsigned int hlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, sha256_md ? sha256_md : EVP_sha256(), NULL) == 1;
    for (int i = 0; ok && i < 3; i++)
        ok = EVP_DigestUpdate(ctx, text + piece[i][0], piece[i][1] - piece[i][0]) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, h, &hlen) == 1 && hlen == sizeof(h);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ARR_ENOMEM;
    sodium_bin2hex(hash, 65, h, sizeof(h));
    return ARR_OK;
}

arr_err ingest_record_payload_text(const ingest_record *r, arr_buf *out, char hash[65])
{
    size_t start = out->len, cut[4];
    arr_err e = write_payload(r, out, cut);
    if (!e && out->len - start > INGEST_PAYLOAD_MAX)
        e = ARR_ELIMIT;
    if (!e) {
        for (int i = 0; i < 4; i++)
            cut[i] -= start;
        e = hash_without_moving(out->data + start, out->len - start, cut, hash);
    }
    if (e)
        arr_buf_truncate(out, start);
    return e;
}

arr_err ingest_warnings_text(const ingest_verdict *v, arr_buf *out)
{
    if (v->n_warnings == 0)
        return ARR_OK;
    size_t start = out->len;
    arr_jsonw w;
    arr_jsonw_init(&w, out);
    arr_jsonw_array_begin(&w);
    for (int i = 0; i < v->n_warnings; i++) {
        const ingest_issue *iss = &v->warnings[i];
        arr_jsonw_object_begin(&w);
        w_text(&w, "code", iss->code);
        w_text(&w, "detail", iss->detail);
        w_text(&w, "field", iss->field);
        arr_jsonw_object_end(&w);
    }
    arr_jsonw_array_end(&w);
    arr_err e = arr_jsonw_finish(&w);
    if (e)
        arr_buf_truncate(out, start);
    return e;
}

/* Payload keys that move with the export date (or describe an update rather than the
 * account): they neither make a record "changed" nor belong in its hash. */
static const char *const moving_keys[] = {"days_past_due", "aging_bucket", "changes",
                                          "previous_balance_cents", NULL};

void ingest_payload_hash(json_t *payload, char out[65])
{
    out[0] = '\0';                  /* only on allocation failure */
    json_t *p = json_copy(payload); /* shallow: the two keys go, nothing else is copied */
    if (!p)
        return;
    json_object_del(p, "days_past_due");
    json_object_del(p, "aging_bucket");
    char *text = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(p);
    if (!text)
        return;
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), h);
    free(text);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

void ingest_record_hash(const ingest_record *r, char out[65])
{
    out[0] = '\0';
    arr_buf b;
    arr_buf_init(&b, INGEST_PAYLOAD_MAX);
    if (ingest_record_payload_text(r, &b, out) != ARR_OK)
        out[0] = '\0';
    arr_buf_free(&b);
}

json_t *ingest_record_payload(const ingest_record *r)
{
    arr_buf b;
    arr_buf_init(&b, INGEST_PAYLOAD_MAX);
    char hash[65];
    json_t *p = NULL;
    if (ingest_record_payload_text(r, &b, hash) == ARR_OK)
        p = json_loadb(b.data, b.len, 0, NULL);
    arr_buf_free(&b);
    return p;
}

/* Adds prefix+key to the sorted list (kept sorted by inserting in place: it is short). */
static void note_change(json_t *list, const char *prefix, const char *key)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s", prefix, key);
    size_t i = 0;
    while (i < json_array_size(list) &&
           strcmp(json_string_value(json_array_get(list, i)), name) < 0)
        i++;
    json_array_insert_new(list, i, json_string(name));
}

/* Keys of a that differ in b (or are missing from b), then keys only in b. At the top level
 * the moving keys are skipped and the debtor is compared key by key. */
static void diff_objects(json_t *list, json_t *a, json_t *b, const char *prefix, int top)
{
    const char *key;
    json_t *va, *vb;
    json_object_foreach(a, key, va)
    {
        if (top && in_list(key, moving_keys))
            continue;
        vb = json_object_get(b, key);
        if (top && strcmp(key, "debtor") == 0 && json_is_object(va) && json_is_object(vb))
            diff_objects(list, va, vb, "debtor.", 0);
        else if (!vb || !json_equal(va, vb))
            note_change(list, prefix, key);
    }
    json_object_foreach(b, key, vb)
    {
        if (!(top && in_list(key, moving_keys)) && !json_object_get(a, key))
            note_change(list, prefix, key);
    }
}

json_t *ingest_payload_changes(json_t *before, json_t *after)
{
    json_t *list = json_array();
    if (list)
        diff_objects(list, before, after, "", 1);
    return list;
}
