/* The scoring replay: each account's feature state is folded again from the events scoring
 * consumed, in the order its inbox claimed them (scoring.inbox.seq, across topics), and each
 * recorded score is decided again by the engine on the state of that moment, at its cause's
 * event time; the payloads are compared field by field. A trigger the replay scores but no
 * score was recorded for is counted as not recorded. The engine is loaded from the same
 * configuration as the service's (ARR_SCORING_MODEL, _STRATEGY, _EXPERIMENTS), so pointing
 * them at another version shows what that version would have changed, and why. */
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "batch.h"
#include "engine.h"
#include "features.h"
#include "replay.h"

#define FETCH "FETCH 5000 FROM rp"

/* The state of account id, an empty one the first time. */
static arr_err state_of(cli_replay_table *t, const char *id, scoring_state **out)
{
    int added;
    arr_err e = cli_replay_table_add(t, id, sizeof(scoring_state), (void **)out, &added);
    if (!e && added)
        scoring_state_init(*out);
    return e;
}

static arr_err load_engine(cli_ctx *c, scoring_engine **out, char *why, size_t whylen)
{
    const char *model, *table, *experiments;
    arr_err e = arr_config_str(c->cfg, "ARR_SCORING_MODEL",
                               ARR_SOURCE_DIR "/deploy/models/scorecard-default-1.json", &model,
                               why, whylen);
    e = e ? e
          : arr_config_str(c->cfg, "ARR_SCORING_STRATEGY",
                           ARR_SOURCE_DIR "/deploy/strategy/default-1.json", &table, why, whylen);
    e = e ? e
          : arr_config_str(c->cfg, "ARR_SCORING_EXPERIMENTS",
                           ARR_SOURCE_DIR "/deploy/scoring/experiments.json", &experiments, why,
                           whylen);
    return e ? e : scoring_engine_load(model, table, experiments, out, why, whylen);
}

/* The likely cause of a difference, from the versions both decisions carry. */
static void cause_of(json_t *rec, json_t *rep, char *out, size_t outlen)
{
    static const struct {
        const char *field, *what;
    } versions[] = {{"arm", "experiment assignment"},
                    {"model_id", "model version"},
                    {"strategy_table_version", "strategy table version"},
                    {"experiment", "experiment"}};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        const char *a = json_string_value(json_object_get(rec, versions[i].field));
        const char *b = json_string_value(json_object_get(rep, versions[i].field));
        if ((a || b) && (!a || !b || strcmp(a, b) != 0)) {
            snprintf(out, outlen, "%s changed: recorded %s, replay %s", versions[i].what,
                     a ? a : "none", b ? b : "none");
            return;
        }
    }
    snprintf(out, outlen, "same versions: the inputs or the code differ");
}

typedef struct run {
    cli_ctx *c;
    const cli_replay_opts *o;
    cli_replay_result *r;
    scoring_engine *engine;
    cli_replay_table accts;
    arr_buf payload;
    /* A trigger folded last: the score the service must have recorded next. */
    long long expect_seq;
    char expect_account[ARR_ACCOUNT_MAX + 1];
    int64_t expect_at;
} run;

static void missed_expectation(run *x, long long seq, const char *account)
{
    if (x->expect_seq && (x->expect_seq != seq || strcmp(x->expect_account, account) != 0)) {
        if (cli_replay_wanted(x->o, x->expect_account, x->expect_at))
            x->r->unrecorded++;
    }
    x->expect_seq = 0;
}

static arr_err fold(run *x, long long seq, const char *account, const char *message, size_t len)
{
    arr_envelope env;
    arr_envelope_init(&env);
    char why[300];
    scoring_state *st;
    x->r->inputs++;
    if (arr_envelope_decode(message, len, &env, why, sizeof(why)) != ARR_OK)
        return ARR_OK; /* the service dead-lettered it too */
    arr_err e = state_of(&x->accts, account, &st);
    int64_t version = e ? 0 : st->version;
    if (!e &&
        scoring_state_apply(st, env.event_type, env.payload, env.event_time_ms, env.event_id, why,
                            sizeof(why)) == ARR_OK &&
        st->version != version && scoring_triggers_score(env.event_type)) {
        x->expect_seq = seq;
        snprintf(x->expect_account, sizeof(x->expect_account), "%s", account);
        x->expect_at = env.event_time_ms;
    }
    arr_envelope_clear(&env);
    return e;
}

static arr_err compare(run *x, const char *account, const char *message, size_t len,
                       const char *cause_time, int account_cause)
{
    arr_envelope rec;
    arr_envelope_init(&rec);
    char why[300], field[64], a[160], b[160], cause[200];
    if (arr_envelope_decode(message, len, &rec, why, sizeof(why)) != ARR_OK)
        return ARR_OK; /* cannot be: the service wrote it; counted nowhere */
    int64_t at = 0;
    arr_err e = ARR_OK;
    if (!cli_replay_wanted(x->o, account, rec.event_time_ms))
        goto done;
    if (!cause_time[0] || arr_time_parse(cause_time, &at) != ARR_OK) {
        x->r->unexplained++;
        goto done;
    }
    x->r->compared++;
    scoring_state *st;
    scoring_decision d;
    e = state_of(&x->accts, account, &st);
    if (!e && !account_cause && scoring_state_status(st) != SCORING_STATUS_OPEN) {
        cli_replay_differ(x->r, account, rec.event_id, "status", "\"open\"",
                          scoring_status_name(scoring_state_status(st)),
                          "the state differs: an input is missing or the fold changed");
        goto done;
    }
    e = e ? e : scoring_engine_decide(x->engine, x->o->tenant, account, st, at, &d);
    arr_buf_reset(&x->payload);
    const char *type = json_string_value(json_object_get(rec.payload, "cause_event_type"));
    e = e ? e : scoring_decision_payload(&d, st, type ? type : "", &x->payload);
    json_t *rep = e ? NULL : json_loadb(x->payload.data, x->payload.len, 0, NULL);
    if (!e && !rep)
        e = ARR_EDECODE;
    if (!e && x->o->shadow)
        fprintf(x->o->shadow, "{\"account\":\"%s\",\"cause_event_id\":\"%s\",\"payload\":%s}\n",
                account, rec.causation_id, x->payload.data);
    if (!e &&
        cli_replay_first_diff(rec.payload, rep, field, sizeof(field), a, sizeof(a), b, sizeof(b))) {
        cause_of(rec.payload, rep, cause, sizeof(cause));
        cli_replay_differ(x->r, account, rec.event_id, field, a, b, cause);
    } else if (!e) {
        x->r->reproduced++;
    }
    json_decref(rep);
done:
    arr_envelope_clear(&rec);
    return e;
}

/* clang-format off */
static const char SQL_INPUTS[] =
    "DECLARE rp NO SCROLL CURSOR FOR"
    " SELECT i.seq, 0 AS kind, e.account_id, e.message, NULL::text AS cause_time, 1"
    " FROM audit.events e JOIN scoring.inbox i ON i.event_id = e.event_id"
    " WHERE e.tenant = $1 AND e.namespace = $2 AND i.topic = ANY($3::text[])"
    " UNION ALL"
    " SELECT i.seq, 1, s.account_id, s.message,"
    " to_char(c.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " CASE WHEN c.account_id = s.account_id THEN 1 ELSE 0 END"
    " FROM scoring.scores s JOIN scoring.inbox i ON i.event_id = s.cause_event_id"
    " LEFT JOIN audit.events c ON c.event_id = s.cause_event_id"
    " WHERE s.tenant = $1 AND i.topic = ANY($3::text[])"
    " ORDER BY 1, 2, 3";
/* clang-format on */

static arr_err topics_param(const char *ns, arr_buf *out)
{
    static const char *const inputs[] = {"arrears.accounts",        "arrears.payments.events",
                                         "arrears.outreach.events", "arrears.outreach.replies",
                                         "arrears.clock",           NULL};
    arr_err e = arr_pg_array_open(out);
    for (int i = 0; !e && inputs[i]; i++) {
        char name[200];
        snprintf(name, sizeof(name), "%s%s", ns, inputs[i]);
        e = arr_pg_array_add(out, name);
    }
    return e ? e : arr_pg_array_close(out);
}

static arr_err stream(run *x, arr_pg *pg, char *why, size_t whylen)
{
    arr_buf topics;
    arr_buf_init(&topics, 4096);
    arr_err e = topics_param(x->o->ns, &topics);
    e = e ? e : cli_replay_begin(pg, why, whylen);
    const char *params[] = {x->o->tenant, x->o->ns, topics.data};
    e = e ? e : cli_replay_declare(pg, SQL_INPUTS, 3, params, why, whylen);
    while (!e) {
        PGresult *res;
        if ((e = cli_replay_fetch(pg, FETCH, &res, why, whylen)) != ARR_OK)
            break;
        int n = PQntuples(res);
        for (int i = 0; !e && i < n; i++) {
            long long seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
            int kind = PQgetvalue(res, i, 1)[0] == '1';
            const char *account = PQgetvalue(res, i, 2);
            const char *msg = PQgetvalue(res, i, 3);
            size_t len = (size_t)PQgetlength(res, i, 3);
            missed_expectation(x, kind ? seq : -1, account);
            e = kind ? compare(x, account, msg, len, PQgetvalue(res, i, 4),
                               PQgetvalue(res, i, 5)[0] == '1')
                     : fold(x, seq, account, msg, len);
        }
        PQclear(res);
        if (n == 0)
            break;
    }
    missed_expectation(x, -1, "");
    arr_pg_rollback(pg);
    arr_buf_free(&topics);
    return e;
}

arr_err cli_replay_scoring(cli_ctx *c, arr_pg *pg, const cli_replay_opts *o, cli_replay_result *r,
                           char *why, size_t whylen)
{
    run x = {.c = c, .o = o, .r = r};
    arr_buf_init(&x.payload, 1024 * 1024);
    arr_err e = load_engine(c, &x.engine, why, whylen);
    e = e ? e : stream(&x, pg, why, whylen);
    scoring_engine_free(x.engine);
    cli_replay_table_free(&x.accts);
    arr_buf_free(&x.payload);
    return e;
}
