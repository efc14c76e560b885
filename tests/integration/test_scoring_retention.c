/* Integration tests of `arrears retention apply` against the real PostgreSQL of the stack
 * (ARR_PG_CONNINFO), running the built binary (ARR_BIN_DIR).
 *
 * Each test's init writes a tenant of its own ("ret-<pid>-<time>-<n>") with three accounts,
 * as the services and the audit store would have left them:
 *   OLD    closed at the creditor (paid) and last active 4 years before the as-of date: its
 *          placement (full debtor), an account.submitted line, a score, an inbound SMS and the
 *          reply.received it became, a payment (payer name, remittance text) and its
 *          application, the closure; ingest's, outreach's, reconciliation's and scoring's rows
 *          (contact index, a step, a reply, the ledger, the payment, a rejected export line,
 *          a dead letter holding the placement);
 *   RECENT closed, last active 1 year before: inside its retention period;
 *   OPEN   placed 5 years before and never closed: never touched, whatever its age.
 * Only OLD may be erased: none of its personal strings may remain in any row of the tenant,
 * the other two must be byte for byte what they were, and the decision trail must stay --
 * above all, scoring's feature fold over OLD's erased events must give the very state the
 * original events gave (this file is test_scoring_*, so it links arr_scoring for that).
 * The fini deletes every row of the tenant, also when an assertion failed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrears/clock.h"
#include "arrears/pg.h"
#include "arrears/uuid.h"
#include "cli_env.h"
#include "features.h"

#define AS_OF "2026-06-30"
#define OLD "RO7001001"
#define RECENT "RR7001002"
#define OPEN "RN7001003"
#define SMS_SID "SM5f0c9a81d2e34b7a"
#define PAYMENT_ID "json:ret-pay-1"
#define N_EVENTS 8 /* OLD's events in audit.events, in event-time order */

static char tenant[64];
static arr_pg *admin;
static char *old_messages[N_EVENTS]; /* the envelopes as inserted, for the fold */

/* Every personal value of OLD, as it was written somewhere. */
static const char *const old_personal[] = {"Philippa",
                                           "Quattlebaum",
                                           "philippa.quattlebaum@example.com",
                                           "Example.COM",
                                           "pq1957@mail.example.org",
                                           "+13125550147",
                                           "(312) 555-0147",
                                           "+13125550148",
                                           "Wrenfield",
                                           "Apt 9C",
                                           "Evanston",
                                           "CUST-778812",
                                           "maple syrup"};

/* ------------------------------------------------------------------ helpers */

/* `retention apply --json` for the tenant with extra flags; the parsed report (decref it). */
static json_t *apply(const char *flags)
{
    char out[65536];
    int rc = run_cli(out, sizeof(out), "retention apply --tenant %s --as-of " AS_OF " --json %s",
                     tenant, flags);
    cr_assert_eq(rc, 0, "retention apply failed (%d):\n%s", rc, out);
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    cr_assert_not_null(j, "not JSON: %s\n%s", err.text, out);
    return j;
}

static long jint(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    cr_assert(json_is_integer(v), "%s%s%s is not an integer", path1, path2 ? "." : "",
              path2 ? path2 : "");
    return (long)json_integer_value(v);
}

/* outreach's contact point id: the first 32 hex digits of SHA-256("<tenant>\n<address>"). */
static void address_id(const char *address, char out[33])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)tenant, strlen(tenant));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)address, strlen(address));
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 33, h, 16);
}

static void uuid_for(const char *name, char out[ARR_UUID_STRLEN])
{
    cr_assert_eq(arr_uuid_named(tenant, name, out), ARR_OK);
}

/* An envelope as a producer writes it; the text is malloc'ed. payload is stolen. */
static char *envelope(const char *id_name, const char *type, const char *account, const char *time,
                      const char *cause_name, json_t *payload)
{
    char id[ARR_UUID_STRLEN], cause[ARR_UUID_STRLEN];
    uuid_for(id_name, id);
    if (cause_name)
        uuid_for(cause_name, cause);
    json_t *env = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:s, s:{s:s, s:s, s:s}, s:o}",
                            "event_id", id, "event_type", type, "schema_version", 1, "tenant",
                            tenant, "account", account, "event_time", time, "produced_at", time,
                            "causation_id", cause_name ? json_string(cause) : json_null(),
                            "correlation_id", cause_name ? cause : id, "producer", "service",
                            "test", "version", "0.1.0", "instance", "t1", "payload", payload);
    cr_assert_not_null(env);
    char *text = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return text;
}

static void put_event(const char *id_name, const char *topic, const char *type, const char *account,
                      const char *time, const char *cause_name, const char *message)
{
    char id[ARR_UUID_STRLEN], cause[ARR_UUID_STRLEN];
    uuid_for(id_name, id);
    if (cause_name)
        uuid_for(cause_name, cause);
    const char *p[] = {id, tenant, account, type, time, cause_name ? cause : NULL, message, topic};
    db_exec(admin,
            "INSERT INTO audit.events (event_id, namespace, topic, kafka_partition,"
            " kafka_offset, tenant, account_id, event_type, event_time, causation_id,"
            " producer, message) VALUES ($1, '', $8, 0, 0, $2, $3, $4, $5, $6, 'test', $7)",
            8, p);
}

static json_t *debtor(const char *first, const char *last, const char *email, const char *phone,
                      const char *line1, const char *city, const char *state, const char *zip,
                      const char *zone)
{
    return json_pack(
        "{s:s, s:s, s:[{s:s, s:b}], s:[{s:s, s:s, s:b, s:b}], s:{s:s, s:s, s:s, s:s, s:s},"
        " s:[s], s:b, s:s}",
        "first_name", first, "last_name", last, "emails", "address", email, "consent", 1, "phones",
        "number", phone, "type", "mobile", "sms_consent", 1, "voice_consent", 0, "address", "line1",
        line1, "city", city, "state", state, "zip", zip, "country", "US", "timezones", zone,
        "timezone_derived", 1, "language", "en");
}

static json_t *placed_payload(const char *account, json_t *d)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:o,"
                     " s:{s:i, s:b, s:i, s:i}}",
                     "account_id", account, "regime", "third_party", "currency", "USD",
                     "balance_cents", 5000, "original_balance_cents", 5000, "invoice_id",
                     "INV-55120", "issue_date", "2022-02-01", "due_date", "2022-03-01",
                     "service_type", "water", "days_past_due", 31, "aging_bucket", "31-60",
                     "medical_no_report", 0, "debtor", d, "profile", "tenure_months", 40, "autopay",
                     0, "prior_delinquencies", 1, "payments_12m", 9);
}

/* ------------------------------------------------------------------ the fixture */

static void insert_old(void)
{
    json_t *d =
        debtor("Philippa", "Quattlebaum", "philippa.quattlebaum@example.com", "+13125550147",
               "4417 Wrenfield Ave", "Evanston", "IL", "60201", "America/Chicago");
    /* a landline and a second address, so stand-ins must stay apart */
    json_array_append_new(
        json_object_get(d, "emails"),
        json_pack("{s:s, s:b}", "address", "pq1957@mail.example.org", "consent", 0));
    json_array_append_new(json_object_get(d, "phones"),
                          json_pack("{s:s, s:s, s:b, s:b}", "number", "+13125550148", "type",
                                    "landline", "sms_consent", 0, "voice_consent", 1));
    json_object_set_new(json_object_get(d, "address"), "line2", json_string("Apt 9C"));
    char *debtor_text = json_dumps(d, JSON_COMPACT);
    json_t *placed = placed_payload(OLD, d);
    json_object_set_new(placed, "debtor_ref", json_string("CUST-778812"));
    char *payload_text = json_dumps(placed, JSON_COMPACT);

    json_t *submitted = json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "account_id", OLD,
        "balance_cents", 5000, "due_date", "2022-03-01", "first_name", "Philippa", "last_name",
        "Quattlebaum", "email", "philippa.quattlebaum@Example.COM", "phone", "(312) 555-0147",
        "address_line1", "4417 Wrenfield Ave", "address_line2", "Apt 9C", "city", "Evanston",
        "state", "IL", "zip", "60201", "debtor_ref", "CUST-778812", "invoice_id", "INV-55120");
    char e_phone[33];
    address_id("+13125550147", e_phone);

    struct {
        const char *name, *topic, *type, *account, *time, *cause;
        json_t *payload;
    } ev[N_EVENTS] = {
        {"old.submitted", "arrears.ingest.submissions", "account.submitted", OLD,
         "2022-04-01T09:59:00.000Z", NULL, submitted},
        {"old.placed", "arrears.accounts", "account.placed", OLD, "2022-04-01T10:00:00.000Z",
         "old.submitted", placed},
        {"old.score", "arrears.scores", "score.computed", OLD, "2022-04-01T10:00:01.000Z",
         "old.placed",
         json_pack("{s:f, s:i, s:s, s:s, s:s, s:[s, s], s:s, s:s, s:s}", "probability", 0.4375,
                   "expected_recovery_cents", 2187, "currency", "USD", "segment", "low", "strategy",
                   "digital", "reason_codes", "PRIOR_DELINQUENT", "SMALL_BALANCE", "model_id",
                   "default-1", "strategy_table_version", "st-1", "arm", "champion")},
        {"old.inbound", "arrears.outreach.callbacks", "provider.inbound", SMS_SID,
         "2022-04-20T16:30:00.000Z", NULL,
         json_pack("{s:s, s:s, s:s, s:s, s:s}", "provider_message_id", SMS_SID, "channel", "sms",
                   "from", "+13125550147", "text",
                   "Philippa here, I already paid, keep your maple syrup. 4417 Wrenfield",
                   "received_at", "2022-04-20T16:30:00.000Z")},
        {"old.reply", "arrears.outreach.replies", "reply.received", OLD, "2022-04-20T16:30:00.000Z",
         "old.inbound",
         json_pack("{s:s, s:s, s:s, s:s, s:s}", "reply_id", SMS_SID, "channel", "sms", "intent",
                   "paid", "received_at", "2022-04-20T16:30:00.000Z", "address_id", e_phone)},
        {"old.received", "arrears.payments.inbound", "payment.received", PAYMENT_ID,
         "2022-05-01T08:00:00.000Z", NULL,
         json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "payment_id", PAYMENT_ID, "source",
                   "json", "amount_cents", 5000, "currency", "USD", "received_at",
                   "2022-05-01T08:00:00.000Z", "reference",
                   "Water bill " OLD " Philippa Quattlebaum Wrenfield", "payer_name",
                   "Philippa Quattlebaum")},
        {"old.applied", "arrears.payments.events", "payment.applied", OLD,
         "2022-05-01T08:00:00.000Z", "old.received",
         json_pack("{s:s, s:i, s:s, s:i, s:{s:i, s:i, s:i}, s:s, s:s, s:s}", "payment_id",
                   PAYMENT_ID, "amount_cents", 5000, "currency", "USD", "balance_after_cents", 0,
                   "allocation", "fees_cents", 0, "interest_cents", 0, "principal_cents", 5000,
                   "matched_via", "reference", "source", "json", "status_after", "paid")},
        {"old.closed", "arrears.accounts", "account.closed", OLD, "2022-05-02T07:00:00.000Z", NULL,
         json_pack("{s:s, s:s, s:i, s:s}", "account_id", OLD, "reason", "paid_at_creditor",
                   "balance_cents", 0, "currency", "USD")},
    };
    json_incref(placed); /* also kept for the dead letter below */
    for (int i = 0; i < N_EVENTS; i++) {
        old_messages[i] =
            envelope(ev[i].name, ev[i].type, ev[i].account, ev[i].time, ev[i].cause, ev[i].payload);
        put_event(ev[i].name, ev[i].topic, ev[i].type, ev[i].account, ev[i].time, ev[i].cause,
                  old_messages[i]);
    }

    char placed_id[ARR_UUID_STRLEN], recv_id[ARR_UUID_STRLEN], score_id[ARR_UUID_STRLEN],
        step_id[ARR_UUID_STRLEN], dl_id[ARR_UUID_STRLEN], e_email[33], e_email2[33], e_phone2[33];
    uuid_for("old.placed", placed_id);
    uuid_for("old.received", recv_id);
    uuid_for("old.score", score_id);
    uuid_for("old.step", step_id);
    uuid_for("old.deadletter", dl_id);
    address_id("philippa.quattlebaum@example.com", e_email);
    address_id("pq1957@mail.example.org", e_email2);
    address_id("+13125550148", e_phone2);

    const char *ia[] = {tenant, OLD, placed_id, payload_text};
    db_exec(admin,
            "INSERT INTO ingest.accounts (tenant, account_id, regime, currency,"
            " balance_cents, original_balance_cents, due_date, service_type, debtor_ref,"
            " placed_event_id, placed_at, updated_at, payload, status) VALUES ($1, $2,"
            " 'third_party', 'USD', 0, 5000, '2022-03-01', 'water', 'CUST-778812', $3,"
            " '2022-04-01T10:00:00Z', '2022-05-02T07:00:00Z', $4::json, 'closed')",
            4, ia);
    const char *rj[] = {tenant, OLD};
    db_exec(admin,
            "INSERT INTO ingest.rejects (source, tenant, account_id, field, reason_code,"
            " detail, raw, received_at) VALUES ('file:export-0415.csv:17', $1, $2,"
            " 'phone', 'bad_phone', 'is not a valid phone number',"
            " '" OLD ",Philippa,Quattlebaum,(312) 555-01,4417 Wrenfield Ave,Evanston,IL,60201',"
            " '2022-04-15T02:00:00Z')",
            2, rj);
    const char *oa[] = {tenant, OLD, debtor_text};
    db_exec(admin,
            "INSERT INTO outreach.accounts (tenant, account_id, regime, currency,"
            " balance_cents, original_cents, due_date, debtor, placed_at, status,"
            " status_rule, strategy, updated_at) VALUES ($1, $2, 'third_party', 'USD', 0,"
            " 5000, '2022-03-01', $3::jsonb, '2022-04-01T10:00:00Z', 'paid',"
            " 'status.paid', 'digital', '2022-05-01T08:00:00Z')",
            3, oa);
    const char *ci[] = {tenant, OLD, e_email, e_email2, e_phone, e_phone2};
    db_exec(admin,
            "INSERT INTO outreach.contact_index (tenant, address_id, account_id) VALUES"
            " ($1, $3, $2), ($1, $4, $2), ($1, $5, $2), ($1, $6, $2)",
            6, ci);
    const char *sp[] = {step_id, tenant, OLD, score_id, e_phone};
    db_exec(admin,
            "INSERT INTO outreach.steps (step_id, tenant, account_id, channel, due_at,"
            " status, cause_event_id, run_no, step_key, address_id, done_at, updated_at)"
            " VALUES ($1, $2, $3, 'sms', '2022-04-05T15:00:00Z', 'sent', $4, 1, 'sms-1',"
            " $5, '2022-04-05T15:00:02Z', '2022-04-05T15:00:02Z')",
            5, sp);
    const char *oo[] = {tenant, OLD, e_email2};
    db_exec(admin,
            "INSERT INTO outreach.opt_outs (tenant, account_id, address_id, channel,"
            " reason, at) VALUES ($1, $2, $3, 'email', 'reply_email',"
            " '2022-04-10T12:00:00Z'), ($1, $2, 'medium:voice', 'voice', 'reply_stop',"
            " '2022-04-10T12:00:00Z')",
            3, oo);
    char reply_id[ARR_UUID_STRLEN];
    uuid_for("old.reply", reply_id);
    const char *rp[] = {tenant, OLD, SMS_SID, reply_id};
    db_exec(admin,
            "INSERT INTO outreach.replies (tenant, account_id, reply_id, channel, intent,"
            " received_at, event_id) VALUES ($1, $2, $3, 'sms', 'paid',"
            " '2022-04-20T16:30:00Z', $4)",
            4, rp);
    const char *lg[] = {tenant, OLD};
    db_exec(admin,
            "INSERT INTO reconciliation.ledger (tenant, account_id, currency,"
            " placed_cents, applied_cents, balance_cents, updated_at, status, invoice_id,"
            " debtor_name) VALUES ($1, $2, 'USD', 5000, 5000, 0, '2022-05-01T08:00:00Z',"
            " 'paid', 'INV-55120', 'Philippa Quattlebaum')",
            2, lg);
    const char *py[] = {tenant, PAYMENT_ID, OLD, recv_id};
    db_exec(admin,
            "INSERT INTO reconciliation.payments (tenant, payment_id, account_id, source,"
            " amount_cents, currency, received_at, event_id, kind, status, matched_via,"
            " reference, payer_name, allocated_cents, recorded_at) VALUES ($1, $2, $3,"
            " 'json', 5000, 'USD', '2022-05-01T08:00:00Z', $4, 'payment', 'applied',"
            " 'reference', 'Water bill " OLD " Philippa Quattlebaum Wrenfield',"
            " 'Philippa Quattlebaum', 5000, '2022-05-01T08:00:01Z')",
            4, py);
    const char *sa[] = {tenant, OLD};
    db_exec(admin,
            "INSERT INTO scoring.accounts (tenant, account_id, kafka_partition, status,"
            " state, updated_at) VALUES ($1, $2, 3, 'closed', 'v1|-',"
            " '2022-05-02T07:00:00Z')",
            2, sa);
    /* scoring refused a redelivered placement once: its dead letter keeps the bytes */
    json_t *dl =
        json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s}", "source_topic", "arrears.accounts",
                  "partition", 3, "offset", 41, "reason", "field payload.due_date: test", "raw",
                  old_messages[1], "raw_encoding", "utf8", "original_key", "");
    char key[160];
    snprintf(key, sizeof(key), "%s/%s", tenant, OLD);
    json_object_set_new(dl, "original_key", json_string(key));
    char *dl_text = envelope("old.deadletter", "deadletter.recorded", OLD,
                             "2022-04-01T10:00:02.000Z", "old.placed", dl);
    const char *so[] = {dl_id, key, dl_text};
    db_exec(admin,
            "INSERT INTO scoring.outputs (event_id, kind, key, message, created_at) VALUES"
            " ($1, 'dead_letter', $2, $3, '2022-04-01T10:00:02Z')",
            3, so);
    free(dl_text);
    json_decref(placed);
    free(debtor_text);
    free(payload_text);
}

/* A placement (and a closure when closed_at) with its ingest and outreach rows. */
static void insert_other(const char *account, const char *first, const char *email,
                         const char *phone, const char *placed_at, const char *closed_at)
{
    json_t *d = debtor(first, "Blackwood", email, phone, "12 Larch Row", "Tacoma", "WA", "98441",
                       "America/Los_Angeles");
    char *debtor_text = json_dumps(d, JSON_COMPACT);
    json_t *placed = placed_payload(account, d);
    char *payload_text = json_dumps(placed, JSON_COMPACT);
    char name[64], placed_id[ARR_UUID_STRLEN];
    snprintf(name, sizeof(name), "%s.placed", account);
    char *msg = envelope(name, "account.placed", account, placed_at, NULL, placed);
    put_event(name, "arrears.accounts", "account.placed", account, placed_at, NULL, msg);
    free(msg);
    uuid_for(name, placed_id);
    if (closed_at) {
        snprintf(name, sizeof(name), "%s.closed", account);
        msg = envelope(name, "account.closed", account, closed_at, NULL,
                       json_pack("{s:s, s:s}", "account_id", account, "reason", "recalled"));
        put_event(name, "arrears.accounts", "account.closed", account, closed_at, NULL, msg);
        free(msg);
    }
    const char *last = closed_at ? closed_at : placed_at;
    const char *ia[] = {
        tenant, account, placed_id, payload_text, placed_at, last, closed_at ? "closed" : "open"};
    db_exec(admin,
            "INSERT INTO ingest.accounts (tenant, account_id, regime, currency,"
            " balance_cents, original_balance_cents, due_date, service_type,"
            " placed_event_id, placed_at, updated_at, payload, status) VALUES ($1, $2,"
            " 'third_party', 'USD', 5000, 5000, '2022-03-01', 'water', $3, $5, $6,"
            " $4::json, $7)",
            7, ia);
    const char *oa[] = {tenant, account, debtor_text, last, closed_at ? "closed" : "open"};
    db_exec(admin,
            "INSERT INTO outreach.accounts (tenant, account_id, currency, balance_cents,"
            " debtor, status, updated_at) VALUES ($1, $2, 'USD', 5000, $3::jsonb, $5, $4)",
            5, oa);
    char id[33];
    address_id(email, id);
    const char *ci[] = {tenant, id, account};
    db_exec(admin,
            "INSERT INTO outreach.contact_index (tenant, address_id, account_id) VALUES"
            " ($1, $2, $3)",
            3, ci);
    free(debtor_text);
    free(payload_text);
}

/* Every table the tenant's rows live in: name and the condition selecting them ($1 tenant). */
static const struct {
    const char *table, *where;
} tables[] = {
    {"audit.events", "tenant = $1"},
    {"audit.erasures", "tenant = $1"},
    {"ingest.accounts", "tenant = $1"},
    {"ingest.rejects", "tenant = $1"},
    {"outreach.accounts", "tenant = $1"},
    {"outreach.steps", "tenant = $1"},
    {"outreach.opt_outs", "tenant = $1"},
    {"outreach.bad_contacts", "tenant = $1"},
    {"outreach.contact_index", "tenant = $1"},
    {"outreach.replies", "tenant = $1"},
    {"outreach.early_callbacks", "tenant = $1"},
    {"reconciliation.ledger", "tenant = $1"},
    {"reconciliation.payments", "tenant = $1"},
    {"reconciliation.exceptions", "tenant = $1"},
    {"reconciliation.allocations", "tenant = $1"},
    {"reconciliation.arrangements", "tenant = $1"},
    {"scoring.accounts", "tenant = $1"},
    {"scoring.scores", "tenant = $1"},
    {"scoring.outputs", "key LIKE $1 || '/%'"},
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static void init(void)
{
    cr_assert(sodium_init() >= 0);
    static int n;
    snprintf(tenant, sizeof(tenant), "ret-%d-%ld-%d", (int)getpid(), (long)time(NULL), n++);
    admin = db_connect_or_fail();
    insert_old();
    insert_other(RECENT, "Rowena", "rowena.blackwood@example.net", "+12535550131",
                 "2025-05-01T10:00:00.000Z", "2025-06-01T10:00:00.000Z");
    insert_other(OPEN, "Oswin", "oswin.blackwood@example.net", "+12535550132",
                 "2021-06-01T10:00:00.000Z", NULL);
}

static void fini(void)
{
    if (admin) {
        const char *p[] = {tenant};
        for (size_t i = 0; i < N_TABLES; i++) {
            char sql[256];
            const char *table = tables[i].table, *where = tables[i].where;
            snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s", table, where);
            db_exec_unchecked(admin, sql, 1, p);
        }
        arr_pg_free(admin);
        admin = NULL;
    }
    for (int i = 0; i < N_EVENTS; i++) {
        free(old_messages[i]);
        old_messages[i] = NULL;
    }
}

TestSuite(retention, .init = init, .fini = fini, .timeout = 120);

/* md5 of the account's rows in every table (the whole tenant when account is NULL). */
static void digest(const char *account, char out[N_TABLES][33])
{
    for (size_t i = 0; i < N_TABLES; i++) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), ''))"
                 " FROM %s t WHERE %s"
                 " AND ($2::text IS NULL OR t::text LIKE '%%' || $2 || '%%')",
                 tables[i].table, tables[i].where);
        const char *p[] = {tenant, account};
        PGresult *r = db_query(admin, sql, 2, p);
        snprintf(out[i], 33, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
}

static void assert_same(char a[N_TABLES][33], char b[N_TABLES][33], const char *what)
{
    for (size_t i = 0; i < N_TABLES; i++)
        cr_assert_str_eq(a[i], b[i], "%s: %s changed", what, tables[i].table);
}

/* Rows of the tenant, in any table, whose text holds s. */
static long rows_holding(const char *s)
{
    long n = 0;
    for (size_t i = 0; i < N_TABLES; i++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM %s t"
                 " WHERE %s AND strpos(t::text, $2) > 0",
                 tables[i].table, tables[i].where);
        const char *p[] = {tenant, s};
        long c = db_long(admin, sql, 2, p);
        if (c)
            cr_log_info("%s: %ld row(s) hold \"%s\"", tables[i].table, c, s);
        n += c;
    }
    return n;
}

/* The stored envelope of one of the tenant's events (malloc'ed). */
static char *stored(const char *id_name)
{
    char id[ARR_UUID_STRLEN];
    uuid_for(id_name, id);
    const char *p[] = {id};
    PGresult *r = db_query(admin, "SELECT message FROM audit.events WHERE event_id = $1", 1, p);
    cr_assert_eq(PQntuples(r), 1, "event %s missing", id_name);
    char *s = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return s;
}

static json_t *payload_of(const char *message)
{
    json_t *env = json_loads(message, JSON_REJECT_DUPLICATES, NULL);
    cr_assert(json_is_object(env), "not an envelope");
    json_t *p = json_incref(json_object_get(env, "payload"));
    json_decref(env);
    return p;
}

/* scoring's fold over envelopes (texts), as the service applies them. */
static void fold(char *const *messages, int n, scoring_state *st)
{
    scoring_state_init(st);
    for (int i = 0; i < n; i++) {
        json_t *env = json_loads(messages[i], JSON_REJECT_DUPLICATES, NULL);
        cr_assert_not_null(env);
        int64_t at;
        cr_assert_eq(arr_time_parse(json_string_value(json_object_get(env, "event_time")), &at),
                     ARR_OK);
        char why[256] = "";
        arr_err e = scoring_state_apply(st, json_string_value(json_object_get(env, "event_type")),
                                        json_object_get(env, "payload"), at,
                                        json_string_value(json_object_get(env, "event_id")), why,
                                        sizeof(why));
        cr_assert_eq(e, ARR_OK, "fold of %s: %s",
                     json_string_value(json_object_get(env, "event_type")), why);
        json_decref(env);
    }
}

/* ------------------------------------------------------------------ tests */

Test(retention, dry_run_lists_and_changes_nothing)
{
    char before[N_TABLES][33], after[N_TABLES][33];
    digest(NULL, before);
    json_t *r = apply("--dry-run");
    cr_assert_eq(jint(r, "eligible", NULL), 1);
    cr_assert_eq(jint(r, "erased", NULL), 1);
    cr_assert_eq(jint(r, "by_reason", "closed"), 1);
    cr_assert_gt(jint(r, "rows_changed_total", NULL), 0);
    json_t *accounts = json_object_get(r, "accounts");
    cr_assert_eq(json_array_size(accounts), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(accounts, 0), "account_id")),
                     OLD);
    json_decref(r);
    digest(NULL, after);
    assert_same(before, after, "dry run");
    cr_assert_gt(rows_holding("Quattlebaum"), 0, "the fixture holds the name");
}

Test(retention, erases_only_the_expired_closed_account)
{
    char recent[N_TABLES][33], open[N_TABLES][33], after[N_TABLES][33];
    digest(RECENT, recent);
    digest(OPEN, open);
    PGresult *trail0 = db_query(admin,
                                "SELECT event_id, event_type, event_time, causation_id,"
                                " account_id FROM audit.events WHERE tenant = $1 ORDER BY"
                                " event_time, event_id",
                                1, (const char *const[]){tenant});

    json_t *r = apply("");
    cr_assert_eq(jint(r, "eligible", NULL), 1);
    cr_assert_eq(jint(r, "erased", NULL), 1);
    cr_assert_eq(jint(r, "failed", NULL), 0);
    cr_assert_eq(jint(r, "rows_changed", "audit.events"), N_EVENTS, "every event of OLD marked");
    cr_assert_eq(jint(r, "payloads_rewritten", NULL), 5,
                 "submitted, placed, inbound, reply and payment.received hold personal data");
    cr_assert_eq(jint(r, "rows_changed", "ingest.accounts"), 1);
    cr_assert_eq(jint(r, "rows_changed", "ingest.rejects"), 1);
    cr_assert_eq(jint(r, "rows_changed", "outreach.accounts"), 1);
    cr_assert_eq(jint(r, "rows_changed", "outreach.contact_index"), 4);
    cr_assert_eq(jint(r, "rows_changed", "outreach.steps"), 1);
    cr_assert_eq(jint(r, "rows_changed", "outreach.opt_outs"), 1, "medium:voice stays");
    cr_assert_eq(jint(r, "rows_changed", "reconciliation.ledger"), 1);
    cr_assert_eq(jint(r, "rows_changed", "reconciliation.payments"), 1);
    cr_assert_eq(jint(r, "rows_changed", "scoring.outputs"), 1);
    long total = jint(r, "rows_changed_total", NULL);
    json_decref(r);

    /* one erasure, OLD's, at its last activity */
    const char *tp[] = {tenant};
    PGresult *er = db_query(admin,
                            "SELECT account_id, to_char(last_activity AT TIME ZONE 'UTC',"
                            " 'YYYY-MM-DD HH24:MI:SS'), rows_changed FROM audit.erasures WHERE"
                            " tenant = $1",
                            1, tp);
    cr_assert_eq(PQntuples(er), 1);
    cr_assert_str_eq(PQgetvalue(er, 0, 0), OLD);
    cr_assert_str_eq(PQgetvalue(er, 0, 1), "2022-05-02 07:00:00");
    cr_assert_eq(strtol(PQgetvalue(er, 0, 2), NULL, 10), total);
    PQclear(er);

    /* nothing of OLD's personal data anywhere, not even its contact points' hashes */
    for (size_t i = 0; i < sizeof(old_personal) / sizeof(old_personal[0]); i++)
        cr_assert_eq(rows_holding(old_personal[i]), 0, "\"%s\" is still stored", old_personal[i]);
    const char *points[] = {"philippa.quattlebaum@example.com", "pq1957@mail.example.org",
                            "+13125550147", "+13125550148"};
    for (size_t i = 0; i < 4; i++) {
        char id[33];
        address_id(points[i], id);
        cr_assert_eq(rows_holding(id), 0, "the id of %s is still stored", points[i]);
    }
    /* the others byte for byte as they were; their data still findable (the check works) */
    digest(RECENT, after);
    assert_same(recent, after, RECENT);
    digest(OPEN, after);
    assert_same(open, after, OPEN);
    cr_assert_gt(rows_holding("rowena.blackwood@example.net"), 1);
    cr_assert_gt(rows_holding("oswin.blackwood@example.net"), 1);
    cr_assert_eq(db_long(admin,
                         "SELECT count(*) FROM audit.events WHERE tenant = $1 AND"
                         " account_id <> '" OLD "' AND event_type LIKE 'account.%' AND"
                         " anonymised_at IS NOT NULL",
                         1, tp),
                 0);

    /* the decision trail: the same events, ids, types, times and causes; OLD's all marked */
    PGresult *trail1 = db_query(admin,
                                "SELECT event_id, event_type, event_time, causation_id,"
                                " account_id FROM audit.events WHERE tenant = $1 ORDER BY"
                                " event_time, event_id",
                                1, tp);
    cr_assert_eq(PQntuples(trail1), PQntuples(trail0));
    for (int i = 0; i < PQntuples(trail0); i++)
        for (int c = 0; c < 5; c++)
            cr_assert_str_eq(PQgetvalue(trail1, i, c), PQgetvalue(trail0, i, c));
    PQclear(trail0);
    PQclear(trail1);
    cr_assert_eq(db_long(admin,
                         "SELECT count(*) FROM audit.events WHERE tenant = $1 AND"
                         " anonymised_at IS NOT NULL",
                         1, tp),
                 N_EVENTS);
    /* events without personal data are untouched: the score, the application, the closure */
    const char *unchanged[] = {"old.score", "old.applied", "old.closed"};
    const int unchanged_at[] = {2, 6, 7};
    for (size_t i = 0; i < 3; i++) {
        char *s = stored(unchanged[i]);
        cr_assert_str_eq(s, old_messages[unchanged_at[i]], "%s changed", unchanged[i]);
        free(s);
    }

    /* the erased placement keeps the shape its readers use */
    char *msg = stored("old.placed");
    json_t *p = payload_of(msg), *orig = payload_of(old_messages[1]);
    free(msg);
    json_t *d = json_object_get(p, "debtor");
    cr_assert_str_eq(json_string_value(json_object_get(d, "first_name")), "erased");
    cr_assert_str_eq(json_string_value(json_object_get(d, "last_name")), "erased");
    cr_assert_str_eq(json_string_value(json_object_get(p, "debtor_ref")), "erased");
    cr_assert(json_equal(json_object_get(p, "profile"), json_object_get(orig, "profile")));
    cr_assert(json_equal(json_object_get(d, "timezones"),
                         json_object_get(json_object_get(orig, "debtor"), "timezones")));
    json_t *a = json_object_get(d, "address");
    cr_assert_str_eq(json_string_value(json_object_get(a, "line1")), "erased");
    cr_assert_str_eq(json_string_value(json_object_get(a, "line2")), "erased");
    cr_assert_str_eq(json_string_value(json_object_get(a, "city")), "erased");
    cr_assert_str_eq(json_string_value(json_object_get(a, "state")), "IL");
    cr_assert_str_eq(json_string_value(json_object_get(a, "zip")), "60200");
    cr_assert_str_eq(json_string_value(json_object_get(a, "country")), "US");
    json_t *emails = json_object_get(d, "emails"), *phones = json_object_get(d, "phones");
    cr_assert_eq(json_array_size(emails), 2);
    cr_assert_eq(json_array_size(phones), 2);
    const char *e0 = json_string_value(json_object_get(json_array_get(emails, 0), "address"));
    const char *e1 = json_string_value(json_object_get(json_array_get(emails, 1), "address"));
    const char *p0 = json_string_value(json_object_get(json_array_get(phones, 0), "number"));
    const char *p1 = json_string_value(json_object_get(json_array_get(phones, 1), "number"));
    char hex[9];
    cr_assert_eq(sscanf(e0, "erased-%8[0-9a-f]@erased.invalid", hex), 1, "%s", e0);
    cr_assert_eq(strlen(e0), strlen("erased-01234567@erased.invalid"));
    cr_assert_str_neq(e0, e1, "two addresses stay two");
    cr_assert_str_neq(p0, p1, "two numbers stay two");
    cr_assert(strlen(p0) == 12 && strncmp(p0, "+1", 2) == 0, "%s: not a North American number", p0);
    cr_assert_eq(json_is_true(json_object_get(json_array_get(emails, 1), "consent")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(phones, 1), "type")),
                     "landline");
    cr_assert(json_is_true(json_object_get(json_array_get(phones, 1), "voice_consent")));

    /* every copy agrees: the submitted line, ingest's row, outreach's debtor, the dead letter */
    msg = stored("old.submitted");
    json_t *sub = payload_of(msg);
    free(msg);
    cr_assert_str_eq(json_string_value(json_object_get(sub, "email")), e0);
    cr_assert_str_eq(json_string_value(json_object_get(sub, "phone")), p0);
    cr_assert_str_eq(json_string_value(json_object_get(sub, "zip")), "60200");
    cr_assert_str_eq(json_string_value(json_object_get(sub, "state")), "IL");
    json_decref(sub);
    const char *ap[] = {tenant, OLD};
    PGresult *rows = db_query(admin,
                              "SELECT i.payload::text, o.debtor::text, i.debtor_ref FROM"
                              " ingest.accounts i JOIN outreach.accounts o USING (tenant,"
                              " account_id) WHERE tenant = $1 AND account_id = $2",
                              2, ap);
    json_t *ip = json_loads(PQgetvalue(rows, 0, 0), 0, NULL);
    json_t *od = json_loads(PQgetvalue(rows, 0, 1), 0, NULL);
    cr_assert(json_equal(ip, p), "ingest.accounts.payload is the erased placement");
    cr_assert(json_equal(od, d), "outreach.accounts.debtor is the erased debtor");
    cr_assert_str_eq(PQgetvalue(rows, 0, 2), "erased");
    json_decref(ip);
    json_decref(od);
    PQclear(rows);
    PGresult *out = db_query(admin,
                             "SELECT message FROM scoring.outputs"
                             " WHERE key = $1 || '/' || $2",
                             2, ap);
    json_t *dl = payload_of(PQgetvalue(out, 0, 0));
    PQclear(out);
    json_t *inner = payload_of(json_string_value(json_object_get(dl, "raw")));
    cr_assert(json_equal(inner, p), "the dead letter holds the erased placement");
    json_decref(inner);
    json_decref(dl);

    /* contact point ids follow their stand-ins everywhere */
    char id_e0[33], id_p0[33];
    address_id(e0, id_e0);
    address_id(p0, id_p0);
    const char *ip2[] = {tenant, OLD, id_p0, id_e0};
    cr_assert_eq(db_long(admin,
                         "SELECT count(*) FROM outreach.contact_index WHERE tenant = $1"
                         " AND account_id = $2 AND address_id IN ($3, $4)",
                         4, ip2),
                 2);
    cr_assert_eq(db_long(admin,
                         "SELECT count(*) FROM outreach.steps WHERE tenant = $1 AND"
                         " account_id = $2 AND address_id = $3",
                         3, ip2),
                 1);
    msg = stored("old.reply");
    json_t *reply = payload_of(msg);
    free(msg);
    cr_assert_str_eq(json_string_value(json_object_get(reply, "address_id")), id_p0);
    cr_assert_str_eq(json_string_value(json_object_get(reply, "intent")), "paid");
    json_decref(reply);
    msg = stored("old.inbound");
    json_t *inb = payload_of(msg);
    free(msg);
    cr_assert_str_eq(json_string_value(json_object_get(inb, "from")), p0);
    cr_assert_not_null(strstr(json_string_value(json_object_get(inb, "text")), "already paid"),
                       "the reply still reads as 'paid'");
    json_decref(inb);

    /* reconciliation: the name still matches the payer, the reference still names the account */
    PGresult *rc = db_query(admin,
                            "SELECT l.debtor_name, p.payer_name, p.reference, p.amount_cents"
                            " FROM reconciliation.ledger l JOIN reconciliation.payments p"
                            " USING (tenant, account_id) WHERE tenant = $1 AND account_id = $2",
                            2, ap);
    cr_assert_str_eq(PQgetvalue(rc, 0, 0), "erased erased");
    cr_assert_str_eq(PQgetvalue(rc, 0, 1), "erased erased");
    cr_assert_str_eq(PQgetvalue(rc, 0, 2), "erased " OLD);
    cr_assert_str_eq(PQgetvalue(rc, 0, 3), "5000");
    PQclear(rc);
    msg = stored("old.received");
    json_t *recv = payload_of(msg);
    free(msg);
    cr_assert_str_eq(json_string_value(json_object_get(recv, "reference")), "erased " OLD);
    cr_assert_str_eq(json_string_value(json_object_get(recv, "payer_name")), "erased erased");
    cr_assert_eq(json_integer_value(json_object_get(recv, "amount_cents")), 5000);
    json_decref(recv);
    json_decref(p);
    json_decref(orig);
}

Test(retention, scoring_fold_is_the_same_on_erased_events)
{
    json_t *r = apply("");
    cr_assert_eq(jint(r, "erased", NULL), 1);
    json_decref(r);

    /* the placement alone */
    char *placed = stored("old.placed");
    cr_assert_str_neq(placed, old_messages[1], "the placement was rewritten");
    scoring_state a, b;
    fold(&old_messages[1], 1, &a);
    fold(&placed, 1, &b);
    cr_assert_eq(a.email_ok, 1);
    cr_assert_eq(a.sms_ok, 1);
    cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "the erased placement folds differently");
    free(placed);

    /* OLD's whole history, in order, event after event */
    const char *tp[] = {tenant, OLD};
    PGresult *res = db_query(admin,
                             "SELECT message FROM audit.events WHERE tenant = $1 AND"
                             " account_id = $2 ORDER BY event_time, event_id",
                             2, tp);
    int n = PQntuples(res);
    cr_assert_eq(n, N_EVENTS - 2, "every event of OLD but the inbound and the payment");
    char *erased[N_EVENTS], *original[N_EVENTS];
    int k = 0;
    for (int i = 0; i < N_EVENTS; i++) {
        if (i == 3 || i == 5) /* provider.inbound and payment.received name other accounts */
            continue;
        original[k] = old_messages[i];
        erased[k] = PQgetvalue(res, k, 0);
        k++;
    }
    for (int upto = 1; upto <= n; upto++) {
        fold(original, upto, &a);
        fold(erased, upto, &b);
        cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "states differ after %d event(s)", upto);
    }
    cr_assert_eq(a.lifecycle, SCORING_LC_CLOSED);
    cr_assert_eq(a.version, 4, "placed, reply, applied, closed (the rest is not scoring's)");
    PQclear(res);
}

Test(retention, running_again_changes_nothing)
{
    json_t *r = apply("");
    cr_assert_eq(jint(r, "erased", NULL), 1);
    json_decref(r);
    char first[N_TABLES][33], now[N_TABLES][33];
    digest(NULL, first);

    r = apply("");
    cr_assert_eq(jint(r, "eligible", NULL), 1);
    cr_assert_eq(jint(r, "erased", NULL), 0);
    cr_assert_eq(jint(r, "already_erased", NULL), 1);
    cr_assert_eq(jint(r, "rows_changed_total", NULL), 0);
    json_decref(r);
    digest(NULL, now);
    assert_same(first, now, "second run");

    /* Even without its erasure row the account is a fixed point: every stand-in maps to
     * itself, so a new pass changes no row (only the erasure row comes back). */
    const char *ap[] = {tenant, OLD};
    db_exec(admin, "DELETE FROM audit.erasures WHERE tenant = $1 AND account_id = $2", 2, ap);
    r = apply("");
    cr_assert_eq(jint(r, "erased", NULL), 1);
    cr_assert_eq(jint(r, "rows_changed_total", NULL), 0);
    json_decref(r);
    digest(NULL, now);
    for (size_t i = 0; i < N_TABLES; i++) {
        if (strcmp(tables[i].table, "audit.erasures") != 0)
            cr_assert_str_eq(first[i], now[i], "third run: %s changed", tables[i].table);
    }
    cr_assert_eq(db_long(admin,
                         "SELECT rows_changed FROM audit.erasures WHERE tenant = $1 AND"
                         " account_id = $2",
                         2, ap),
                 0);

    /* an open account is never touched, asked for by name, whatever its age */
    r = apply("--account " OPEN " --days 1");
    cr_assert_eq(jint(r, "eligible", NULL), 0);
    json_decref(r);
    /* the recent one is, once its own three years are over */
    char out[8192];
    int rc = run_cli(out, sizeof(out),
                     "retention apply --tenant %s --as-of 2028-06-02 --account " RECENT " --json",
                     tenant);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_eq(rows_holding("rowena.blackwood@example.net"), 0);
    cr_assert_gt(rows_holding("oswin.blackwood@example.net"), 1);
}
