#include "book.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/outbox.h"
#include "schedule.h"

/* Names the steps of an account's runs: the same account, run and step always get the same id,
 * so a redone transaction or a replay plans the very same step. */
#define STEP_NS "6f1c2a94-3d5e-4b7a-9c8d-2e4f6a8b0c1d"
#define MS(col) "(extract(epoch from " col ") * 1000)::bigint"
#define ESCALATIONS_MAX 4

static const char *const channel_names[] = {"email", "sms", "voice", "letter"};

/* The account, locked, with its recent steps, opt-outs and bad contact points: one round trip. */
/* clang-format off */
static const char LOAD_SQL[] =
    "SELECT a.regime, a.currency, a.balance_cents, a.original_cents, a.due_date::text,"
    " a.debtor::text, " MS("a.placed_at") ", a.status, a.status_rule, a.strategy,"
    " " MS("a.scored_at") ", a.run_no, a.run_policy_version, a.run_scored_strategy,"
    " a.run_strategy, " MS("a.run_start") ", a.run_over, " MS("a.sms_consent_at") ","
    " " MS("a.voice_consent_at") ", " MS("a.stop_at") ", " MS("a.dispute_at") ","
    " " MS("a.original_creditor_at") ", " MS("a.verification_at") ","
    " " MS("a.validation_at") ", " MS("a.first_contact_at") ", " MS("a.promise_until") ","
    " a.hold_rule,"
    " (SELECT string_agg(concat_ws('|', s.step_id, s.run_no, coalesce(s.step_key, ''),"
    "   s.channel, s.kind, s.status, coalesce(s.template_id, ''), coalesce(s.address_id, ''),"
    "   coalesce(s.call_outcome, ''), s.attempts, " MS("s.due_at") ","
    "   coalesce(" MS("s.done_at") ", 0), coalesce(s.provider_message_id, ''),"
    "   coalesce(s.template_version, ''), coalesce(s.lang, ''), coalesce(s.delivery, ''),"
    "   coalesce(s.cost_cents, 0), " MS("s.updated_at") "), E'\\n')"
    "   FROM (SELECT * FROM outreach.steps s WHERE s.tenant = a.tenant"
    "         AND s.account_id = a.account_id ORDER BY s.due_at DESC, s.step_id"
    "         LIMIT 96) s),"
    " (SELECT string_agg(o.address_id, ',') FROM (SELECT address_id FROM outreach.opt_outs"
    "   WHERE tenant = a.tenant AND account_id = a.account_id LIMIT 16) o),"
    " (SELECT string_agg(x.address_id, ',') FROM (SELECT address_id FROM"
    "   outreach.bad_contacts WHERE tenant = a.tenant AND account_id = a.account_id"
    "   LIMIT 16) x)"
    " FROM outreach.accounts a WHERE a.tenant = $1 AND a.account_id = $2 FOR UPDATE OF a";

/* The namespace's open steps due by $2, the earliest per account: what the schedule must hold
   (the sweep). A range of the partial index steps_open (namespace, due_at). */
static const char DUE_OPEN_SQL[] =
    "SELECT DISTINCT ON (tenant, account_id) tenant, account_id, step_id, " MS("due_at")
    " FROM outreach.steps WHERE namespace = $1 AND status IN ('planned', 'sending')"
    " AND due_at <= $2 ORDER BY tenant, account_id, due_at LIMIT 1000";
/* clang-format on */

arr_err outreach_book_prepare(arr_pg *pg, char *why, size_t whylen)
{
    static const struct {
        const char *name, *sql;
        int n;
    } st[] = {
        {"ob_insert",
         "INSERT INTO outreach.accounts (tenant, account_id, namespace) VALUES ($1, $2, $3) ON"
         " CONFLICT DO NOTHING",
         3},
        {"ob_due_open", DUE_OPEN_SQL, 2},
        {"ob_lock",
         "SELECT 1 FROM outreach.accounts WHERE tenant = $1 AND account_id = $2 FOR UPDATE", 2},
        {"ob_load", LOAD_SQL, 2},
        {"ob_save",
         "UPDATE outreach.accounts SET regime = $3, currency = $4, balance_cents = $5,"
         " original_cents = $6, due_date = $7::date, debtor = coalesce($8::jsonb, debtor),"
         " placed_at = $9, status = $10, status_rule = $11, strategy = $12, scored_at = $13,"
         " run_no = $14, run_policy_version = $15, run_scored_strategy = $16, run_strategy = $17,"
         " run_start = $18, run_over = $19, sms_consent_at = $20, voice_consent_at = $21, stop_at"
         " = $22, dispute_at = $23, original_creditor_at = $24, verification_at = $25,"
         " validation_at = $26, first_contact_at = $27, promise_until = $28, hold_rule = $29,"
         " updated_at = now() WHERE tenant = $1 AND account_id = $2",
         29},
        {"ob_step_insert",
         "INSERT INTO outreach.steps (step_id, tenant, account_id, channel, due_at, status,"
         " cause_event_id, run_no, step_key, kind, template_id, policy_version, strategy, done_at,"
         " rule_id, namespace) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
         " $14, $15, $16) ON CONFLICT DO NOTHING",
         16},
        {"ob_step_update",
         "UPDATE outreach.steps SET status = $2, due_at = $3, done_at = $4, rule_id = coalesce($5,"
         " rule_id), attempts = $6, idempotency_key = $7, address_id = nullif($8, ''),"
         " provider_message_id = nullif($9, ''), template_version = nullif($10, ''), lang ="
         " nullif($11, ''), delivery = nullif($12, ''), call_outcome = nullif($13, ''), cost_cents"
         " = $14, stop_latency_ms = coalesce($15, stop_latency_ms), updated_at = now() WHERE"
         " step_id = $1",
         15},
        {"ob_opt_out",
         "INSERT INTO outreach.opt_outs (tenant, account_id, address_id, channel, reason, at)"
         " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
         6},
        {"ob_bad_contact",
         "INSERT INTO outreach.bad_contacts (tenant, account_id, address_id, channel, error_code,"
         " at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
         6},
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        arr_err e = arr_pg_prepare(pg, st[i].name, st[i].sql, st[i].n, why, whylen);
        if (e)
            return e;
    }
    return ARR_OK;
}

/* ------------------------------------------------------------------ helpers */

static outreach_compliance_kind kind_of(const char *name)
{
    if (strcmp(name, "validation_notice") == 0)
        return OUTREACH_COMPLIANCE_VALIDATION_NOTICE;
    if (strcmp(name, "opt_out_confirmation") == 0)
        return OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION;
    if (strcmp(name, "cease_final_notice") == 0)
        return OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE;
    return OUTREACH_COMPLIANCE_REGULAR;
}

/* Time as a parameter: RFC 3339 text, or SQL NULL for 0. */
typedef struct tparam {
    char s[ARR_TIME_STRLEN];
} tparam;

static const char *tp(tparam *t, int64_t ms)
{
    if (ms <= 0)
        return NULL;
    return arr_time_format(ms, t->s, sizeof(t->s)) ? NULL : t->s;
}

static int64_t num(PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? 0 : strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

static const char *txt(PGresult *r, int col)
{
    return PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col);
}

static int open_step(const outreach_step *st)
{
    return strcmp(st->status, "planned") == 0 || strcmp(st->status, "sending") == 0;
}

/* The account's open step due first (the one the schedule holds), or NULL. */
static const outreach_step *earliest_open(const outreach_account *a)
{
    const outreach_step *first = NULL;
    for (size_t i = 0; i < a->nsteps; i++) {
        const outreach_step *s = &a->steps[i];
        if (open_step(s) && (!first || s->due_ms < first->due_ms))
            first = s;
    }
    return first;
}

int outreach_status_stops(const char *status)
{
    return strcmp(status, "open") != 0;
}

outreach_step *outreach_account_step(outreach_account *a, const char *step_id)
{
    for (size_t i = 0; i < a->nsteps; i++) {
        if (strcmp(a->steps[i].step_id, step_id) == 0)
            return &a->steps[i];
    }
    return NULL;
}

void outreach_account_clear(outreach_account *a)
{
    json_decref(a->debtor);
    a->debtor = NULL;
}

/* ------------------------------------------------------------------ load and save */

static arr_err parse_step(char *line, outreach_step *st)
{
    char *f[18];
    int n = 0;
    for (char *p = line; n < 18; n++) {
        f[n] = p;
        char *bar = strchr(p, '|');
        if (!bar) {
            n++;
            break;
        }
        *bar = '\0';
        p = bar + 1;
    }
    if (n != 18)
        return ARR_EDECODE;
    memset(st, 0, sizeof(*st));
    arr_str_copy(st->step_id, sizeof(st->step_id), f[0]);
    st->run_no = atoi(f[1]);
    arr_str_copy(st->step_key, sizeof(st->step_key), f[2]);
    if (outreach_decide_channel_of(f[3], &st->channel))
        return ARR_EDECODE;
    st->kind = kind_of(f[4]);
    arr_str_copy(st->status, sizeof(st->status), f[5]);
    arr_str_copy(st->template_id, sizeof(st->template_id), f[6]);
    arr_str_copy(st->address_id, sizeof(st->address_id), f[7]);
    arr_str_copy(st->call_outcome, sizeof(st->call_outcome), f[8]);
    st->attempts = atoi(f[9]);
    st->due_ms = strtoll(f[10], NULL, 10);
    st->done_ms = strtoll(f[11], NULL, 10);
    arr_str_copy(st->provider_message_id, sizeof(st->provider_message_id), f[12]);
    arr_str_copy(st->template_version, sizeof(st->template_version), f[13]);
    arr_str_copy(st->lang, sizeof(st->lang), f[14]);
    arr_str_copy(st->delivery, sizeof(st->delivery), f[15]);
    st->cost_cents = strtoll(f[16], NULL, 10);
    st->updated_ms = strtoll(f[17], NULL, 10);
    return ARR_OK;
}

static arr_err load_steps(outreach_account *a, const char *text)
{
    a->nsteps = 0;
    if (!*text)
        return ARR_OK;
    char *buf = strdup(text);
    if (!buf)
        return ARR_ENOMEM;
    arr_err e = ARR_OK;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line && a->nsteps < OUTREACH_BOOK_STEPS_MAX;
         line = strtok_r(NULL, "\n", &save)) {
        e = parse_step(line, &a->steps[a->nsteps]);
        if (e)
            break;
        a->nsteps++;
    }
    free(buf);
    return e;
}

static size_t split_ids(const char *text, char (*out)[OUTREACH_FACTS_ID_LEN + 8], size_t max)
{
    size_t n = 0;
    while (*text && n < max) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        snprintf(out[n++], OUTREACH_FACTS_ID_LEN + 8, "%.*s", (int)len, text);
        text += len + (comma ? 1 : 0);
    }
    return n;
}

static arr_err fill(outreach_account *a, PGresult *r, char *why, size_t whylen)
{
    a->placed = !PQgetisnull(r, 0, 5);
    a->regime = strcmp(txt(r, 0), "creditor") == 0 ? OUTREACH_COMPLIANCE_CREDITOR
                                                   : OUTREACH_COMPLIANCE_THIRD_PARTY;
    arr_str_copy(a->currency, sizeof(a->currency), txt(r, 1));
    a->balance_cents = num(r, 2);
    a->original_cents = num(r, 3);
    arr_str_copy(a->due_date, sizeof(a->due_date), txt(r, 4));
    if (a->placed) {
        json_error_t jerr;
        a->debtor = json_loads(txt(r, 5), 0, &jerr);
        if (!a->debtor) {
            snprintf(why, whylen, "outreach.accounts.debtor: %s", jerr.text);
            return ARR_EDECODE;
        }
    }
    a->placed_ms = num(r, 6);
    arr_str_copy(a->status, sizeof(a->status), txt(r, 7));
    arr_str_copy(a->status_rule, sizeof(a->status_rule), txt(r, 8));
    arr_str_copy(a->strategy, sizeof(a->strategy), txt(r, 9));
    a->scored_ms = num(r, 10);
    a->run_no = (int)num(r, 11);
    arr_str_copy(a->run_policy_version, sizeof(a->run_policy_version), txt(r, 12));
    arr_str_copy(a->run_scored_strategy, sizeof(a->run_scored_strategy), txt(r, 13));
    arr_str_copy(a->run_strategy, sizeof(a->run_strategy), txt(r, 14));
    a->run_start_ms = num(r, 15);
    arr_str_copy(a->run_over, sizeof(a->run_over), txt(r, 16));
    int64_t *times[] = {&a->sms_consent_ms, &a->voice_consent_ms,     &a->stop_ms,
                        &a->dispute_ms,     &a->original_creditor_ms, &a->verification_ms,
                        &a->validation_ms,  &a->first_contact_ms,     &a->promise_until_ms};
    for (int i = 0; i < 9; i++)
        *times[i] = num(r, 17 + i);
    arr_str_copy(a->hold_rule, sizeof(a->hold_rule), txt(r, 26));
    arr_err e = load_steps(a, txt(r, 27));
    if (e) {
        snprintf(why, whylen, "outreach.steps of the account: a row does not parse");
        return e;
    }
    a->nopted = split_ids(txt(r, 28), a->opted_out, OUTREACH_BOOK_IDS_MAX);
    char bad[OUTREACH_BOOK_IDS_MAX][OUTREACH_FACTS_ID_LEN + 8];
    a->nbad = split_ids(txt(r, 29), bad, OUTREACH_BOOK_IDS_MAX);
    for (size_t i = 0; i < a->nbad; i++)
        arr_str_copy(a->bad[i], sizeof(a->bad[i]), bad[i]);
    return outreach_facts_read(a->tenant, a->debtor, &a->facts, why, whylen);
}

arr_err outreach_book_load(outreach_book *b, const char *tenant, const char *account, int create,
                           outreach_account *a, int *found, char *why, size_t whylen)
{
    memset(a, 0, sizeof(*a));
    arr_str_copy(a->tenant, sizeof(a->tenant), tenant);
    arr_str_copy(a->account, sizeof(a->account), account);
    const char *p[] = {tenant, account};
    PGresult *r = NULL;
    /* The lock first, in its own statement. In one statement, a load that waited for the lock
       would get the account's new row but its steps as of the snapshot taken before the wait
       (READ COMMITTED re-reads only the locked row), and a save would write back a step's
       state from before the other transaction: a deferred step's due time went back. */
    arr_err e = arr_pg_run(b->pg, "ob_lock", 2, p, NULL, why, whylen);
    if (!e)
        e = arr_pg_run(b->pg, "ob_load", 2, p, &r, why, whylen);
    if (!e && create && PQntuples(r) == 0) { /* the first event of the account: one more trip */
        PQclear(r);
        r = NULL;
        const char *ip[] = {tenant, account, b->ns};
        e = arr_pg_run(b->pg, "ob_insert", 3, ip, NULL, why, whylen);
        if (!e)
            e = arr_pg_run(b->pg, "ob_lock", 2, p, NULL, why, whylen);
        if (!e)
            e = arr_pg_run(b->pg, "ob_load", 2, p, &r, why, whylen);
    }
    if (e)
        return e;
    *found = PQntuples(r) == 1;
    if (*found)
        e = fill(a, r, why, whylen);
    PQclear(r);
    if (!e && *found) {
        const outreach_step *first = earliest_open(a);
        arr_str_copy(a->sched_step_id, sizeof(a->sched_step_id), first ? first->step_id : "");
        a->sched_due_ms = first ? first->due_ms : 0;
    }
    if (e)
        outreach_account_clear(a);
    return e;
}

arr_err outreach_book_save(outreach_book *b, outreach_account *a, char *why, size_t whylen)
{
    char bal[24], orig[24], run[16];
    snprintf(bal, sizeof(bal), "%" PRId64, a->balance_cents);
    snprintf(orig, sizeof(orig), "%" PRId64, a->original_cents);
    snprintf(run, sizeof(run), "%d", a->run_no);
    char *debtor = a->debtor_dirty && a->debtor ? json_dumps(a->debtor, JSON_COMPACT) : NULL;
    tparam t[12];
#define S(x) ((x)[0] ? (x) : NULL)
    const char *p[29] = {
        a->tenant,
        a->account,
        a->regime == OUTREACH_COMPLIANCE_CREDITOR ? "creditor" : "third_party",
        S(a->currency),
        a->placed ? bal : NULL,
        a->placed ? orig : NULL,
        S(a->due_date),
        debtor,
        tp(&t[0], a->placed_ms),
        a->status,
        S(a->status_rule),
        S(a->strategy),
        tp(&t[1], a->scored_ms),
        run,
        S(a->run_policy_version),
        S(a->run_scored_strategy),
        S(a->run_strategy),
        tp(&t[2], a->run_start_ms),
        S(a->run_over),
        tp(&t[3], a->sms_consent_ms),
        tp(&t[4], a->voice_consent_ms),
        tp(&t[5], a->stop_ms),
        tp(&t[6], a->dispute_ms),
        tp(&t[7], a->original_creditor_ms),
        tp(&t[8], a->verification_ms),
        tp(&t[9], a->validation_ms),
        tp(&t[10], a->first_contact_ms),
        tp(&t[11], a->promise_until_ms),
        S(a->hold_rule),
    };
#undef S
    arr_err e = arr_pg_run(b->pg, "ob_save", 29, p, NULL, why, whylen);
    free(debtor);
    if (!e)
        a->debtor_dirty = 0;
    return e;
}

/* ------------------------------------------------------------------ events */

arr_err outreach_book_emit(outreach_book *b, const outreach_cause *c, const char *topic,
                           const char *event_type, const char *derived_name, json_t *payload,
                           int64_t event_time_ms, char *why, size_t whylen)
{
    arr_envelope out;
    arr_err e =
        arr_envelope_derive(&out, c->env, event_type, 1, derived_name, payload, b->who.service,
                            b->who.version, b->who.instance, arr_clock_now_ms(b->clock));
    if (e) {
        snprintf(why, whylen, "cannot derive %s", event_type);
        return e;
    }
    out.event_time_ms = event_time_ms;
    char *value = NULL, key[ARR_KEY_MAX];
    size_t len;
    e = arr_envelope_to_message(&out, &value, &len, key, why, whylen);
    if (!e)
        e = arr_outbox_add(b->pg, "outreach", topic, key, value, why, whylen);
    free(value);
    arr_envelope_clear(&out);
    return e;
}

static json_t *step_payload(const outreach_step *st)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:s}", "step_id", st->step_id, "channel",
                     channel_names[st->channel], "step_key", st->step_key[0] ? st->step_key : "-",
                     "run_no", st->run_no, "kind", outreach_cadence_kind_name(st->kind));
}

arr_err outreach_book_emit_step(outreach_book *b, const outreach_cause *c, const outreach_step *st,
                                const char *type, json_t *extra, const char *suffix, char *why,
                                size_t whylen)
{
    json_t *payload = step_payload(st);
    if (!payload) {
        json_decref(extra);
        return ARR_ENOMEM;
    }
    if (extra) {
        json_object_update(payload, extra);
        json_decref(extra);
    }
    char name[160];
    snprintf(name, sizeof(name), "%s/%s%s", type, st->step_id, suffix ? suffix : "");
    return outreach_book_emit(b, c, b->topic_events, type, name, payload, c->at_ms, why, whylen);
}

/* ------------------------------------------------------------------ steps */

arr_err outreach_book_step_update(outreach_book *b, const outreach_account *a,
                                  const outreach_step *st, const char *rule_id, int64_t latency_ms,
                                  char *why, size_t whylen)
{
    char attempts[16], cost[24], key[ARR_TENANT_MAX + ARR_UUID_STRLEN + 2], lat[24];
    snprintf(attempts, sizeof(attempts), "%d", st->attempts);
    snprintf(cost, sizeof(cost), "%" PRId64, st->cost_cents);
    snprintf(key, sizeof(key), "%s.%s", a->tenant, st->step_id);
    snprintf(lat, sizeof(lat), "%" PRId64, latency_ms);
    tparam t[2];
    const char *p[15] = {st->step_id,
                         st->status,
                         tp(&t[0], st->due_ms),
                         tp(&t[1], st->done_ms),
                         rule_id,
                         attempts,
                         st->attempts > 0 ? key : NULL,
                         st->address_id,
                         st->provider_message_id,
                         st->template_version,
                         st->lang,
                         st->delivery,
                         st->call_outcome,
                         st->cost_cents ? cost : NULL,
                         latency_ms >= 0 ? lat : NULL};
    return arr_pg_run(b->pg, "ob_step_update", 15, p, NULL, why, whylen);
}

/* A new step of the account's current run (not yet in the table). */
static outreach_step new_step(const outreach_account *a, const char *key,
                              outreach_compliance_channel ch, outreach_compliance_kind kind,
                              const char *template_id, const char *status, int64_t due_ms)
{
    outreach_step st;
    memset(&st, 0, sizeof(st));
    st.run_no = a->run_no;
    arr_str_copy(st.step_key, sizeof(st.step_key), key);
    st.channel = ch;
    st.kind = kind;
    arr_str_copy(st.template_id, sizeof(st.template_id), template_id);
    arr_str_copy(st.status, sizeof(st.status), status);
    st.due_ms = due_ms;
    return st;
}

static arr_err insert_step(outreach_book *b, outreach_account *a, const outreach_cause *c,
                           outreach_step *st, const char *policy_version, const char *strategy,
                           const char *rule_id, char *why, size_t whylen)
{
    char name[ARR_TENANT_MAX + ARR_ACCOUNT_MAX + 96], run[16];
    snprintf(name, sizeof(name), "%s/%s/%d/%s", a->tenant, a->account, st->run_no, st->step_key);
    arr_err e = arr_uuid_named(STEP_NS, name, st->step_id);
    if (e)
        return e;
    snprintf(run, sizeof(run), "%d", st->run_no);
    tparam t[2];
    const char *p[16] = {st->step_id,
                         a->tenant,
                         a->account,
                         channel_names[st->channel],
                         tp(&t[0], st->due_ms),
                         st->status,
                         c->env->event_id,
                         run,
                         st->step_key,
                         outreach_cadence_kind_name(st->kind),
                         st->template_id[0] ? st->template_id : NULL,
                         policy_version,
                         strategy,
                         tp(&t[1], st->done_ms),
                         rule_id,
                         b->ns};
    e = arr_pg_run(b->pg, "ob_step_insert", 16, p, NULL, why, whylen);
    if (e)
        return e;
    if (arr_pg_affected(b->pg) == 1 && a->nsteps < OUTREACH_BOOK_STEPS_MAX) {
        memmove(&a->steps[1], &a->steps[0], a->nsteps * sizeof(a->steps[0]));
        a->steps[0] = *st;
        a->nsteps++;
    }
    return ARR_OK;
}

arr_err outreach_book_add_event_step(outreach_book *b, outreach_account *a, const char *step_key,
                                     outreach_compliance_channel ch, outreach_compliance_kind kind,
                                     const char *template_id, int64_t due_ms,
                                     const outreach_cause *c, char *why, size_t whylen)
{
    outreach_step st = new_step(a, step_key, ch, kind, template_id, "planned", due_ms);
    arr_err e = insert_step(b, a, c, &st, NULL, NULL, NULL, why, whylen);
    if (e)
        return e;
    json_t *extra = json_pack("{s:s, s:s, s:s}", "cadence_id", "event", "due_at", "", "template_id",
                              template_id);
    char due[ARR_TIME_STRLEN];
    arr_time_format(due_ms, due, sizeof(due));
    json_object_set_new(extra, "due_at", json_string(due));
    return outreach_book_emit_step(b, c, &st, "outreach.planned", extra, NULL, why, whylen);
}

arr_err outreach_book_opt_out(outreach_book *b, outreach_account *a, const char *address_id,
                              const char *channel, const char *reason, int64_t at_ms, char *why,
                              size_t whylen)
{
    tparam t;
    const char *p[] = {a->tenant, a->account, address_id, channel, reason, tp(&t, at_ms)};
    arr_err e = arr_pg_run(b->pg, "ob_opt_out", 6, p, NULL, why, whylen);
    if (!e && a->nopted < OUTREACH_BOOK_IDS_MAX)
        arr_str_copy(a->opted_out[a->nopted++], sizeof(a->opted_out[0]), address_id);
    return e;
}

arr_err outreach_book_bad_contact(outreach_book *b, outreach_account *a, const char *address_id,
                                  const char *channel, const char *error_code, int64_t at_ms,
                                  char *why, size_t whylen)
{
    tparam t;
    const char *p[] = {a->tenant, a->account, address_id, channel, error_code, tp(&t, at_ms)};
    arr_err e = arr_pg_run(b->pg, "ob_bad_contact", 6, p, NULL, why, whylen);
    if (!e && a->nbad < OUTREACH_BOOK_IDS_MAX)
        arr_str_copy(a->bad[a->nbad++], sizeof(a->bad[0]), address_id);
    return e;
}

/* ------------------------------------------------------------------ decisions */

arr_err outreach_book_decide(outreach_book *b, const outreach_account *a, const outreach_step *st,
                             int64_t at_ms, const outreach_contact_point **point,
                             outreach_compliance_decision *d, char *why, size_t whylen)
{
    return outreach_decide(b->settings, b->tz, a, st, at_ms, point, d, why, whylen);
}

/* ------------------------------------------------------------------ settle */

/* Suppresses each planned step the account no longer allows. */
static arr_err stop_steps(outreach_book *b, outreach_account *a, const outreach_cause *c, char *why,
                          size_t whylen)
{
    for (size_t i = 0; i < a->nsteps; i++) {
        outreach_step *st = &a->steps[i];
        if (strcmp(st->status, "planned") != 0)
            continue;
        int64_t at = st->due_ms > c->at_ms ? st->due_ms : c->at_ms;
        const outreach_contact_point *pt;
        outreach_compliance_decision d;
        arr_err e = outreach_book_decide(b, a, st, at, &pt, &d, why, whylen);
        if (e)
            return e;
        if (d.verdict != OUTREACH_COMPLIANCE_SUPPRESS)
            continue;
        arr_str_copy(st->status, sizeof(st->status), "suppressed");
        st->done_ms = c->at_ms;
        int64_t latency = -1;
        if (c->stop_produced_ms > 0) {
            latency = arr_clock_now_ms(b->clock) - c->stop_produced_ms;
            if (latency < 0 || latency > 86400000)
                latency = -1; /* another clock (a simulated one): no meaningful figure */
        }
        e = outreach_book_step_update(b, a, st, d.rule_id, latency, why, whylen);
        json_t *extra = json_pack("{s:s, s:s}", "rule_id", d.rule_id, "detail", d.reason);
        char at_s[ARR_TIME_STRLEN];
        arr_time_format(c->at_ms, at_s, sizeof(at_s));
        json_object_set_new(extra, "at", json_string(at_s));
        if (latency >= 0)
            json_object_set_new(extra, "stop_latency_ms", json_integer(latency));
        if (!e)
            e = outreach_book_emit_step(b, c, st, "outreach.suppressed", extra, NULL, why, whylen);
        else
            json_decref(extra);
        if (e)
            return e;
    }
    return ARR_OK;
}

static void cadence_facts(const outreach_account *a, outreach_cadence_account *ca)
{
    memset(ca, 0, sizeof(*ca));
    ca->strategy = a->strategy;
    ca->placed_ms = a->placed_ms;
    ca->scored_at_ms = a->scored_ms > 0 ? a->scored_ms : a->placed_ms;
    ca->regime = a->regime;
    ca->balance_cents = a->balance_cents;
    ca->has_address = a->facts.has_address;
    ca->validation_notice_sent = a->validation_ms > 0;
    int consent_ok = a->stop_ms == 0;
    for (int i = 0; i < a->facts.nemails; i++) {
        const outreach_contact_point *p = &a->facts.emails[i];
        int bad = 0;
        for (size_t k = 0; k < a->nbad; k++)
            bad |= strcmp(a->bad[k], p->id) == 0;
        ca->has_email |= p->consent && !bad;
    }
    for (int i = 0; i < a->facts.nphones; i++) {
        const outreach_contact_point *p = &a->facts.phones[i];
        int bad = 0;
        for (size_t k = 0; k < a->nbad; k++)
            bad |= strcmp(a->bad[k], p->id) == 0;
        if (bad)
            continue;
        ca->has_phone = 1;
        ca->has_mobile |= p->mobile;
        ca->sms_consent |= p->mobile && p->consent && consent_ok && a->sms_consent_ms > 0;
        ca->voice_consent |= p->voice_consent && consent_ok && a->voice_consent_ms > 0;
    }
}

static int64_t max64(int64_t x, int64_t y)
{
    return x > y ? x : y;
}

static arr_err record_skips(outreach_book *b, outreach_account *a, const outreach_cause *c,
                            const outreach_cadence_step_out *out, char *why, size_t whylen)
{
    for (size_t i = 0; i < out->nskipped; i++) {
        const outreach_cadence_skip *sk = &out->skipped[i];
        outreach_step st =
            new_step(a, sk->step_id, sk->channel, sk->kind, sk->template_id, "skipped", sk->due_ms);
        st.done_ms = sk->due_ms;
        arr_err e =
            insert_step(b, a, c, &st, out->policy_version, out->strategy, sk->rule_id, why, whylen);
        if (!e)
            e = outreach_book_emit_step(
                b, c, &st, "outreach.suppressed",
                json_pack("{s:s, s:s}", "rule_id", sk->rule_id, "detail",
                          "the step's condition does not hold for this account"),
                NULL, why, whylen);
        if (e)
            return e;
    }
    return ARR_OK;
}

static arr_err plan_step(outreach_book *b, outreach_account *a, const outreach_cause *c,
                         const outreach_cadence_step_out *out, char *why, size_t whylen)
{
    outreach_step st = new_step(a, out->step_id, out->channel, out->kind, out->template_id,
                                "planned", out->due_ms);
    arr_err e = insert_step(b, a, c, &st, out->policy_version, out->strategy, NULL, why, whylen);
    if (e)
        return e;
    char due[ARR_TIME_STRLEN];
    arr_time_format(st.due_ms, due, sizeof(due));
    json_t *extra = json_pack("{s:s, s:s, s:s, s:s, s:s}", "cadence_id", out->cadence, "due_at",
                              due, "template_id", out->template_id, "policy_version",
                              out->policy_version, "strategy", out->strategy);
    return outreach_book_emit_step(b, c, &st, "outreach.planned", extra, NULL, why, whylen);
}

/* Ends the account's outreach for this run (no step left, no escalation). */
static arr_err end_run(outreach_book *b, outreach_account *a, const outreach_cause *c,
                       const char *rule, char *why, size_t whylen)
{
    arr_str_copy(a->run_over, sizeof(a->run_over), rule);
    char name[64];
    snprintf(name, sizeof(name), "outreach.run_over/%d", a->run_no);
    json_t *payload = json_pack("{s:s, s:s, s:i}", "rule_id", rule, "detail",
                                strcmp(rule, OUTREACH_CADENCE_RULE_NO_STEPS) == 0
                                    ? "the strategy's cadence has no contact"
                                    : "the cadence has no step left for this account",
                                "run_no", a->run_no);
    return outreach_book_emit(b, c, b->topic_events, "outreach.suppressed", name, payload, c->at_ms,
                              why, whylen);
}

static arr_err plan_next(outreach_book *b, outreach_account *a, const outreach_cause *c, char *why,
                         size_t whylen)
{
    const outreach_tenant *t = outreach_settings_tenant(b->settings, a->tenant);
    for (int round = 0; round <= ESCALATIONS_MAX; round++) {
        outreach_cadence_account ca;
        cadence_facts(a, &ca);
        outreach_cadence_done done[OUTREACH_BOOK_STEPS_MAX];
        outreach_cadence_progress pr;
        memset(&pr, 0, sizeof(pr));
        size_t nd = 0;
        for (size_t i = 0; i < a->nsteps; i++) {
            const outreach_step *s = &a->steps[i];
            int sent = strcmp(s->status, "sent") == 0;
            if (sent && s->done_ms > pr.last_sent_ms[s->channel])
                pr.last_sent_ms[s->channel] = s->done_ms;
            if (s->run_no != a->run_no || open_step(s) || !s->step_key[0] ||
                s->kind == OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION)
                continue;
            done[nd++] = (outreach_cadence_done){
                .step_id = s->step_key, .channel = s->channel, .at_ms = s->done_ms, .sent = sent};
        }
        if (a->run_strategy[0]) {
            pr.policy_version = a->run_policy_version[0] ? a->run_policy_version : NULL;
            pr.scored_strategy = a->run_scored_strategy;
            pr.strategy = a->run_strategy;
            pr.start_ms = a->run_start_ms;
            pr.done = nd ? done : NULL;
            pr.ndone = nd;
        }
        outreach_cadence_step_out out;
        arr_err e = outreach_cadence_next(t->cadence, &ca, &pr, &out, why, whylen);
        if (e)
            return e;
        if (out.new_run)
            a->run_no++;
        if (out.new_run || out.version_changed) {
            arr_str_copy(a->run_policy_version, sizeof(a->run_policy_version), out.policy_version);
            arr_str_copy(a->run_scored_strategy, sizeof(a->run_scored_strategy),
                         out.scored_strategy);
            arr_str_copy(a->run_strategy, sizeof(a->run_strategy), out.strategy);
            a->run_start_ms = out.start_ms;
        }
        e = record_skips(b, a, c, &out, why, whylen);
        if (e)
            return e;
        if (out.outcome == OUTREACH_CADENCE_STEP)
            return plan_step(b, a, c, &out, why, whylen);
        if (!out.escalate_to)
            return end_run(b, a, c, out.rule_id, why, whylen);
        a->run_no++;
        arr_str_copy(a->run_strategy, sizeof(a->run_strategy), out.escalate_to);
        a->run_start_ms = max64(out.escalate_at_ms, a->placed_ms);
    }
    return end_run(b, a, c, "cadence.escalation_limit", why, whylen);
}

static arr_err schedule(outreach_book *b, outreach_account *a, char *why, size_t whylen)
{
    const outreach_step *first = earliest_open(a);
    b->last.set = 1;
    arr_str_copy(b->last.tenant, sizeof(b->last.tenant), a->tenant);
    arr_str_copy(b->last.account, sizeof(b->last.account), a->account);
    if (first)
        arr_time_format(first->due_ms, b->last.next_at, sizeof(b->last.next_at));
    else
        arr_str_copy(b->last.next_at, sizeof(b->last.next_at), "none");
    arr_str_copy(b->last.channel, sizeof(b->last.channel),
                 first ? channel_names[first->channel] : "none");
    /* As loaded: Redis already has it (it is put before the commit that made it). */
    if (strcmp(a->sched_step_id, first ? first->step_id : "") == 0 &&
        a->sched_due_ms == (first ? first->due_ms : 0))
        return ARR_OK;
    if (first) /* never takes a step back from a sender's claim */
        return outreach_schedule_ensure(b->redis, b->ns, a->tenant, a->account, first->step_id,
                                        first->due_ms, NULL, why, whylen);
    return outreach_schedule_remove(b->redis, b->ns, a->tenant, a->account, NULL, NULL, why,
                                    whylen);
}

arr_err outreach_book_settle(outreach_book *b, outreach_account *a, const outreach_cause *c,
                             char *why, size_t whylen)
{
    arr_err e = stop_steps(b, a, c, why, whylen);
    int any_open = 0;
    for (size_t i = 0; i < a->nsteps; i++)
        any_open |= open_step(&a->steps[i]);
    if (!e && !any_open && a->placed && a->strategy[0] && !a->run_over[0] &&
        !outreach_status_stops(a->status))
        e = plan_next(b, a, c, why, whylen);
    if (!e)
        e = outreach_book_save(b, a, why, whylen);
    if (!e)
        e = schedule(b, a, why, whylen);
    return e;
}

arr_err outreach_book_sweep(outreach_book *b, int64_t due_by_ms, size_t *fixed, char *why,
                            size_t whylen)
{
    char by[ARR_TIME_STRLEN];
    *fixed = 0;
    arr_err e = arr_time_format(due_by_ms, by, sizeof(by));
    const char *p[] = {b->ns, by};
    PGresult *r = NULL;
    if (!e)
        e = arr_pg_run(b->pg, "ob_due_open", 2, p, &r, why, whylen);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        int changed = 0;
        e = outreach_schedule_put_absent(
            b->redis, b->ns, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
            strtoll(PQgetvalue(r, i, 3), NULL, 10), &changed, why, whylen);
        *fixed += (size_t)changed;
    }
    PQclear(r);
    return e;
}
