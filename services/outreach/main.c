/* arrears-outreach: plans and sends contacts under the contact rules, and stops the moment it
 * should.
 *
 * The story:
 *   1. Read the tenants' cadence policies and template sets (deploy/outreach/tenants.json).
 *   2. Open the provider webhooks (doors.c): status callbacks and inbound replies are published
 *      to arrears.outreach.callbacks before the provider gets its 200.
 *   3. Start the senders (sender.c): threads that claim due steps from the Redis schedule,
 *      decide them again with the compliance engine at their send time, record them as
 *      'sending' with their idempotency key, deliver them (SMTP, the SMS and voice API),
 *      record the outcome and plan the next step.
 *   4. Consume accounts, scores, payment results, replies, provider callbacks and the clock
 *      through the inbox (events.c): each event changes the account in one transaction with
 *      its resulting events (outbox); a payment, settlement, dispute, cease or opt-out
 *      suppresses the account's open steps at once, each with the rule that stopped it.
 * Nothing is sent twice: see sender.h and deploy/sql/010_outreach.sql. */
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/service.h"
#include "book.h"
#include "doors.h"
#include "events.h"
#include "ratelimit.h"
#include "sender.h"
#include "settings.h"

#define SENDERS_MAX 16

typedef struct outreach_ctx {
    outreach_settings *settings;
    outreach_tz_db *tz;
    outreach_book book; /* the consumer's */
    outreach_sender_cfg scfg;
    outreach_sender senders[SENDERS_MAX];
    int nsenders;
    atomic_int stop;
    char ns[OUTREACH_BOOK_NAME + 16];
} outreach_ctx;

static const char *const input_topics[] = {"arrears.accounts",
                                           "arrears.scores",
                                           "arrears.payments.events",
                                           "arrears.outreach.replies",
                                           "arrears.outreach.callbacks",
                                           "arrears.clock",
                                           NULL};

static arr_err routes(arr_svc *s, char *why, size_t whylen)
{
    outreach_doors *d = NULL;
    arr_err e = outreach_doors_new(s, &d, why, whylen);
    if (!e && d) {
        s->ext = d;
        s->ext_free = (void (*)(void *))outreach_doors_free;
    }
    return e;
}

static const arr_svc_spec spec = {
    .name = "outreach",
    .default_http_port = 18083,
    .topics = input_topics,
    .dead_letter_topic = "arrears.outreach.dlq",
    .routes = routes,
};

static arr_err apply(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    outreach_ctx *ctx = opaque;
    ctx->book.last.set = 0;
    arr_err e = outreach_events_apply(&ctx->book, env, why, whylen);
    if (!e && ctx->book.last.set) {
        const char *fv[] = {"next_step_at", ctx->book.last.next_at, "next_step_channel",
                            ctx->book.last.channel};
        arr_svc_cache_account(s, ctx->book.last.tenant, ctx->book.last.account, 2, fv);
    }
    return e;
}

static arr_err load_settings(arr_svc *s, outreach_ctx *ctx, char *why, size_t whylen)
{
    const char *deploy, *path;
    char def[1200];
    arr_err e = arr_config_str(s->cfg, "ARR_DEPLOY_DIR", ARR_DEPLOY_DIR, &deploy, why, whylen);
    if (e)
        return e;
    snprintf(def, sizeof(def), "%s/outreach/tenants.json", deploy);
    e = arr_config_str(s->cfg, "ARR_OUTREACH_SETTINGS", def, &path, why, whylen);
    if (!e)
        e = outreach_settings_load(path, &ctx->settings, why, whylen);
    if (!e)
        e = outreach_tz_db_new(NULL, &ctx->tz, why, whylen);
    if (!e)
        e = outreach_tz_db_load_us(ctx->tz, why, whylen);
    return e;
}

static arr_err rate(arr_svc *s, const char *key, const char *def, double *r, int *burst, char *why,
                    size_t whylen)
{
    const char *text;
    arr_err e = arr_config_str(s->cfg, key, def, &text, why, whylen);
    if (!e && *text)
        e = outreach_ratelimit_parse(text, r, burst, why, whylen);
    if (e == ARR_EINVAL)
        e = ARR_ECONFIG;
    return e;
}

/* The channels and the senders' knobs, from the configuration. */
static arr_err sender_config(arr_svc *s, outreach_ctx *ctx, int64_t *nsenders, char *why,
                             size_t whylen)
{
    outreach_sender_cfg *c = &ctx->scfg;
    const arr_config *cfg = s->cfg;
    const char *mode, *smtp_url, *api_url, *tls_s;
    int64_t max_attempts, lease, batch;
    arr_err e = arr_config_str(cfg, "ARR_OUTREACH_TIME", "real", &mode, why, whylen);
    if (!e && strcmp(mode, "real") != 0 && strcmp(mode, "campaign") != 0) {
        snprintf(why, whylen, "ARR_OUTREACH_TIME must be real or campaign, not \"%s\"", mode);
        e = ARR_ECONFIG;
    }
    if (!e)
        e = arr_config_int(cfg, "ARR_OUTREACH_SENDERS", 2, 0, SENDERS_MAX, nsenders, why, whylen);
    if (!e)
        e = arr_config_int(cfg, "ARR_OUTREACH_MAX_ATTEMPTS", 6, 1, 100, &max_attempts, why, whylen);
    if (!e)
        e = arr_config_int(cfg, "ARR_OUTREACH_LEASE_MS", 60000, 1000, 3600000, &lease, why, whylen);
    if (!e)
        e = arr_config_int(cfg, "ARR_OUTREACH_BATCH", 32, 1, 64, &batch, why, whylen);
    if (!e)
        e = arr_config_str(cfg, "ARR_SMTP_URL", "", &smtp_url, why, whylen);
    if (!e)
        e = arr_config_str(cfg, "ARR_SMS_API_URL", "", &api_url, why, whylen);
    if (!e)
        e = arr_config_str(cfg, "ARR_SMTP_TLS", "no", &tls_s, why, whylen);
    if (e)
        return e;
    c->campaign = strcmp(mode, "campaign") == 0;
    c->max_attempts = (int)max_attempts;
    c->lease_ms = lease;
    c->batch = (int)batch;
    c->has_smtp = *smtp_url != '\0';
    c->has_http = *api_url != '\0';
    c->smtp.url = smtp_url;
    c->smtp.use_tls = strcmp(tls_s, "yes") == 0 || strcmp(tls_s, "true") == 0;
    c->http.base_url = api_url;
    struct {
        const char *key, *def;
        const char **dst;
    } strs[] = {
        {"ARR_SMTP_FROM", "collections@arrears.example", &c->smtp.from},
        {"ARR_SMTP_FROM_NAME", "", &c->smtp.from_name},
        {"ARR_SMTP_USERNAME", "", &c->smtp.username},
        {"ARR_SMTP_PASSWORD", "", &c->smtp.password},
        {"ARR_SMTP_CA_FILE", "", &c->smtp.ca_file},
        {"ARR_SMS_ACCOUNT_SID", "", &c->http.account_sid},
        {"ARR_SMS_AUTH_TOKEN", "", &c->http.auth_token},
        {"ARR_SMS_FROM", "", &c->http.from},
        {"ARR_SMS_IDEMPOTENCY_HEADER", "", &c->http.idempotency_header},
        {"ARR_SMS_CA_FILE", "", &c->http.ca_file},
        {"ARR_OUTREACH_CALLBACK_BASE", "", &c->callback_base},
    };
    for (size_t i = 0; !e && i < sizeof(strs) / sizeof(strs[0]); i++) {
        e = arr_config_str(cfg, strs[i].key, strs[i].def, strs[i].dst, why, whylen);
        if (!e && !**strs[i].dst && strcmp(strs[i].key, "ARR_SMTP_FROM") != 0 &&
            strcmp(strs[i].key, "ARR_OUTREACH_CALLBACK_BASE") != 0)
            *strs[i].dst = NULL; /* "" means not set */
    }
    if (!e && c->has_http && (!c->http.account_sid || !c->http.auth_token || !c->http.from)) {
        snprintf(why, whylen,
                 "ARR_SMS_API_URL needs ARR_SMS_ACCOUNT_SID, ARR_SMS_AUTH_TOKEN and"
                 " ARR_SMS_FROM");
        e = ARR_ECONFIG;
    }
    c->http.machine_detection = 1;
    if (!e)
        e = rate(s, "ARR_OUTREACH_RATE_EMAIL", "", &c->rate[OUTREACH_COMPLIANCE_EMAIL],
                 &c->burst[OUTREACH_COMPLIANCE_EMAIL], why, whylen);
    if (!e)
        e = rate(s, "ARR_OUTREACH_RATE_SMS", "", &c->rate[OUTREACH_COMPLIANCE_SMS],
                 &c->burst[OUTREACH_COMPLIANCE_SMS], why, whylen);
    if (!e)
        e = rate(s, "ARR_OUTREACH_RATE_VOICE", "", &c->rate[OUTREACH_COMPLIANCE_VOICE],
                 &c->burst[OUTREACH_COMPLIANCE_VOICE], why, whylen);
    return e;
}

static arr_err metric(arr_svc *s, const char *name, const char *help, arr_metric **out)
{
    return arr_metrics_register(s->metrics, ARR_METRIC_COUNTER, name, help, NULL, out);
}

static arr_err start_senders(arr_svc *s, outreach_ctx *ctx, int64_t n, char *why, size_t whylen)
{
    outreach_sender_cfg *c = &ctx->scfg;
    c->pg_conninfo = s->pg_conninfo;
    c->redis_host = s->redis_host;
    c->redis_port = s->redis_port;
    c->ns = ctx->ns;
    c->settings = ctx->settings;
    c->topic_events = arr_svc_topic(s, "arrears.outreach.events");
    c->topic_replies = arr_svc_topic(s, "arrears.outreach.replies");
    c->who = s->who;
    c->log = &s->log;
    arr_err e = metric(s, "arrears_outreach_sent_total", "Steps handed to a provider", &c->m_sent);
    if (!e)
        e = metric(s, "arrears_outreach_suppressed_total", "Steps suppressed when due",
                   &c->m_suppressed);
    if (!e)
        e = metric(s, "arrears_outreach_deferred_total", "Steps deferred when due", &c->m_deferred);
    if (!e)
        e = metric(s, "arrears_outreach_failed_total", "Provider failures", &c->m_failed);
    if (e)
        return e;
    if (n == 0 || (!c->has_smtp && !c->has_http)) {
        arr_log_info(&s->log, "no sender: steps are planned, none is sent", "reason",
                     n == 0 ? "ARR_OUTREACH_SENDERS=0" : "no channel configured", NULL);
        return ARR_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        e = outreach_sender_start(&ctx->senders[i], c, &ctx->stop, why, whylen);
        if (e)
            return e;
        ctx->nsenders++;
    }
    return ARR_OK;
}

static void stop_senders(outreach_ctx *ctx)
{
    atomic_store(&ctx->stop, 1);
    for (int i = 0; i < ctx->nsenders; i++)
        outreach_sender_join(&ctx->senders[i]);
    ctx->nsenders = 0;
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    static outreach_ctx ctx; /* large: off the stack */
    atomic_init(&ctx.stop, 0);
    arr_svc svc;
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    char why[512] = "";
    int64_t nsenders = 0;
    if (!e) {
        snprintf(ctx.ns, sizeof(ctx.ns), "%s", svc.topic_prefix[0] ? svc.topic_prefix : "live");
        e = load_settings(&svc, &ctx, why, sizeof(why));
        if (!e)
            e = sender_config(&svc, &ctx, &nsenders, why, sizeof(why));
        if (!e)
            e = outreach_book_prepare(svc.pg, why, sizeof(why));
        if (!e)
            e = outreach_events_prepare(svc.pg, why, sizeof(why));
        if (e)
            arr_svc_failed(&svc, e, "cannot start outreach", why);
    }
    if (!e) {
        ctx.book =
            (outreach_book){.pg = svc.pg,
                            .redis = svc.redis,
                            .ns = ctx.ns,
                            .settings = ctx.settings,
                            .tz = ctx.tz,
                            .topic_events = arr_svc_topic(&svc, "arrears.outreach.events"),
                            .topic_replies = arr_svc_topic(&svc, "arrears.outreach.replies"),
                            .topic_callbacks = arr_svc_topic(&svc, "arrears.outreach.callbacks"),
                            .who = svc.who,
                            .clock = &svc.clock,
                            .log = &svc.log,
                            .campaign = ctx.scfg.campaign};
        e = start_senders(&svc, &ctx, nsenders, why, sizeof(why));
        if (e)
            arr_svc_failed(&svc, e, "cannot start the senders", why);
    }
    arr_svc_handler h = {.apply = apply, .opaque = &ctx};
    if (!e)
        e = arr_svc_run_pg(&svc, &h);
    stop_senders(&ctx);
    arr_svc_close(&svc);
    outreach_settings_free(ctx.settings);
    outreach_tz_db_free(ctx.tz);
    curl_global_cleanup();
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
