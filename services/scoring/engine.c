#include "engine.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/jsonw.h"
#include "challenger.h"

typedef struct experiment {
    char tenant[65];
    char id[65];
    int share_bp;
    scoring_model *model;          /* owned; NULL: the champion's */
    scoring_strategy_table *table; /* owned; NULL: the champion's */
} experiment;

struct scoring_engine {
    scoring_model *model;
    scoring_strategy_table table;
    experiment exps[SCORING_ENGINE_EXPERIMENTS_MAX];
    int n_exps;
};

void scoring_engine_free(scoring_engine *e)
{
    if (!e)
        return;
    scoring_model_free(e->model);
    for (int i = 0; i < e->n_exps; i++) {
        scoring_model_free(e->exps[i].model);
        free(e->exps[i].table);
    }
    free(e);
}

const char *scoring_engine_model_id(const scoring_engine *e)
{
    return scoring_model_id(e->model);
}

/* path as given when absolute, else next to the experiments file. */
static void beside(const char *base_file, const char *path, char out[PATH_MAX])
{
    if (path[0] == '/') {
        snprintf(out, PATH_MAX, "%s", path);
        return;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", base_file);
    snprintf(out, PATH_MAX, "%s/%s", dirname(dir), path);
}

static arr_err load_experiment(scoring_engine *e, const char *file, const char *tenant, json_t *cfg,
                               char *why, size_t whylen)
{
    if (e->n_exps == SCORING_ENGINE_EXPERIMENTS_MAX) {
        snprintf(why, whylen, "experiments: more than %d tenants", SCORING_ENGINE_EXPERIMENTS_MAX);
        return ARR_ELIMIT;
    }
    experiment *x = &e->exps[e->n_exps];
    memset(x, 0, sizeof(*x));
    json_t *id = json_object_get(cfg, "experiment"),
           *share = json_object_get(cfg, "challenger_share");
    json_t *model = json_object_get(cfg, "challenger_model");
    json_t *table = json_object_get(cfg, "challenger_strategy");
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        json_string_length(id) >= sizeof(x->id)) {
        snprintf(why, whylen,
                 "experiments: tenants.%s.experiment: must be an id of 1 to 64 characters", tenant);
        return ARR_EINVAL;
    }
    if (!json_is_number(share) ||
        scoring_challenger_share_bp(json_number_value(share), &x->share_bp, why, whylen) !=
            ARR_OK) {
        snprintf(why, whylen,
                 "experiments: tenants.%s.challenger_share: must be a number in [0, 1]", tenant);
        return ARR_EINVAL;
    }
    if ((model && !json_is_string(model)) || (table && !json_is_string(table))) {
        snprintf(why, whylen,
                 "experiments: tenants.%s: challenger_model and challenger_strategy must be paths",
                 tenant);
        return ARR_EINVAL;
    }
    snprintf(x->tenant, sizeof(x->tenant), "%s", tenant);
    snprintf(x->id, sizeof(x->id), "%s", json_string_value(id));
    char path[PATH_MAX];
    arr_err err = ARR_OK;
    if (model) {
        beside(file, json_string_value(model), path);
        err = scoring_model_load(path, &x->model, why, whylen);
    }
    if (!err && table) {
        x->table = malloc(sizeof(*x->table));
        beside(file, json_string_value(table), path);
        err = x->table ? scoring_strategy_load(path, x->table, why, whylen) : ARR_ENOMEM;
    }
    e->n_exps++; /* freed with the engine, whatever happened */
    return err;
}

static arr_err load_experiments(scoring_engine *e, const char *path, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(why, whylen, "experiments %s: %s (line %d)", path, jerr.text, jerr.line);
        return ARR_EINVAL;
    }
    arr_err err = ARR_OK;
    json_t *format = json_object_get(root, "format"), *tenants = json_object_get(root, "tenants");
    if (!json_is_string(format) ||
        strcmp(json_string_value(format), "arrears-experiments-1") != 0) {
        snprintf(why, whylen, "experiments %s: format: must be \"arrears-experiments-1\"", path);
        err = ARR_EINVAL;
    } else if (!json_is_object(tenants)) {
        snprintf(why, whylen, "experiments %s: tenants: must be an object", path);
        err = ARR_EINVAL;
    }
    const char *tenant;
    json_t *cfg;
    json_object_foreach(tenants, tenant, cfg)
    {
        if (!err)
            err = load_experiment(e, path, tenant, cfg, why, whylen);
    }
    json_decref(root);
    return err;
}

arr_err scoring_engine_load(const char *model_path, const char *strategy_path,
                            const char *experiments_path, scoring_engine **out, char *why,
                            size_t whylen)
{
    scoring_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return ARR_ENOMEM;
    arr_err err = scoring_model_load(model_path, &e->model, why, whylen);
    if (!err)
        err = scoring_strategy_load(strategy_path, &e->table, why, whylen);
    if (!err && experiments_path && experiments_path[0])
        err = load_experiments(e, experiments_path, why, whylen);
    if (err) {
        scoring_engine_free(e);
        return err;
    }
    *out = e;
    return ARR_OK;
}

static const experiment *experiment_of(const scoring_engine *e, const char *tenant)
{
    for (int i = 0; i < e->n_exps; i++) {
        if (strcmp(e->exps[i].tenant, tenant) == 0)
            return &e->exps[i];
    }
    return NULL;
}

arr_err scoring_engine_decide(const scoring_engine *e, const char *tenant, const char *account_id,
                              const scoring_state *st, int64_t as_of_ms, scoring_decision *out)
{
    memset(out, 0, sizeof(*out));
    const scoring_model *model = e->model;
    const scoring_strategy_table *table = &e->table;
    int challenger = 0;
    const experiment *x = experiment_of(e, tenant);
    if (x) {
        int bucket = scoring_challenger_bucket(tenant, account_id, x->id);
        challenger = scoring_challenger_is_challenger(bucket, x->share_bp);
        out->experiment = x->id;
        if (challenger && x->model)
            model = x->model;
        if (challenger && x->table)
            table = x->table;
    }
    out->arm = scoring_challenger_arm(challenger);
    out->model_id = scoring_model_id(model);
    out->strategy_table_version = table->version;
    scoring_features_vector(st, as_of_ms, out->x);
    out->days_past_due = (int)out->x[SF_DAYS_PAST_DUE];
    out->status = scoring_state_status(st);
    scoring_model_score(model, out->x, &out->score);
    scoring_strategy_input in = {.probability = out->score.probability,
                                 .balance_cents = st->balance_cents,
                                 .days_past_due = out->days_past_due,
                                 .status = out->status};
    return scoring_strategy_decide(table, &in, &out->strategy);
}

arr_err scoring_decision_payload(const scoring_decision *d, const scoring_state *st,
                                 const char *cause_type, arr_buf *out)
{
    size_t start = out->len;
    arr_jsonw w;
    arr_jsonw_init(&w, out);
    arr_jsonw_object_begin(&w);
    /* Probability as basis points over 10000: a fixed, locale-free text that replays exactly. */
    char p[16];
    int n = snprintf(p, sizeof(p), "%d.%04d", d->score.probability_bp / 10000,
                     d->score.probability_bp % 10000);
    arr_jsonw_key(&w, "probability");
    arr_jsonw_raw(&w, p, (size_t)n);
    arr_jsonw_key(&w, "expected_recovery_cents");
    arr_jsonw_int(&w, d->strategy.expected_recovery_cents);
    arr_jsonw_key(&w, "contact_budget_cents");
    arr_jsonw_int(&w, d->strategy.contact_budget_cents);
    arr_jsonw_key(&w, "currency");
    arr_jsonw_string(&w, st->currency[0] ? st->currency : "USD");
    arr_jsonw_key(&w, "segment");
    arr_jsonw_string(&w, d->strategy.segment);
    arr_jsonw_key(&w, "strategy");
    arr_jsonw_string(&w, d->strategy.strategy);
    arr_jsonw_key(&w, "reason_codes");
    arr_jsonw_array_begin(&w);
    /* The strategy's own reason first when it overrode the score (do-not-pursue). */
    if (strcmp(d->strategy.strategy, SCORING_STRATEGY_DO_NOT_PURSUE) == 0)
        arr_jsonw_string(&w, d->strategy.reason);
    for (int i = 0; i < d->score.n_reasons; i++)
        arr_jsonw_string(&w, d->score.reasons[i]);
    arr_jsonw_array_end(&w);
    arr_jsonw_key(&w, "model_id");
    arr_jsonw_string(&w, d->model_id);
    arr_jsonw_key(&w, "strategy_table_version");
    arr_jsonw_string(&w, d->strategy_table_version);
    arr_jsonw_key(&w, "arm");
    arr_jsonw_string(&w, d->arm);
    if (d->experiment) {
        arr_jsonw_key(&w, "experiment");
        arr_jsonw_string(&w, d->experiment);
    }
    arr_jsonw_key(&w, "cause_event_type");
    arr_jsonw_string(&w, cause_type);
    arr_jsonw_key(&w, "days_past_due");
    arr_jsonw_int(&w, d->days_past_due);
    arr_jsonw_key(&w, "status");
    arr_jsonw_string(&w, scoring_status_name(d->status));
    arr_jsonw_object_end(&w);
    arr_err e = arr_jsonw_finish(&w);
    if (e) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return e;
}
