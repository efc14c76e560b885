/* arrears-audit: the recorder. It reads every topic of the catalogue and keeps every event in
 * PostgreSQL (audit.events, by event id), so that an account's whole story can be told from
 * one index (`arrears account history`), a service's decisions can be re-run on the inputs it
 * consumed (`arrears replay`), and retention can anonymise personal data while the decision
 * trail stays (`arrears retention`). Kafka keeps the same events for 1,100 days; this copy
 * is the one that can be queried, joined and anonymised.
 *
 * The story: join the consumer group on every topic; poll a batch; write it in one statement
 * (a message that is not an envelope is kept in audit.undecodable with why); commit the
 * offsets. A crash between the commit in PostgreSQL and the offsets' only brings the batch
 * again, and the event ids make the second write a no-op: each event is recorded once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arrears/catalog.h"
#include "arrears/service.h"
#include "store.h"

/* Every topic of proto/topics.json: checked against the catalogue at start (catalogue_covered). */
static const char *const topics[] = {"arrears.ingest.submissions",
                                     "arrears.accounts",
                                     "arrears.scores",
                                     "arrears.outreach.events",
                                     "arrears.outreach.replies",
                                     "arrears.outreach.callbacks",
                                     "arrears.payments.inbound",
                                     "arrears.payments.events",
                                     "arrears.clock",
                                     "arrears.ingest.dlq",
                                     "arrears.scoring.dlq",
                                     "arrears.outreach.dlq",
                                     "arrears.reconciliation.dlq",
                                     NULL};

static const arr_svc_spec spec = {
    .name = "audit",
    .default_http_port = 18085,
    /* Bigger batches, fewer round trips (13,000 events/s at 500, 20,700 at 5,000); the
       store writes a batch in parts past its byte cap, so memory stays bounded. */
    .default_batch_max = 5000,
    .topics = topics,
};

/* A topic of the catalogue that this list misses would never be recorded: refuse to start. */
static arr_err catalogue_covered(arr_svc *s, char *why, size_t whylen)
{
    const char *path = NULL;
    arr_catalog *cat = NULL;
    arr_err e = arr_config_str(s->cfg, "ARR_CATALOG", ARR_DEPLOY_DIR "/../proto/topics.json", &path,
                               why, whylen);
    e = e ? e : arr_catalog_load(path, &cat, why, whylen);
    for (size_t i = 0; !e && i < cat->n_topics; i++) {
        int found = 0;
        for (int k = 0; topics[k] && !found; k++)
            found = strcmp(topics[k], cat->topics[i].name) == 0;
        if (!found) {
            snprintf(why, whylen, "topic %s of %s is not recorded", cat->topics[i].name, path);
            e = ARR_EINVAL;
        }
    }
    arr_catalog_free(cat);
    return e;
}

/* One batch: poll, record, commit the offsets. ARR_ETIMEOUT when nothing came. */
static arr_err step(arr_svc *s, audit_store *st, char *why, size_t whylen)
{
    arr_kafka_msg *in = s->batch;
    int n = 0;
    while (n < s->batch_max &&
           arr_kafka_consumer_poll(s->consumer, n ? 0 : 500, &in[n], why, whylen) == ARR_OK)
        n++;
    if (!n)
        return ARR_ETIMEOUT;
    arr_metric_add(s->m_consumed, n);
    arr_err e = ARR_OK;
    long recorded = 0, undecodable = 0, r, u;
    for (int i = 0; !e && i < n; i++) {
        e = audit_store_add(st, &in[i]);
        if (e == ARR_ELIMIT && !(e = audit_store_flush(st, s->pg, &r, &u, why, whylen))) {
            recorded += r;
            undecodable += u;
            e = audit_store_add(st, &in[i]); /* alone it fits: messages are 1 MiB at most */
        }
    }
    if (!e && !(e = audit_store_flush(st, s->pg, &r, &u, why, whylen))) {
        recorded += r;
        undecodable += u;
    }
    if (!e) {
        arr_metric_add(s->m_published, recorded);
        arr_metric_add(s->m_duplicates, n - recorded - undecodable);
        arr_metric_add(s->m_dead, undecodable);
        e = arr_kafka_consumer_commit_msgs(s->consumer, in, n, why, whylen);
    }
    if (e && arr_kafka_consumer_rewind(s->consumer, why, whylen) != ARR_OK)
        e = ARR_EFATAL;
    for (int i = 0; i < n; i++)
        arr_kafka_msg_release(&in[i]);
    return e;
}

int main(int argc, char **argv)
{
    arr_svc svc;
    audit_store *st = NULL;
    char why[512] = "";
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    if (!e && (e = catalogue_covered(&svc, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "the catalogue has a topic this service does not read", why);
    if (!e && (e = audit_store_new(svc.topic_prefix, &st)) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot start", "out of memory");
    if (!e && (e = audit_store_prepare(svc.pg, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot prepare statements", why);
    while (!e && arr_svc_running(&svc)) {
        arr_err r = step(&svc, st, why, sizeof(why));
        if (r && r != ARR_ETIMEOUT) {
            if (arr_svc_failed(&svc, r, "batch not recorded", why))
                e = r;
            else
                sleep(1);
        }
    }
    audit_store_free(st);
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
