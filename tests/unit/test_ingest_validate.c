/* Unit tests of services/ingest/validate.c: raw records -> verdicts (reason code and field,
 * warnings), the normalised record, the derived aging values, the account payload, its hash
 * and the list of changes between two payloads. Expected values are worked out here from the
 * contract (validate.h, record.h, proto/schemas/account.placed.schema.json), never read back
 * from the code. Inputs are mostly already in normal form, so that these tests do not
 * restate the field parsers' own tests. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "validate.h"

#define AS_OF "2026-02-14" /* the export date: 2026-01-15 is 30 days before it */

/* One override of the base record: text, or NULL to make the field absent. `on` tells a
 * used entry from the zeroed rest of a table row. */
typedef struct kv {
    int on;
    ingest_field f;
    const char *v;
} kv;
#define SET(field, text)                                                                           \
    {                                                                                              \
        1, field, text                                                                             \
    }
#define DROP(field)                                                                                \
    {                                                                                              \
        1, field, NULL                                                                             \
    }
#define MAX_KV 4

#define A10 "AAAAAAAAAA"
#define A64 A10 A10 A10 A10 A10 A10 "AAAA"
#define A65 A64 "A"
#define A128 A64 A64
#define A129 A128 "A"

/* A valid record with a given time zone, so that it draws no warning at all. */
static void base_raw(ingest_raw *raw)
{
    memset(raw, 0, sizeof(*raw));
    raw->line = 2;
    raw->v[IF_ACCOUNT_ID] = "ACC-1001";
    raw->v[IF_BALANCE] = "123.45";
    raw->v[IF_DUE_DATE] = "2026-01-15";
    raw->v[IF_SERVICE_TYPE] = "water";
    raw->v[IF_FIRST_NAME] = "Jane";
    raw->v[IF_LAST_NAME] = "Doe";
    raw->v[IF_EMAIL] = "jane.doe@example.com";
    raw->v[IF_PHONE] = "+15125550100";
    raw->v[IF_PHONE_TYPE] = "mobile";
    raw->v[IF_PHONE_SMS_CONSENT] = "yes";
    raw->v[IF_PHONE_VOICE_CONSENT] = "no";
    raw->v[IF_ADDRESS_LINE1] = "1 Main St";
    raw->v[IF_CITY] = "Austin";
    raw->v[IF_STATE] = "TX";
    raw->v[IF_ZIP] = "78701";
    raw->v[IF_TIMEZONE] = "America/Chicago";
}

static void apply(ingest_raw *raw, const kv *set, int n)
{
    for (int i = 0; i < n; i++)
        if (set[i].on)
            raw->v[set[i].f] = set[i].v;
}

static ingest_mapping *identity(void)
{
    ingest_mapping *m = NULL;
    cr_assert_eq(ingest_mapping_identity(INGEST_CSV, &m), ARR_OK);
    return m;
}

/* A mapping with no defaults at all, built by hand: absent means absent. */
static ingest_mapping bare_mapping(void)
{
    ingest_mapping m;
    memset(&m, 0, sizeof m);
    m.format = INGEST_CSV;
    m.delimiter = ',';
    m.amount.format = INGEST_AMOUNT_DECIMAL;
    m.amount.decimal_sep = '.';
    snprintf(m.date_format, sizeof m.date_format, "%%Y-%%m-%%d");
    return m;
}

/* Validates the base record with the overrides under the identity mapping. */
static void run(const kv *set, int n, const char *as_of, ingest_record *r, ingest_verdict *v)
{
    ingest_raw raw;
    base_raw(&raw);
    apply(&raw, set, n);
    ingest_mapping *m = identity();
    ingest_validate(&raw, m, as_of, r, v);
    ingest_mapping_free(m);
}

static void run1(ingest_field f, const char *text, ingest_record *r, ingest_verdict *v)
{
    kv set[1] = {SET(f, text)};
    run(set, 1, AS_OF, r, v);
}

static void expect_accepted(const ingest_verdict *v, const char *what)
{
    cr_assert(v->accepted, "%s: rejected %s field %s: %s", what, v->reject.code, v->reject.field,
              v->reject.detail);
}

/* ------------------------------------------------------------------ rejections */

typedef struct reject_case {
    const char *name;
    kv set[MAX_KV];
    int bare; /* validate under a mapping with no defaults */
    const char *code;
    const char *field;
} reject_case;

static const reject_case rejects[] = {
    {"account_id absent", {DROP(IF_ACCOUNT_ID)}, 0, "missing_account_id", "account_id"},
    {"account_id blank", {SET(IF_ACCOUNT_ID, "   ")}, 0, "missing_account_id", "account_id"},
    {"account_id with a space",
     {SET(IF_ACCOUNT_ID, "ACC 1001")},
     0,
     "bad_account_id",
     "account_id"},
    {"account_id non-ASCII",
     {SET(IF_ACCOUNT_ID, "ACC-\xc3\xa9")},
     0,
     "bad_account_id",
     "account_id"},
    {"account_id over 128", {SET(IF_ACCOUNT_ID, A129)}, 0, "too_long", "account_id"},
    {"regime absent, no default", {DROP(IF_REGIME)}, 1, "missing_field", "regime"},
    {"regime unknown", {SET(IF_REGIME, "agency")}, 0, "bad_regime", "regime"},
    {"currency absent, no default", {SET(IF_REGIME, "creditor")}, 1, "missing_field", "currency"},
    {"currency not ours", {SET(IF_CURRENCY, "JPY")}, 0, "unknown_currency", "currency"},
    {"currency a word", {SET(IF_CURRENCY, "dollars")}, 0, "unknown_currency", "currency"},
    {"balance absent", {DROP(IF_BALANCE)}, 0, "missing_field", "balance"},
    {"balance blank", {SET(IF_BALANCE, "")}, 0, "missing_field", "balance"},
    {"balance 3 decimals", {SET(IF_BALANCE, "12.345")}, 0, "bad_amount", "balance"},
    {"balance letters", {SET(IF_BALANCE, "12.3x")}, 0, "bad_amount", "balance"},
    {"original negative", {SET(IF_ORIGINAL_BALANCE, "-5.00")}, 0, "bad_amount", "original_balance"},
    {"original letters", {SET(IF_ORIGINAL_BALANCE, "n/a")}, 0, "bad_amount", "original_balance"},
    {"invoice_id over 64", {SET(IF_INVOICE_ID, A65)}, 0, "too_long", "invoice_id"},
    {"issue_date not a date", {SET(IF_ISSUE_DATE, "yesterday")}, 0, "bad_date", "issue_date"},
    {"due_date absent", {DROP(IF_DUE_DATE)}, 0, "missing_field", "due_date"},
    {"due_date 30 February", {SET(IF_DUE_DATE, "2026-02-30")}, 0, "bad_date", "due_date"},
    {"due_date other format", {SET(IF_DUE_DATE, "01/15/2026")}, 0, "bad_date", "due_date"},
    {"service_type absent", {DROP(IF_SERVICE_TYPE)}, 0, "missing_field", "service_type"},
    {"service_type unknown",
     {SET(IF_SERVICE_TYPE, "cable")},
     0,
     "bad_service_type",
     "service_type"},
    {"debtor_ref over 64", {SET(IF_DEBTOR_REF, A65)}, 0, "too_long", "debtor_ref"},
    {"first_name over 63", {SET(IF_FIRST_NAME, A64)}, 0, "too_long", "first_name"},
    {"last_name over 63", {SET(IF_LAST_NAME, A64)}, 0, "too_long", "last_name"},
    {"email without domain", {SET(IF_EMAIL, "jane.doe@")}, 0, "bad_email", "email"},
    {"email2 without @", {SET(IF_EMAIL2, "jane.doe.example.com")}, 0, "bad_email", "email2"},
    {"phone too short", {SET(IF_PHONE, "555-0100")}, 0, "bad_phone", "phone"},
    {"phone2 area code 0", {SET(IF_PHONE2, "(012) 555-0100")}, 0, "bad_phone", "phone2"},
    {"phone_type unknown", {SET(IF_PHONE_TYPE, "satellite")}, 0, "bad_phone_type", "phone_type"},
    {"phone2_type unknown",
     {SET(IF_PHONE2, "+15125550101"), SET(IF_PHONE2_TYPE, "pager")},
     0,
     "bad_phone_type",
     "phone2_type"},
    {"phone_sms_consent not a bool",
     {SET(IF_PHONE_SMS_CONSENT, "maybe")},
     0,
     "bad_bool",
     "phone_sms_consent"},
    {"phone_voice_consent not a bool",
     {SET(IF_PHONE_VOICE_CONSENT, "2")},
     0,
     "bad_bool",
     "phone_voice_consent"},
    {"phone2_voice_consent not a bool",
     {SET(IF_PHONE2, "+15125550101"), SET(IF_PHONE2_VOICE_CONSENT, "sometimes")},
     0,
     "bad_bool",
     "phone2_voice_consent"},
    {"address_line1 over 127", {SET(IF_ADDRESS_LINE1, A128)}, 0, "too_long", "address_line1"},
    {"city over 63", {SET(IF_CITY, A64)}, 0, "too_long", "city"},
    {"country a name", {SET(IF_COUNTRY, "Canada")}, 0, "bad_country", "country"},
    {"country with a digit", {SET(IF_COUNTRY, "U1")}, 0, "bad_country", "country"},
    {"US state unknown", {SET(IF_STATE, "XX")}, 0, "bad_state", "state"},
    {"US zip 4 digits", {SET(IF_ZIP, "7870")}, 0, "bad_zip", "zip"},
    {"non-US province too long",
     {SET(IF_COUNTRY, "MX"), SET(IF_STATE, "Jalisco")},
     0,
     "too_long",
     "state"},
    {"timezone unknown", {SET(IF_TIMEZONE, "Mars/Olympus_Mons")}, 0, "bad_timezone", "timezone"},
    {"language three letters", {SET(IF_LANGUAGE, "eng")}, 0, "bad_language", "language"},
    {"language with a digit", {SET(IF_LANGUAGE, "e1")}, 0, "bad_language", "language"},
    {"language a tag", {SET(IF_LANGUAGE, "en-US")}, 0, "bad_language", "language"},
    {"tenure negative", {SET(IF_TENURE_MONTHS, "-3")}, 0, "bad_number", "tenure_months"},
    {"tenure fraction", {SET(IF_TENURE_MONTHS, "3.5")}, 0, "bad_number", "tenure_months"},
    {"autopay not a bool", {SET(IF_AUTOPAY, "sometimes")}, 0, "bad_bool", "autopay"},
    {"prior_delinquencies a word",
     {SET(IF_PRIOR_DELINQUENCIES, "few")},
     0,
     "bad_number",
     "prior_delinquencies"},
    {"payments_12m too large",
     {SET(IF_PAYMENTS_12M, "9999999999")},
     0,
     "bad_number",
     "payments_12m"},
    /* The first error in the fixed order wins, whatever else is wrong. */
    {"order: account before everything",
     {DROP(IF_ACCOUNT_ID), SET(IF_BALANCE, "x"), SET(IF_EMAIL, "x"), SET(IF_LANGUAGE, "xyz")},
     0,
     "missing_account_id",
     "account_id"},
    {"order: balance before email",
     {SET(IF_BALANCE, "1.234"), SET(IF_EMAIL, "nope"), SET(IF_PHONE, "1")},
     0,
     "bad_amount",
     "balance"},
    {"order: email before phone",
     {SET(IF_EMAIL, "nope"), SET(IF_PHONE, "1")},
     0,
     "bad_email",
     "email"},
    {"order: currency before balance",
     {SET(IF_CURRENCY, "XXX"), DROP(IF_BALANCE)},
     0,
     "unknown_currency",
     "currency"},
    {"order: country before state",
     {SET(IF_COUNTRY, "USA!"), SET(IF_STATE, "XX")},
     0,
     "bad_country",
     "country"},
};

Test(ingest_validate, every_reject_case_gives_its_code_and_field)
{
    for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        const reject_case *c = &rejects[i];
        ingest_raw raw;
        base_raw(&raw);
        apply(&raw, c->set, MAX_KV);
        ingest_mapping bare = bare_mapping();
        ingest_mapping *m = c->bare ? &bare : identity();
        ingest_record r;
        ingest_verdict v;
        ingest_validate(&raw, m, AS_OF, &r, &v);
        if (!c->bare)
            ingest_mapping_free(m);
        cr_assert_not(v.accepted, "%s: accepted", c->name);
        cr_assert_not_null(v.reject.code, "%s", c->name);
        cr_assert_str_eq(v.reject.code, c->code, "%s: code", c->name);
        cr_assert_str_eq(v.reject.field, c->field, "%s: field", c->name);
        cr_assert_neq(v.reject.detail[0], '\0', "%s: no detail", c->name);
        cr_assert_eq(v.n_warnings, 0, "%s: a rejected record carries no warnings", c->name);
    }
}

/* Rejects are stored and shown to operators: a personal value is never repeated. */
Test(ingest_validate, details_never_echo_personal_values)
{
    static const struct {
        ingest_field f;
        const char *value;
        const char *code;
        const char *needle; /* a part of the value that must not appear */
    } cases[] = {
        {IF_EMAIL, "jane.doe.secret@", "bad_email", "secret"},
        {IF_EMAIL2, "jane@@example.com", "bad_email", "jane"},
        {IF_PHONE, "512-555-01009", "bad_phone", "5550"},
        {IF_PHONE2, "(512) 555-01", "bad_phone", "512"},
        {IF_ZIP, "7870X", "bad_zip", "7870"},
        {IF_STATE, "QQ", "bad_state", "QQ"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ingest_record r;
        ingest_verdict v;
        run1(cases[i].f, cases[i].value, &r, &v);
        cr_assert_not(v.accepted, "%s", cases[i].value);
        cr_assert_str_eq(v.reject.code, cases[i].code);
        cr_assert_null(strstr(v.reject.detail, cases[i].needle), "detail \"%s\" echoes %s",
                       v.reject.detail, cases[i].needle);
    }
    ingest_record r;
    ingest_verdict v;
    run1(IF_EMAIL, "nobody", &r, &v);
    cr_assert_str_eq(v.reject.detail, "is not a valid email address");
}

/* ------------------------------------------------------------------ warnings */

typedef struct warn_case {
    const char *name;
    kv set[MAX_KV];
    const char *codes[4]; /* exactly these warnings, in this order */
    const char *fields[4];
} warn_case;

static const warn_case warns[] = {
    {"clean record", {{0}}, {NULL}, {NULL}},
    {"landline with sms consent",
     {SET(IF_PHONE_TYPE, "landline")},
     {"landline_sms_consent"},
     {"phone_sms_consent"}},
    {"second phone a landline with sms consent",
     {SET(IF_PHONE2, "+15125550101"), SET(IF_PHONE2_TYPE, "home"),
      SET(IF_PHONE2_SMS_CONSENT, "true")},
     {"landline_sms_consent"},
     {"phone2_sms_consent"}},
    {"landline without sms consent",
     {SET(IF_PHONE_TYPE, "landline"), SET(IF_PHONE_SMS_CONSENT, "no")},
     {NULL},
     {NULL}},
    {"zone derived from a one-zone state",
     {DROP(IF_TIMEZONE), SET(IF_STATE, "IL"), SET(IF_ZIP, "60601")},
     {"timezone_derived"},
     {"timezone"}},
    {"zone derived from a split state without zip",
     {DROP(IF_TIMEZONE), DROP(IF_ZIP)},
     {"timezone_derived", "timezone_ambiguous"},
     {"timezone", "timezone"}},
    {"no zone: no state", {DROP(IF_TIMEZONE), DROP(IF_STATE)}, {"timezone_unknown"}, {"timezone"}},
    {"no zone: outside the US",
     {DROP(IF_TIMEZONE), SET(IF_COUNTRY, "CA"), SET(IF_STATE, "ON"), SET(IF_ZIP, "K1A 0B6")},
     {"timezone_unknown"},
     {"timezone"}},
    {"no email and no phone", {DROP(IF_EMAIL), DROP(IF_PHONE)}, {"no_contact_point"}, {""}},
    {"email only", {DROP(IF_PHONE)}, {NULL}, {NULL}},
    {"phone only", {DROP(IF_EMAIL)}, {NULL}, {NULL}},
    {"original below balance",
     {SET(IF_ORIGINAL_BALANCE, "100.00")},
     {"original_below_balance"},
     {"original_balance"}},
    {"original above balance", {SET(IF_ORIGINAL_BALANCE, "200.00")}, {NULL}, {NULL}},
    {"a credit", {SET(IF_BALANCE, "-12.00")}, {NULL}, {NULL}},
    {"several at once",
     {SET(IF_PHONE_TYPE, "landline"), DROP(IF_TIMEZONE), DROP(IF_STATE), DROP(IF_EMAIL)},
     {"landline_sms_consent", "timezone_unknown"},
     {"phone_sms_consent", "timezone"}},
    {"no contact, no zone, original below",
     {DROP(IF_EMAIL), DROP(IF_PHONE), DROP(IF_TIMEZONE), SET(IF_ORIGINAL_BALANCE, "1.00")},
     {"timezone_derived", "no_contact_point", "original_below_balance"}, /* Austin: Central */
     {"timezone", "", "original_balance"}},
};

Test(ingest_validate, every_warning_case_gives_exactly_its_warnings)
{
    for (size_t i = 0; i < sizeof(warns) / sizeof(warns[0]); i++) {
        const warn_case *c = &warns[i];
        ingest_record r;
        ingest_verdict v;
        run(c->set, MAX_KV, AS_OF, &r, &v);
        expect_accepted(&v, c->name);
        int n = 0;
        while (n < 4 && c->codes[n])
            n++;
        cr_assert_eq(v.n_warnings, n, "%s: %d warnings, expected %d (first: %s)", c->name,
                     v.n_warnings, n, v.n_warnings ? v.warnings[0].code : "-");
        for (int k = 0; k < n; k++) {
            cr_assert_str_eq(v.warnings[k].code, c->codes[k], "%s: warning %d", c->name, k);
            cr_assert_str_eq(v.warnings[k].field, c->fields[k], "%s: warning %d field", c->name, k);
            cr_assert_neq(v.warnings[k].detail[0], '\0', "%s", c->name);
        }
    }
}

Test(ingest_validate, landline_sms_consent_is_cleared_and_voice_kept)
{
    kv set[] = {SET(IF_PHONE_TYPE, "landline"), SET(IF_PHONE_VOICE_CONSENT, "yes")};
    ingest_record r;
    ingest_verdict v;
    run(set, 2, AS_OF, &r, &v);
    expect_accepted(&v, "landline");
    cr_assert_eq(r.debtor.n_phones, 1);
    cr_assert_eq(r.debtor.phones[0].type, INGEST_PHONE_LANDLINE);
    cr_assert_eq(r.debtor.phones[0].sms_consent, 0);
    cr_assert_eq(r.debtor.phones[0].voice_consent, 1);
}

Test(ingest_validate, derived_zones_are_stored)
{
    kv one[] = {DROP(IF_TIMEZONE), SET(IF_STATE, "IL"), SET(IF_ZIP, "60601")};
    ingest_record r;
    ingest_verdict v;
    run(one, 3, AS_OF, &r, &v);
    expect_accepted(&v, "IL");
    cr_assert_eq(r.debtor.n_timezones, 1);
    cr_assert_str_eq(r.debtor.timezones[0], "America/Chicago");
    cr_assert_eq(r.debtor.tz_derived, 1);

    kv split[] = {DROP(IF_TIMEZONE), DROP(IF_ZIP)}; /* Texas: Central and Mountain */
    run(split, 2, AS_OF, &r, &v);
    expect_accepted(&v, "TX");
    cr_assert_gt(r.debtor.n_timezones, 1);
    int chicago = 0;
    for (int i = 0; i < r.debtor.n_timezones; i++)
        chicago |= strcmp(r.debtor.timezones[i], "America/Chicago") == 0;
    cr_assert(chicago);

    kv none[] = {DROP(IF_TIMEZONE), DROP(IF_STATE)};
    run(none, 2, AS_OF, &r, &v);
    expect_accepted(&v, "no state");
    cr_assert_eq(r.debtor.n_timezones, 0);
    cr_assert_eq(r.debtor.tz_derived, 0);
}

Test(ingest_validate, a_given_zone_is_the_only_one)
{
    kv set[] = {SET(IF_TIMEZONE, "America/Denver")}; /* the given zone wins over the address */
    ingest_record r;
    ingest_verdict v;
    run(set, 1, AS_OF, &r, &v);
    expect_accepted(&v, "given zone");
    cr_assert_eq(r.debtor.n_timezones, 1);
    cr_assert_str_eq(r.debtor.timezones[0], "America/Denver");
    cr_assert_eq(r.debtor.tz_derived, 0);
    cr_assert_eq(v.n_warnings, 0);
}

Test(ingest_validate, outside_the_us_state_and_zip_are_kept_as_given)
{
    kv set[] = {SET(IF_COUNTRY, "ca"), SET(IF_STATE, "ON"), SET(IF_ZIP, "K1A 0B6")};
    ingest_record r;
    ingest_verdict v;
    run(set, 3, AS_OF, &r, &v);
    expect_accepted(&v, "Canada");
    cr_assert_str_eq(r.debtor.address.country, "CA");
    cr_assert_str_eq(r.debtor.address.state, "ON");
    cr_assert_str_eq(r.debtor.address.zip, "K1A 0B6");
    cr_assert_eq(r.debtor.n_timezones, 1); /* the given America/Chicago still stands */
}

Test(ingest_validate, a_rejected_record_drops_earlier_warnings)
{
    kv set[] = {SET(IF_PHONE_TYPE, "landline"), SET(IF_LANGUAGE, "klingon")};
    ingest_record r;
    ingest_verdict v;
    run(set, 2, AS_OF, &r, &v);
    cr_assert_not(v.accepted);
    cr_assert_str_eq(v.reject.code, "bad_language");
    cr_assert_eq(v.n_warnings, 0);
}

/* ------------------------------------------------------------------ values */

Test(ingest_validate, amounts_become_cents)
{
    static const struct {
        const char *text;
        int64_t cents;
    } cases[] = {
        {"1234.5", 123450}, {"0.99", 99}, {"-12.00", -1200}, {"7", 700}, {" 45.10 ", 4510},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ingest_record r;
        ingest_verdict v;
        run1(IF_BALANCE, cases[i].text, &r, &v);
        expect_accepted(&v, cases[i].text);
        cr_assert_eq(r.balance_cents, cases[i].cents, "%s -> %lld", cases[i].text,
                     (long long)r.balance_cents);
    }
}

Test(ingest_validate, original_balance_defaults_to_the_balance)
{
    ingest_record r;
    ingest_verdict v;
    run(NULL, 0, AS_OF, &r, &v);
    expect_accepted(&v, "base");
    cr_assert_eq(r.original_balance_cents, 12345);

    run1(IF_ORIGINAL_BALANCE, "150.00", &r, &v);
    expect_accepted(&v, "given");
    cr_assert_eq(r.original_balance_cents, 15000);
    cr_assert_eq(r.balance_cents, 12345);

    /* A credit: no negative "original debt"; 0 keeps the payload within its schema. */
    run1(IF_BALANCE, "-12.00", &r, &v);
    expect_accepted(&v, "credit");
    cr_assert_eq(r.balance_cents, -1200);
    cr_assert_eq(r.original_balance_cents, 0);
}

Test(ingest_validate, identity_defaults_fill_absent_fields)
{
    ingest_record r;
    ingest_verdict v;
    run(NULL, 0, AS_OF, &r, &v);
    expect_accepted(&v, "base");
    cr_assert_str_eq(r.account_id, "ACC-1001");
    cr_assert_str_eq(r.currency, "USD");
    cr_assert_str_eq(r.regime, "creditor");
    cr_assert_str_eq(r.debtor.address.country, "US");
    cr_assert_str_eq(r.debtor.language, "en");
    cr_assert_str_eq(r.invoice_id, "");
    cr_assert_str_eq(r.issue_date, "");
    cr_assert_str_eq(r.debtor_ref, "");
    cr_assert_eq(r.profile.tenure_months, -1);
    cr_assert_eq(r.profile.autopay, -1);
    cr_assert_eq(r.profile.prior_delinquencies, -1);
    cr_assert_eq(r.profile.payments_12m, -1);
}

Test(ingest_validate, without_mapping_defaults_country_and_language_still_default)
{
    ingest_raw raw;
    base_raw(&raw);
    raw.v[IF_REGIME] = "third_party";
    raw.v[IF_CURRENCY] = "USD";
    ingest_mapping m = bare_mapping();
    ingest_record r;
    ingest_verdict v;
    ingest_validate(&raw, &m, AS_OF, &r, &v);
    expect_accepted(&v, "bare");
    cr_assert_str_eq(r.debtor.address.country, "US");
    cr_assert_str_eq(r.debtor.language, "en");
    cr_assert_str_eq(r.regime, "third_party");
}

Test(ingest_validate, a_mapping_default_fills_only_absent_values)
{
    ingest_mapping *m = identity();
    m->defaults[IF_SERVICE_TYPE] = strdup("electricity");
    free(m->defaults[IF_LANGUAGE]);
    m->defaults[IF_LANGUAGE] = strdup("es");
    ingest_raw raw;
    base_raw(&raw);
    ingest_record r;
    ingest_verdict v;
    ingest_validate(&raw, m, AS_OF, &r, &v);
    expect_accepted(&v, "given");
    cr_assert_str_eq(r.service_type, "water");
    cr_assert_str_eq(r.debtor.language, "es");

    raw.v[IF_SERVICE_TYPE] = NULL;
    raw.v[IF_LANGUAGE] = "";
    ingest_validate(&raw, m, AS_OF, &r, &v);
    expect_accepted(&v, "defaulted");
    cr_assert_str_eq(r.service_type, "electricity");
    cr_assert_str_eq(r.debtor.language, "es");
    ingest_mapping_free(m);
}

Test(ingest_validate, codes_are_normalised)
{
    kv set[] = {SET(IF_REGIME, "Third_Party"), SET(IF_CURRENCY, "cad"),
                SET(IF_SERVICE_TYPE, " MEDICAL "), SET(IF_LANGUAGE, "ES")};
    ingest_record r;
    ingest_verdict v;
    run(set, 4, AS_OF, &r, &v);
    expect_accepted(&v, "cases");
    cr_assert_str_eq(r.regime, "third_party");
    cr_assert_str_eq(r.currency, "CAD");
    cr_assert_str_eq(r.service_type, "medical");
    cr_assert_str_eq(r.debtor.language, "es");

    kv usa[] = {SET(IF_COUNTRY, "USA")};
    run(usa, 1, AS_OF, &r, &v);
    expect_accepted(&v, "USA");
    cr_assert_str_eq(r.debtor.address.country, "US");
    kv fr[] = {SET(IF_LANGUAGE, "fr"), SET(IF_COUNTRY, "us")};
    run(fr, 2, AS_OF, &r, &v);
    expect_accepted(&v, "fr");
    cr_assert_str_eq(r.debtor.language, "fr");
    cr_assert_str_eq(r.debtor.address.country, "US");
}

Test(ingest_validate, text_is_trimmed_and_kept_up_to_its_buffer)
{
    kv set[] = {SET(IF_ACCOUNT_ID, "  ACC-7 "), SET(IF_FIRST_NAME, A10 A10 A10 A10 A10 A10 "AAA"),
                SET(IF_INVOICE_ID, A64), SET(IF_ADDRESS_LINE1, A64 A10 A10 A10 A10 A10 A10 "AAA")};
    ingest_record r;
    ingest_verdict v;
    run(set, 4, AS_OF, &r, &v);
    expect_accepted(&v, "at the limits");
    cr_assert_str_eq(r.account_id, "ACC-7");
    cr_assert_eq(strlen(r.debtor.first_name), 63);
    cr_assert_eq(strlen(r.invoice_id), 64);
    cr_assert_eq(strlen(r.debtor.address.line1), 127);

    run1(IF_ACCOUNT_ID, A128, &r, &v);
    expect_accepted(&v, "128-character account");
}

Test(ingest_validate, profile_numbers_and_autopay)
{
    kv set[] = {SET(IF_TENURE_MONTHS, "24"), SET(IF_AUTOPAY, "Yes"),
                SET(IF_PRIOR_DELINQUENCIES, "0"), SET(IF_PAYMENTS_12M, " 11 ")};
    ingest_record r;
    ingest_verdict v;
    run(set, 4, AS_OF, &r, &v);
    expect_accepted(&v, "profile");
    cr_assert_eq(r.profile.tenure_months, 24);
    cr_assert_eq(r.profile.autopay, 1);
    cr_assert_eq(r.profile.prior_delinquencies, 0);
    cr_assert_eq(r.profile.payments_12m, 11);

    run1(IF_AUTOPAY, "no", &r, &v);
    expect_accepted(&v, "autopay no");
    cr_assert_eq(r.profile.autopay, 0);
}

Test(ingest_validate, phones_are_normalised_with_consent_defaults)
{
    kv set[] = {SET(IF_PHONE, "(512) 555-0100"), DROP(IF_PHONE_TYPE), DROP(IF_PHONE_SMS_CONSENT),
                DROP(IF_PHONE_VOICE_CONSENT)};
    ingest_record r;
    ingest_verdict v;
    run(set, 4, AS_OF, &r, &v);
    expect_accepted(&v, "bare phone");
    cr_assert_eq(r.debtor.n_phones, 1);
    cr_assert_str_eq(r.debtor.phones[0].e164, "+15125550100");
    cr_assert_eq(r.debtor.phones[0].type, INGEST_PHONE_MOBILE); /* unknown: as a mobile */
    cr_assert_eq(r.debtor.phones[0].sms_consent, 0);
    cr_assert_eq(r.debtor.phones[0].voice_consent, 0);
}

Test(ingest_validate, two_phones_and_their_order)
{
    kv both[] = {SET(IF_PHONE2, "+15125550199"), SET(IF_PHONE2_TYPE, "landline"),
                 SET(IF_PHONE2_VOICE_CONSENT, "y")};
    ingest_record r;
    ingest_verdict v;
    run(both, 3, AS_OF, &r, &v);
    expect_accepted(&v, "two phones");
    cr_assert_eq(r.debtor.n_phones, 2);
    cr_assert_str_eq(r.debtor.phones[0].e164, "+15125550100");
    cr_assert_eq(r.debtor.phones[0].sms_consent, 1);
    cr_assert_str_eq(r.debtor.phones[1].e164, "+15125550199");
    cr_assert_eq(r.debtor.phones[1].type, INGEST_PHONE_LANDLINE);
    cr_assert_eq(r.debtor.phones[1].voice_consent, 1);

    /* The second column alone is the first phone. */
    kv second[] = {DROP(IF_PHONE), SET(IF_PHONE2, "+15125550199")};
    run(second, 2, AS_OF, &r, &v);
    expect_accepted(&v, "second only");
    cr_assert_eq(r.debtor.n_phones, 1);
    cr_assert_str_eq(r.debtor.phones[0].e164, "+15125550199");

    /* Type and consent of an absent number describe nothing and are not checked. */
    kv orphan[] = {DROP(IF_PHONE), SET(IF_PHONE_TYPE, "satellite")};
    run(orphan, 2, AS_OF, &r, &v);
    expect_accepted(&v, "orphan type");
    cr_assert_eq(r.debtor.n_phones, 0);
}

Test(ingest_validate, the_same_phone_twice_is_one_phone_with_the_narrower_consent)
{
    kv set[] = {SET(IF_PHONE2, "512.555.0100"), SET(IF_PHONE2_SMS_CONSENT, "no"),
                SET(IF_PHONE2_VOICE_CONSENT, "yes")};
    ingest_record r;
    ingest_verdict v;
    run(set, 3, AS_OF, &r, &v);
    expect_accepted(&v, "duplicate");
    cr_assert_eq(r.debtor.n_phones, 1);
    cr_assert_eq(r.debtor.phones[0].sms_consent, 0);   /* the second row said no */
    cr_assert_eq(r.debtor.phones[0].voice_consent, 0); /* the first row said no */
}

Test(ingest_validate, emails_have_consent_and_no_duplicates)
{
    kv set[] = {SET(IF_EMAIL2, "j.doe@example.org")};
    ingest_record r;
    ingest_verdict v;
    run(set, 1, AS_OF, &r, &v);
    expect_accepted(&v, "two emails");
    cr_assert_eq(r.debtor.n_emails, 2);
    cr_assert_str_eq(r.debtor.emails[0].address, "jane.doe@example.com");
    cr_assert_str_eq(r.debtor.emails[1].address, "j.doe@example.org");
    cr_assert_eq(r.debtor.emails[0].consent, 1);
    cr_assert_eq(r.debtor.emails[1].consent, 1);

    kv dup[] = {SET(IF_EMAIL2, "jane.doe@example.com")};
    run(dup, 1, AS_OF, &r, &v);
    expect_accepted(&v, "duplicate");
    cr_assert_eq(r.debtor.n_emails, 1);

    kv second[] = {DROP(IF_EMAIL), SET(IF_EMAIL2, "j.doe@example.org")};
    run(second, 2, AS_OF, &r, &v);
    expect_accepted(&v, "second only");
    cr_assert_eq(r.debtor.n_emails, 1);
    cr_assert_str_eq(r.debtor.emails[0].address, "j.doe@example.org");
}

/* ------------------------------------------------------------------ aging */

Test(ingest_validate, days_past_due_and_every_bucket_boundary)
{
    static const struct {
        const char *as_of;
        int days;
        const char *bucket;
    } cases[] = {
        {"2025-12-20", 0, "current"}, /* not yet due */
        {"2026-01-01", 0, "current"}, {"2026-01-02", 1, "1-30"},    {"2026-01-31", 30, "1-30"},
        {"2026-02-01", 31, "31-60"},  {"2026-03-02", 60, "31-60"},  {"2026-03-03", 61, "61-90"},
        {"2026-04-01", 90, "61-90"},  {"2026-04-02", 91, "91-180"}, {"2026-06-30", 180, "91-180"},
        {"2026-07-01", 181, "180+"},  {"2027-01-01", 365, "180+"},
    };
    kv set[] = {SET(IF_DUE_DATE, "2026-01-01")};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ingest_record r;
        ingest_verdict v;
        run(set, 1, cases[i].as_of, &r, &v);
        expect_accepted(&v, cases[i].as_of);
        cr_assert_eq(r.days_past_due, cases[i].days, "as of %s: %d days", cases[i].as_of,
                     r.days_past_due);
        cr_assert_str_eq(r.aging_bucket, cases[i].bucket, "as of %s", cases[i].as_of);
    }
}

Test(ingest_validate, medical_under_500_dollars_is_never_reported)
{
    static const struct {
        const char *service, *original;
        int flag;
    } cases[] = {
        {"medical", "499.99", 1}, {"medical", "500.00", 0}, {"medical", "0.01", 1},
        {"water", "499.99", 0},   {"Medical", "12.00", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kv set[] = {SET(IF_SERVICE_TYPE, cases[i].service),
                    SET(IF_ORIGINAL_BALANCE, cases[i].original), SET(IF_BALANCE, "0.01")};
        ingest_record r;
        ingest_verdict v;
        run(set, 3, AS_OF, &r, &v);
        expect_accepted(&v, cases[i].original);
        cr_assert_eq(r.medical_no_report, cases[i].flag, "%s %s", cases[i].service,
                     cases[i].original);
    }
    /* Decided on the original balance, not on what is left of it. */
    kv left[] = {SET(IF_SERVICE_TYPE, "medical"), SET(IF_ORIGINAL_BALANCE, "800.00"),
                 SET(IF_BALANCE, "40.00")};
    ingest_record r;
    ingest_verdict v;
    run(left, 3, AS_OF, &r, &v);
    expect_accepted(&v, "paid down");
    cr_assert_eq(r.medical_no_report, 0);
}

/* ------------------------------------------------------------------ payload */

/* Everything given: the base record and every optional field. */
static const kv full_set[] = {
    SET(IF_INVOICE_ID, "INV-77"),        SET(IF_ISSUE_DATE, "2025-12-16"),
    SET(IF_DEBTOR_REF, "CUST-9"),        SET(IF_ORIGINAL_BALANCE, "150.00"),
    SET(IF_ADDRESS_LINE2, "Apt 4"),      SET(IF_EMAIL2, "j.doe@example.org"),
    SET(IF_PHONE2, "+15125550199"),      SET(IF_PHONE2_TYPE, "landline"),
    SET(IF_PHONE2_VOICE_CONSENT, "yes"), SET(IF_LANGUAGE, "es"),
    SET(IF_TENURE_MONTHS, "24"),         SET(IF_AUTOPAY, "no"),
    SET(IF_PRIOR_DELINQUENCIES, "1"),    SET(IF_PAYMENTS_12M, "11"),
};
#define N_FULL ((int)(sizeof(full_set) / sizeof(full_set[0])))

static void full_record(const char *as_of, ingest_record *r)
{
    ingest_raw raw;
    base_raw(&raw);
    apply(&raw, full_set, N_FULL);
    ingest_mapping *m = identity();
    ingest_verdict v;
    ingest_validate(&raw, m, as_of, r, &v);
    ingest_mapping_free(m);
    expect_accepted(&v, "full record");
}

static json_t *parse_json(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(j, "bad expected JSON: %s at %d", err.text, err.position);
    return j;
}

static void assert_json_eq(json_t *got, json_t *want)
{
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
    char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert(json_equal(got, want), "payload\n got: %s\nwant: %s", g, w);
    free(g);
    free(w);
}

Test(ingest_validate, payload_of_a_full_record)
{
    ingest_record r;
    full_record(AS_OF, &r);
    json_t *p = ingest_record_payload(&r);
    cr_assert_not_null(p);
    json_t *want = parse_json(
        "{\"account_id\":\"ACC-1001\",\"regime\":\"creditor\",\"currency\":\"USD\","
        "\"balance_cents\":12345,\"original_balance_cents\":15000,\"invoice_id\":\"INV-77\","
        "\"issue_date\":\"2025-12-16\",\"due_date\":\"2026-01-15\",\"service_type\":\"water\","
        "\"debtor_ref\":\"CUST-9\",\"days_past_due\":30,\"aging_bucket\":\"1-30\","
        "\"medical_no_report\":false,"
        "\"debtor\":{\"first_name\":\"Jane\",\"last_name\":\"Doe\","
        "\"emails\":[{\"address\":\"jane.doe@example.com\",\"consent\":true},"
        "{\"address\":\"j.doe@example.org\",\"consent\":true}],"
        "\"phones\":[{\"number\":\"+15125550100\",\"type\":\"mobile\",\"sms_consent\":true,"
        "\"voice_consent\":false},{\"number\":\"+15125550199\",\"type\":\"landline\","
        "\"sms_consent\":false,\"voice_consent\":true}],"
        "\"address\":{\"line1\":\"1 Main St\",\"line2\":\"Apt 4\",\"city\":\"Austin\","
        "\"state\":\"TX\",\"zip\":\"78701\",\"country\":\"US\"},"
        "\"timezones\":[\"America/Chicago\"],\"timezone_derived\":false,\"language\":\"es\"},"
        "\"profile\":{\"tenure_months\":24,\"autopay\":false,\"prior_delinquencies\":1,"
        "\"payments_12m\":11}}");
    assert_json_eq(p, want);
    json_decref(want);
    json_decref(p);
}

Test(ingest_validate, payload_leaves_out_what_is_not_known)
{
    kv set[] = {DROP(IF_FIRST_NAME), DROP(IF_EMAIL), DROP(IF_PHONE), DROP(IF_ADDRESS_LINE1)};
    ingest_raw raw;
    base_raw(&raw);
    apply(&raw, set, 4);
    raw.v[IF_LAST_NAME] = NULL;
    raw.v[IF_CITY] = NULL;
    raw.v[IF_STATE] = NULL;
    raw.v[IF_ZIP] = NULL;
    raw.v[IF_TIMEZONE] = NULL;
    raw.v[IF_SERVICE_TYPE] = "medical";
    ingest_mapping *m = identity();
    ingest_record r;
    ingest_verdict v;
    ingest_validate(&raw, m, "2026-01-10", &r, &v);
    ingest_mapping_free(m);
    expect_accepted(&v, "minimal");
    json_t *p = ingest_record_payload(&r);
    json_t *want = parse_json(
        "{\"account_id\":\"ACC-1001\",\"regime\":\"creditor\",\"currency\":\"USD\","
        "\"balance_cents\":12345,\"original_balance_cents\":12345,\"due_date\":\"2026-01-15\","
        "\"service_type\":\"medical\",\"days_past_due\":0,\"aging_bucket\":\"current\","
        "\"medical_no_report\":true,"
        "\"debtor\":{\"emails\":[],\"phones\":[],\"address\":{\"country\":\"US\"},"
        "\"timezones\":[],\"timezone_derived\":false,\"language\":\"en\"},"
        "\"profile\":{}}");
    assert_json_eq(p, want);
    json_decref(want);
    json_decref(p);
}

Test(ingest_validate, payload_of_derived_zones_says_so)
{
    kv set[] = {DROP(IF_TIMEZONE), DROP(IF_ZIP)};
    ingest_record r;
    ingest_verdict v;
    run(set, 2, AS_OF, &r, &v);
    expect_accepted(&v, "derived");
    json_t *p = ingest_record_payload(&r);
    json_t *d = json_object_get(p, "debtor");
    cr_assert(json_is_true(json_object_get(d, "timezone_derived")));
    cr_assert_eq(json_array_size(json_object_get(d, "timezones")), (size_t)r.debtor.n_timezones);
    json_decref(p);
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

Test(ingest_validate, hash_ignores_the_export_date)
{
    ingest_record a, b;
    full_record("2026-02-14", &a);
    full_record("2026-09-30", &b);
    cr_assert_neq(a.days_past_due, b.days_past_due);
    cr_assert_str_neq(a.aging_bucket, b.aging_bucket);
    char ha[65], hb[65];
    ingest_record_hash(&a, ha);
    ingest_record_hash(&b, hb);
    cr_assert(is_lower_hex(ha, 64), "%s", ha);
    cr_assert_str_eq(ha, hb);
}

Test(ingest_validate, hash_is_the_sha256_of_the_sorted_compact_payload)
{
    /* A record built by hand: its canonical text is written out here in full, and its
     * SHA-256 was computed independently (sha256sum of that text). */
    ingest_record r;
    memset(&r, 0, sizeof r);
    strcpy(r.account_id, "A-1");
    strcpy(r.regime, "creditor");
    strcpy(r.currency, "USD");
    r.balance_cents = 100;
    r.original_balance_cents = 100;
    strcpy(r.due_date, "2026-01-01");
    strcpy(r.service_type, "gas");
    strcpy(r.debtor.address.country, "US");
    strcpy(r.debtor.language, "en");
    r.profile = (ingest_profile){-1, -1, -1, -1};
    r.days_past_due = 12;
    r.aging_bucket = "1-30";
    json_t *p = ingest_record_payload(&r);
    json_object_del(p, "days_past_due");
    json_object_del(p, "aging_bucket");
    char *text = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert_str_eq(text,
                     "{\"account_id\":\"A-1\",\"balance_cents\":100,\"currency\":\"USD\","
                     "\"debtor\":{\"address\":{\"country\":\"US\"},\"emails\":[],"
                     "\"language\":\"en\",\"phones\":[],\"timezone_derived\":false,"
                     "\"timezones\":[]},\"due_date\":\"2026-01-01\",\"medical_no_report\":false,"
                     "\"original_balance_cents\":100,\"profile\":{},\"regime\":\"creditor\","
                     "\"service_type\":\"gas\"}");
    free(text);
    json_decref(p);
    char h[65];
    ingest_record_hash(&r, h);
    cr_assert_str_eq(h, "029a6abb50524bbeea30d831e9296cd0367343603fed426ada8a991ea12d3c38");
}

Test(ingest_validate, hash_changes_with_a_phone)
{
    ingest_record a, b;
    full_record(AS_OF, &a);
    full_record(AS_OF, &b);
    strcpy(b.debtor.phones[1].e164, "+15125550198");
    char ha[65], hb[65];
    ingest_record_hash(&a, ha);
    ingest_record_hash(&b, hb);
    cr_assert_str_neq(ha, hb);

    b = a;
    b.debtor.phones[0].sms_consent = 0; /* consent withdrawn at the creditor */
    ingest_record_hash(&b, hb);
    cr_assert_str_neq(ha, hb);
}

static void assert_changes(json_t *before, json_t *after, const char *want_text)
{
    json_t *got = ingest_payload_changes(before, after);
    cr_assert_not_null(got);
    json_t *want = parse_json(want_text);
    assert_json_eq(got, want);
    json_decref(want);
    json_decref(got);
}

Test(ingest_validate, changes_list_the_balance_and_the_debtor_phones)
{
    ingest_record a, b;
    full_record("2026-02-14", &a);
    full_record("2026-03-20", &b); /* a later export: the date-driven fields move too */
    b.balance_cents = 9000;
    strcpy(b.debtor.phones[1].e164, "+15125550198");
    json_t *pa = ingest_record_payload(&a), *pb = ingest_record_payload(&b);
    assert_changes(pa, pb, "[\"balance_cents\",\"debtor.phones\"]");
    assert_changes(pa, pa, "[]");
    json_decref(pa);
    json_decref(pb);
}

Test(ingest_validate, changes_see_added_and_removed_keys_sorted)
{
    ingest_record a, b;
    full_record(AS_OF, &a);
    b = a;
    b.invoice_id[0] = '\0';                  /* removed */
    b.debtor.first_name[0] = '\0';           /* removed inside the debtor */
    strcpy(b.debtor.address.line2, "Apt 5"); /* changed inside the debtor */
    b.profile.autopay = 1;
    b.original_balance_cents = 16000;
    json_t *pa = ingest_record_payload(&a), *pb = ingest_record_payload(&b);
    assert_changes(pa, pb,
                   "[\"debtor.address\",\"debtor.first_name\",\"invoice_id\","
                   "\"original_balance_cents\",\"profile\"]");
    assert_changes(pb, pa,
                   "[\"debtor.address\",\"debtor.first_name\",\"invoice_id\","
                   "\"original_balance_cents\",\"profile\"]");
    json_decref(pa);
    json_decref(pb);
}

Test(ingest_validate, changes_from_nothing_list_every_stable_key)
{
    ingest_record a;
    full_record(AS_OF, &a);
    json_t *pa = ingest_record_payload(&a);
    assert_changes(NULL, pa,
                   "[\"account_id\",\"balance_cents\",\"currency\",\"debtor\",\"debtor_ref\","
                   "\"due_date\",\"invoice_id\",\"issue_date\",\"medical_no_report\","
                   "\"original_balance_cents\",\"profile\",\"regime\",\"service_type\"]");
    json_decref(pa);
}

/* The importer stores and publishes the text the writer produces: it must already be the
 * canonical form (what jansson writes for it with sorted keys), escapes included. */
Test(ingest_validate, payload_text_is_canonical_and_hashed_like_the_tree)
{
    ingest_record r;
    full_record(AS_OF, &r);
    strcpy(r.debtor.last_name, "O\"Brien \\ \xc3\x89lodie\t");
    arr_buf b;
    arr_buf_init(&b, INGEST_PAYLOAD_MAX);
    cr_assert_eq(arr_buf_append(&b, "prefix:", 7), ARR_OK);
    char h[65], want_h[65];
    cr_assert_eq(ingest_record_payload_text(&r, &b, h), ARR_OK);
    cr_assert_eq(strncmp(b.data, "prefix:", 7), 0, "appends to what the buffer holds");
    json_t *p = json_loads(b.data + 7, 0, NULL);
    cr_assert_not_null(p);
    char *canon = json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT);
    cr_assert_str_eq(b.data + 7, canon);
    ingest_payload_hash(p, want_h);
    cr_assert_str_eq(h, want_h);
    free(canon);
    json_decref(p);
    arr_buf_free(&b);
}
