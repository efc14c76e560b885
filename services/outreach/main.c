/* arrears-outreach: plans and sends contacts under the contact rules, and stops the moment
 * it should.
 *
 * The story (foundation): join the consumer group on arrears.scores; for each
 * score.computed, decide the first step; in one PostgreSQL transaction record the event id
 * (inbox), store the planned step and queue outreach.planned, or queue outreach.suppressed
 * with the rule id (outbox); relay to arrears.outreach.events; commit the offset; cache the
 * account's next step in Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/service.h"
#include "first_step.h"

#define TOPIC_EVENTS "arrears.outreach.events"

typedef struct outreach_ctx {
    outreach_decision last; /* the decision of the current apply */
} outreach_ctx;

static const char *const input_topics[] = {"arrears.scores", NULL};
static const arr_svc_spec spec = {
    .name = "outreach",
    .default_http_port = 18083,
    .topics = input_topics,
    .dead_letter_topic = "arrears.outreach.dlq",
};

static arr_err prepare(arr_svc *s, char *why, size_t whylen)
{
    return arr_pg_prepare(s->pg, "outreach_step_insert",
                          "INSERT INTO outreach.steps (step_id, tenant, account_id, channel,"
                          " due_at, cause_event_id) VALUES ($1, $2, $3, $4, $5, $6)"
                          " ON CONFLICT (step_id) DO NOTHING",
                          6, why, whylen);
}

static arr_err plan(arr_svc *s, const arr_envelope *score, const outreach_decision *d, char *why,
                    size_t whylen)
{
    char step_id[ARR_UUID_STRLEN], due[ARR_TIME_STRLEN];
    arr_err e = arr_uuid_named(score->event_id, "outreach.step/1", step_id);
    if (!e)
        e = arr_time_format(d->due_at_ms, due, sizeof(due));
    if (e)
        return e;
    const char *params[] = {step_id,    score->tenant, score->account,
                            d->channel, due,           score->event_id};
    e = arr_pg_run(s->pg, "outreach_step_insert", 6, params, NULL, why, whylen);
    if (e)
        return e;
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s}", "step_id", step_id, "channel", d->channel,
                                "due_at", due, "cadence_id", "foundation-first-step");
    arr_envelope out;
    e = arr_svc_derive(s, &out, score, "outreach.planned", "outreach.planned/1", payload);
    if (!e) {
        out.event_time_ms = score->event_time_ms;
        e = arr_svc_emit(s, TOPIC_EVENTS, &out);
    }
    arr_envelope_clear(&out);
    return e;
}

static arr_err suppress(arr_svc *s, const arr_envelope *score, const outreach_decision *d)
{
    json_t *payload = json_pack("{s:s, s:s}", "rule_id", d->rule_id, "detail",
                                "expected recovery is below the cost of the next contact");
    arr_envelope out;
    arr_err e =
        arr_svc_derive(s, &out, score, "outreach.suppressed", "outreach.suppressed/1", payload);
    if (!e) {
        out.event_time_ms = score->event_time_ms;
        e = arr_svc_emit(s, TOPIC_EVENTS, &out);
    }
    arr_envelope_clear(&out);
    return e;
}

static arr_err apply(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    outreach_ctx *ctx = opaque;
    if (strcmp(env->event_type, "score.computed") != 0)
        return ARR_OK; /* recorded in the inbox; nothing to plan */
    arr_err e = outreach_first_step(env->payload, env->event_time_ms, &ctx->last, why, whylen);
    if (e)
        return e;
    if (ctx->last.suppress)
        return suppress(s, env, &ctx->last);
    e = plan(s, env, &ctx->last, why, whylen);
    if (!e) {
        char due[ARR_TIME_STRLEN];
        arr_time_format(ctx->last.due_at_ms, due, sizeof(due));
        const char *fv[] = {"next_step_at", due, "next_step_channel", ctx->last.channel};
        arr_svc_cache_account(s, env->tenant, env->account, 2, fv);
    }
    return e;
}

int main(int argc, char **argv)
{
    arr_svc svc;
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    char why[512];
    if (!e && (e = prepare(&svc, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot prepare statements", why);
    outreach_ctx ctx = {0};
    arr_svc_handler h = {.apply = apply, .opaque = &ctx};
    if (!e)
        e = arr_svc_run_pg(&svc, &h);
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
