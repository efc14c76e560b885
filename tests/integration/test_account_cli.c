/* Integration tests of `arrears account show` and `arrears account history` against the real
 * PostgreSQL of the stack (ARR_PG_CONNINFO), running the built binary (ARR_BIN_DIR).
 *
 * The suite's init writes one account of a tenant of its own ("acct-<pid>-<time>") into each
 * owner's tables (ingest.accounts, reconciliation.ledger/arrangements/payments/exceptions,
 * scoring.scores/accounts, outreach.accounts/steps/opt_outs) and six events into audit.events,
 * inserted out of order: a placement carrying a debtor block, a score with reason codes, a
 * suppression naming its rule, a planned step and a payment sharing one event time (the tie is
 * broken by Kafka offset), and one event of another namespace that must not show. The debtor's
 * name, e-mail and phone are also in the columns that hold personal data (ingest's payload,
 * ledger.debtor_name, outreach's debtor), so any leak into the output is caught. The fini
 * deletes every row of the tenant, also when an assertion failed. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrears/pg.h"
#include "arrears/uuid.h"
#include "cli_env.h"

#define ACCOUNT "ACC-0001"
#define OUT_MAX (256 * 1024)
/* The debtor's personal data: none of it may appear without --with-personal-data. */
#define LAST_NAME "Quixotemann"
#define EMAIL "zelda.quixotemann@example.com"
#define PHONE "+15555550123"
#define STREET "742 Evergreen Terrace"

static char tenant[64];
static char ns[64];    /* the deployment's namespace (a topic prefix) */
static char other[64]; /* another deployment sharing the database */
static arr_pg *admin;
/* The events in the order history must give: placed, score, suppressed, planned, applied. */
static char ev[5][ARR_UUID_STRLEN];
static char ev_other[ARR_UUID_STRLEN];
static char *out; /* the CLI's output */

/* ------------------------------------------------------------------ helpers */

/* Runs SQL with text parameters (NULL: SQL NULL); fails the test on error. */
static void sql(const char *stmt, int n, ...)
{
    const char *p[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 16; i++)
        p[i] = va_arg(ap, const char *);
    va_end(ap);
    db_exec(admin, stmt, n, p);
}

static json_t *parse_out(void)
{
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    cr_assert_not_null(j, "not JSON (%s, line %d):\n%s", err.text, err.line, out);
    return j;
}

static void assert_no_personal_data(const char *what)
{
    cr_assert_null(strstr(out, LAST_NAME), "%s prints the debtor's name:\n%s", what, out);
    cr_assert_null(strstr(out, "Zelda"), "%s prints the debtor's name:\n%s", what, out);
    cr_assert_null(strstr(out, EMAIL), "%s prints the debtor's e-mail:\n%s", what, out);
    cr_assert_null(strstr(out, "5555550123"), "%s prints the debtor's phone:\n%s", what, out);
    cr_assert_null(strstr(out, "Evergreen"), "%s prints the debtor's address:\n%s", what, out);
}

/* The envelope as a producer writes it (proto/envelope.schema.json). */
static char *envelope(const char *id, const char *type, const char *at, const char *cause,
                      const char *service, json_t *payload)
{
    json_t *env = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s?, s:s, s:{s:s, s:s, s:s}, "
                            "s:o}",
                            "event_id", id, "event_type", type, "schema_version", 1, "tenant",
                            tenant, "account", ACCOUNT, "event_time", at, "produced_at", at,
                            "causation_id", cause, "correlation_id", ev[0], "producer", "service",
                            service, "version", "0.1.0", "instance", "test-1", "payload", payload);
    cr_assert_not_null(env, "json_pack of the %s envelope", type);
    char *s = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return s;
}

/* One audit.events row, as the audit store records a published event. */
static void audit(const char *namespace, const char *topic, const char *offset, const char *id,
                  const char *type, const char *at, const char *cause, const char *service,
                  json_t *payload)
{
    char *msg = envelope(id, type, at, cause, service, payload);
    sql("INSERT INTO audit.events (event_id, namespace, topic, kafka_partition, kafka_offset,"
        " tenant, account_id, event_type, event_time, causation_id, producer, message,"
        " recorded_at) VALUES ($1, $2, $3, 4, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        12, id, namespace, topic, offset, tenant, ACCOUNT, type, at, cause, service, msg,
        "2026-03-05T08:00:00Z");
    free(msg);
}

static json_t *debtor(void)
{
    return json_pack("{s:s, s:s, s:[{s:s, s:b}], s:[{s:s, s:s, s:b, s:b}], "
                     "s:{s:s, s:s, s:s, s:s, s:s}, s:[s], s:b, s:s}",
                     "first_name", "Zelda", "last_name", LAST_NAME, "emails", "address", EMAIL,
                     "consent", 1, "phones", "number", PHONE, "type", "mobile", "sms_consent", 1,
                     "voice_consent", 0, "address", "line1", STREET, "city", "Springfield", "state",
                     "IL", "zip", "62704", "country", "US", "timezones", "America/Chicago",
                     "timezone_derived", 1, "language", "en");
}

/* ------------------------------------------------------------------ fixture */

static void setup(void)
{
    out = malloc(OUT_MAX);
    cr_assert_not_null(out);
    snprintf(tenant, sizeof(tenant), "acct-%ld-%ld", (long)getpid(), (long)time(NULL));
    snprintf(ns, sizeof(ns), "acct%ld.", (long)getpid());
    snprintf(other, sizeof(other), "acct%ld-other.", (long)getpid());
    admin = db_connect_or_fail();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(arr_uuid_v4(ev[i]), ARR_OK);
    cr_assert_eq(arr_uuid_v4(ev_other), ARR_OK);

    json_t *placed = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:o, s:{s:i, s:b}}",
        "account_id", ACCOUNT, "regime", "third_party", "currency", "USD", "balance_cents",
        (json_int_t)12000, "original_balance_cents", (json_int_t)12000, "invoice_id", "INV-77",
        "due_date", "2026-01-15", "service_type", "water", "debtor_ref", "C-991", "days_past_due",
        45, "aging_bucket", "31-60", "medical_no_report", 0, "debtor", debtor(), "profile",
        "tenure_months", 40, "autopay", 0);
    char *placed_payload = json_dumps(placed, JSON_COMPACT);
    sql("INSERT INTO ingest.accounts (tenant, account_id, regime, currency, balance_cents,"
        " original_balance_cents, due_date, service_type, debtor_ref, placed_event_id,"
        " placed_at, updated_at, payload) VALUES ($1, $2, 'third_party', 'USD', 12000,"
        " 12000, '2026-01-15', 'water', 'C-991', $3, '2026-03-01T10:00:00Z',"
        " '2026-03-01T10:00:00Z', $4)",
        4, tenant, ACCOUNT, ev[0], placed_payload);
    free(placed_payload);

    /* A live plan in the ledger's own terms (ms dates), and who made it. */
    sql("INSERT INTO reconciliation.ledger (tenant, account_id, currency, placed_cents,"
        " applied_cents, balance_cents, updated_at, debtor_name, invoice_id, terms)"
        " VALUES ($1, $2, 'USD', 12000, 5000, 7000, '2026-03-02T10:00:00Z', $3, 'INV-77',"
        " '{\"items\": [], \"plan\": {\"status\": \"active\", \"id\": \"plan-1\","
        " \"grace\": 5, \"inst\": [[1775001600000, 5000, 5000, false],"
        " [1777593600000, 7000, 0, false]]}}')",
        3, tenant, ACCOUNT, "Zelda " LAST_NAME);
    sql("INSERT INTO reconciliation.arrangements (tenant, id, account_id, kind, terms, made_by,"
        " made_at) VALUES ($1, 'plan-1', $2, 'plan', '{\"id\": \"plan-1\"}', 'agent-7',"
        " '2026-03-01T12:00:00Z')",
        2, tenant, ACCOUNT);
    sql("INSERT INTO reconciliation.payments (tenant, payment_id, account_id, source,"
        " amount_cents, currency, received_at, event_id, kind, status, payer_name, reference)"
        " VALUES ($1, 'json:unplaced-1', NULL, 'json', 2500, 'USD', '2026-03-03T09:00:00Z',"
        " $2, 'payment', 'unmatched', $3, $4)",
        4, tenant, ev_other, "Zelda " LAST_NAME, "for " LAST_NAME);
    sql("INSERT INTO reconciliation.exceptions (tenant, payment_id, reason, detail,"
        " candidates, opened_at) VALUES ($1, 'json:unplaced-1', 'amount_only_name_mismatch',"
        " 'best name below threshold', ARRAY[$2, 'ACC-0002'], '2026-03-03T09:00:01Z')",
        2, tenant, ACCOUNT);

    /* Two scores, the newer inserted first. */
    json_t *older = json_pack("{s:f, s:s, s:s, s:s, s:[s], s:s, s:s, s:s}", "probability", 0.2,
                              "currency", "USD", "segment", "default", "strategy", "digital-light",
                              "reason_codes", "DPD_SHORT", "model_id", "scorecard-old",
                              "strategy_table_version", "st-1", "arm", "champion");
    cr_assert_not_null(older);
    json_object_set_new(older, "expected_recovery_cents", json_integer(2400));
    json_t *score = json_pack("{s:f, s:I, s:I, s:s, s:s, s:s, s:[s, s], s:s, s:s, s:s, s:s, s:i}",
                              "probability", 0.4321, "expected_recovery_cents", (json_int_t)3025,
                              "contact_budget_cents", (json_int_t)600, "currency", "USD", "segment",
                              "small-balance", "strategy", "digital-standard", "reason_codes",
                              "DPD_LONG", "BALANCE_SMALL", "model_id", "scorecard-test-3",
                              "strategy_table_version", "strategy-test-2", "arm", "challenger",
                              "cause_event_type", "account.placed", "days_past_due", 45);
    cr_assert_not_null(score);
    char *score_msg = envelope(ev[1], "score.computed", "2026-03-01T11:00:00.000Z", ev[0],
                               "scoring", json_incref(score));
    sql("INSERT INTO scoring.scores (score_event_id, cause_event_id, tenant, account_id,"
        " scored_at, cause_type, arm, model_id, strategy_table_version, probability,"
        " expected_recovery_cents, segment, strategy, features, message) VALUES ($1, $2, $3,"
        " $4, '2026-03-01T11:00:00Z', 'account.placed', 'challenger', 'scorecard-test-3',"
        " 'strategy-test-2', 0.4321, 3025, 'small-balance', 'digital-standard', '{1,2}', $5)",
        5, ev[1], ev[0], tenant, ACCOUNT, score_msg);
    free(score_msg);
    char old_id[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_v4(old_id), ARR_OK);
    char *old_msg =
        envelope(old_id, "score.computed", "2026-02-01T00:00:00.000Z", NULL, "scoring", older);
    sql("INSERT INTO scoring.scores (score_event_id, cause_event_id, tenant, account_id,"
        " scored_at, cause_type, arm, model_id, strategy_table_version, probability,"
        " expected_recovery_cents, segment, strategy, features, message) VALUES ($1, $2, $3,"
        " $4, '2026-02-01T00:00:00Z', 'clock.day_started', 'champion', 'scorecard-old',"
        " 'st-1', 0.2, 2400, 'default', 'digital-light', '{1,2}', $5)",
        5, old_id, ev[0], tenant, ACCOUNT, old_msg);
    free(old_msg);
    sql("INSERT INTO scoring.accounts (tenant, account_id, kafka_partition, status, state,"
        " namespace) VALUES ($1, $2, 4, 'open', 'v1;opaque', $3)",
        3, tenant, ACCOUNT, ns);

    json_t *d = debtor();
    char *debtor_text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    sql("INSERT INTO outreach.accounts (tenant, account_id, regime, currency, balance_cents,"
        " original_cents, due_date, debtor, placed_at, strategy, scored_at, run_no,"
        " run_policy_version, run_scored_strategy, run_strategy, run_start, sms_consent_at,"
        " namespace) VALUES ($1, $2, 'third_party', 'USD', 7000, 12000, '2026-01-15', $3,"
        " '2026-03-01T10:00:00Z', 'digital-standard', '2026-03-01T11:00:00Z', 1,"
        " 'cadence-test-1', 'digital-standard', 'digital-standard', '2026-03-01T11:00:00Z',"
        " '2026-03-01T10:00:00Z', $4)",
        4, tenant, ACCOUNT, debtor_text, ns);
    free(debtor_text);
    /* Steps: one sent, one suppressed, two open (the later one inserted first). */
    static const char step_sql[] =
        "INSERT INTO outreach.steps (step_id, tenant, account_id, channel, due_at, status,"
        " cause_event_id, run_no, step_key, template_id, rule_id, address_id, done_at,"
        " namespace) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10,"
        " $11, $12)";
    sql(step_sql, 12, tenant, ACCOUNT, "sms", "2026-03-09T15:00:00Z", "planned", ev[1], "sms-2",
        "reminder_sms_2", NULL, NULL, NULL, ns);
    sql(step_sql, 12, tenant, ACCOUNT, "email", "2026-03-02T15:00:00Z", "sent", ev[1], "email-1",
        "first_email", NULL, "addr-e1", "2026-03-02T15:00:02Z", ns);
    sql(step_sql, 12, tenant, ACCOUNT, "email", "2026-03-06T15:00:00Z", "planned", ev[1], "email-2",
        "reminder_email_2", NULL, NULL, NULL, ns);
    sql(step_sql, 12, tenant, ACCOUNT, "sms", "2026-03-01T12:00:00Z", "suppressed", ev[1], "sms-1",
        "first_sms", "tcpa.sms_consent_missing", NULL, "2026-03-01T12:00:00Z", ns);
    sql("INSERT INTO outreach.opt_outs (tenant, account_id, address_id, channel, reason, at)"
        " VALUES ($1, $2, 'addr-v9', 'voice', 'reply_stop', '2026-03-04T10:00:00Z')",
        2, tenant, ACCOUNT);

    /* The audit store, out of order: applied, other namespace, score, planned, suppressed,
     * placed. applied and planned share an event time and a recording time: the offset
     * decides (planned at offset 3 before applied at offset 7). */
    json_t *applied = json_pack("{s:s, s:I, s:s, s:I, s:{s:I, s:I, s:I}, s:s, s:s, s:s}",
                                "payment_id", "camt:REF-55", "amount_cents", (json_int_t)5000,
                                "currency", "USD", "balance_after_cents", (json_int_t)7000,
                                "allocation", "fees_cents", (json_int_t)0, "interest_cents",
                                (json_int_t)0, "principal_cents", (json_int_t)5000, "matched_via",
                                "reference", "source", "camt053", "status_after", "open");
    cr_assert_not_null(applied);
    audit(ns, "arrears.payments.events", "7", ev[4], "payment.applied", "2026-03-02T09:00:00.000Z",
          NULL, "reconciliation", applied);
    audit(other, "arrears.accounts", "1", ev_other, "account.closed", "2026-03-01T10:30:00.000Z",
          NULL, "ingest", json_pack("{s:s, s:s}", "account_id", ACCOUNT, "reason", "recalled"));
    audit(ns, "arrears.scores", "2", ev[1], "score.computed", "2026-03-01T11:00:00.000Z", ev[0],
          "scoring", score);
    audit(ns, "arrears.outreach.events", "3", ev[3], "outreach.planned", "2026-03-02T09:00:00.000Z",
          ev[1], "outreach",
          json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "step_id", "step-e2", "channel",
                    "email", "cadence_id", "cadence-test-1", "due_at", "2026-03-06T15:00:00.000Z",
                    "step_key", "email-2", "run_no", 1, "template_id", "reminder_email_2",
                    "strategy", "digital-standard"));
    audit(ns, "arrears.outreach.events", "1", ev[2], "outreach.suppressed",
          "2026-03-01T12:00:00.000Z", ev[1], "outreach",
          json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "step_id", "step-s1", "channel", "sms",
                    "rule_id", "tcpa.sms_consent_missing", "detail",
                    "no prior express consent for texts", "step_key", "sms-1", "run_no", 1));
    audit(ns, "arrears.accounts", "0", ev[0], "account.placed", "2026-03-01T10:00:00.000Z", NULL,
          "ingest", placed);
}

static void teardown(void)
{
    static const char *const tables[] = {"audit.events",
                                         "outreach.opt_outs",
                                         "outreach.steps",
                                         "outreach.accounts",
                                         "scoring.accounts",
                                         "scoring.scores",
                                         "reconciliation.exceptions",
                                         "reconciliation.payments",
                                         "reconciliation.arrangements",
                                         "reconciliation.ledger",
                                         "ingest.accounts"};
    if (admin) {
        for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
            char stmt[128];
            snprintf(stmt, sizeof(stmt), "DELETE FROM %s WHERE tenant = $1", tables[i]);
            const char *p[] = {tenant};
            db_exec_unchecked(admin, stmt, 1, p);
        }
        arr_pg_free(admin);
        admin = NULL;
    }
    free(out);
    out = NULL;
}

TestSuite(account_cli, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------------ history */

Test(account_cli, history_json_is_in_order_with_reasons_and_without_personal_data)
{
    int rc = run_cli(out, OUT_MAX, "account history %s --tenant %s --namespace %s --json", ACCOUNT,
                     tenant, ns);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    assert_no_personal_data("history --json");
    json_t *list = parse_out();
    cr_assert(json_is_array(list));
    cr_assert_eq(json_array_size(list), 5, "the other namespace's event must not show:\n%s", out);
    static const char *const types[] = {"account.placed", "score.computed", "outreach.suppressed",
                                        "outreach.planned", "payment.applied"};
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(list, i);
        cr_assert_str_eq(json_string_value(json_object_get(e, "event_id")), ev[i], "event %zu", i);
        cr_assert_str_eq(json_string_value(json_object_get(e, "event_type")), types[i]);
        cr_assert(json_is_object(json_object_get(e, "payload")));
        cr_assert(json_is_string(json_object_get(e, "summary")));
        cr_assert(json_is_string(json_object_get(e, "producer")));
        cr_assert(json_is_string(json_object_get(e, "event_time")));
    }
    json_t *placed = json_array_get(list, 0), *score = json_array_get(list, 1);
    json_t *supp = json_array_get(list, 2), *applied = json_array_get(list, 4);
    cr_assert_str_eq(json_string_value(json_object_get(placed, "event_time")),
                     "2026-03-01T10:00:00.000Z");
    cr_assert_str_eq(json_string_value(json_object_get(placed, "producer")), "ingest");
    cr_assert(json_is_null(json_object_get(placed, "causation_id")));
    cr_assert_null(json_object_get(json_object_get(placed, "payload"), "debtor"),
                   "account.placed's debtor block without --with-personal-data");
    cr_assert_not_null(json_object_get(json_object_get(placed, "payload"), "debtor_ref"));
    cr_assert_str_eq(json_string_value(json_object_get(score, "causation_id")), ev[0]);
    const char *s = json_string_value(json_object_get(score, "summary"));
    cr_assert(strstr(s, "DPD_LONG") && strstr(s, "BALANCE_SMALL"), "reason codes: %s", s);
    cr_assert(strstr(s, "scorecard-test-3") && strstr(s, "strategy-test-2"), "model: %s", s);
    cr_assert(strstr(s, "challenger") && strstr(s, "digital-standard"), "arm, strategy: %s", s);
    s = json_string_value(json_object_get(supp, "summary"));
    cr_assert(strstr(s, "tcpa.sms_consent_missing"), "rule id: %s", s);
    cr_assert(strstr(s, "sms"), "channel: %s", s);
    s = json_string_value(json_object_get(applied, "summary"));
    cr_assert(strstr(s, "50.00 USD") && strstr(s, "balance after 70.00 USD"), "payment: %s", s);
    cr_assert(strstr(s, "principal 50.00 USD"), "allocation: %s", s);
    json_decref(list);
}

Test(account_cli, history_with_personal_data_keeps_the_debtor)
{
    int rc = run_cli(out, OUT_MAX,
                     "account history %s --tenant %s --namespace %s --json "
                     "--with-personal-data",
                     ACCOUNT, tenant, ns);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    json_t *list = parse_out();
    json_t *debtor = json_object_get(json_object_get(json_array_get(list, 0), "payload"), "debtor");
    cr_assert(json_is_object(debtor), "the debtor block with --with-personal-data:\n%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(debtor, "last_name")), LAST_NAME);
    /* The summaries still name nobody. */
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "summary"));
        cr_assert(!strstr(s, LAST_NAME) && !strstr(s, EMAIL) && !strstr(s, "5555550123"),
                  "summary %zu: %s", i, s);
    }
    json_decref(list);
}

Test(account_cli, history_text_one_line_per_event_in_order)
{
    char env[128];
    snprintf(env, sizeof(env), "ARR_TOPIC_PREFIX='%s'", ns); /* the default namespace */
    int rc = run_cli_env(out, OUT_MAX, env, "account history %s --tenant %s", ACCOUNT, tenant);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    assert_no_personal_data("history");
    const char *placed = strstr(out, "account.placed"), *score = strstr(out, "score.computed");
    const char *supp = strstr(out, "outreach.suppressed"), *plan = strstr(out, "outreach.planned");
    const char *paid = strstr(out, "payment.applied");
    cr_assert(placed && score && supp && plan && paid, "every event:\n%s", out);
    cr_assert(placed < score && score < supp && supp < plan && plan < paid, "order:\n%s", out);
    cr_assert_null(strstr(out, "account.closed"), "another namespace's event:\n%s", out);
    cr_assert_not_null(strstr(out, "tcpa.sms_consent_missing"));
    cr_assert_not_null(strstr(out, "DPD_LONG BALANCE_SMALL"));
    cr_assert_not_null(strstr(out, "5 event(s)"));
}

Test(account_cli, history_limit_and_namespaces)
{
    int rc = run_cli(out, OUT_MAX, "account history %s --tenant %s --namespace %s --json --limit 2",
                     ACCOUNT, tenant, ns);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    json_t *list = parse_out();
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "event_id")),
                     ev[1]);
    json_decref(list);
    /* The other deployment sees only its own event. */
    rc = run_cli(out, OUT_MAX, "account history %s --tenant %s --namespace %s --json", ACCOUNT,
                 tenant, other);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    list = parse_out();
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "event_id")),
                     ev_other);
    const char *s = json_string_value(json_object_get(json_array_get(list, 0), "summary"));
    cr_assert(strstr(s, "recalled"), "%s", s);
    json_decref(list);
    /* Production's namespace has nothing of it: a clear error naming where events are. */
    rc = run_cli_env(out, OUT_MAX, "ARR_TOPIC_PREFIX=", "account history %s --tenant %s", ACCOUNT,
                     tenant);
    cr_assert_eq(rc, 1, "exit %d:\n%s", rc, out);
    cr_assert_not_null(strstr(out, ns), "names the namespaces that have events:\n%s", out);
}

/* ------------------------------------------------------------------ show */

Test(account_cli, show_json_has_balance_next_step_and_latest_score)
{
    int rc = run_cli(out, OUT_MAX, "account show %s --tenant %s --json", ACCOUNT, tenant);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    assert_no_personal_data("show --json");
    json_t *doc = parse_out();
    json_t *pl = json_object_get(doc, "placement"), *led = json_object_get(doc, "ledger");
    json_t *sc = json_object_get(doc, "score"), *o = json_object_get(doc, "outreach");
    cr_assert_eq(json_integer_value(json_object_get(pl, "balance_cents")), 12000);
    cr_assert_str_eq(json_string_value(json_object_get(pl, "due_date")), "2026-01-15");
    cr_assert_str_eq(json_string_value(json_object_get(pl, "invoice_id")), "INV-77");
    cr_assert_gt(json_integer_value(json_object_get(pl, "days_past_due")), 40);
    cr_assert_eq(json_integer_value(json_object_get(led, "balance_cents")), 7000);
    cr_assert_eq(json_integer_value(json_object_get(led, "applied_cents")), 5000);
    cr_assert_null(json_object_get(led, "debtor_name"));

    json_t *arr = json_array_get(json_object_get(doc, "arrangements"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(arr, "kind")), "plan");
    cr_assert(json_is_true(json_object_get(arr, "open")));
    cr_assert_str_eq(json_string_value(json_object_get(arr, "made_by")), "agent-7");
    json_t *next_inst = json_object_get(arr, "next_instalment");
    cr_assert_eq(json_integer_value(json_object_get(next_inst, "number")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(next_inst, "due_date")), "2026-05-01");
    json_t *exc = json_array_get(json_object_get(doc, "exceptions"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(exc, "payment_id")), "json:unplaced-1");

    cr_assert_str_eq(json_string_value(json_object_get(sc, "strategy")), "digital-standard",
                     "the latest score's strategy");
    cr_assert_str_eq(json_string_value(json_object_get(sc, "model_id")), "scorecard-test-3");
    cr_assert_str_eq(json_string_value(json_object_get(sc, "arm")), "challenger");
    json_t *codes = json_object_get(sc, "reason_codes");
    cr_assert_eq(json_array_size(codes), 2);
    cr_assert_str_eq(json_string_value(json_array_get(codes, 0)), "DPD_LONG");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "scoring"), "status")),
                     "open");

    cr_assert_str_eq(json_string_value(json_object_get(o, "namespace")), ns);
    cr_assert_eq(json_integer_value(json_object_get(o, "run_no")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(o, "sms_consent_at")),
                     "2026-03-01T10:00:00.000Z");
    cr_assert_null(json_object_get(o, "debtor"));
    json_t *next = json_object_get(o, "next_step");
    cr_assert_str_eq(json_string_value(json_object_get(next, "channel")), "email",
                     "the earliest open step");
    cr_assert_str_eq(json_string_value(json_object_get(next, "step_key")), "email-2");
    cr_assert_str_eq(json_string_value(json_object_get(next, "due_at")),
                     "2026-03-06T15:00:00.000Z");
    json_t *steps = json_object_get(o, "steps");
    cr_assert_eq(json_integer_value(json_object_get(steps, "sent")), 1);
    cr_assert_eq(json_integer_value(json_object_get(steps, "suppressed")), 1);
    cr_assert_eq(json_integer_value(json_object_get(steps, "planned")), 2);
    json_t *opt = json_array_get(json_object_get(o, "opt_outs"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(opt, "address_id")), "addr-v9");
    json_decref(doc);
}

Test(account_cli, show_text_and_unknown_account)
{
    int rc = run_cli(out, OUT_MAX, "account show %s --tenant %s", ACCOUNT, tenant);
    cr_assert_eq(rc, 0, "exit %d:\n%s", rc, out);
    assert_no_personal_data("show");
    cr_assert_not_null(strstr(out, "balance 70.00 USD"), "%s", out);
    cr_assert_not_null(strstr(out, "next step email email-2 due 2026-03-06T15:00:00.000Z"));
    cr_assert_not_null(strstr(out, "strategy digital-standard"));
    cr_assert_not_null(strstr(out, "DPD_LONG BALANCE_SMALL"));

    rc = run_cli(out, OUT_MAX, "account show NO-SUCH-ACCOUNT --tenant %s", tenant);
    cr_assert_eq(rc, 1, "unknown account: exit %d:\n%s", rc, out);
    cr_assert_not_null(strstr(out, "no account NO-SUCH-ACCOUNT"), "%s", out);
    rc = run_cli(out, OUT_MAX, "account history NO-SUCH-ACCOUNT --tenant %s --namespace %s", tenant,
                 ns);
    cr_assert_eq(rc, 1, "unknown account's history: exit %d:\n%s", rc, out);
    rc = run_cli(out, OUT_MAX, "account show --tenant %s", tenant);
    cr_assert_eq(rc, 2, "no id: exit %d", rc);
    rc = run_cli(out, OUT_MAX, "account history %s --tenant %s --limit 0", ACCOUNT, tenant);
    cr_assert_eq(rc, 2, "bad limit: exit %d", rc);
}
