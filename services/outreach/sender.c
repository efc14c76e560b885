#include "sender.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include <time.h>
#include "arrears/hash.h"
#include "arrears/outbox.h"
#include "events.h"
#include "ratelimit.h"
#include "schedule.h"
#include "template.h"

#define IDLE_SLEEP_MS 50
#define EXPIRE_EVERY_MS 1000
#define SWEEP_EVERY_MS 5000
#define BACKOFF_BASE_MS 30000
#define BACKOFF_CAP_MS (6 * 3600 * 1000)

typedef struct worker {
    outreach_sender *s;
    const outreach_sender_cfg *cfg;
    arr_pg *pg;
    arr_redis *redis;
    outreach_tz_db *tz;
    outreach_book book;
    outreach_account *acct;         /* one, reused: it is large */
    outreach_channel_conns *conns;  /* this thread's open SMTP and HTTP connections */
    outreach_channel_smtp_cfg smtp; /* the shared settings with this thread's connections */
    outreach_channel_http_cfg http;
    int64_t next_expire_ms;
    int64_t next_sweep_ms;
} worker;

/* The real clock (leases, rate limits and the real-time mode run on it). */
static int64_t real_now_ms(const outreach_sender *s)
{
    return arr_clock_now_ms(&s->clock);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void log_err(worker *w, const char *what, const char *why)
{
    arr_log_warn(w->cfg->log, what, "reason", why, NULL);
}

/* ------------------------------------------------------------------ time */

/* Due-by limit of a claim: the real time, or the campaign's. *ok 0: no campaign time yet. */
static arr_err due_limit(worker *w, int64_t *limit, int *ok, char *why, size_t whylen)
{
    *ok = 1;
    if (!w->cfg->campaign) {
        *limit = real_now_ms(w->s);
        return ARR_OK;
    }
    const char *p[] = {w->cfg->ns};
    PGresult *r = NULL;
    arr_err e = arr_pg_run(w->pg, "os_campaign", 1, p, &r, why, whylen);
    if (e)
        return e;
    *ok = PQntuples(r) == 1;
    /* until_at is the end of the last day begun: what is due before it may go */
    *limit = *ok ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) - 1 : 0;
    PQclear(r);
    return ARR_OK;
}

/* ------------------------------------------------------------------ rendering */

static const outreach_contact_point *point_by_id(const outreach_account *a, const char *id)
{
    for (int i = 0; i < a->facts.nemails; i++) {
        if (strcmp(a->facts.emails[i].id, id) == 0)
            return &a->facts.emails[i];
    }
    for (int i = 0; i < a->facts.nphones; i++) {
        if (strcmp(a->facts.phones[i].id, id) == 0)
            return &a->facts.phones[i];
    }
    return NULL;
}

static void date_of(int64_t ms, char out[11])
{
    int y, m, d;
    int64_t days = ms / 86400000;
    if (ms < 0 && ms % 86400000)
        days--;
    arr_civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

static arr_err render(worker *w, const outreach_account *a, const outreach_step *st, int64_t at_ms,
                      outreach_rendered *out, char *why, size_t whylen)
{
    const outreach_tenant *t = outreach_settings_tenant(w->cfg->settings, a->tenant);
    char pay[512], opt[512], dispute[512], end_date[11] = "", ed[11];
    arr_err e = outreach_settings_link(t->payment_link, a->tenant, a->account, pay, sizeof(pay));
    if (!e)
        e = outreach_settings_link(t->opt_out_link, a->tenant, a->account, opt, sizeof(opt));
    if (!e)
        e = outreach_settings_link(t->dispute_link, a->tenant, a->account, dispute,
                                   sizeof(dispute));
    if (e) {
        snprintf(why, whylen, "a link of the tenant's settings is too long");
        return e;
    }
    const outreach_tz *zones[OUTREACH_FACTS_ZONES];
    const outreach_tz *const *zp = zones;
    size_t nz = 0;
    for (int i = 0; i < a->facts.nzones; i++) {
        char zwhy[128];
        if (!outreach_tz_db_load(w->tz, a->facts.zones[i], &zones[nz], zwhy, sizeof(zwhy)))
            nz++;
    }
    if (nz == 0 && !outreach_tz_db_us(w->tz, &zp, why, whylen))
        nz = OUTREACH_TZ_US_COUNT;
    int64_t end_ms;
    if (nz && !outreach_compliance_validation_period_end(at_ms, zp, nz, &end_ms, why, whylen)) {
        date_of(end_ms - 1, ed);
        arr_str_copy(end_date, sizeof(end_date), ed);
    }
    int es = strcmp(a->facts.lang, "es") == 0;
    const char *fallback = es ? "cliente" : "customer";
    int64_t paid = a->original_cents > a->balance_cents ? a->original_cents - a->balance_cents : 0;
    outreach_template_money zero = {.currency = a->currency, .minor = 0};
    outreach_template_vars v = {
        .first_name = a->facts.first_name[0] ? a->facts.first_name : fallback,
        .consumer_name = a->facts.full_name[0] ? a->facts.full_name : fallback,
        .consumer_address = a->facts.address_line[0] ? a->facts.address_line : "-",
        .balance = {.currency = a->currency, .minor = a->balance_cents},
        .due_date = a->due_date[0] ? a->due_date : NULL,
        .payment_link = pay,
        .opt_out_link = opt,
        .dispute_link = dispute,
        .reference = a->account,
        .creditor = t->creditor,
        .collector = t->collector,
        .collector_address = t->collector_address,
        .agent_phone = t->agent_phone,
        .validation_end_date = end_date[0] ? end_date : NULL,
        .itemization_date = a->due_date[0] ? a->due_date : NULL,
        .itemization_amount = {.currency = a->currency, .minor = a->balance_cents + paid},
        .itemization_interest = zero,
        .itemization_fees = zero,
        .itemization_payments = {.currency = a->currency, .minor = paid},
        .itemization_credits = zero,
    };
    return outreach_template_render(t->templates, st->template_id, a->facts.lang, &v,
                                    a->regime == OUTREACH_COMPLIANCE_THIRD_PARTY,
                                    a->first_contact_ms == 0, out, why, whylen);
}

/* ------------------------------------------------------------------ sending */

static void take_token(worker *w, outreach_compliance_channel ch)
{
    double rate = w->cfg->rate[ch];
    if (rate <= 0)
        return;
    while (!atomic_load(w->s->stop)) {
        int64_t wait = 0;
        char why[256];
        if (outreach_ratelimit_take(w->redis, w->cfg->ns, outreach_cadence_channel_name(ch), rate,
                                    w->cfg->burst[ch], real_now_ms(w->s), &wait, why,
                                    sizeof(why))) {
            log_err(w, "rate limit unavailable: sending without it", why);
            return; /* the provider's own limit answers 429, which is retried */
        }
        if (wait == 0)
            return;
        if (wait > 10000)
            arr_log_warn(w->cfg->log, "rate limit: a long wait for a token", "channel",
                         outreach_cadence_channel_name(ch), NULL);
        sleep_ms(wait < 1000 ? wait : 1000);
    }
}

static void deliver(worker *w, const outreach_account *a, const outreach_step *st,
                    const outreach_contact_point *pt, const outreach_rendered *r, int64_t at_ms,
                    outreach_channel_result *res)
{
    const outreach_sender_cfg *cfg = w->cfg;
    char key[ARR_TENANT_MAX + ARR_UUID_STRLEN + 2], cb[512];
    snprintf(key, sizeof(key), "%s.%s", a->tenant, st->step_id);
    snprintf(cb, sizeof(cb), "%s/v1/outreach/callbacks/%s/status",
             cfg->callback_base ? cfg->callback_base : "", a->tenant);
    const char *callback = cfg->callback_base && cfg->callback_base[0] ? cb : NULL;
    memset(res, 0, sizeof(*res));
    take_token(w, st->channel);
    if (st->channel == OUTREACH_COMPLIANCE_EMAIL && cfg->has_smtp) {
        const outreach_tenant *t = outreach_settings_tenant(cfg->settings, a->tenant);
        char opt[512];
        outreach_settings_link(t->opt_out_link, a->tenant, a->account, opt, sizeof(opt));
        outreach_email msg;
        outreach_channel_email_from_rendered(r, &msg);
        msg.to = pt->address;
        msg.opt_out_link = opt;
        msg.date_ms = at_ms;
        outreach_channel_email_send(&w->smtp, &msg, key, res);
    } else if (st->channel == OUTREACH_COMPLIANCE_SMS && cfg->has_http) {
        outreach_channel_sms_send(&w->http, pt->address, r->text.data, callback, key, res);
    } else if (st->channel == OUTREACH_COMPLIANCE_VOICE && cfg->has_http) {
        outreach_channel_voice_call_lang(&w->http, pt->address, r->lang, r->text.data, callback,
                                         key, res);
    } else {
        res->outcome = OUTREACH_CHANNEL_PERMANENT;
        arr_str_copy(res->code, sizeof(res->code), "channel_not_configured");
        snprintf(res->detail, sizeof(res->detail), "no %s channel is configured",
                 outreach_cadence_channel_name(st->channel));
    }
}

/* ------------------------------------------------------------------ one step */

static void synthetic_cause(const outreach_account *a, const outreach_step *st, arr_envelope *env)
{
    arr_envelope_init(env);
    arr_str_copy(env->event_id, sizeof(env->event_id), st->step_id);
    arr_str_copy(env->correlation_id, sizeof(env->correlation_id), st->step_id);
    arr_str_copy(env->event_type, sizeof(env->event_type), "outreach.step_due");
    env->schema_version = 1;
    arr_str_copy(env->tenant, sizeof(env->tenant), a->tenant);
    arr_str_copy(env->account, sizeof(env->account), a->account);
}

static arr_err ack(worker *w, const outreach_schedule_item *it)
{
    char why[256];
    arr_err e = outreach_schedule_ack(w->redis, w->cfg->ns, it->member, NULL, why, sizeof(why));
    if (e)
        log_err(w, "schedule ack failed (the lease will expire)", why);
    return ARR_OK;
}

/* Decides a planned step. *go 1: recorded 'sending', send it after the commit. */
static arr_err decide_planned(worker *w, outreach_account *a, outreach_step *st,
                              const outreach_cause *c, const outreach_schedule_item *it, int *go,
                              int *acked, char *why, size_t whylen)
{
    const outreach_contact_point *pt;
    outreach_compliance_decision d;
    arr_err e = outreach_book_decide(&w->book, a, st, c->at_ms, &pt, &d, why, whylen);
    if (e)
        return e;
    char t[ARR_TIME_STRLEN];
    if (d.verdict == OUTREACH_COMPLIANCE_DEFER) {
        st->due_ms = d.until_ms;
        arr_time_format(d.until_ms, t, sizeof(t));
        char suffix[48];
        snprintf(suffix, sizeof(suffix), "/%" PRId64, d.until_ms);
        e = outreach_book_step_update(&w->book, a, st, NULL, -1, why, whylen);
        if (!e)
            e = outreach_book_emit_step(&w->book, c, st, "outreach.deferred",
                                        json_pack("{s:s, s:s}", "rule_id", d.rule_id, "until", t),
                                        suffix, why, whylen);
        if (!e) /* takes the member back from our claim, due later */
            e = outreach_schedule_put(w->redis, w->cfg->ns, a->tenant, a->account, st->step_id,
                                      d.until_ms, why, whylen);
        *acked = 1;
        if (!e)
            arr_metric_add(w->cfg->m_deferred, 1);
        return e;
    }
    if (d.verdict == OUTREACH_COMPLIANCE_SUPPRESS) {
        arr_str_copy(st->status, sizeof(st->status), "suppressed");
        st->done_ms = c->at_ms;
        arr_time_format(c->at_ms, t, sizeof(t));
        e = outreach_book_step_update(&w->book, a, st, d.rule_id, -1, why, whylen);
        if (!e)
            e = outreach_book_emit_step(
                &w->book, c, st, "outreach.suppressed",
                json_pack("{s:s, s:s, s:s}", "rule_id", d.rule_id, "detail", d.reason, "at", t),
                NULL, why, whylen);
        if (!e)
            e = outreach_book_settle(&w->book, a, c, why, whylen);
        if (!e)
            arr_metric_add(w->cfg->m_suppressed, 1);
        (void)it;
        return e;
    }
    arr_str_copy(st->status, sizeof(st->status), "sending");
    st->attempts++;
    arr_str_copy(st->address_id, sizeof(st->address_id), pt->id);
    arr_str_copy(st->lang, sizeof(st->lang), a->facts.lang);
    *go = 1;
    return outreach_book_step_update(&w->book, a, st, NULL, -1, why, whylen);
}

/* Records what the provider answered (second transaction). */
static arr_err record(worker *w, outreach_account *a, outreach_step *st, const outreach_cause *c,
                      const outreach_channel_result *res, const outreach_rendered *r, int *acked,
                      char *why, size_t whylen)
{
    const outreach_tenant *t = outreach_settings_tenant(w->cfg->settings, a->tenant);
    char at[ARR_TIME_STRLEN];
    arr_time_format(c->at_ms, at, sizeof(at));
    arr_err e = ARR_OK;
    if (res->outcome == OUTREACH_CHANNEL_ACCEPTED) {
        int64_t cost = 0;
        outreach_cadence_unit_cost(t->cadence, (outreach_cadence_unit)st->channel, &cost);
        arr_str_copy(st->status, sizeof(st->status), "sent");
        st->done_ms = c->at_ms;
        st->cost_cents = cost;
        arr_str_copy(st->provider_message_id, sizeof(st->provider_message_id), res->provider_id);
        if (r) {
            arr_str_copy(st->template_version, sizeof(st->template_version), r->version);
            arr_str_copy(st->lang, sizeof(st->lang), r->lang);
        }
        if (st->kind == OUTREACH_COMPLIANCE_VALIDATION_NOTICE && !a->validation_ms)
            a->validation_ms = c->at_ms;
        if (!a->first_contact_ms)
            a->first_contact_ms = c->at_ms;
        e = outreach_book_step_update(&w->book, a, st, NULL, -1, why, whylen);
        if (!e)
            e = outreach_book_emit_step(
                &w->book, c, st, "outreach.sent",
                json_pack("{s:s, s:s, s:I, s:s, s:s, s:s?, s:s, s:s, s:i}", "provider",
                          st->channel == OUTREACH_COMPLIANCE_EMAIL ? "smtp" : "http",
                          "provider_message_id", res->provider_id, "cost_cents", (json_int_t)cost,
                          "currency", "USD", "at", at, "template_id",
                          st->template_id[0] ? st->template_id : NULL, "template_version",
                          st->template_version[0] ? st->template_version : "-", "lang",
                          st->lang[0] ? st->lang : "en", "attempts", st->attempts),
                NULL, why, whylen);
        if (!e)
            e = outreach_events_early(&w->book, a, st, c, why, whylen);
        if (!e)
            arr_metric_add(w->cfg->m_sent, 1);
    } else if (res->outcome == OUTREACH_CHANNEL_RETRIABLE && st->attempts < w->cfg->max_attempts) {
        int64_t wait = outreach_channel_backoff_ms(st->attempts, BACKOFF_BASE_MS, BACKOFF_CAP_MS,
                                                   (uint64_t)arr_hash_mix64(st->due_ms));
        if ((int64_t)res->retry_after_s * 1000 > wait)
            wait = (int64_t)res->retry_after_s * 1000;
        /* back to planned: the retry is decided again at its time (window, caps, a payment
           meanwhile) and goes with the same key, so a provider that did take it dedups it */
        arr_str_copy(st->status, sizeof(st->status), "planned");
        st->due_ms = c->at_ms + wait;
        char suffix[24];
        snprintf(suffix, sizeof(suffix), "/%d", st->attempts);
        e = outreach_book_step_update(&w->book, a, st, NULL, -1, why, whylen);
        if (!e)
            e = outreach_book_emit_step(&w->book, c, st, "outreach.failed",
                                        json_pack("{s:s, s:b, s:s, s:i}", "error_code",
                                                  res->code[0] ? res->code : "retriable",
                                                  "retriable", 1, "detail", res->detail, "attempts",
                                                  st->attempts),
                                        suffix, why, whylen);
        if (!e) /* the same step, with the same key, later */
            e = outreach_schedule_put(w->redis, w->cfg->ns, a->tenant, a->account, st->step_id,
                                      st->due_ms, why, whylen);
        *acked = 1;
        if (!e)
            arr_metric_add(w->cfg->m_failed, 1);
        return e;
    } else {
        int bad = res->outcome == OUTREACH_CHANNEL_PERMANENT_CONTACT;
        int opted = res->outcome == OUTREACH_CHANNEL_OPTED_OUT;
        const char *ch = outreach_cadence_channel_name(st->channel);
        arr_str_copy(st->status, sizeof(st->status), "failed");
        st->done_ms = c->at_ms;
        if (bad && st->address_id[0])
            e = outreach_book_bad_contact(&w->book, a, st->address_id, ch,
                                          res->code[0] ? res->code : "bad", c->at_ms, why, whylen);
        if (!e && opted && st->address_id[0])
            e = outreach_book_opt_out(&w->book, a, st->address_id, ch, "provider_opted_out",
                                      c->at_ms, why, whylen);
        if (!e)
            e = outreach_book_step_update(
                &w->book, a, st, res->code[0] ? res->code : "channel.failed", -1, why, whylen);
        json_t *extra =
            json_pack("{s:s, s:b, s:s, s:i}", "error_code", res->code[0] ? res->code : "failed",
                      "retriable", 0, "detail", res->detail, "attempts", st->attempts);
        if (bad || opted)
            json_object_set_new(extra, "contact_point", json_string(bad ? "bad" : "opted_out"));
        char suffix[24];
        snprintf(suffix, sizeof(suffix), "/%d", st->attempts);
        if (!e)
            e = outreach_book_emit_step(&w->book, c, st, "outreach.failed", extra, suffix, why,
                                        whylen);
        else
            json_decref(extra);
        if (!e)
            arr_metric_add(w->cfg->m_failed, 1);
    }
    if (!e)
        e = outreach_book_settle(&w->book, a, c, why, whylen);
    return e;
}

static arr_err load(worker *w, const outreach_schedule_item *it, outreach_step **st, int *found,
                    char *why, size_t whylen)
{
    *found = 0;
    arr_err e = arr_pg_begin(w->pg, why, whylen);
    if (!e)
        e = outreach_book_load(&w->book, it->tenant, it->account, 0, w->acct, found, why, whylen);
    *st = !e && *found ? outreach_account_step(w->acct, it->step_id) : NULL;
    return e;
}

/* The claimed member names a step PostgreSQL does not have: a transaction put it in the
 * schedule before its commit and ended without one (a sender killed while recording a send,
 * with the next step planned). The account's lock, held now, says that transaction is over.
 * Left alone, the phantom would hold the account's one place in the schedule for good, and
 * the account's real open step (a 'sending' one to settle) would never come back: that step
 * takes its place, or the member goes. */
static arr_err drop_phantom(worker *w, const outreach_schedule_item *it, int found, char *why,
                            size_t whylen)
{
    arr_log_warn(w->cfg->log, "a scheduled step is not in PostgreSQL: replaced", "step_id",
                 it->step_id, NULL);
    if (found && w->acct->sched_step_id[0])
        return outreach_schedule_put(w->redis, w->cfg->ns, it->tenant, it->account,
                                     w->acct->sched_step_id, w->acct->sched_due_ms, why, whylen);
    return outreach_schedule_remove(w->redis, w->cfg->ns, it->tenant, it->account, it->step_id,
                                    NULL, why, whylen);
}

/* The account's next step in its Redis cache entry, once PostgreSQL has it. */
static void cache_next(worker *w)
{
    if (!w->book.last.set)
        return;
    char key[ARR_KEY_MAX + 16], why[256];
    snprintf(key, sizeof(key), "arr:acct:%s/%s", w->book.last.tenant, w->book.last.account);
    const char *argv[] = {"HSET",
                          key,
                          "next_step_at",
                          w->book.last.next_at,
                          "next_step_channel",
                          w->book.last.channel};
    if (arr_redis_cmd(w->redis, 6, argv, NULL, NULL, why, sizeof(why)) != ARR_OK)
        log_err(w, "cache write failed (rebuilt by arrears cache rebuild)", why);
    w->book.last.set = 0;
}

static arr_err finish(worker *w, int ok, char *why, size_t whylen)
{
    outreach_account_clear(w->acct);
    if (!ok) {
        arr_pg_rollback(w->pg);
        w->book.last.set = 0;
        return ARR_OK;
    }
    arr_err e = arr_pg_commit(w->pg, why, whylen);
    if (!e)
        cache_next(w);
    w->book.last.set = 0;
    return e;
}

static arr_err process(worker *w, const outreach_schedule_item *it, int64_t at_ms, char *why,
                       size_t whylen)
{
    outreach_step *st;
    int found = 0;
    arr_err e = load(w, it, &st, &found, why, whylen);
    if (e) {
        finish(w, 0, why, whylen);
        return e;
    }
    if (!st) {
        e = drop_phantom(w, it, found, why, whylen);
        arr_err fe = finish(w, 0, why, whylen);
        return e ? e : fe;
    }
    if (strcmp(st->status, "planned") != 0 && strcmp(st->status, "sending") != 0) {
        e = finish(w, 1, why, whylen);
        return e ? e : ack(w, it);
    }
    /* 'sending' since less than a lease: its sender is alive and at work (our claim came
       from a lease that ran out under it). Sent again only once that sender is surely gone. */
    if (strcmp(st->status, "sending") == 0 && real_now_ms(w->s) - st->updated_ms < w->cfg->lease_ms)
        return finish(w, 0, why, whylen);
    arr_envelope cause;
    synthetic_cause(w->acct, st, &cause);
    outreach_cause c = {.env = &cause, .at_ms = at_ms};
    int go = strcmp(st->status, "sending") == 0, acked = 0;
    if (!go)
        e = decide_planned(w, w->acct, st, &c, it, &go, &acked, why, whylen);
    outreach_step snapshot = *st;
    outreach_rendered r;
    memset(&r, 0, sizeof(r));
    const outreach_contact_point *pt = go ? point_by_id(w->acct, st->address_id) : NULL;
    arr_err re = ARR_OK;
    char rwhy[256] = "";
    if (!e && go && pt)
        re = render(w, w->acct, st, at_ms, &r, rwhy, sizeof(rwhy));
    /* keep what sending needs: the account is reloaded for the record */
    outreach_account *copy_acct = NULL;
    if (!e && go) {
        copy_acct = malloc(sizeof(*copy_acct));
        if (!copy_acct)
            e = ARR_ENOMEM;
        else {
            *copy_acct = *w->acct;
            copy_acct->debtor = NULL;
        }
    }
    if (e) {
        finish(w, 0, why, whylen);
        free(copy_acct);
        outreach_rendered_free(&r);
        return e;
    }
    e = finish(w, 1, why, whylen);
    if (e || !go) {
        free(copy_acct);
        outreach_rendered_free(&r);
        return e ? e : (acked ? ARR_OK : ack(w, it));
    }
    outreach_channel_result res;
    memset(&res, 0, sizeof(res));
    if (!pt) {
        res.outcome = OUTREACH_CHANNEL_PERMANENT_CONTACT;
        arr_str_copy(res.code, sizeof(res.code), "contact.gone");
        arr_str_copy(res.detail, sizeof(res.detail), "the contact point is no longer on file");
    } else if (re) {
        res.outcome = OUTREACH_CHANNEL_PERMANENT;
        arr_str_copy(res.code, sizeof(res.code), "template.render");
        arr_str_copy(res.detail, sizeof(res.detail), rwhy);
    } else {
        const outreach_contact_point *p2 = point_by_id(copy_acct, snapshot.address_id);
        deliver(w, copy_acct, &snapshot, p2, &r, at_ms, &res);
    }
    free(copy_acct);
    e = load(w, it, &st, &found, why, whylen);
    acked = 0;
    if (!e && st && strcmp(st->status, "sending") == 0) {
        synthetic_cause(w->acct, st, &cause);
        e = record(w, w->acct, st, &c, &res, re || !pt ? NULL : &r, &acked, why, whylen);
    }
    outreach_rendered_free(&r);
    arr_err fe = finish(w, !e, why, whylen);
    if (e || fe)
        return e ? e : fe;
    return acked ? ARR_OK : ack(w, it);
}

/* ------------------------------------------------------------------ the loop */

static arr_err prepare(worker *w, char *why, size_t whylen)
{
    arr_err e = outreach_book_prepare(w->pg, why, whylen);
    if (!e)
        e = outreach_events_prepare(w->pg, why, whylen);
    if (!e)
        e = arr_outbox_prepare(w->pg, "outreach", why, whylen);
    if (!e)
        e = arr_pg_prepare(w->pg, "os_campaign",
                           "SELECT (extract(epoch from until_at) * 1000)::bigint FROM"
                           " outreach.campaign_clock WHERE namespace = $1",
                           1, why, whylen);
    return e;
}

static arr_err connect_all(worker *w, char *why, size_t whylen)
{
    const outreach_sender_cfg *cfg = w->cfg;
    arr_err e = arr_pg_connect(cfg->pg_conninfo, &w->pg, why, whylen);
    if (!e)
        e = arr_redis_connect(cfg->redis_host, cfg->redis_port, 5000, &w->redis, why, whylen);
    if (!e)
        e = outreach_tz_db_new(NULL, &w->tz, why, whylen);
    if (!e)
        e = outreach_tz_db_load_us(w->tz, why, whylen);
    if (!e)
        e = prepare(w, why, whylen);
    return e;
}

static int cycle(worker *w)
{
    char why[512];
    int64_t real = real_now_ms(w->s);
    if (real >= w->next_expire_ms) {
        size_t requeued = 0;
        outreach_schedule_expire(w->redis, w->cfg->ns, real, OUTREACH_SCHEDULE_CLAIM_MAX, &requeued,
                                 why, sizeof(why));
        w->next_expire_ms = real + EXPIRE_EVERY_MS;
    }
    int64_t limit;
    int ok;
    arr_err e = due_limit(w, &limit, &ok, why, sizeof(why));
    if (e || !ok) {
        if (e)
            log_err(w, "cannot read the campaign clock", why);
        return 0;
    }
    outreach_schedule_item items[64];
    size_t n = 0, max = (size_t)w->cfg->batch;
    if (max > 64)
        max = 64;
    e = outreach_schedule_claim_until(w->redis, w->cfg->ns, limit, real + w->cfg->lease_ms, max,
                                      items, &n, why, sizeof(why));
    if (e) {
        log_err(w, "schedule claim failed", why);
        return 0;
    }
    if (n == 0 && real >= w->next_sweep_ms) { /* nothing due in Redis: is that so in PostgreSQL? */
        size_t fixed = 0;
        w->next_sweep_ms = real + SWEEP_EVERY_MS;
        if (outreach_book_sweep(&w->book, limit, &fixed, why, sizeof(why)))
            log_err(w, "schedule sweep failed", why);
        else if (fixed)
            arr_log_warn(w->cfg->log, "due steps missing from the schedule were put back", NULL);
        return (int)fixed;
    }
    /* Claims are worked on only while their lease surely runs: what is left goes back when
       it ends, untouched, rather than be worked on by two senders. */
    int64_t deadline = real + w->cfg->lease_ms * 3 / 4;
    for (size_t i = 0; i < n && !atomic_load(w->s->stop) && real_now_ms(w->s) < deadline; i++) {
        int64_t at = w->cfg->campaign ? items[i].due_ms : real_now_ms(w->s);
        e = process(w, &items[i], at, why, sizeof(why));
        if (e) {
            /* left to its lease: claimed again once it ends */
            arr_log_warn(w->cfg->log, "step not settled: retried after its lease", "step_id",
                         items[i].step_id, "reason", why, NULL);
            /* one step's trouble must not hold the others up: go on, unless the connection
               itself is gone */
            if (arr_pg_ping(w->pg, why, sizeof(why)) != ARR_OK) {
                arr_pg_reconnect(w->pg, why, sizeof(why)); /* statements come back with it */
                break;
            }
        }
    }
    return (int)n;
}

static void *run(void *opaque)
{
    outreach_sender *s = opaque;
    worker w;
    memset(&w, 0, sizeof(w));
    w.s = s;
    w.cfg = s->cfg;
    w.acct = calloc(1, sizeof(*w.acct));
    if (outreach_channel_conns_new(&w.conns) != ARR_OK)
        w.conns = NULL; /* still sends, a connection per message */
    w.smtp = s->cfg->smtp;
    w.smtp.conns = w.conns;
    w.http = s->cfg->http;
    w.http.conns = w.conns;
    char why[512];
    while (!atomic_load(s->stop)) {
        arr_err e = w.acct ? connect_all(&w, why, sizeof(why)) : ARR_ENOMEM;
        if (!e)
            break;
        log_err(&w, "sender cannot connect: retrying", why);
        arr_pg_free(w.pg);
        arr_redis_free(w.redis);
        outreach_tz_db_free(w.tz);
        w.pg = NULL;
        w.redis = NULL;
        w.tz = NULL;
        sleep_ms(1000);
    }
    w.book = (outreach_book){.pg = w.pg,
                             .redis = w.redis,
                             .ns = w.cfg->ns,
                             .settings = w.cfg->settings,
                             .tz = w.tz,
                             .topic_events = w.cfg->topic_events,
                             .topic_replies = w.cfg->topic_replies,
                             .who = w.cfg->who,
                             .clock = &s->clock,
                             .log = w.cfg->log};
    while (!atomic_load(s->stop)) {
        if (cycle(&w) == 0)
            sleep_ms(IDLE_SLEEP_MS);
    }
    arr_pg_free(w.pg);
    arr_redis_free(w.redis);
    outreach_tz_db_free(w.tz);
    outreach_channel_conns_free(w.conns);
    free(w.acct);
    return NULL;
}

arr_err outreach_sender_start(outreach_sender *s, const outreach_sender_cfg *cfg, atomic_int *stop,
                              char *why, size_t whylen)
{
    memset(s, 0, sizeof(*s));
    arr_clock_init_real(&s->clock);
    s->cfg = cfg;
    s->stop = stop;
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        snprintf(why, whylen, "cannot start a sender thread");
        return ARR_EFATAL;
    }
    s->started = 1;
    return ARR_OK;
}

void outreach_sender_join(outreach_sender *s)
{
    if (s->started)
        pthread_join(s->thread, NULL);
    s->started = 0;
}
