#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrears/catalog.h"

#define PROTO ARR_SOURCE_DIR "/proto"
#define DAYS_MS(d) ((int64_t)(d)*86400000LL)

static arr_catalog *load_real(void)
{
    arr_catalog *cat = NULL;
    char err[512] = "";
    cr_assert_eq(arr_catalog_load(PROTO "/topics.json", &cat, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_not_null(cat);
    return cat;
}

static size_t count_types(const arr_topic_spec *t)
{
    size_t n = 0;
    while (t->event_types[n])
        n++;
    return n;
}

static void assert_types(const arr_catalog *cat, const char *topic, const char *const *want,
                         size_t n)
{
    const arr_topic_spec *t = arr_catalog_find(cat, topic);
    cr_assert_not_null(t, "missing topic %s", topic);
    cr_assert_eq(count_types(t), n, "%s carries %zu event types", topic, count_types(t));
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(t->event_types[i], want[i], "%s type %zu", topic, i);
}

Test(catalog, real_catalogue_has_the_planned_topics)
{
    arr_catalog *cat = load_real();
    cr_assert_eq(cat->n_topics, 13);
    static const char *const accounts[] = {"account.placed", "account.updated", "account.closed"};
    static const char *const outreach[] = {"outreach.planned",    "outreach.sent",
                                           "outreach.delivered",  "outreach.deferred",
                                           "outreach.suppressed", "outreach.failed"};
    static const char *const payments[] = {"payment.applied",        "payment.reversed",
                                           "payment.settled",        "payment.unmatched",
                                           "plan.instalment_missed", "promise.broken"};
    assert_types(cat, "arrears.accounts", accounts, 3);
    assert_types(cat, "arrears.outreach.events", outreach, 6);
    assert_types(cat, "arrears.payments.events", payments, 6);
    assert_types(cat, "arrears.ingest.submissions", (const char *const[]){"account.submitted"}, 1);
    assert_types(cat, "arrears.scores", (const char *const[]){"score.computed"}, 1);
    assert_types(cat, "arrears.outreach.replies", (const char *const[]){"reply.received"}, 1);
    assert_types(cat, "arrears.outreach.callbacks",
                 (const char *const[]){"provider.status", "provider.status_matched",
                                       "provider.inbound"},
                 3);
    assert_types(cat, "arrears.payments.inbound", (const char *const[]){"payment.received"}, 1);
    assert_types(cat, "arrears.clock", (const char *const[]){"clock.day_started"}, 1);
    cr_assert_str_eq(arr_catalog_find(cat, "arrears.accounts")->owner, "ingest");
    cr_assert_str_eq(arr_catalog_find(cat, "arrears.scores")->owner, "scoring");
    cr_assert_str_eq(arr_catalog_find(cat, "arrears.outreach.events")->owner, "outreach");
    cr_assert_str_eq(arr_catalog_find(cat, "arrears.payments.events")->owner, "reconciliation");
    cr_assert_null(arr_catalog_find(cat, "arrears.nope"));
    cr_assert_null(arr_catalog_find(cat, NULL));
    arr_catalog_free(cat);
}

Test(catalog, partitions_retention_and_dead_letters)
{
    arr_catalog *cat = load_real();
    for (size_t i = 0; i < cat->n_topics; i++) {
        const arr_topic_spec *t = &cat->topics[i];
        cr_assert_eq(t->partitions, 12, "%s", t->name);
        cr_assert_eq(t->replication, 1, "%s", t->name);
        cr_assert_str_eq(t->cleanup_policy, "delete", "%s", t->name);
        int is_dlq = strstr(t->name, ".dlq") != NULL;
        cr_assert_eq(t->dead_letter, is_dlq, "%s", t->name);
        if (is_dlq) {
            cr_assert_eq(count_types(t), 1);
            cr_assert_str_eq(t->event_types[0], "deadletter.recorded", "%s", t->name);
        }
        /* Regulation F 1006.100: three years of records; only raw submissions are shorter. */
        int64_t want =
            strcmp(t->name, "arrears.ingest.submissions") == 0 ? DAYS_MS(7) : DAYS_MS(1100);
        cr_assert_eq(t->retention_ms, want, "%s", t->name);
    }
    static const char *const services[] = {"ingest", "scoring", "outreach", "reconciliation"};
    for (size_t i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "arrears.%s.dlq", services[i]);
        const arr_topic_spec *t = arr_catalog_find(cat, name);
        cr_assert_not_null(t, "missing %s", name);
        cr_assert_str_eq(t->owner, services[i]);
    }
    arr_catalog_free(cat);
}

static void assert_schema_file(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(doc, "%s: %s at line %d", path, jerr.text, jerr.line);
    cr_assert(json_is_object(doc), "%s", path);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "$schema")),
                     "https://json-schema.org/draft/2020-12/schema", "%s", path);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "type")), "object", "%s", path);
    json_decref(doc);
}

Test(catalog, every_event_type_has_a_schema)
{
    arr_catalog *cat = load_real();
    for (size_t i = 0; i < cat->n_topics; i++) {
        for (char **ty = cat->topics[i].event_types; *ty; ty++) {
            char path[512];
            snprintf(path, sizeof path, PROTO "/schemas/%s.schema.json", *ty);
            cr_assert_eq(access(path, R_OK), 0, "no schema for %s: %s", *ty, path);
            assert_schema_file(path);
        }
    }
    assert_schema_file(PROTO "/envelope.schema.json");
    arr_catalog_free(cat);
}

static int catalogued(const arr_catalog *cat, const char *type)
{
    for (size_t i = 0; i < cat->n_topics; i++)
        for (char **ty = cat->topics[i].event_types; *ty; ty++)
            if (strcmp(*ty, type) == 0)
                return 1;
    return 0;
}

Test(catalog, every_schema_file_parses_and_belongs_to_a_topic)
{
    arr_catalog *cat = load_real();
    DIR *d = opendir(PROTO "/schemas");
    cr_assert_not_null(d);
    size_t seen = 0;
    const char *suffix = ".schema.json";
    for (struct dirent *de; (de = readdir(d));) {
        size_t n = strlen(de->d_name), sl = strlen(suffix);
        if (de->d_name[0] == '.')
            continue;
        cr_assert(n > sl && strcmp(de->d_name + n - sl, suffix) == 0, "stray file %s", de->d_name);
        char type[256], path[512];
        snprintf(type, sizeof type, "%.*s", (int)(n - sl), de->d_name);
        cr_assert(catalogued(cat, type), "schema %s names no catalogued event type", type);
        snprintf(path, sizeof path, PROTO "/schemas/%s", de->d_name);
        assert_schema_file(path);
        seen++;
    }
    closedir(d);
    cr_assert_eq(seen, 24);
    arr_catalog_free(cat);
}

/* ---- strictness, on small catalogues written to temporary files */

#define TOPIC_FIELDS                                                                               \
    "\"partitions\":3,\"replication\":1,\"retention_ms\":1000,\"cleanup_policy\":\"delete\","      \
    "\"owner\":\"ingest\",\"dead_letter\":false,\"event_types\":[\"a.b\"],\"description\":\"d\","  \
    "\"consumers\":[\"scoring\"]"
#define TOPIC(name) "{\"name\":\"" name "\"," TOPIC_FIELDS "}"
#define CAT(topics) "{\"version\":1,\"topics\":[" topics "]}"

static arr_err load_text(const char *text, arr_catalog **cat, char *err, size_t errlen)
{
    char path[] = "/tmp/arr_catalog_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    arr_err e = arr_catalog_load(path, cat, err, errlen);
    unlink(path);
    return e;
}

Test(catalog, minimal_catalogue_loads)
{
    arr_catalog *cat = NULL;
    char err[256] = "";
    cr_assert_eq(load_text(CAT(TOPIC("t1") "," TOPIC("t2")), &cat, err, sizeof err), ARR_OK, "%s",
                 err);
    cr_assert_eq(cat->n_topics, 2);
    cr_assert_eq(cat->topics[1].partitions, 3);
    cr_assert_eq(cat->topics[1].retention_ms, 1000);
    cr_assert_str_eq(cat->topics[1].event_types[0], "a.b");
    cr_assert_null(cat->topics[1].event_types[1]);
    arr_catalog_free(cat);
}

typedef struct bad_catalog {
    const char *name;
    const char *text;
    const char *reason;
} bad_catalog;

static const bad_catalog bad_catalogs[] = {
    {"not JSON", "{\"version\":1,", "not JSON"},
    {"duplicate key", "{\"version\":1,\"version\":1,\"topics\":[" TOPIC("t") "]}",
     "duplicate object key"},
    {"unknown top-level field", "{\"version\":1,\"extra\":0,\"topics\":[" TOPIC("t") "]}",
     "field extra: unknown field"},
    {"unsupported version", "{\"version\":2,\"topics\":[" TOPIC("t") "]}",
     "field version: must be 1"},
    {"no topics", CAT(""), "field topics: must be a non-empty array"},
    {"unknown topic field", CAT("{\"name\":\"t\",\"x\":1," TOPIC_FIELDS "}"),
     "topics[0] field x: unknown field"},
    {"missing field", CAT("{" TOPIC_FIELDS "}"), "topics[0] field name: missing"},
    {"bad name", CAT(TOPIC("Bad Name")), "topics[0] field name: must be"},
    {"duplicate topic", CAT(TOPIC("t") "," TOPIC("t")), "topics[1] field name: t appears twice"},
    {"zero partitions",
     CAT("{\"name\":\"t\",\"partitions\":0,\"replication\":1,\"retention_ms\":1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\"],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "topics[0] field partitions: must be an integer"},
    {"zero retention",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":0,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\"],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "topics[0] field retention_ms"},
    {"bad cleanup policy",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"keep\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\"],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "topics[0] field cleanup_policy"},
    {"dead_letter not boolean",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":0,"
         "\"event_types\":[\"a.b\"],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "topics[0] field dead_letter"},
    {"bad event type",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\",\"nodot\"],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "topics[0] field event_types: entry 1"},
    {"repeated event type",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\",\"a.b\"],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "repeats a.b"},
    {"empty event types",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[],\"description\":\"d\",\"consumers\":[\"scoring\"]}"),
     "topics[0] field event_types"},
    {"empty description",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\"],\"description\":\"\",\"consumers\":[]}"),
     "topics[0] field description"},
    {"consumer not a service name",
     CAT("{\"name\":\"t\",\"partitions\":1,\"replication\":1,\"retention_ms\":-1,"
         "\"cleanup_policy\":\"delete\",\"owner\":\"o\",\"dead_letter\":false,"
         "\"event_types\":[\"a.b\"],\"description\":\"d\",\"consumers\":[\"Bad Name\"]}"),
     "topics[0] field consumers"},
};

Test(catalog, strict_loading_names_the_problem)
{
    for (size_t i = 0; i < sizeof bad_catalogs / sizeof bad_catalogs[0]; i++) {
        const bad_catalog *c = &bad_catalogs[i];
        arr_catalog *cat = (arr_catalog *)0x1;
        char err[512] = "";
        arr_err e = load_text(c->text, &cat, err, sizeof err);
        cr_expect_eq(e, ARR_EDECODE, "%s: got %d (%s)", c->name, e, err);
        cr_expect_not_null(strstr(err, c->reason), "%s: want \"%s\" in \"%s\"", c->name, c->reason,
                           err);
        cr_expect_eq(cat, (arr_catalog *)0x1, "%s: out written on failure", c->name);
    }
}

Test(catalog, missing_file_is_not_found)
{
    arr_catalog *cat = NULL;
    char err[256] = "";
    cr_assert_eq(arr_catalog_load("/nonexistent/topics.json", &cat, err, sizeof err),
                 ARR_ENOTFOUND);
    cr_assert_null(cat);
    cr_assert_not_null(strstr(err, "/nonexistent/topics.json"), "%s", err);
    arr_catalog_free(NULL);
}
