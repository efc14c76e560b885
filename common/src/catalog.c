#include "arrears/catalog.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/envelope.h"

/* The only catalogue layout this code knows; a new layout must bump it so that an old
 * binary refuses a catalogue it would misread. */
#define CATALOG_VERSION 1
#define TOPIC_NAME_MAX 249 /* Kafka's own limit */
#define REPLICATION_MAX 32767

enum {
    T_NAME,
    T_PARTITIONS,
    T_REPLICATION,
    T_RETENTION,
    T_CLEANUP,
    T_OWNER,
    T_DEAD_LETTER,
    T_EVENT_TYPES,
    T_DESCRIPTION,
    T_CONSUMERS,
    T__COUNT
};

static const char *const topic_fields[T__COUNT] = {
    "name",  "partitions",  "replication", "retention_ms", "cleanup_policy",
    "owner", "dead_letter", "event_types", "description",  "consumers",
};

static const char *const root_fields[2] = {"version", "topics"};

/* Where in the file we are, so every reason points at a topic. */
typedef struct ctx {
    size_t index;
    char *errbuf;
    size_t errlen;
} ctx;

__attribute__((format(printf, 3, 4))) static arr_err fail(char *errbuf, size_t errlen,
                                                          const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return ARR_EDECODE;
}

__attribute__((format(printf, 3, 4))) static arr_err topic_fail(const ctx *c, const char *field,
                                                                const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return fail(c->errbuf, c->errlen, "topics[%zu] field %s: %s", c->index, field, why);
}

static void free_topic(arr_topic_spec *t)
{
    free(t->name);
    free(t->cleanup_policy);
    free(t->owner);
    if (t->event_types)
        for (char **p = t->event_types; *p; p++)
            free(*p);
    free(t->event_types);
    if (t->consumers)
        for (char **p = t->consumers; *p; p++)
            free(*p);
    free(t->consumers);
    memset(t, 0, sizeof *t);
}

void arr_catalog_free(arr_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->n_topics; i++)
        free_topic(&cat->topics[i]);
    free(cat->topics);
    free(cat);
}

const arr_topic_spec *arr_catalog_find(const arr_catalog *cat, const char *name)
{
    if (!cat || !name)
        return NULL;
    for (size_t i = 0; i < cat->n_topics; i++)
        if (strcmp(cat->topics[i].name, name) == 0)
            return &cat->topics[i];
    return NULL;
}

static int topic_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TOPIC_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Owners are service names, which share the tenant alphabet. */
static int owner_valid(const char *s)
{
    return s[0] >= 'a' && s[0] <= 'z' && arr_tenant_valid(s);
}

static int cleanup_valid(const char *s)
{
    return strcmp(s, "delete") == 0 || strcmp(s, "compact") == 0 ||
           strcmp(s, "compact,delete") == 0;
}

static arr_err take_string(const ctx *c, json_t *v, const char *field, int (*valid)(const char *),
                           const char *rule, char **out)
{
    if (!json_is_string(v))
        return topic_fail(c, field, "must be a string");
    const char *s = json_string_value(v);
    if (!valid(s))
        return topic_fail(c, field, "%s", rule);
    if (out && !(*out = strdup(s)))
        return ARR_ENOMEM;
    return ARR_OK;
}

static arr_err take_int(const ctx *c, json_t *v, const char *field, json_int_t lo, json_int_t hi,
                        json_int_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return topic_fail(c, field, "must be an integer from %lld to %lld", (long long)lo,
                          (long long)hi);
    *out = json_integer_value(v);
    return ARR_OK;
}

static int any_text(const char *s)
{
    return s[0] != '\0';
}

static arr_err check_event_type(const ctx *c, json_t *list, size_t i)
{
    json_t *v = json_array_get(list, i);
    if (!json_is_string(v) || !arr_event_type_valid(json_string_value(v)))
        return topic_fail(c, "event_types", "entry %zu is not an event type", i);
    for (size_t j = 0; j < i; j++)
        if (json_equal(v, json_array_get(list, j)))
            return topic_fail(c, "event_types", "entry %zu repeats %s", i, json_string_value(v));
    return ARR_OK;
}

static arr_err take_event_types(const ctx *c, json_t *v, char ***out)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return topic_fail(c, "event_types", "must be a non-empty array of event types");
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        arr_err e = check_event_type(c, v, i);
        if (e)
            return e;
    }
    char **list = calloc(n + 1, sizeof *list);
    if (!list)
        return ARR_ENOMEM;
    *out = list;
    for (size_t i = 0; i < n; i++)
        if (!(list[i] = strdup(json_string_value(json_array_get(v, i)))))
            return ARR_ENOMEM;
    return ARR_OK;
}

/* The services whose consumer groups read the topic (possibly none, e.g. dead letters). */
static arr_err take_consumers(const ctx *c, json_t *v, char ***out)
{
    if (!json_is_array(v))
        return topic_fail(c, "consumers", "must be an array of service names");
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || !owner_valid(json_string_value(s)))
            return topic_fail(c, "consumers", "entry %zu is not a service name", i);
    }
    char **list = calloc(n + 1, sizeof *list);
    if (!list)
        return ARR_ENOMEM;
    *out = list;
    for (size_t i = 0; i < n; i++)
        if (!(list[i] = strdup(json_string_value(json_array_get(v, i)))))
            return ARR_ENOMEM;
    return ARR_OK;
}

/* json_unpack_ex only counts the keys left over; name the first one in the reason. */
static const char *first_unknown(json_t *obj, const char *const *known, size_t n)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        size_t i = 0;
        while (i < n && strcmp(key, known[i]) != 0)
            i++;
        if (i == n)
            return key;
    }
    return "?";
}

static arr_err unpack_topic(const ctx *c, json_t *obj, json_t **v)
{
    const char *const *k = topic_fields;
    json_error_t jerr;
    if (!json_is_object(obj))
        return fail(c->errbuf, c->errlen, "topics[%zu]: must be an object", c->index);
    if (json_unpack_ex(obj, &jerr, 0, "{s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o !}", k[0],
                       &v[0], k[1], &v[1], k[2], &v[2], k[3], &v[3], k[4], &v[4], k[5], &v[5], k[6],
                       &v[6], k[7], &v[7], k[8], &v[8], k[9], &v[9]) != 0)
        return topic_fail(c, first_unknown(obj, topic_fields, T__COUNT), "unknown field");
    for (size_t i = 0; i < T__COUNT; i++)
        if (!v[i])
            return topic_fail(c, topic_fields[i], "missing");
    return ARR_OK;
}

static arr_err take_numbers(const ctx *c, json_t **v, arr_topic_spec *t)
{
    json_int_t parts = 0, repl = 0, retention = 0;
    arr_err e = take_int(c, v[T_PARTITIONS], "partitions", 1, 100000, &parts);
    if (!e)
        e = take_int(c, v[T_REPLICATION], "replication", 1, REPLICATION_MAX, &repl);
    if (!e)
        e = take_int(c, v[T_RETENTION], "retention_ms", -1, INT64_MAX, &retention);
    if (!e && retention == 0)
        e = topic_fail(c, "retention_ms", "must be -1 (forever) or a positive number");
    if (e)
        return e;
    t->partitions = (int)parts;
    t->replication = (int)repl;
    t->retention_ms = retention;
    return ARR_OK;
}

static arr_err take_topic(const ctx *c, json_t *obj, arr_topic_spec *t)
{
    json_t *v[T__COUNT] = {NULL};
    arr_err e = unpack_topic(c, obj, v);
    if (!e)
        e = take_string(c, v[T_NAME], "name", topic_name_valid,
                        "must be 1 to 249 characters of [a-z0-9._-]", &t->name);
    if (!e)
        e = take_numbers(c, v, t);
    if (!e)
        e = take_string(c, v[T_CLEANUP], "cleanup_policy", cleanup_valid,
                        "must be \"delete\", \"compact\" or \"compact,delete\"",
                        &t->cleanup_policy);
    if (!e)
        e = take_string(c, v[T_OWNER], "owner", owner_valid, "must match [a-z][a-z0-9_-]{0,63}",
                        &t->owner);
    if (!e && !json_is_boolean(v[T_DEAD_LETTER]))
        e = topic_fail(c, "dead_letter", "must be true or false");
    if (!e)
        t->dead_letter = json_is_true(v[T_DEAD_LETTER]);
    if (!e)
        e = take_event_types(c, v[T_EVENT_TYPES], &t->event_types);
    if (!e)
        e = take_consumers(c, v[T_CONSUMERS], &t->consumers);
    if (!e)
        e = take_string(c, v[T_DESCRIPTION], "description", any_text, "must not be empty", NULL);
    return e;
}

static arr_err take_topics(json_t *list, arr_catalog *cat, char *errbuf, size_t errlen)
{
    if (!json_is_array(list) || json_array_size(list) == 0)
        return fail(errbuf, errlen, "field topics: must be a non-empty array");
    size_t n = json_array_size(list);
    if (!(cat->topics = calloc(n, sizeof *cat->topics)))
        return ARR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        ctx c = {i, errbuf, errlen};
        /* Counted before filling so that free releases a half-filled entry too. */
        cat->n_topics = i + 1;
        arr_err e = take_topic(&c, json_array_get(list, i), &cat->topics[i]);
        if (e)
            return e;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cat->topics[j].name, cat->topics[i].name) == 0)
                return topic_fail(&c, "name", "%s appears twice", cat->topics[i].name);
    }
    return ARR_OK;
}

static arr_err take_root(json_t *root, arr_catalog *cat, char *errbuf, size_t errlen)
{
    json_t *version = NULL, *topics = NULL;
    json_error_t jerr;
    if (!json_is_object(root))
        return fail(errbuf, errlen, "catalogue: must be a JSON object");
    if (json_unpack_ex(root, &jerr, 0, "{s?o, s?o !}", root_fields[0], &version, root_fields[1],
                       &topics) != 0)
        return fail(errbuf, errlen, "field %.64s: unknown field",
                    first_unknown(root, root_fields, 2));
    if (!json_is_integer(version) || json_integer_value(version) != CATALOG_VERSION)
        return fail(errbuf, errlen, "field version: must be %d", CATALOG_VERSION);
    return take_topics(topics, cat, errbuf, errlen);
}

static arr_err read_json(const char *path, json_t **out, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int err = errno;
        fail(errbuf, errlen, "%s: %s", path, strerror(err));
        return err == ENOENT ? ARR_ENOTFOUND : ARR_EIO;
    }
    json_error_t jerr;
    *out = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!*out)
        return fail(errbuf, errlen, "%s: not JSON: %s at line %d column %d", path, jerr.text,
                    jerr.line, jerr.column);
    return ARR_OK;
}

arr_err arr_catalog_load(const char *path, arr_catalog **out, char *errbuf, size_t errlen)
{
    if (!path || !out)
        return ARR_EINVAL;
    json_t *root;
    arr_err e = read_json(path, &root, errbuf, errlen);
    if (e)
        return e;
    arr_catalog *cat = calloc(1, sizeof *cat);
    if (!cat) {
        json_decref(root);
        return ARR_ENOMEM;
    }
    e = take_root(root, cat, errbuf, errlen);
    json_decref(root);
    if (e) {
        arr_catalog_free(cat);
        return e;
    }
    *out = cat;
    return ARR_OK;
}
