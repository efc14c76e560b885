/* arr_catalog: the topic catalogue (proto/topics.json) loaded into memory.
 * The catalogue is the single source of truth for topic names, partition counts, retention,
 * cleanup policy and the event types each topic carries. */
#ifndef ARREARS_CATALOG_H
#define ARREARS_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

typedef struct arr_topic_spec {
    char *name;           /* owned by the catalogue */
    int partitions;       /* >= 1 */
    int replication;      /* >= 1 */
    int64_t retention_ms; /* -1 = forever */
    char *cleanup_policy; /* "delete", "compact" or "compact,delete" */
    char *owner;          /* the producing service */
    int dead_letter;      /* 1 for a dead-letter topic */
    char **event_types;   /* event types it carries, NULL-terminated */
    char **consumers;     /* services whose consumer groups read it, NULL-terminated */
} arr_topic_spec;

typedef struct arr_catalog {
    arr_topic_spec *topics; /* owned */
    size_t n_topics;
} arr_catalog;

/* Strict: unknown fields, duplicates, bad values are ARR_EDECODE with a reason. */
arr_err arr_catalog_load(const char *path, arr_catalog **out, char *errbuf, size_t errlen);
void arr_catalog_free(arr_catalog *cat);
/* Borrowed pointer into cat, or NULL. */
const arr_topic_spec *arr_catalog_find(const arr_catalog *cat, const char *name);

#endif
