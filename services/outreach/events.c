#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/outbox.h"
#include "callback.h"

#define DAY_MS INT64_C(86400000)
#define SAYS_PAID_HOLD_MS (7 * DAY_MS) /* time for the payment to reach reconciliation */
#define REPLY_FANOUT_MAX 50

arr_err outreach_events_prepare(arr_pg *pg, char *why, size_t whylen)
{
    static const struct {
        const char *name, *sql;
        int n;
    } st[] = {
        {"oe_index",
         "INSERT INTO outreach.contact_index (tenant, address_id, account_id) SELECT $1,"
         " unnest($2::text[]), $3 ON CONFLICT DO NOTHING",
         3},
        {"oe_reply",
         "INSERT INTO outreach.replies (tenant, account_id, reply_id, channel, intent, keyword,"
         " received_at, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
         8},
        {"oe_campaign_now",
         "SELECT (extract(epoch FROM until_at) * 1000)::bigint FROM outreach.campaign_clock"
         " WHERE namespace = $1",
         1},
        {"oe_clock",
         "INSERT INTO outreach.campaign_clock (namespace, until_at) VALUES ($1, $2) ON CONFLICT"
         " (namespace) DO UPDATE SET until_at = greatest(outreach.campaign_clock.until_at,"
         " excluded.until_at)",
         2},
        {"oe_by_provider",
         "SELECT account_id, step_id FROM outreach.steps WHERE tenant = $1 AND provider_message_id"
         " = $2 LIMIT 1",
         2},
        {"oe_early_add",
         "INSERT INTO outreach.early_callbacks (tenant, provider_message_id, event_id, payload)"
         " VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING",
         4},
        {"oe_early_take",
         "DELETE FROM outreach.early_callbacks WHERE tenant = $1 AND provider_message_id = $2"
         " RETURNING payload::text",
         2},
        {"oe_accounts_at",
         "SELECT account_id FROM outreach.contact_index WHERE tenant = $1 AND address_id = $2"
         " ORDER BY account_id LIMIT 50",
         2},
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        arr_err e = arr_pg_prepare(pg, st[i].name, st[i].sql, st[i].n, why, whylen);
        if (e)
            return e;
    }
    return ARR_OK;
}

/* ------------------------------------------------------------------ payload helpers */

static arr_err need_str(json_t *p, const char *key, const char **out, char *why, size_t whylen)
{
    *out = json_string_value(json_object_get(p, key));
    if (!*out) {
        snprintf(why, whylen, "field payload.%s: must be a string", key);
        return ARR_EINVAL;
    }
    return ARR_OK;
}

static arr_err need_int(json_t *p, const char *key, int64_t *out, char *why, size_t whylen)
{
    json_t *v = json_object_get(p, key);
    if (!json_is_integer(v)) {
        snprintf(why, whylen, "field payload.%s: must be an integer", key);
        return ARR_EINVAL;
    }
    *out = json_integer_value(v);
    return ARR_OK;
}

static arr_err time_field(json_t *p, const char *key, int64_t *out, char *why, size_t whylen)
{
    const char *s;
    arr_err e = need_str(p, key, &s, why, whylen);
    if (!e && arr_time_parse(s, out) != ARR_OK) {
        snprintf(why, whylen, "field payload.%s: not an RFC 3339 time", key);
        e = ARR_EINVAL;
    }
    return e;
}

static arr_err with_account(outreach_book *b, const arr_envelope *env, int create,
                            outreach_account *a, int *found, char *why, size_t whylen)
{
    arr_err e = outreach_book_load(b, env->tenant, env->account, create, a, found, why, whylen);
    if (!e && !*found && create) {
        snprintf(why, whylen, "account row vanished");
        e = ARR_EPG;
    }
    return e;
}

static arr_err settle_and_clear(outreach_book *b, outreach_account *a, const arr_envelope *env,
                                int stop, char *why, size_t whylen)
{
    outreach_cause c = {.env = env,
                        .at_ms = env->event_time_ms,
                        .stop_produced_ms = stop ? env->produced_at_ms : 0};
    arr_err e = outreach_book_settle(b, a, &c, why, whylen);
    outreach_account_clear(a);
    return e;
}

/* ------------------------------------------------------------------ accounts */

static arr_err index_contacts(outreach_book *b, const outreach_account *a, char *why, size_t whylen)
{
    arr_buf arr;
    arr_buf_init(&arr, 4096);
    arr_err e = arr_pg_array_open(&arr);
    for (int i = 0; !e && i < a->facts.nemails; i++)
        e = arr_pg_array_add(&arr, a->facts.emails[i].id);
    for (int i = 0; !e && i < a->facts.nphones; i++)
        e = arr_pg_array_add(&arr, a->facts.phones[i].id);
    if (!e)
        e = arr_pg_array_close(&arr);
    if (!e) {
        const char *p[] = {a->tenant, arr.data, a->account};
        e = arr_pg_run(b->pg, "oe_index", 3, p, NULL, why, whylen);
    }
    arr_buf_free(&arr);
    return e;
}

static arr_err placed(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    json_t *p = env->payload;
    const char *regime, *currency, *due;
    int64_t balance, original;
    arr_err e = need_str(p, "regime", &regime, why, whylen);
    if (!e)
        e = need_str(p, "currency", &currency, why, whylen);
    if (!e)
        e = need_str(p, "due_date", &due, why, whylen);
    if (!e)
        e = need_int(p, "balance_cents", &balance, why, whylen);
    if (!e)
        e = need_int(p, "original_balance_cents", &original, why, whylen);
    json_t *debtor = json_object_get(p, "debtor");
    if (!e && debtor && !json_is_object(debtor)) {
        snprintf(why, whylen, "field payload.debtor: must be an object");
        e = ARR_EINVAL;
    }
    if (e)
        return e;
    outreach_account a;
    int found;
    e = with_account(b, env, 1, &a, &found, why, whylen);
    if (e)
        return e;
    a.placed = 1;
    a.regime = strcmp(regime, "creditor") == 0 ? OUTREACH_COMPLIANCE_CREDITOR
                                               : OUTREACH_COMPLIANCE_THIRD_PARTY;
    arr_str_copy(a.currency, sizeof(a.currency), currency);
    arr_str_copy(a.due_date, sizeof(a.due_date), due);
    a.balance_cents = balance;
    a.original_cents = original;
    if (!a.placed_ms)
        a.placed_ms = env->event_time_ms;
    json_decref(a.debtor);
    a.debtor = debtor ? json_incref(debtor) : json_object();
    a.debtor_dirty = 1;
    e = outreach_facts_read(a.tenant, a.debtor, &a.facts, why, whylen);
    if (e) {
        outreach_account_clear(&a);
        return ARR_EINVAL;
    }
    int sms = 0, voice = 0;
    for (int i = 0; i < a.facts.nphones; i++) {
        sms |= a.facts.phones[i].consent;
        voice |= a.facts.phones[i].voice_consent;
    }
    /* Consent as the creditor recorded it; one given now counts from now. */
    a.sms_consent_ms = sms ? (a.sms_consent_ms ? a.sms_consent_ms : env->event_time_ms) : 0;
    a.voice_consent_ms = voice ? (a.voice_consent_ms ? a.voice_consent_ms : env->event_time_ms) : 0;
    if (balance <= 0 && strcmp(a.status, "open") == 0) {
        arr_str_copy(a.status, sizeof(a.status), "paid");
        arr_str_copy(a.status_rule, sizeof(a.status_rule), OUTREACH_RULE_STATUS_PAID);
    }
    e = index_contacts(b, &a, why, whylen);
    if (e) {
        outreach_account_clear(&a);
        return e;
    }
    return settle_and_clear(b, &a, env, balance <= 0, why, whylen);
}

static arr_err set_status(outreach_book *b, const arr_envelope *env, const char *status,
                          const char *rule, char *why, size_t whylen)
{
    outreach_account a;
    int found;
    arr_err e = with_account(b, env, 1, &a, &found, why, whylen);
    if (e)
        return e;
    arr_str_copy(a.status, sizeof(a.status), status);
    arr_str_copy(a.status_rule, sizeof(a.status_rule), rule);
    return settle_and_clear(b, &a, env, 1, why, whylen);
}

static arr_err scored(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    const char *strategy;
    arr_err e = need_str(env->payload, "strategy", &strategy, why, whylen);
    if (e)
        return e;
    if (strlen(strategy) >= OUTREACH_CADENCE_NAME_MAX) {
        snprintf(why, whylen, "field payload.strategy: longer than %d bytes",
                 OUTREACH_CADENCE_NAME_MAX - 1);
        return ARR_EINVAL;
    }
    outreach_account a;
    int found;
    e = with_account(b, env, 1, &a, &found, why, whylen);
    if (e)
        return e;
    if (strcmp(a.strategy, strategy) != 0)
        a.run_over[0] = '\0'; /* a new strategy may bring a new cadence */
    arr_str_copy(a.strategy, sizeof(a.strategy), strategy);
    a.scored_ms = env->event_time_ms;
    return settle_and_clear(b, &a, env, 0, why, whylen);
}

/* ------------------------------------------------------------------ payments */

static arr_err payment(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    json_t *p = env->payload;
    int64_t after;
    arr_err e = need_int(p, "balance_after_cents", &after, why, whylen);
    if (e)
        return e;
    const char *status_after = json_string_value(json_object_get(p, "status_after"));
    int reversal = strcmp(env->event_type, "payment.reversed") == 0;
    outreach_account a;
    int found;
    e = with_account(b, env, 1, &a, &found, why, whylen);
    if (e)
        return e;
    a.balance_cents = after;
    int stop = 0;
    const char *st = status_after ? status_after : (after <= 0 ? "paid" : "open");
    if (!reversal &&
        (strcmp(st, "paid") == 0 || strcmp(st, "settled") == 0 || strcmp(st, "closed") == 0)) {
        arr_str_copy(a.status, sizeof(a.status), st);
        snprintf(a.status_rule, sizeof(a.status_rule), "status.%s", st);
        stop = 1;
    } else if (reversal && strcmp(st, "open") == 0 &&
               (strcmp(a.status, "paid") == 0 || strcmp(a.status, "settled") == 0)) {
        arr_str_copy(a.status, sizeof(a.status),
                     "open"); /* the money came back: outreach goes on */
        a.status_rule[0] = '\0';
        a.run_over[0] = '\0';
    }
    if (json_is_true(json_object_get(p, "promise_kept"))) {
        a.promise_until_ms = 0;
        a.hold_rule[0] = '\0';
    }
    return settle_and_clear(b, &a, env, stop, why, whylen);
}

static arr_err hold_ends(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    outreach_account a;
    int found;
    arr_err e = with_account(b, env, 1, &a, &found, why, whylen);
    if (e)
        return e;
    a.promise_until_ms = 0;
    a.hold_rule[0] = '\0';
    return settle_and_clear(b, &a, env, 0, why, whylen);
}

/* ------------------------------------------------------------------ replies */

static arr_err parse_date(const char *s, int64_t *ms)
{
    int y, m, d;
    if (!s || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return ARR_EINVAL;
    *ms = arr_days_from_civil(y, m, d) * DAY_MS;
    return ARR_OK;
}

static arr_err stop_reply(outreach_book *b, outreach_account *a, const char *channel,
                          const char *address_id, int64_t at, const outreach_cause *c, char *why,
                          size_t whylen)
{
    int had_sms_consent = a->sms_consent_ms > 0 && a->stop_ms < a->sms_consent_ms;
    arr_err e = ARR_OK;
    if (strcmp(channel, "sms") == 0 || strcmp(channel, "voice") == 0) {
        a->stop_ms = at > a->stop_ms ? at : a->stop_ms;
        if (address_id)
            e = outreach_book_opt_out(b, a, address_id, "sms", "reply_stop", at, why, whylen);
        /* The one confirmation text the TCPA allows, within its 5 minutes. */
        if (!e && strcmp(channel, "sms") == 0 && had_sms_consent) {
            char key[64];
            snprintf(key, sizeof(key), "opt-out-confirmation-%lld", (long long)(at / 1000));
            e = outreach_book_add_event_step(b, a, key, OUTREACH_COMPLIANCE_SMS,
                                             OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION,
                                             "opt_out_confirmation_sms", at, c, why, whylen);
        }
    } else if (strcmp(channel, "email") == 0) {
        e = outreach_book_opt_out(b, a, address_id ? address_id : "medium:email", "email",
                                  "reply_stop", at, why, whylen);
    } else {
        e = outreach_book_opt_out(b, a, "medium:letter", channel, "reply_stop", at, why, whylen);
    }
    return e;
}

static arr_err reply(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    json_t *p = env->payload;
    const char *reply_id, *channel, *intent;
    int64_t at;
    arr_err e = need_str(p, "reply_id", &reply_id, why, whylen);
    if (!e)
        e = need_str(p, "channel", &channel, why, whylen);
    if (!e)
        e = need_str(p, "intent", &intent, why, whylen);
    if (!e)
        e = time_field(p, "received_at", &at, why, whylen);
    if (e)
        return e;
    const char *keyword = json_string_value(json_object_get(p, "keyword"));
    const char *address_id = json_string_value(json_object_get(p, "address_id"));
    outreach_account a;
    int found;
    e = with_account(b, env, 1, &a, &found, why, whylen);
    if (e)
        return e;
    char at_s[ARR_TIME_STRLEN];
    arr_time_format(at, at_s, sizeof(at_s));
    const char *rp[] = {a.tenant, a.account, reply_id, channel,
                        intent,   keyword,   at_s,     env->event_id};
    e = arr_pg_run(b->pg, "oe_reply", 8, rp, NULL, why, whylen);
    outreach_cause c = {
        .env = env, .at_ms = env->event_time_ms, .stop_produced_ms = env->produced_at_ms};
    if (!e && strcmp(intent, "stop") == 0) {
        e = stop_reply(b, &a, channel, address_id, at, &c, why, whylen);
    } else if (!e && strcmp(intent, "dispute") == 0) {
        a.dispute_ms = a.dispute_ms ? a.dispute_ms : at;
    } else if (!e && strcmp(intent, "original_creditor_request") == 0) {
        a.original_creditor_ms = a.original_creditor_ms ? a.original_creditor_ms : at;
    } else if (!e && strcmp(intent, "attorney") == 0) {
        arr_str_copy(a.status, sizeof(a.status), "attorney");
        arr_str_copy(a.status_rule, sizeof(a.status_rule), OUTREACH_RULE_ATTORNEY);
    } else if (!e && strcmp(intent, "promise") == 0) {
        int64_t day;
        /* regular steps wait until the day after the promised date (reconciliation tells
           whether it was kept: promise.broken ends the hold earlier) */
        a.promise_until_ms =
            parse_date(json_string_value(json_object_get(p, "promised_date")), &day) == ARR_OK
                ? day + DAY_MS
                : at + SAYS_PAID_HOLD_MS;
        arr_str_copy(a.hold_rule, sizeof(a.hold_rule), "promise.pending");
    } else if (!e && strcmp(intent, "paid") == 0) {
        a.promise_until_ms = at + SAYS_PAID_HOLD_MS;
        arr_str_copy(a.hold_rule, sizeof(a.hold_rule), "reply.says_paid");
    }
    if (e) {
        outreach_account_clear(&a);
        return e;
    }
    e = outreach_book_settle(b, &a, &c, why, whylen);
    outreach_account_clear(&a);
    return e;
}

/* ------------------------------------------------------------------ provider callbacks */

arr_err outreach_events_status(outreach_book *b, outreach_account *a, outreach_step *st,
                               json_t *payload, const outreach_cause *c, char *why, size_t whylen)
{
    const char *outcome = json_string_value(json_object_get(payload, "outcome"));
    const char *code = json_string_value(json_object_get(payload, "error_code"));
    if (!outcome) {
        snprintf(why, whylen, "field payload.outcome: must be a string");
        return ARR_EINVAL;
    }
    if (strcmp(outcome, "pending") == 0)
        return ARR_OK;
    static const char *const calls[][2] = {{"call_no_answer", "no_answer"},
                                           {"call_voicemail", "voicemail"},
                                           {"call_conversation", "conversation"},
                                           {"call_attempt", "attempt"}};
    json_t *extra = json_object();
    const char *type = "outreach.delivered";
    arr_err e = ARR_OK;
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(outcome, calls[i][0]) == 0) {
            arr_str_copy(st->call_outcome, sizeof(st->call_outcome), calls[i][1]);
            json_object_set_new(extra, "call_outcome", json_string(calls[i][1]));
        }
    }
    if (strcmp(outcome, "delivered") == 0) {
        arr_str_copy(st->delivery, sizeof(st->delivery), "delivered");
    } else if (strcmp(outcome, "undelivered_retry") == 0 || strcmp(outcome, "bad_contact") == 0 ||
               strcmp(outcome, "opted_out") == 0) {
        int bad = strcmp(outcome, "bad_contact") == 0, opted = strcmp(outcome, "opted_out") == 0;
        arr_str_copy(st->delivery, sizeof(st->delivery),
                     bad ? "bad_contact" : (opted ? "opted_out" : "undelivered"));
        type = "outreach.failed";
        json_object_set_new(extra, "error_code", json_string(code && *code ? code : "none"));
        json_object_set_new(extra, "retriable", json_boolean(!bad && !opted));
        if (bad || opted)
            json_object_set_new(extra, "contact_point", json_string(bad ? "bad" : "opted_out"));
        if (bad && st->address_id[0])
            e = outreach_book_bad_contact(b, a, st->address_id,
                                          outreach_cadence_channel_name(st->channel),
                                          code && *code ? code : "unknown", c->at_ms, why, whylen);
        if (opted && st->address_id[0])
            e = outreach_book_opt_out(b, a, st->address_id,
                                      outreach_cadence_channel_name(st->channel),
                                      "provider_opted_out", c->at_ms, why, whylen);
    }
    if (e) {
        json_decref(extra);
        return e;
    }
    if (!json_object_get(extra, "error_code"))
        json_object_set_new(extra, "provider_message_id", json_string(st->provider_message_id));
    e = outreach_book_step_update(b, a, st, NULL, -1, why, whylen);
    if (e) {
        json_decref(extra);
        return e;
    }
    char suffix[48];
    snprintf(suffix, sizeof(suffix), "/%s", outcome);
    return outreach_book_emit_step(b, c, st, type, extra, suffix, why, whylen);
}

/* Queues an event derived here on topic through the outbox, keyed by its account; out is
 * cleared. */
static arr_err queue_derived(outreach_book *b, arr_envelope *out, const char *topic, char *why,
                             size_t whylen)
{
    char *value = NULL, key[ARR_KEY_MAX];
    size_t len;
    arr_err e = arr_envelope_to_message(out, &value, &len, key, why, whylen);
    if (!e)
        e = arr_outbox_add(b->pg, "outreach", topic, key, value, why, whylen);
    free(value);
    arr_envelope_clear(out);
    return e;
}

/* A provider status arrives keyed by the provider's id, on any replica: it is matched to its
 * step here and passed on as provider.status_matched keyed by the account, so the replica that
 * owns the account applies it (no two replicas lock one account's rows in two batches, which
 * deadlock). One that overtook the sender's record waits for the sender instead. */
static arr_err provider_status(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    const char *sid;
    arr_err e = need_str(env->payload, "provider_message_id", &sid, why, whylen);
    if (e)
        return e;
    const char *p[] = {env->tenant, sid};
    PGresult *r = NULL;
    e = arr_pg_run(b->pg, "oe_by_provider", 2, p, &r, why, whylen);
    if (e)
        return e;
    if (PQntuples(r) == 0) {
        PQclear(r);
        char *text = json_dumps(env->payload, JSON_COMPACT);
        const char *ep[] = {env->tenant, sid, env->event_id, text};
        e = text ? arr_pg_run(b->pg, "oe_early_add", 4, ep, NULL, why, whylen) : ARR_ENOMEM;
        free(text);
        return e;
    }
    json_t *payload = json_deep_copy(env->payload);
    if (!payload) {
        PQclear(r);
        return ARR_ENOMEM;
    }
    json_object_set_new(payload, "step_id", json_string(PQgetvalue(r, 0, 1)));
    arr_envelope out;
    e = arr_envelope_derive(&out, env, "provider.status_matched", 1, "provider.status_matched",
                            payload, b->who.service, b->who.version, b->who.instance,
                            arr_clock_now_ms(b->clock));
    if (!e) {
        arr_str_copy(out.account, sizeof(out.account), PQgetvalue(r, 0, 0));
        e = queue_derived(b, &out, b->topic_callbacks, why, whylen);
    }
    PQclear(r);
    return e;
}

static arr_err status_matched(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    const char *step_id;
    arr_err e = need_str(env->payload, "step_id", &step_id, why, whylen);
    if (e)
        return e;
    outreach_account a;
    int found;
    e = outreach_book_load(b, env->tenant, env->account, 0, &a, &found, why, whylen);
    if (e || !found)
        return e;
    outreach_step *st = outreach_account_step(&a, step_id);
    outreach_cause c = {.env = env, .at_ms = env->event_time_ms};
    if (st)
        e = outreach_events_status(b, &a, st, env->payload, &c, why, whylen);
    if (!e)
        e = outreach_book_settle(b, &a, &c, why, whylen);
    outreach_account_clear(&a);
    return e;
}

arr_err outreach_events_early(outreach_book *b, outreach_account *a, outreach_step *st,
                              const outreach_cause *c, char *why, size_t whylen)
{
    const char *p[] = {a->tenant, st->provider_message_id};
    PGresult *r = NULL;
    arr_err e = arr_pg_run(b->pg, "oe_early_take", 2, p, &r, why, whylen);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        json_t *payload = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        if (payload)
            e = outreach_events_status(b, a, st, payload, c, why, whylen);
        json_decref(payload);
    }
    PQclear(r);
    return e;
}

/* An inbound reply: classified, then one reply.received per account reached there. */
/* The campaign's time now: the last instant of the day begun last (what answers that day's
 * contacts belongs to it, and what it causes, an opt-out confirmation, can go out before the
 * next day begins); *at_ms unchanged before the first day. */
static arr_err campaign_now(outreach_book *b, int64_t *at_ms, char *why, size_t whylen)
{
    const char *p[] = {b->ns};
    PGresult *r = NULL;
    arr_err e = arr_pg_run(b->pg, "oe_campaign_now", 1, p, &r, why, whylen);
    if (!e && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        *at_ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10) - 1;
    PQclear(r);
    return e;
}

static arr_err provider_inbound(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    json_t *p = env->payload;
    const char *sid, *channel, *from, *text;
    int64_t at;
    arr_err e = need_str(p, "provider_message_id", &sid, why, whylen);
    if (!e)
        e = need_str(p, "channel", &channel, why, whylen);
    if (!e)
        e = need_str(p, "from", &from, why, whylen);
    if (!e)
        e = need_str(p, "text", &text, why, whylen);
    if (!e)
        e = time_field(p, "received_at", &at, why, whylen);
    if (e)
        return e;
    /* An email is read as the door stored it, subject "\n" text: a STOP alone on a line or
       in the subject counts (outreach_callback_email_intent). */
    outreach_callback_intent_out in;
    outreach_callback_inbound_email m = {.body = (char *)text, .body_len = strlen(text)};
    const char *nl = strchr(text, '\n');
    m.subject_len = nl ? (size_t)(nl - text) : m.body_len;
    e = strcmp(channel, "email") == 0 ? outreach_callback_email_intent(&m, &in)
                                      : outreach_callback_intent(text, &in);
    if (e) {
        snprintf(why, whylen, "field payload.text: cannot be read");
        return ARR_EINVAL;
    }
    char address_id[OUTREACH_FACTS_ID_LEN + 1];
    outreach_facts_address_id(env->tenant, from, address_id);
    const char *lp[] = {env->tenant, address_id};
    PGresult *r = NULL;
    e = arr_pg_run(b->pg, "oe_accounts_at", 2, lp, &r, why, whylen);
    if (e)
        return e;
    int n = PQntuples(r);
    if (n == 0)
        arr_log_warn(b->log, "inbound reply matches no account", "provider_message_id", sid,
                     "address_id", address_id, NULL);
    outreach_cause c = {.env = env, .at_ms = env->event_time_ms};
    if (b->campaign && n > 0 && !(e = campaign_now(b, &c.at_ms, why, whylen)))
        at = c.at_ms; /* one clock for the reply and what it starts (a STOP's confirmation) */
    char at_s[ARR_TIME_STRLEN];
    arr_time_format(at, at_s, sizeof(at_s));
    for (int i = 0; !e && i < n && i < REPLY_FANOUT_MAX; i++) {
        const char *account = PQgetvalue(r, i, 0);
        json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:s}", "reply_id", sid, "channel",
                                    channel, "intent", outreach_callback_intent_name(in.intent),
                                    "received_at", at_s, "address_id", address_id);
        if (in.keyword[0])
            json_object_set_new(payload, "keyword", json_string(in.keyword));
        arr_envelope out;
        char name[ARR_ACCOUNT_MAX + 32];
        snprintf(name, sizeof(name), "reply.received/%s", account);
        e = arr_envelope_derive(&out, env, "reply.received", 1, name, payload, b->who.service,
                                b->who.version, b->who.instance, arr_clock_now_ms(b->clock));
        if (e)
            break;
        arr_str_copy(out.account, sizeof(out.account), account);
        out.event_time_ms = c.at_ms;
        e = queue_derived(b, &out, b->topic_replies, why, whylen);
    }
    PQclear(r);
    return e;
}

static arr_err clock_day(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    int64_t day;
    if (parse_date(json_string_value(json_object_get(env->payload, "day")), &day)) {
        snprintf(why, whylen, "field payload.day: must be a date YYYY-MM-DD");
        return ARR_EINVAL;
    }
    char until[ARR_TIME_STRLEN];
    arr_time_format(day + DAY_MS, until, sizeof(until));
    const char *p[] = {b->ns, until};
    return arr_pg_run(b->pg, "oe_clock", 2, p, NULL, why, whylen);
}

arr_err outreach_events_apply(outreach_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    const char *t = env->event_type;
    if (strcmp(t, "account.placed") == 0 || strcmp(t, "account.updated") == 0)
        return placed(b, env, why, whylen);
    if (strcmp(t, "account.closed") == 0)
        return set_status(b, env, "closed", OUTREACH_RULE_STATUS_CLOSED, why, whylen);
    if (strcmp(t, "score.computed") == 0)
        return scored(b, env, why, whylen);
    if (strcmp(t, "payment.applied") == 0 || strcmp(t, "payment.reversed") == 0)
        return payment(b, env, why, whylen);
    if (strcmp(t, "payment.settled") == 0)
        return set_status(b, env, "settled", OUTREACH_RULE_STATUS_SETTLED, why, whylen);
    if (strcmp(t, "promise.broken") == 0 || strcmp(t, "plan.instalment_missed") == 0)
        return hold_ends(b, env, why, whylen);
    if (strcmp(t, "reply.received") == 0)
        return reply(b, env, why, whylen);
    if (strcmp(t, "provider.status") == 0)
        return provider_status(b, env, why, whylen);
    if (strcmp(t, "provider.status_matched") == 0)
        return status_matched(b, env, why, whylen);
    if (strcmp(t, "provider.inbound") == 0)
        return provider_inbound(b, env, why, whylen);
    if (strcmp(t, "clock.day_started") == 0)
        return arr_event_for_service(env->payload, "outreach") ? clock_day(b, env, why, whylen)
                                                               : ARR_OK;
    return ARR_OK; /* recorded in the inbox: nothing for outreach (payment.unmatched, ...) */
}
