/* The outreach replay: each at-due-time decision of the senders (sender.c decide_planned) is
 * taken again by the service's own decision (outreach_decide, decide.h: the compliance engine
 * and outreach's overrides) on the account's state rebuilt from the recorded events before it,
 * and compared on {verdict, rule_id, until}.
 *
 * Order: per account, the inputs outreach consumed, in the order its inbox claimed them
 * (outreach.inbox.seq), merged with outreach's own recorded outputs in the order they were
 * produced: what the service had seen when it decided (see SQL_STREAM). An input that
 * caused no output is placed at its claim's wall-clock time; one racing a send on the same
 * account may be placed on the wrong side (then reported as a difference, never hidden).
 *
 * Compared: outreach.sent (allow), outreach.deferred (rule, until), outreach.suppressed with
 * the rule of the engine or of a missing contact point, outreach.failed of a send attempt
 * (allow): the events whose cause is the step itself (causation_id = payload.step_id), which
 * is how the senders derive them. Also the suppressions of open steps when something else
 * happens (book.c settle: a payment, another step's outcome), decided at the later of the
 * step's due time and the event's. Not compared, neither counted nor shadowed: the planner's
 * decisions (outreach.planned, cadence.* skips and run ends), and the steps a settle left
 * open (nothing records them, so a replay that would suppress one is not detected).
 *
 * State rebuilt: facts, regime and consents (account.placed/updated, facts.h), status
 * (balance, payment.applied/reversed/settled, account.closed), replies (stop, dispute,
 * original-creditor request, attorney, promise, "paid"), the hold's end (promise.broken,
 * plan.instalment_missed), contact history and the validation notice / first contact
 * (outreach.sent), call and delivery outcomes (outreach.delivered, outreach.failed), bad and
 * opted-out contact points of failed sends (the point the replay itself picked). Not rebuilt:
 * provider.inbound fan-out (its reply.received events are inputs and are folded), the
 * verification of a dispute (the service never sets it either), opt-outs recorded for another
 * account at the same address. A decision of an account whose placement is not in the audit
 * store is counted unexplained.
 *
 * Configuration as the service's: ARR_OUTREACH_SETTINGS (default
 * $ARR_DEPLOY_DIR/outreach/tenants.json): a changed cadence (caps) or tenant entry shows what
 * it would have changed; the cause names the cadence policy or template version. */
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "cadence.h"
#include "compliance.h"
#include "decide.h"
#include "facts.h"
#include "replay.h"
#include "settings.h"
#include "template.h"
#include "tz.h"

#define FETCH "FETCH 5000 FROM ro"
#define DAY_MS INT64_C(86400000)
#define HOLD_PAID_MS (7 * DAY_MS) /* events.c: a "paid" reply holds for a week */
#define STEPS_MAX 128

/* What the replay knows of a step: its planned version, and the point an allow picked. */
typedef struct step_info {
    char step_id[ARR_UUID_STRLEN];
    char policy_version[OUTREACH_CADENCE_VERSION_MAX];
    char address_id[OUTREACH_FACTS_ID_LEN + 1];
    int64_t due_ms; /* planned, then moved by each deferral */
} step_info;

/* The account as outreach_decide reads it (tenant, account, placed, regime, facts, status,
   consents, replies, holds, opt-outs, bad points), with as its steps the newest
   OUTREACH_BOOK_STEPS_MAX sent ones (as many as the service loads): a ring, since the engine
   takes the history in any order. */
typedef struct acct {
    outreach_account oa;
    size_t h_next;              /* the ring's next slot in oa.steps */
    step_info steps[STEPS_MAX]; /* ring */
    size_t nsteps, s_next;
} acct;

typedef struct run {
    cli_ctx *c;
    const cli_replay_opts *o;
    cli_replay_result *r;
    outreach_settings *settings;
    const outreach_tenant *tenant;
    outreach_tz_db *tz;
    acct *a; /* the account being folded; one at a time (the stream is ordered by account) */
} run;

static void acct_reset(acct *a, const char *tenant, const char *id)
{
    memset(a, 0, sizeof(*a));
    arr_str_copy(a->oa.tenant, sizeof(a->oa.tenant), tenant);
    arr_str_copy(a->oa.account, sizeof(a->oa.account), id);
    arr_str_copy(a->oa.status, sizeof(a->oa.status), "open");
    arr_str_copy(a->oa.facts.lang, sizeof(a->oa.facts.lang), "en");
}

static int kind_by_name(const char *s, outreach_compliance_kind *k)
{
    for (int i = 0; s && i <= OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE; i++) {
        if (strcmp(s, outreach_cadence_kind_name((outreach_compliance_kind)i)) == 0) {
            *k = (outreach_compliance_kind)i;
            return 1;
        }
    }
    return 0;
}

static step_info *step_find(acct *a, const char *step_id, int add)
{
    for (size_t i = 0; step_id && i < a->nsteps; i++) {
        if (strcmp(a->steps[i].step_id, step_id) == 0)
            return &a->steps[i];
    }
    if (!add || !step_id)
        return NULL;
    step_info *s = &a->steps[a->s_next];
    a->s_next = (a->s_next + 1) % STEPS_MAX;
    if (a->nsteps < STEPS_MAX)
        a->nsteps++;
    memset(s, 0, sizeof(*s));
    arr_str_copy(s->step_id, sizeof(s->step_id), step_id);
    return s;
}

static void add_id(char (*ids)[OUTREACH_FACTS_ID_LEN + 8], size_t *n, const char *id)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(ids[i], id) == 0)
            return;
    }
    if (*n < OUTREACH_BOOK_IDS_MAX)
        arr_str_copy(ids[(*n)++], OUTREACH_FACTS_ID_LEN + 8, id);
}

static int64_t time_of(json_t *p, const char *key)
{
    int64_t ms = 0;
    const char *s = json_string_value(json_object_get(p, key));
    return s && arr_time_parse(s, &ms) == ARR_OK ? ms : 0;
}

/* ------------------------------------------------------------------ inputs (events.c) */

static void fold_placed(run *x, const arr_envelope *env)
{
    outreach_account *a = &x->a->oa;
    json_t *p = env->payload, *debtor = json_object_get(p, "debtor");
    json_t *bal = json_object_get(p, "balance_cents");
    const char *regime = json_string_value(json_object_get(p, "regime"));
    char why[200];
    if (!regime || !json_is_integer(bal) || (debtor && !json_is_object(debtor)))
        return; /* the service dead-lettered it */
    outreach_facts f;
    if (outreach_facts_read(env->tenant, debtor, &f, why, sizeof(why)) != ARR_OK)
        return;
    a->facts = f;
    a->placed = 1;
    a->regime = strcmp(regime, "creditor") == 0 ? OUTREACH_COMPLIANCE_CREDITOR
                                                : OUTREACH_COMPLIANCE_THIRD_PARTY;
    int sms = 0, voice = 0;
    for (int i = 0; i < f.nphones; i++) {
        sms |= f.phones[i].consent;
        voice |= f.phones[i].voice_consent;
    }
    /* consent counts from when it was first given; withdrawn at the creditor: gone */
    a->sms_consent_ms = sms ? (a->sms_consent_ms ? a->sms_consent_ms : env->event_time_ms) : 0;
    a->voice_consent_ms =
        voice ? (a->voice_consent_ms ? a->voice_consent_ms : env->event_time_ms) : 0;
    if (json_integer_value(bal) <= 0 && strcmp(a->status, "open") == 0)
        arr_str_copy(a->status, sizeof(a->status), "paid");
}

static void fold_payment(run *x, const arr_envelope *env)
{
    outreach_account *a = &x->a->oa;
    json_t *after = json_object_get(env->payload, "balance_after_cents");
    if (!json_is_integer(after))
        return;
    const char *st = json_string_value(json_object_get(env->payload, "status_after"));
    if (!st)
        st = json_integer_value(after) <= 0 ? "paid" : "open";
    int reversal = strcmp(env->event_type, "payment.reversed") == 0;
    int ends = !strcmp(st, "paid") || !strcmp(st, "settled") || !strcmp(st, "closed");
    if (!reversal && ends)
        arr_str_copy(a->status, sizeof(a->status), st);
    else if (reversal && !strcmp(st, "open") &&
             (!strcmp(a->status, "paid") || !strcmp(a->status, "settled")))
        arr_str_copy(a->status, sizeof(a->status), "open");
    if (json_is_true(json_object_get(env->payload, "promise_kept"))) {
        a->promise_until_ms = 0;
        a->hold_rule[0] = '\0';
    }
}

static void fold_reply(run *x, const arr_envelope *env)
{
    outreach_account *a = &x->a->oa;
    json_t *p = env->payload;
    const char *channel = json_string_value(json_object_get(p, "channel"));
    const char *intent = json_string_value(json_object_get(p, "intent"));
    const char *address_id = json_string_value(json_object_get(p, "address_id"));
    int64_t at = time_of(p, "received_at");
    if (!channel || !intent || !json_is_string(json_object_get(p, "reply_id")) || !at)
        return;
    if (!strcmp(intent, "stop")) {
        if (!strcmp(channel, "sms") || !strcmp(channel, "voice")) {
            a->stop_ms = at > a->stop_ms ? at : a->stop_ms;
            if (address_id)
                add_id(a->opted_out, &a->nopted, address_id);
        } else if (!strcmp(channel, "email")) {
            add_id(a->opted_out, &a->nopted, address_id ? address_id : "medium:email");
        } else {
            add_id(a->opted_out, &a->nopted, "medium:letter");
        }
    } else if (!strcmp(intent, "dispute")) {
        a->dispute_ms = a->dispute_ms ? a->dispute_ms : at;
    } else if (!strcmp(intent, "original_creditor_request")) {
        a->original_creditor_ms = a->original_creditor_ms ? a->original_creditor_ms : at;
    } else if (!strcmp(intent, "attorney")) {
        arr_str_copy(a->status, sizeof(a->status), "attorney");
    } else if (!strcmp(intent, "promise")) {
        int y, m, d;
        const char *date = json_string_value(json_object_get(p, "promised_date"));
        /* held until the day after the promised date; no date: a week */
        if (date && sscanf(date, "%4d-%2d-%2d", &y, &m, &d) == 3 && m >= 1 && m <= 12 && d >= 1 &&
            d <= 31)
            a->promise_until_ms = arr_days_from_civil(y, m, d) * DAY_MS + DAY_MS;
        else
            a->promise_until_ms = at + HOLD_PAID_MS;
        arr_str_copy(a->hold_rule, sizeof(a->hold_rule), "promise.pending");
    } else if (!strcmp(intent, "paid")) {
        a->promise_until_ms = at + HOLD_PAID_MS;
        arr_str_copy(a->hold_rule, sizeof(a->hold_rule), "reply.says_paid");
    }
}

static void hold_ends(outreach_account *a)
{
    a->promise_until_ms = 0;
    a->hold_rule[0] = '\0';
}

static void fold_input(run *x, const arr_envelope *env)
{
    const char *t = env->event_type;
    if (!strcmp(t, "account.placed") || !strcmp(t, "account.updated"))
        fold_placed(x, env);
    else if (!strcmp(t, "account.closed"))
        arr_str_copy(x->a->oa.status, sizeof(x->a->oa.status), "closed");
    else if (!strcmp(t, "payment.applied") || !strcmp(t, "payment.reversed"))
        fold_payment(x, env);
    else if (!strcmp(t, "payment.settled"))
        arr_str_copy(x->a->oa.status, sizeof(x->a->oa.status), "settled");
    else if (!strcmp(t, "promise.broken") || !strcmp(t, "plan.instalment_missed"))
        hold_ends(&x->a->oa);
    else if (!strcmp(t, "reply.received"))
        fold_reply(x, env);
    /* score.computed, clock.day_started, provider.*: nothing the compliance engine reads */
}

/* ------------------------------------------------------------------ outputs */

static json_t *decision_json(const char *verdict, const char *rule_id, int64_t until_ms)
{
    json_t *j = json_pack("{s:s, s:s}", "verdict", verdict, "rule_id", rule_id ? rule_id : "");
    if (until_ms > 0) {
        char t[ARR_TIME_STRLEN];
        arr_time_format(until_ms, t, sizeof(t));
        json_object_set_new(j, "until", json_string(t));
    }
    return j;
}

/* The decision an output records and when it was taken, or NULL when it is not one (see
   the top). A sender's is caused by the step itself, at its event time; a settle's (an input
   or another step's outcome suppressing an open step) at the later of the step's due time
   and the cause's time, the event time. */
static json_t *recorded_decision(acct *a, const arr_envelope *env, int64_t *at_ms)
{
    json_t *p = env->payload;
    const char *step = json_string_value(json_object_get(p, "step_id"));
    const char *t = env->event_type, *rule = json_string_value(json_object_get(p, "rule_id"));
    if (!step)
        return NULL;
    *at_ms = env->event_time_ms;
    if (strcmp(step, env->causation_id) != 0) {
        const step_info *s = step_find(a, step, 0);
        if (strcmp(t, "outreach.suppressed") != 0 || !rule || !strncmp(rule, "cadence.", 8) || !s ||
            !s->due_ms)
            return NULL; /* a planner's skip, or a step the replay never saw planned */
        *at_ms = s->due_ms > *at_ms ? s->due_ms : *at_ms;
        return decision_json("suppress", rule, 0);
    }
    if (!strcmp(t, "outreach.sent") || !strcmp(t, "outreach.failed"))
        return decision_json("allow", OUTREACH_RULE_ALLOW, 0);
    if (!strcmp(t, "outreach.deferred"))
        return decision_json("defer", rule, time_of(p, "until"));
    if (!strcmp(t, "outreach.suppressed") && rule && strncmp(rule, "cadence.", 8) != 0)
        return decision_json("suppress", rule, 0);
    return NULL;
}

static void cause_of(run *x, const arr_envelope *env, char *out, size_t outlen)
{
    const step_info *s =
        step_find(x->a, json_string_value(json_object_get(env->payload, "step_id")), 0);
    const char *pv = outreach_cadence_policy_version(x->tenant->cadence);
    const char *tv = outreach_template_set_version(x->tenant->templates);
    const char *rtv = json_string_value(json_object_get(env->payload, "template_version"));
    if (s && s->policy_version[0] && strcmp(s->policy_version, pv) != 0)
        snprintf(out, outlen, "cadence policy version changed: recorded %s, replay %s",
                 s->policy_version, pv);
    else if (rtv && strcmp(rtv, "-") != 0 && strcmp(rtv, tv) != 0)
        snprintf(out, outlen, "template version changed: recorded %s, replay %s", rtv, tv);
    else
        snprintf(out, outlen, "same versions: the inputs or the code differ");
}

static arr_err compare(run *x, const arr_envelope *env, json_t *rec, int64_t at_ms)
{
    x->r->compared++;
    outreach_compliance_channel ch;
    outreach_compliance_kind kind;
    json_t *p = env->payload;
    if (!x->a->oa.placed ||
        outreach_decide_channel_of(json_string_value(json_object_get(p, "channel")), &ch) ||
        !kind_by_name(json_string_value(json_object_get(p, "kind")), &kind)) {
        x->r->compared--;
        x->r->unexplained++; /* the facts it was decided on are not in the audit store */
        return ARR_OK;
    }
    const outreach_contact_point *pt;
    outreach_compliance_decision d;
    char why[300], field[64], a[160], b[160], cause[200];
    outreach_step st = {.channel = ch, .kind = kind}; /* all the decision reads of a step */
    if (outreach_decide(x->settings, x->tz, &x->a->oa, &st, at_ms, &pt, &d, why, sizeof(why)) !=
        ARR_OK) {
        cli_replay_differ(x->r, x->a->oa.account, env->event_id, "decision", "(recorded)", why,
                          "the replay's engine refused the input");
        /* counted as a difference: the recorded decision is not reproduced */
        return ARR_OK;
    }
    static const char *const verdicts[] = {"allow", "defer", "suppress"};
    json_t *rep = decision_json(verdicts[d.verdict], d.rule_id, d.until_ms);
    if (!rep)
        return ARR_ENOMEM;
    const char *step = json_string_value(json_object_get(p, "step_id"));
    if (d.verdict == OUTREACH_COMPLIANCE_ALLOW && pt) {
        step_info *s = step_find(x->a, step, 1); /* a later failure names this point */
        arr_str_copy(s->address_id, sizeof(s->address_id), pt->id);
    }
    if (x->o->shadow) {
        char *dj = json_dumps(rep, JSON_COMPACT);
        fprintf(x->o->shadow,
                "{\"account\":\"%s\",\"decision_event_id\":\"%s\",\"step_id\":\"%s\","
                "\"at\":%lld,\"decision\":%s}\n",
                x->a->oa.account, env->event_id, step, (long long)at_ms, dj ? dj : "null");
        free(dj);
    }
    if (cli_replay_first_diff(rec, rep, field, sizeof(field), a, sizeof(a), b, sizeof(b))) {
        cause_of(x, env, cause, sizeof(cause));
        cli_replay_differ(x->r, x->a->oa.account, env->event_id, field, a, b, cause);
    } else {
        x->r->reproduced++;
    }
    json_decref(rep);
    return ARR_OK;
}

static outreach_step *hist_find(outreach_account *a, const char *step_id)
{
    for (size_t i = 0; step_id && i < a->nsteps; i++) {
        if (!strcmp(a->steps[i].step_id, step_id))
            return &a->steps[i];
    }
    return NULL;
}

/* What an output changes in the state the later decisions read. */
static void fold_output(run *x, const arr_envelope *env)
{
    outreach_account *a = &x->a->oa;
    json_t *p = env->payload;
    const char *t = env->event_type, *step = json_string_value(json_object_get(p, "step_id"));
    outreach_compliance_channel ch;
    outreach_compliance_kind kind;
    if (!strcmp(t, "outreach.planned")) {
        step_info *s = step_find(x->a, step, 1);
        const char *v = json_string_value(json_object_get(p, "policy_version"));
        if (s) {
            arr_str_copy(s->policy_version, sizeof(s->policy_version), v ? v : "");
            s->due_ms = time_of(p, "due_at");
        }
    } else if (!strcmp(t, "outreach.deferred")) {
        step_info *s = step_find(x->a, step, 0);
        if (s)
            s->due_ms = time_of(p, "until");
    } else if (!strcmp(t, "outreach.sent") &&
               !outreach_decide_channel_of(json_string_value(json_object_get(p, "channel")), &ch) &&
               kind_by_name(json_string_value(json_object_get(p, "kind")), &kind)) {
        outreach_step *h = &a->steps[x->a->h_next];
        x->a->h_next = (x->a->h_next + 1) % OUTREACH_BOOK_STEPS_MAX;
        if (a->nsteps < OUTREACH_BOOK_STEPS_MAX)
            a->nsteps++;
        /* no call outcome or delivery yet: a call attempt, or a message sent */
        memset(h, 0, sizeof(*h));
        arr_str_copy(h->step_id, sizeof(h->step_id), step ? step : "");
        arr_str_copy(h->status, sizeof(h->status), "sent");
        h->channel = ch;
        h->kind = kind;
        h->done_ms = env->event_time_ms;
        if (kind == OUTREACH_COMPLIANCE_VALIDATION_NOTICE && !a->validation_ms)
            a->validation_ms = env->event_time_ms;
        if (!a->first_contact_ms)
            a->first_contact_ms = env->event_time_ms;
    } else if (!strcmp(t, "outreach.delivered") || !strcmp(t, "outreach.failed")) {
        outreach_step *h = hist_find(a, step);
        const char *call = json_string_value(json_object_get(p, "call_outcome"));
        const char *cp = json_string_value(json_object_get(p, "contact_point"));
        /* as outreach_decide reads a step's outcome: call_outcome first (one it does not name,
           "attempt": an attempt), then, but for a call, delivery */
        if (h && call) {
            arr_str_copy(h->call_outcome, sizeof(h->call_outcome), call);
        } else if (h && h->channel != OUTREACH_COMPLIANCE_VOICE) {
            if (!strcmp(t, "outreach.delivered"))
                arr_str_copy(h->delivery, sizeof(h->delivery), "delivered");
            else if (cp && !strcmp(cp, "bad"))
                arr_str_copy(h->delivery, sizeof(h->delivery), "bad_contact");
        }
        const step_info *s = step_find(x->a, step, 0);
        if (cp && s && s->address_id[0] && !strcmp(cp, "opted_out")) {
            add_id(a->opted_out, &a->nopted, s->address_id);
        } else if (cp && s && s->address_id[0] && !strcmp(cp, "bad")) {
            int known = 0;
            for (size_t i = 0; i < a->nbad; i++)
                known |= !strcmp(a->bad[i], s->address_id);
            if (!known && a->nbad < OUTREACH_BOOK_IDS_MAX)
                arr_str_copy(a->bad[a->nbad++], sizeof(a->bad[0]), s->address_id);
        }
    }
}

/* ------------------------------------------------------------------ the stream */

/* The order the service saw the account's events in. Outputs (kind 1) at the time they were
   produced. Inputs (kind 0) in inbox seq order, each placed at its first output's
   produced_at (it was applied then, inputs first at equal times), else at its claim's
   processed_at (the start of the claiming transaction: a batch shares it, so a sender may
   have decided on the account after it), and never before an input claimed earlier. Event
   time would not do: a payment dated days back is claimed after later decisions. */
/* clang-format off */
static const char SQL_STREAM[] =
    "DECLARE ro NO SCROLL CURSOR FOR"
    " SELECT account_id, kind, message FROM ("
    " SELECT e.account_id, 0 AS kind, i.seq AS ord, e.message,"
    " max(coalesce(f.at, i.processed_at))"
    " OVER (PARTITION BY e.account_id ORDER BY i.seq) AS k"
    " FROM outreach.inbox i JOIN audit.events e ON e.event_id = i.event_id"
    " LEFT JOIN LATERAL (SELECT"
    " min((o.message::jsonb->>'produced_at')::timestamptz) AS at FROM audit.events o"
    " WHERE o.causation_id = e.event_id"
    " AND o.producer = 'outreach') f ON true"
    " WHERE e.tenant = $1 AND e.namespace = $2 AND i.topic = e.namespace || e.topic"
    " UNION ALL"
    " SELECT e.account_id, 1, 0, e.message,"
    " (e.message::jsonb->>'produced_at')::timestamptz"
    " FROM audit.events e WHERE e.tenant = $1 AND e.namespace = $2"
    " AND e.producer = 'outreach' AND e.event_type LIKE 'outreach.%'"
    ") x ORDER BY account_id, k, kind, ord";
/* clang-format on */

static arr_err row(run *x, const char *account, int output, const char *msg, size_t len)
{
    arr_envelope env;
    arr_envelope_init(&env);
    char why[300];
    if (strcmp(x->a->oa.account, account) != 0)
        acct_reset(x->a, x->o->tenant, account);
    if (!output)
        x->r->inputs++;
    if (arr_envelope_decode(msg, len, &env, why, sizeof(why)) != ARR_OK)
        return ARR_OK; /* the service dead-lettered it; an output cannot be one */
    arr_err e = ARR_OK;
    if (!output) {
        fold_input(x, &env);
    } else {
        int64_t at = 0;
        json_t *rec = recorded_decision(x->a, &env, &at);
        if (rec && cli_replay_wanted(x->o, account, env.event_time_ms))
            e = compare(x, &env, rec, at);
        json_decref(rec);
        fold_output(x, &env);
    }
    arr_envelope_clear(&env);
    return e;
}

static arr_err stream(run *x, arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = cli_replay_begin(pg, why, whylen);
    const char *params[] = {x->o->tenant, x->o->ns};
    e = e ? e : cli_replay_declare(pg, SQL_STREAM, 2, params, why, whylen);
    while (!e) {
        PGresult *res;
        if ((e = cli_replay_fetch(pg, FETCH, &res, why, whylen)) != ARR_OK)
            break;
        int n = PQntuples(res);
        for (int i = 0; !e && i < n; i++)
            e = row(x, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)[0] == '1',
                    PQgetvalue(res, i, 2), (size_t)PQgetlength(res, i, 2));
        PQclear(res);
        if (n == 0)
            break;
    }
    arr_pg_rollback(pg);
    return e;
}

static arr_err load(run *x, char *why, size_t whylen)
{
    const char *deploy, *path;
    char def[1200];
    arr_err e =
        arr_config_str(x->c->cfg, "ARR_DEPLOY_DIR", ARR_SOURCE_DIR "/deploy", &deploy, why, whylen);
    if (e)
        return e;
    snprintf(def, sizeof(def), "%s/outreach/tenants.json", deploy);
    e = arr_config_str(x->c->cfg, "ARR_OUTREACH_SETTINGS", def, &path, why, whylen);
    e = e ? e : outreach_settings_load(path, &x->settings, why, whylen);
    e = e ? e : outreach_tz_db_new(NULL, &x->tz, why, whylen);
    e = e ? e : outreach_tz_db_load_us(x->tz, why, whylen);
    if (!e)
        x->tenant = outreach_settings_tenant(x->settings, x->o->tenant);
    return e;
}

arr_err cli_replay_outreach(cli_ctx *c, arr_pg *pg, const cli_replay_opts *o, cli_replay_result *r,
                            char *why, size_t whylen)
{
    run x = {.c = c, .o = o, .r = r};
    arr_err e = (x.a = calloc(1, sizeof(acct))) ? ARR_OK : ARR_ENOMEM;
    e = e ? e : load(&x, why, whylen);
    e = e ? e : stream(&x, pg, why, whylen);
    outreach_settings_free(x.settings);
    outreach_tz_db_free(x.tz);
    free(x.a);
    return e;
}
