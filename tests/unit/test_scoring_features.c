/* Unit tests of services/scoring/features.c: folding events into scoring_state, the model's
 * input vector at the scored event's time, and the cache form. Expected numbers are worked
 * out by hand in the comments (dates: 2026-01-15 is day 20468 since 1970-01-01, and
 * 2026-03-01 is 45 days later). */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arrears/clock.h"
#include "features.h"

#define DAY_2026_01_15 20468

/* A distinct, valid UUID per n. */
static const char *eid(int n)
{
    static char ids[8][37];
    static int next;
    char *id = ids[next++ % 8];
    snprintf(id, 37, "00000000-0000-4000-8000-%012d", n);
    return id;
}

static int64_t ms_of(const char *rfc3339)
{
    int64_t ms;
    cr_assert_eq(arr_time_parse(rfc3339, &ms), ARR_OK, "%s", rfc3339);
    return ms;
}

/* A full account.placed payload, personal data included, as ingest writes it. */
static const char *placed_json =
    "{\"account_id\": \"ACC-1\", \"regime\": \"third_party\", \"currency\": \"USD\","
    " \"balance_cents\": 12345, \"original_balance_cents\": 15000, \"due_date\": \"2026-01-15\","
    " \"service_type\": \"water\", \"debtor_ref\": \"CUST-9\", \"days_past_due\": 999,"
    " \"aging_bucket\": \"180+\", \"medical_no_report\": false,"
    " \"debtor\": {\"first_name\": \"Zebulon\", \"last_name\": \"Quackenbush\","
    "   \"emails\": [{\"address\": \"zebulon.quackenbush@example.org\", \"consent\": false},"
    "              {\"address\": \"zq@example.net\", \"consent\": true}],"
    "   \"phones\": [{\"number\": \"+15417543010\", \"type\": \"landline\", \"sms_consent\": false,"
    "                \"voice_consent\": true},"
    "              {\"number\": \"+15559876543\", \"type\": \"mobile\", \"sms_consent\": true,"
    "                \"voice_consent\": false}],"
    "   \"address\": {\"line1\": \"742 Evergreen Terrace\", \"city\": \"Springfield\","
    "                \"state\": \"OR\", \"zip\": \"97403\", \"country\": \"US\"},"
    "   \"timezones\": [\"America/Los_Angeles\"], \"timezone_derived\": true, \"language\": "
    "\"en\"},"
    " \"profile\": {\"tenure_months\": 37, \"autopay\": true, \"prior_delinquencies\": 2,"
    "   \"payments_12m\": 9}}";

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    cr_assert_not_null(j, "test JSON: line %d: %s", err.line, err.text);
    return j;
}

/* Applies and expects ARR_OK. */
static void apply_ok(scoring_state *st, const char *type, const char *payload, int n)
{
    json_t *p = parse(payload);
    char why[256] = "";
    arr_err e = scoring_state_apply(st, type, p, 1760000000000 + n, eid(n), why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "%s: %s", type, why);
    json_decref(p);
}

/* Applies and expects ARR_EINVAL naming field; the state must not move. */
static void apply_bad(scoring_state *st, const char *type, const char *payload, const char *id,
                      const char *field)
{
    scoring_state before;
    memcpy(&before, st, sizeof(before));
    json_t *p = parse(payload);
    char why[256] = "";
    arr_err e = scoring_state_apply(st, type, p, 1760000000000, id, why, sizeof(why));
    cr_assert_eq(e, ARR_EINVAL, "%s %s: expected ARR_EINVAL, got %d", type, payload, e);
    cr_assert_not_null(strstr(why, field), "why \"%s\" does not name %s", why, field);
    cr_assert_eq(memcmp(&before, st, sizeof(before)), 0, "a rejected event changed the state");
    json_decref(p);
}

static scoring_state placed(void)
{
    scoring_state st;
    scoring_state_init(&st);
    apply_ok(&st, "account.placed", placed_json, 1);
    return st;
}

/* ------------------------------------------------------------------ names */

Test(scoring_features, names_round_trip)
{
    static const char *const want[SF_COUNT] = {
        "balance_log",  "days_past_due", "open_debts",      "svc_telecom",
        "svc_water",    "svc_medical",   "tenure_months",   "prior_delinq",
        "payments_12m", "autopay",       "email_ok",        "sms_ok",
        "contacts",     "promises_kept", "promises_broken", "partial_payments"};
    for (int i = 0; i < SF_COUNT; i++) {
        cr_assert_str_eq(scoring_feature_name((scoring_feature)i), want[i]);
        cr_assert_eq(scoring_feature_by_name(want[i]), i);
    }
    cr_assert_null(scoring_feature_name(SF_COUNT));
    cr_assert_null(scoring_feature_name((scoring_feature)-1));
    cr_assert_eq(scoring_feature_by_name("BALANCE_LOG"), -1);
    cr_assert_eq(scoring_feature_by_name(""), -1);
    cr_assert_eq(scoring_feature_by_name(NULL), -1);
}

Test(scoring_features, status_and_service_names)
{
    const char *names[] = {"none", "open", "paid", "closed", "disputed", "cease"};
    for (int i = 0; i < SCORING_STATUS__COUNT; i++) {
        cr_assert_str_eq(scoring_status_name((scoring_status)i), names[i]);
        cr_assert_eq(scoring_status_by_name(names[i]), i);
    }
    cr_assert_null(scoring_status_name(SCORING_STATUS__COUNT));
    cr_assert_eq(scoring_status_by_name("Open"), -1);
    cr_assert_eq(scoring_service_by_name("medical"), SCORING_SVC_MEDICAL);
    cr_assert_eq(scoring_service_by_name("fax"), SCORING_SVC_UNKNOWN);
    cr_assert_eq(scoring_service_by_name(""), SCORING_SVC_UNKNOWN);
}

/* ------------------------------------------------------------------ events */

Test(scoring_features, placed_folds_the_whole_account)
{
    scoring_state st = placed();
    cr_assert_eq(st.balance_cents, 12345);
    cr_assert_eq(st.original_balance_cents, 15000);
    cr_assert_str_eq(st.currency, "USD");
    cr_assert_eq(st.due_day, DAY_2026_01_15);
    cr_assert_eq(st.service, SCORING_SVC_WATER);
    cr_assert_eq(st.open_debts, 1);
    cr_assert_eq(st.tenure_months, 37);
    cr_assert_eq(st.prior_delinquencies, 2);
    cr_assert_eq(st.payments_12m, 9);
    cr_assert_eq(st.autopay, 1);
    cr_assert_eq(st.email_ok, 1, "the second e-mail has consent");
    cr_assert_eq(st.sms_ok, 1, "the mobile has SMS consent");
    cr_assert_eq(st.lifecycle, SCORING_LC_OPEN);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_OPEN);
    cr_assert_eq(st.version, 1);
    cr_assert_eq(st.last_event_ms, 1760000000001);
    cr_assert_str_eq(st.last_event_id, eid(1));
}

Test(scoring_features, consent_rules)
{
    scoring_state st;
    scoring_state_init(&st);
    /* No consent on the e-mail; SMS consent on a landline counts for nothing; a mobile
     * without SMS consent neither. */
    apply_ok(&st, "account.placed",
             "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
             " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\","
             " \"debtor\": {\"emails\": [{\"address\": \"a@b.c\", \"consent\": false}],"
             "  \"phones\": [{\"number\": \"+15417543010\", \"type\": \"landline\","
             "               \"sms_consent\": true, \"voice_consent\": true},"
             "              {\"number\": \"+15417543011\", \"type\": \"mobile\","
             "               \"sms_consent\": false, \"voice_consent\": true}],"
             "  \"address\": {\"country\": \"US\"}, \"timezones\": [], \"timezone_derived\": false,"
             "  \"language\": \"en\"}}",
             1);
    cr_assert_eq(st.email_ok, 0);
    cr_assert_eq(st.sms_ok, 0);
}

Test(scoring_features, unknowns_and_defaults)
{
    scoring_state st;
    scoring_state_init(&st);
    apply_ok(&st, "account.placed",
             "{\"balance_cents\": 0, \"original_balance_cents\": 0, \"currency\": \"USD\","
             " \"due_date\": \"2026-01-15\", \"service_type\": \"electricity\"}",
             1);
    cr_assert_eq(st.tenure_months, -1);
    cr_assert_eq(st.prior_delinquencies, -1);
    cr_assert_eq(st.payments_12m, -1);
    cr_assert_eq(st.autopay, -1);
    cr_assert_eq(st.email_ok, 0);
    cr_assert_eq(st.sms_ok, 0);
    /* Nothing owed: placed as paid, no open debt. */
    cr_assert_eq(st.lifecycle, SCORING_LC_PAID);
    cr_assert_eq(st.open_debts, 0);
    double x[SF_COUNT];
    scoring_features_vector(&st, ms_of("2026-01-15T00:00:00Z"), x);
    cr_assert_eq(x[SF_TENURE_MONTHS], 24.0);
    for (int i = 0; i < SF_COUNT; i++)
        if (i != SF_TENURE_MONTHS)
            cr_assert_eq(x[i], 0.0, "%s = %g", scoring_feature_name((scoring_feature)i), x[i]);

    /* A state with nothing placed at all: the same defaults, no days past due. */
    scoring_state empty;
    scoring_state_init(&empty);
    scoring_features_vector(&empty, ms_of("2030-01-01T00:00:00Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 0.0);
    cr_assert_eq(x[SF_TENURE_MONTHS], 24.0);
}

Test(scoring_features, vector_of_a_full_account)
{
    scoring_state st = placed();
    double x[SF_COUNT];
    scoring_features_vector(&st, ms_of("2026-03-01T12:00:00Z"), x);
    cr_assert_float_eq(x[SF_BALANCE_LOG], log1p(123.45), 1e-12);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 45.0, "from the due date, not the payload's 999");
    cr_assert_eq(x[SF_OPEN_DEBTS], 1.0);
    cr_assert_eq(x[SF_SVC_TELECOM], 0.0);
    cr_assert_eq(x[SF_SVC_WATER], 1.0);
    cr_assert_eq(x[SF_SVC_MEDICAL], 0.0);
    cr_assert_eq(x[SF_TENURE_MONTHS], 37.0);
    cr_assert_eq(x[SF_PRIOR_DELINQ], 2.0);
    cr_assert_eq(x[SF_PAYMENTS_12M], 9.0);
    cr_assert_eq(x[SF_AUTOPAY], 1.0);
    cr_assert_eq(x[SF_EMAIL_OK], 1.0);
    cr_assert_eq(x[SF_SMS_OK], 1.0);
    cr_assert_eq(x[SF_CONTACTS], 0.0);
}

Test(scoring_features, days_past_due_from_as_of_not_the_clock)
{
    scoring_state st = placed();
    double x[SF_COUNT];
    /* The same state read at different event times gives different ages: only as_of counts. */
    scoring_features_vector(&st, ms_of("2026-01-15T23:59:59.999Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 0.0, "the due day itself");
    scoring_features_vector(&st, ms_of("2026-01-16T00:00:00Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 1.0);
    scoring_features_vector(&st, ms_of("2025-12-01T00:00:00Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 0.0, "not yet due");
    scoring_features_vector(&st, ms_of("2027-01-15T00:00:00Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 365.0);
    /* Far in the past or the future of the machine running the test. */
    scoring_features_vector(&st, ms_of("2099-01-15T00:00:00Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 26663.0); /* 73 years, 18 of them leap: 73*365+18 */

    /* Before 1970 the day still starts at midnight (floor, not truncation, of ms/day). */
    scoring_state old;
    scoring_state_init(&old);
    apply_ok(&old, "account.placed",
             "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
             " \"due_date\": \"1969-12-30\", \"service_type\": \"gas\"}",
             1);
    cr_assert_eq(old.due_day, -2);
    scoring_features_vector(&old, ms_of("1969-12-31T12:00:00Z"), x);
    cr_assert_eq(x[SF_DAYS_PAST_DUE], 1.0);
}

Test(scoring_features, service_one_hot)
{
    const struct {
        const char *svc;
        double telecom, water, medical;
    } rows[] = {{"telecom", 1, 0, 0}, {"water", 0, 1, 0},       {"medical", 0, 0, 1},
                {"gas", 0, 0, 0},     {"electricity", 0, 0, 0}, {"other", 0, 0, 0}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scoring_state st;
        scoring_state_init(&st);
        char p[256];
        snprintf(p, sizeof(p),
                 "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
                 " \"due_date\": \"2026-01-15\", \"service_type\": \"%s\"}",
                 rows[i].svc);
        apply_ok(&st, "account.placed", p, 1);
        double x[SF_COUNT];
        scoring_features_vector(&st, 0, x);
        cr_assert_eq(x[SF_SVC_TELECOM], rows[i].telecom, "%s", rows[i].svc);
        cr_assert_eq(x[SF_SVC_WATER], rows[i].water, "%s", rows[i].svc);
        cr_assert_eq(x[SF_SVC_MEDICAL], rows[i].medical, "%s", rows[i].svc);
    }
}

Test(scoring_features, updated_replaces_the_account)
{
    scoring_state st = placed();
    /* A later export: balance raised, the profile and the debtor gone. */
    apply_ok(&st, "account.updated",
             "{\"balance_cents\": 20000, \"original_balance_cents\": 20000, \"currency\": \"USD\","
             " \"due_date\": \"2026-02-01\", \"service_type\": \"telecom\","
             " \"changes\": [\"balance_cents\"], \"previous_balance_cents\": 12345}",
             2);
    cr_assert_eq(st.balance_cents, 20000);
    cr_assert_eq(st.due_day, DAY_2026_01_15 + 17);
    cr_assert_eq(st.service, SCORING_SVC_TELECOM);
    cr_assert_eq(st.tenure_months, -1);
    cr_assert_eq(st.autopay, -1);
    cr_assert_eq(st.email_ok, 0);
    cr_assert_eq(st.version, 2);
    /* Lowered to nothing at the creditor: paid. */
    apply_ok(&st, "account.updated",
             "{\"balance_cents\": 0, \"original_balance_cents\": 20000, \"currency\": \"USD\","
             " \"due_date\": \"2026-02-01\", \"service_type\": \"telecom\"}",
             3);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_PAID);
    cr_assert_eq(st.open_debts, 0);
}

Test(scoring_features, closed_and_reopened)
{
    scoring_state st = placed();
    apply_ok(&st, "account.closed", "{\"account_id\": \"ACC-1\", \"reason\": \"recalled\"}", 2);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_CLOSED);
    cr_assert_eq(st.balance_cents, 12345, "no balance given: kept");
    cr_assert_eq(st.open_debts, 0);
    apply_ok(&st, "account.closed",
             "{\"account_id\": \"ACC-1\", \"reason\": \"written_off\", \"balance_cents\": 999}", 3);
    cr_assert_eq(st.balance_cents, 999);
    /* An update of a closed account does not reopen it... */
    apply_ok(&st, "account.updated", placed_json, 4);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_CLOSED);
    /* ...a new placement does. */
    apply_ok(&st, "account.placed", placed_json, 5);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_OPEN);
    cr_assert_eq(st.open_debts, 1);
}

Test(scoring_features, payments_partial_full_credit_reversed)
{
    scoring_state st = placed(); /* 12345 owed */
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P1\", \"amount_cents\": 2345, \"currency\": \"USD\","
             " \"balance_after_cents\": 10000}",
             2);
    cr_assert_eq(st.balance_cents, 10000);
    cr_assert_eq(st.partial_payments, 1);
    cr_assert_eq(st.payments, 1);
    cr_assert_eq(st.payments_total_cents, 2345);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_OPEN);
    /* Overpaid by 500: nothing owed, a credit kept. */
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P2\", \"amount_cents\": 10500, \"currency\": \"USD\","
             " \"balance_after_cents\": 0, \"credit_cents\": 500}",
             3);
    cr_assert_eq(st.balance_cents, -500);
    cr_assert_eq(st.partial_payments, 1, "a payment that leaves nothing is not partial");
    cr_assert_eq(st.payments_total_cents, 12845);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_PAID);
    cr_assert_eq(st.open_debts, 0);
    double x[SF_COUNT];
    scoring_features_vector(&st, 0, x);
    cr_assert_eq(x[SF_BALANCE_LOG], 0.0, "a credit");
    cr_assert_eq(x[SF_PARTIAL_PAYMENTS], 1.0);
    /* The second payment bounces: owed again, open again. */
    apply_ok(&st, "payment.reversed",
             "{\"payment_id\": \"P2\", \"amount_cents\": 10500, \"currency\": \"USD\","
             " \"balance_after_cents\": 10000, \"return_code\": \"R01\"}",
             4);
    cr_assert_eq(st.balance_cents, 10000);
    cr_assert_eq(st.payments_total_cents, 2345);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_OPEN);
    cr_assert_eq(st.open_debts, 1);
    cr_assert_eq(st.payments, 2, "reversals do not uncount payments");
}

Test(scoring_features, payment_in_another_currency_is_refused)
{
    scoring_state st = placed();
    apply_bad(&st, "payment.applied",
              "{\"payment_id\": \"P1\", \"amount_cents\": 100, \"currency\": \"CAD\","
              " \"balance_after_cents\": 12245}",
              eid(2), "payload.currency");
}

Test(scoring_features, promises_made_kept_broken)
{
    scoring_state st = placed();
    apply_ok(&st, "reply.received",
             "{\"reply_id\": \"R1\", \"channel\": \"sms\", \"intent\": \"promise\","
             " \"received_at\": \"2026-02-01T10:00:00Z\", \"promised_amount_cents\": 3000,"
             " \"currency\": \"USD\", \"promised_date\": \"2026-02-10\"}",
             2);
    cr_assert_eq(st.promise_open, 1);
    cr_assert_eq(st.promise_amount_cents, 3000);
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P1\", \"amount_cents\": 1000, \"currency\": \"USD\","
             " \"balance_after_cents\": 11345}",
             3);
    cr_assert_eq(st.promises_kept, 0, "1000 of 3000 paid");
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P2\", \"amount_cents\": 2000, \"currency\": \"USD\","
             " \"balance_after_cents\": 9345}",
             4);
    cr_assert_eq(st.promises_kept, 1);
    cr_assert_eq(st.promise_open, 0);
    /* A promise without an amount, then broken. */
    apply_ok(&st, "reply.received",
             "{\"reply_id\": \"R2\", \"channel\": \"email\", \"intent\": \"promise\","
             " \"received_at\": \"2026-03-01T10:00:00Z\"}",
             5);
    cr_assert_eq(st.promise_open, 1);
    apply_ok(&st, "promise.broken",
             "{\"promise_id\": \"PR2\", \"promised_amount_cents\": 9345, \"currency\": \"USD\","
             " \"promised_date\": \"2026-03-10\"}",
             6);
    cr_assert_eq(st.promises_broken, 1);
    cr_assert_eq(st.promise_open, 0);
    apply_ok(&st, "plan.instalment_missed",
             "{\"plan_id\": \"PL1\", \"instalment_number\": 2, \"due_date\": \"2026-04-01\","
             " \"amount_due_cents\": 2000, \"currency\": \"USD\"}",
             7);
    cr_assert_eq(st.promises_broken, 2);
    /* A promise without an amount is kept by any payment. */
    apply_ok(&st, "reply.received",
             "{\"reply_id\": \"R3\", \"channel\": \"web\", \"intent\": \"promise\","
             " \"received_at\": \"2026-04-02T10:00:00Z\"}",
             8);
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P3\", \"amount_cents\": 1, \"currency\": \"USD\","
             " \"balance_after_cents\": 9344}",
             9);
    cr_assert_eq(st.promises_kept, 2);
    double x[SF_COUNT];
    scoring_features_vector(&st, 0, x);
    cr_assert_eq(x[SF_PROMISES_KEPT], 2.0);
    cr_assert_eq(x[SF_PROMISES_BROKEN], 2.0);
    cr_assert_eq(x[SF_PARTIAL_PAYMENTS], 3.0);
}

Test(scoring_features, outreach_sent_counts_contacts)
{
    scoring_state st = placed();
    const char *sent = "{\"step_id\": \"S1\", \"channel\": \"email\", \"provider\": \"mailer\","
                       " \"provider_message_id\": \"M1\"}";
    apply_ok(&st, "outreach.sent", sent, 2);
    apply_ok(&st, "outreach.sent", sent, 3);
    cr_assert_eq(st.contacts, 2);
    double x[SF_COUNT];
    scoring_features_vector(&st, 0, x);
    cr_assert_eq(x[SF_CONTACTS], 2.0);
}

static void reply(scoring_state *st, const char *intent, int n)
{
    char p[256];
    snprintf(p, sizeof(p),
             "{\"reply_id\": \"R%d\", \"channel\": \"sms\", \"intent\": \"%s\","
             " \"received_at\": \"2026-02-01T10:00:00Z\"}",
             n, intent);
    apply_ok(st, "reply.received", p, n);
}

Test(scoring_features, replies_set_dispute_and_cease)
{
    const struct {
        const char *intent;
        scoring_status want;
    } rows[] = {
        {"stop", SCORING_STATUS_OPEN}, /* an opt-out of a channel, for outreach: not a cease */
        {"attorney", SCORING_STATUS_CEASE},
        {"dispute", SCORING_STATUS_DISPUTED},
        {"original_creditor_request", SCORING_STATUS_DISPUTED},
        {"paid", SCORING_STATUS_OPEN}, /* a claim, not a payment */
        {"other", SCORING_STATUS_OPEN},
        {"something_new", SCORING_STATUS_OPEN}, /* a later schema's intent: no change */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scoring_state st = placed();
        reply(&st, rows[i].intent, 2);
        cr_assert_eq(scoring_state_status(&st), rows[i].want, "%s", rows[i].intent);
        cr_assert_eq(st.version, 2, "%s", rows[i].intent);
    }
}

Test(scoring_features, cease_survives_payments_and_reversals)
{
    scoring_state st = placed();
    reply(&st, "dispute", 2);
    reply(&st, "attorney", 3);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_CEASE, "cease is stronger");
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P1\", \"amount_cents\": 12345, \"currency\": \"USD\","
             " \"balance_after_cents\": 0}",
             4);
    apply_ok(&st, "payment.reversed",
             "{\"payment_id\": \"P1\", \"amount_cents\": 12345, \"currency\": \"USD\","
             " \"balance_after_cents\": 12345}",
             5);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_CEASE);
    apply_ok(&st, "account.placed", placed_json, 6);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_CEASE, "a re-placement neither");
    apply_ok(&st, "account.closed", "{\"account_id\": \"ACC-1\", \"reason\": \"other\"}", 7);
    cr_assert_eq(scoring_state_status(&st), SCORING_STATUS_CLOSED, "closed is stronger");
}

Test(scoring_features, unknown_event_types_change_nothing)
{
    scoring_state st = placed(), before;
    memcpy(&before, &st, sizeof(st));
    const char *types[] = {"score.computed", "outreach.planned", "payment.received",
                           "deadletter.recorded", ""};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char why[64] = "";
        json_t *p = json_object();
        cr_assert_eq(scoring_state_apply(&st, types[i], p, 1, eid(50), why, sizeof(why)), ARR_OK);
        cr_assert_eq(memcmp(&st, &before, sizeof(st)), 0, "%s changed the state", types[i]);
        json_decref(p);
    }
}

Test(scoring_features, reapplying_the_last_event_is_a_no_op)
{
    scoring_state st = placed(), before;
    const char *sent = "{\"step_id\": \"S1\", \"channel\": \"email\", \"provider\": \"mailer\","
                       " \"provider_message_id\": \"M1\"}";
    apply_ok(&st, "outreach.sent", sent, 2);
    memcpy(&before, &st, sizeof(st));
    cr_assert(scoring_state_seen(&st, eid(2)));
    cr_assert_not(scoring_state_seen(&st, eid(3)));
    cr_assert_not(scoring_state_seen(&st, NULL));
    apply_ok(&st, "outreach.sent", sent, 2);
    cr_assert_eq(memcmp(&st, &before, sizeof(st)), 0, "a redelivery changed the state");
    cr_assert_eq(st.contacts, 1);
    /* The same content under another id is another event. */
    apply_ok(&st, "outreach.sent", sent, 3);
    cr_assert_eq(st.contacts, 2);
    cr_assert_eq(st.version, 3);

    scoring_state fresh;
    scoring_state_init(&fresh);
    cr_assert_not(scoring_state_seen(&fresh, ""), "an empty id matches nothing");
}

Test(scoring_features, bad_input_names_the_field)
{
    scoring_state st;
    scoring_state_init(&st);
    const char *ok_acct = "{\"balance_cents\": 100, \"original_balance_cents\": 100,"
                          " \"currency\": \"USD\", \"due_date\": \"2026-01-15\","
                          " \"service_type\": \"gas\"}";
    apply_bad(&st, "account.placed", ok_acct, "not-a-uuid", "event_id");
    apply_bad(&st, "account.placed", ok_acct, NULL, "event_id");
    apply_bad(&st, "account.placed", "[1]", eid(1), "payload");
    apply_bad(&st, "account.placed",
              "{\"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\"}",
              eid(1), "payload.balance_cents");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": \"100\", \"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\"}",
              eid(1), "payload.balance_cents");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": -1, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\"}",
              eid(1), "payload.original_balance_cents");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"usd\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\"}",
              eid(1), "payload.currency");
    const char *bad_dates[] = {"2026-02-29", "2026-13-01", "2026-1-15", "15/01/2026",
                               "2026-01-15T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        char p[256];
        snprintf(p, sizeof(p),
                 "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
                 " \"due_date\": \"%s\", \"service_type\": \"gas\"}",
                 bad_dates[i]);
        apply_bad(&st, "account.placed", p, eid(1), "payload.due_date");
    }
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"fax\"}",
              eid(1), "payload.service_type");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\","
              " \"profile\": {\"tenure_months\": -3}}",
              eid(1), "payload.profile.tenure_months");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\","
              " \"profile\": {\"autopay\": \"yes\"}}",
              eid(1), "payload.profile.autopay");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\","
              " \"debtor\": {\"emails\": [{\"address\": \"a@b.c\"}]}}",
              eid(1), "payload.debtor.emails[0].consent");
    apply_bad(&st, "account.placed",
              "{\"balance_cents\": 100, \"original_balance_cents\": 100, \"currency\": \"USD\","
              " \"due_date\": \"2026-01-15\", \"service_type\": \"gas\","
              " \"debtor\": {\"phones\": [{\"type\": \"fax\", \"sms_consent\": true}]}}",
              eid(1), "payload.debtor.phones[0].type");
    apply_bad(&st, "payment.applied",
              "{\"payment_id\": \"P1\", \"amount_cents\": 0, \"currency\": \"USD\","
              " \"balance_after_cents\": 0}",
              eid(1), "payload.amount_cents");
    apply_bad(&st, "payment.applied",
              "{\"payment_id\": \"P1\", \"amount_cents\": 5, \"currency\": \"USD\"}", eid(1),
              "payload.balance_after_cents");
    apply_bad(&st, "payment.reversed",
              "{\"payment_id\": \"P1\", \"amount_cents\": 5, \"balance_after_cents\": 5}", eid(1),
              "payload.currency");
    apply_bad(&st, "reply.received", "{\"reply_id\": \"R1\", \"channel\": \"sms\"}", eid(1),
              "payload.intent");
    apply_bad(&st, "reply.received",
              "{\"reply_id\": \"R1\", \"channel\": \"sms\", \"intent\": \"promise\","
              " \"promised_amount_cents\": 0}",
              eid(1), "payload.promised_amount_cents");
    apply_bad(&st, "account.closed", "{\"reason\": \"other\", \"balance_cents\": 1.5}", eid(1),
              "payload.balance_cents");
    cr_assert_eq(st.version, 0);
}

/* ------------------------------------------------------------------ cache form */

static void round_trip(const scoring_state *st)
{
    char buf[SCORING_STATE_ENCODED_MAX], why[128] = "";
    size_t len;
    cr_assert_eq(scoring_state_encode(st, buf, sizeof(buf), &len), ARR_OK);
    cr_assert_eq(strlen(buf), len);
    cr_assert_eq(strncmp(buf, "v1|", 3), 0, "%s", buf);
    scoring_state back;
    memset(&back, 0x5a, sizeof(back));
    cr_assert_eq(scoring_state_decode(buf, len, &back, why, sizeof(why)), ARR_OK, "%s: %s", buf,
                 why);
    cr_assert_eq(memcmp(st, &back, sizeof(back)), 0, "round trip of %s", buf);
    char again[SCORING_STATE_ENCODED_MAX];
    size_t len2;
    cr_assert_eq(scoring_state_encode(&back, again, sizeof(again), &len2), ARR_OK);
    cr_assert_str_eq(buf, again);
}

Test(scoring_features, encode_decode_round_trip)
{
    scoring_state st;
    scoring_state_init(&st);
    round_trip(&st);
    st = placed();
    round_trip(&st);
    reply(&st, "promise", 2);
    reply(&st, "dispute", 3);
    apply_ok(&st, "payment.applied",
             "{\"payment_id\": \"P1\", \"amount_cents\": 345, \"currency\": \"USD\","
             " \"balance_after_cents\": 12000}",
             4);
    round_trip(&st);

    /* Every field at its extreme: the longest text and the edges of every range. */
    scoring_state x;
    scoring_state_init(&x);
    x.balance_cents = INT64_MIN;
    x.original_balance_cents = INT64_MAX;
    strcpy(x.currency, "ZZZ");
    x.due_day = INT32_MIN + 1;
    x.service = SCORING_SVC__COUNT - 1;
    x.open_debts = x.contacts = x.promises_kept = x.promises_broken = INT32_MAX;
    x.tenure_months = x.prior_delinquencies = x.payments_12m = INT32_MAX;
    x.partial_payments = x.payments = INT32_MAX;
    x.autopay = x.email_ok = x.sms_ok = x.promise_open = x.disputed = x.cease = 1;
    x.promise_amount_cents = x.promise_paid_cents = x.payments_total_cents = INT64_MAX;
    x.lifecycle = SCORING_LC__COUNT - 1;
    x.last_event_ms = INT64_MIN;
    x.version = INT64_MAX;
    strcpy(x.last_event_id, "ffffffff-ffff-ffff-ffff-ffffffffffff");
    round_trip(&x);
    x.last_event_ms = INT64_MAX;
    x.due_day = INT32_MAX;
    round_trip(&x);
}

Test(scoring_features, encode_needs_room)
{
    scoring_state st = placed();
    char buf[SCORING_STATE_ENCODED_MAX];
    size_t len, len2;
    cr_assert_eq(scoring_state_encode(&st, buf, sizeof(buf), &len), ARR_OK);
    cr_assert_eq(scoring_state_encode(&st, buf, len, &len2), ARR_ELIMIT, "no room for the NUL");
    cr_assert_eq(scoring_state_encode(&st, buf, len + 1, &len2), ARR_OK);
    cr_assert_eq(len2, len);
}

Test(scoring_features, decode_rejects_malformed_or_other_versions)
{
    scoring_state st = placed();
    char good[SCORING_STATE_ENCODED_MAX];
    size_t len;
    cr_assert_eq(scoring_state_encode(&st, good, sizeof(good), &len), ARR_OK);

    /* Edit one field of the good text: field i (0-based, after the version) set to value. */
    char bad[3][SCORING_STATE_ENCODED_MAX + 64];
    struct {
        int field;
        const char *value;
        const char *why;
    } edits[] = {
        {0, "", "balance_cents"},
        {0, "12x", "balance_cents"},
        {0, "+12345", "balance_cents"},
        {0, "012345", "balance_cents"},
        {0, "-0", "balance_cents"},
        {0, "9223372036854775808", "balance_cents"},
        {2, "usd", "currency"},
        {2, "US", "currency"},
        {3, "-2147483648", "due_day"},
        {4, "7", "service"},
        {9, "2", "autopay"},
        {9, "-2", "autopay"},
        {10, "-1", "email_ok"},
        {12, "-1", "contacts"},
        {12, "2147483648", "contacts"},
        {21, "4", "lifecycle"},
        {25, "-1", "version"},
        {26, "not-a-uuid", "last_event_id"},
        {26, "00000000-0000-4000-8000-00000000000G", "last_event_id"},
    };
    for (size_t k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
        /* Split good on '|' and rebuild with the edit. */
        char copy[SCORING_STATE_ENCODED_MAX];
        strcpy(copy, good);
        char *save = NULL, *tok = strtok_r(copy, "|", &save);
        snprintf(bad[0], sizeof(bad[0]), "%s", tok); /* "v1" */
        for (int i = 0; (tok = strtok_r(NULL, "|", &save)) != NULL; i++) {
            size_t n = strlen(bad[0]);
            snprintf(bad[0] + n, sizeof(bad[0]) - n, "|%s",
                     i == edits[k].field ? edits[k].value : tok);
        }
        scoring_state out;
        char why[128] = "";
        cr_assert_eq(scoring_state_decode(bad[0], strlen(bad[0]), &out, why, sizeof(why)),
                     ARR_EINVAL, "accepted %s", bad[0]);
        cr_assert_not_null(strstr(why, edits[k].why), "\"%s\" for %s", why, bad[0]);
    }

    const char *whole[] = {"", "v1", "v1|", "v2|1|2", "V1|1"};
    for (size_t k = 0; k < sizeof(whole) / sizeof(whole[0]); k++) {
        scoring_state out;
        char why[128] = "";
        cr_assert_eq(scoring_state_decode(whole[k], strlen(whole[k]), &out, why, sizeof(why)),
                     ARR_EINVAL, "accepted \"%s\"", whole[k]);
    }
    /* Another version tag with the same fields. */
    snprintf(bad[1], sizeof(bad[1]), "v2%s", good + 2);
    scoring_state out;
    char why[128] = "";
    cr_assert_eq(scoring_state_decode(bad[1], strlen(bad[1]), &out, why, sizeof(why)), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "v1"), "%s", why);
    /* One field too many, one too few, a truncated text. */
    snprintf(bad[1], sizeof(bad[1]), "%s|7", good);
    cr_assert_eq(scoring_state_decode(bad[1], strlen(bad[1]), &out, why, sizeof(why)), ARR_EINVAL);
    cr_assert_eq(
        scoring_state_decode(good, (size_t)(strrchr(good, '|') - good), &out, why, sizeof(why)),
        ARR_EINVAL);
    cr_assert_eq(scoring_state_decode(good, len - 1, &out, why, sizeof(why)), ARR_EINVAL);
    /* The untouched text still decodes: the edits above were what failed. */
    cr_assert_eq(scoring_state_decode(good, len, &out, why, sizeof(why)), ARR_OK, "%s", why);
}

/* 1 when needle's bytes occur anywhere in the n bytes at hay (memmem is a GNU extension). */
static int contains(const void *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp((const char *)hay + i, needle, k) == 0)
            return 1;
    return 0;
}

Test(scoring_features, no_personal_data_survives)
{
    scoring_state st = placed();
    char buf[SCORING_STATE_ENCODED_MAX];
    size_t len;
    cr_assert_eq(scoring_state_encode(&st, buf, sizeof(buf), &len), ARR_OK);
    const char *personal[] = {"Zebulon",   "Quackenbush", "zebulon",    "example.org",
                              "zq@",       "example.net", "5417543010", "5559876543",
                              "Evergreen", "Springfield", "97403",      "Los_Angeles",
                              "CUST-9",    "ACC-1"};
    for (size_t i = 0; i < sizeof(personal) / sizeof(personal[0]); i++) {
        cr_assert_null(strstr(buf, personal[i]), "\"%s\" is in the cache text %s", personal[i],
                       buf);
        cr_assert_not(contains(&st, sizeof(st), personal[i]), "\"%s\" is in the state's bytes",
                      personal[i]);
    }
}
