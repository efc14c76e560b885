#include "batch_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "arrears/secrets.h"
#include "events.h"
#include "importer.h"
#include "reader.h"

#define RECORD_BUF (64 * 1024)

struct ingest_batch_api {
    arr_svc *svc;       /* borrowed: clock, logger, producer identity */
    arr_secrets tokens; /* ARR_INGEST_TOKENS */
    arr_pg *pg;         /* the HTTP thread's own connections */
    arr_kafka_producer *producer;
    arr_redis *redis;
    ingest_mapping *mapping;
    char *record_buf;
    const char *topic; /* ARR_TOPIC_ACCOUNTS, else the service's arrears.accounts (in
                        * ARR_TOPIC_PREFIX's namespace); owned by the service */
};

static void respond_error(int *status, const char **ctype, arr_buf *body, int code,
                          const char *error)
{
    json_t *o = json_pack("{s:s}", "error", error);
    char *s = json_dumps(o, JSON_COMPACT);
    arr_buf_append(body, s, strlen(s));
    free(s);
    json_decref(o);
    *status = code;
    *ctype = "application/json";
}

/* Rejects of this import, from the table: they are what a caller re-posting gets, too. */
static json_t *rejects_of(ingest_batch_api *api, const char *import_id)
{
    const char *params[] = {import_id};
    PGresult *res = NULL;
    json_t *list = json_array();
    char why[256];
    if (arr_pg_run(api->pg, "api_rejects", 1, params, &res, why, sizeof(why)) != ARR_OK)
        return list;
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, json_pack("{s:I, s:s?, s:s, s:s?, s:s}", "index",
                                              (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
                                              "account_id",
                                              PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
                                              "code", PQgetvalue(res, i, 2), "field",
                                              PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
                                              "detail", PQgetvalue(res, i, 4)));
    PQclear(res);
    return list;
}

static json_t *result_json(ingest_batch_api *api, const ingest_import_stats *s)
{
    return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "import_id",
                     s->import_id, "already_imported", s->already_done, "read", (json_int_t)s->read,
                     "accepted", (json_int_t)s->accepted, "rejected", (json_int_t)s->rejected,
                     "placed", (json_int_t)s->placed, "updated", (json_int_t)s->updated,
                     "unchanged", (json_int_t)s->unchanged, "warnings", (json_int_t)s->warnings,
                     "rejects", rejects_of(api, s->import_id));
}

/* Each element goes through the same importer as a file line, its index standing for the
 * line, so rejects name the record by its position in the batch. */
static arr_err import_records(ingest_batch_api *api, ingest_import *imp, json_t *records, char *why,
                              size_t whylen)
{
    size_t i;
    json_t *rec;
    arr_err e = ARR_OK;
    json_array_foreach(records, i, rec)
    {
        ingest_raw raw;
        ingest_issue bad;
        memset(&raw, 0, sizeof(raw));
        arr_err re = json_is_object(rec) ? ingest_raw_from_json(rec, api->mapping, &raw, &bad,
                                                                api->record_buf, RECORD_BUF)
                                         : ARR_EINVAL;
        if (!json_is_object(rec)) {
            bad = (ingest_issue){.code = "bad_row"};
            snprintf(bad.detail, sizeof(bad.detail), "a record must be a JSON object");
        }
        raw.line = (long)i + 1;
        char *text = json_dumps(rec, JSON_COMPACT | JSON_ENCODE_ANY);
        e = ingest_import_add(imp, &raw, text ? text : "", re ? &bad : NULL, why, whylen);
        free(text);
        if (e)
            return e;
    }
    return ingest_import_finish(imp, why, whylen);
}

static void handle(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                   arr_buf *body)
{
    ingest_batch_api *api = opaque;
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *tenant = NULL, *as_of = NULL;
    json_t *records = NULL;
    if (!doc ||
        json_unpack_ex(doc, &jerr, JSON_STRICT, "{s:s, s?s, s:o}", "tenant", &tenant, "as_of",
                       &as_of, "records", &records) != 0 ||
        !json_is_array(records)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "body must be {\"tenant\", \"as_of\"?, \"records\": [...]}: %s",
                 jerr.text);
        respond_error(status, ctype, body, 400, msg);
        json_decref(doc);
        return;
    }
    if (!arr_secrets_bearer_ok(&api->tokens, tenant, req->authorization)) {
        respond_error(status, ctype, body, 401, "missing or wrong bearer token for this tenant");
        json_decref(doc);
        return;
    }
    if (json_array_size(records) > INGEST_BATCH_MAX_RECORDS) {
        respond_error(status, ctype, body, 413, "more than 10000 records in one batch");
        json_decref(doc);
        return;
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    char sha[65], today[ARR_TIME_STRLEN], why[512] = "";
    crypto_hash_sha256(h, (const unsigned char *)req->body, req->body_len);
    sodium_bin2hex(sha, sizeof(sha), h, sizeof(h));
    int64_t now = arr_clock_now_ms(&api->svc->clock);
    arr_time_format(now, today, sizeof(today));
    today[10] = '\0';
    char source[80];
    snprintf(source, sizeof(source), "http:%.16s", sha);
    ingest_import_opts o = {.tenant = tenant,
                            .source = source,
                            .sha256 = sha,
                            .as_of = as_of ? as_of : today,
                            .now_ms = now,
                            .batch_rows = 5000,
                            .mapping = api->mapping,
                            .pg = api->pg,
                            .producer = api->producer,
                            .redis = api->redis,
                            .topic = api->topic,
                            .who = api->svc->who};
    ingest_import *imp = NULL;
    arr_err e = ingest_import_begin(&o, &imp, why, sizeof(why));
    if (!e && !ingest_import_stats_get(imp)->already_done)
        e = import_records(api, imp, records, why, sizeof(why));
    if (e) {
        arr_log_error(&api->svc->log, "batch import failed", "tenant", tenant, "reason", why, NULL);
        respond_error(status, ctype, body, e == ARR_EINVAL ? 400 : 503, why);
    } else {
        json_t *out = result_json(api, ingest_import_stats_get(imp));
        char *s = json_dumps(out, JSON_COMPACT);
        arr_buf_append(body, s, strlen(s));
        free(s);
        json_decref(out);
        *status = 200;
        *ctype = "application/json";
    }
    ingest_import_free(imp);
    json_decref(doc);
}

void ingest_batch_api_free(ingest_batch_api *api)
{
    if (!api)
        return;
    arr_pg_free(api->pg);
    arr_kafka_producer_free(api->producer);
    arr_redis_free(api->redis);
    ingest_mapping_free(api->mapping);
    free(api->record_buf);
    free(api);
}

arr_err ingest_batch_api_new(arr_svc *s, const char *tokens, ingest_batch_api **out, char *why,
                             size_t whylen)
{
    ingest_batch_api *api = calloc(1, sizeof(*api));
    if (!api || !(api->record_buf = malloc(RECORD_BUF))) {
        free(api);
        return ARR_ENOMEM;
    }
    api->svc = s;
    arr_err e = sodium_init() < 0
                    ? ARR_EFATAL
                    : arr_secrets_parse("ARR_INGEST_TOKENS", tokens, &api->tokens, why, whylen);
    if (!e)
        e = arr_config_str(s->cfg, "ARR_TOPIC_ACCOUNTS", arr_svc_topic(s, INGEST_TOPIC_ACCOUNTS),
                           &api->topic, why, whylen);
    if (!e)
        e = ingest_mapping_identity(INGEST_JSONL, &api->mapping);
    if (!e)
        e = arr_pg_connect(s->pg_conninfo, &api->pg, why, whylen);
    if (!e)
        e = arr_pg_prepare(api->pg, "api_rejects",
                           "SELECT line, account_id, reason_code, field, detail"
                           " FROM ingest.rejects WHERE import_id = $1 ORDER BY line",
                           1, why, whylen);
    if (!e)
        e = arr_kafka_producer_new(s->brokers, "arrears-ingest-http", NULL, &api->producer, why,
                                   whylen);
    if (!e)
        e = arr_redis_connect(s->redis_host, s->redis_port, 2000, &api->redis, why, whylen);
    if (!e)
        e = arr_http_route(s->http, "POST", "/v1/accounts:batch", handle, api);
    if (e) {
        ingest_batch_api_free(api);
        return e;
    }
    *out = api;
    return ARR_OK;
}
