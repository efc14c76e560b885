/* arr_kafka: the project's Kafka clients on top of librdkafka.
 *
 *   producer  idempotent (enable.idempotence, acks=all): no duplicates or reordering from
 *             retries; used by outbox relays and for dead letters outside transactions.
 *   consumer  a consumer-group member: range assignment (the same partition numbers of every
 *             topic, so one replica holds all of an account's events), manual commits only,
 *             read_committed, so replicas of a service share the partitions.
 *   txn       consume-transform-produce: output messages and the consumed offsets commit in
 *             one Kafka transaction (rd_kafka_send_offsets_to_transaction), so a crash at any
 *             moment neither loses nor duplicates an output.
 *
 * Errors map to arr_err: ARR_EKAFKA (retriable), ARR_EABORT (transaction aborted, the input
 * was rewound and will be processed again), ARR_EFATAL (fenced by a newer producer with the
 * same transactional id: stop the process). Other fatal producer errors are recovered by
 * rebuilding the transactional producer, then reported as ARR_EABORT.
 * Every object is owned by its creator and freed with its _free function. */
#ifndef ARREARS_KAFKA_H
#define ARREARS_KAFKA_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "arrears/err.h"

typedef struct arr_kafka_producer arr_kafka_producer;
typedef struct arr_kafka_consumer arr_kafka_consumer;
typedef struct arr_kafka_txn arr_kafka_txn;

/* One consumed message. Fields borrow from the underlying librdkafka message, valid until
 * arr_kafka_msg_release. */
typedef struct arr_kafka_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *key; /* may be NULL; not NUL-terminated */
    size_t key_len;
    const char *value; /* may be NULL; not NUL-terminated */
    size_t value_len;
    rd_kafka_message_t *rk; /* owned by the msg */
} arr_kafka_msg;

void arr_kafka_msg_release(arr_kafka_msg *m);

/* Extra librdkafka properties as "key=value" strings, NULL-terminated (may be NULL). */
arr_err arr_kafka_producer_new(const char *brokers, const char *client_id, const char *const *extra,
                               arr_kafka_producer **out, char *errbuf, size_t errlen);
/* Copies key and value. Blocks briefly when the local queue is full. */
arr_err arr_kafka_produce(arr_kafka_producer *p, const char *topic, const char *key, size_t key_len,
                          const void *value, size_t value_len);
/* Waits for every queued message. ARR_EKAFKA with the first delivery error when any message
 * since the previous flush failed (the counter is then reset). */
arr_err arr_kafka_producer_flush(arr_kafka_producer *p, int timeout_ms, char *errbuf,
                                 size_t errlen);
/* Borrowed handle (thread-safe), e.g. for metadata requests. */
rd_kafka_t *arr_kafka_producer_handle(arr_kafka_producer *p);
void arr_kafka_producer_free(arr_kafka_producer *p);

/* Joins group_id and subscribes to topics (NULL-terminated). */
arr_err arr_kafka_consumer_new(const char *brokers, const char *group_id, const char *client_id,
                               const char *const *topics, const char *const *extra,
                               arr_kafka_consumer **out, char *errbuf, size_t errlen);
/* ARR_OK with *out filled, ARR_ETIMEOUT when nothing came within timeout_ms, ARR_EKAFKA on a
 * consumer error (already logged to errbuf; the caller may go on). */
arr_err arr_kafka_consumer_poll(arr_kafka_consumer *c, int timeout_ms, arr_kafka_msg *out,
                                char *errbuf, size_t errlen);
/* Synchronously commits offset+1 of msg for its partition (outside transactions). */
arr_err arr_kafka_consumer_commit(arr_kafka_consumer *c, const arr_kafka_msg *msg, char *errbuf,
                                  size_t errlen);
/* Synchronously commits, for each partition among msgs[0..n), the highest offset + 1. */
arr_err arr_kafka_consumer_commit_msgs(arr_kafka_consumer *c, const arr_kafka_msg *msgs, int n,
                                       char *errbuf, size_t errlen);
/* Moves every assigned partition back to its committed offset (after an abort). */
arr_err arr_kafka_consumer_rewind(arr_kafka_consumer *c, char *errbuf, size_t errlen);
/* Number of partitions currently assigned to this member. */
int arr_kafka_consumer_assigned(arr_kafka_consumer *c);
rd_kafka_t *arr_kafka_consumer_handle(arr_kafka_consumer *c);
/* Leaves the group cleanly (commits nothing) and frees. */
void arr_kafka_consumer_free(arr_kafka_consumer *c);

/* Transactional producer bound to a consumer. transactional_id must be stable per replica
 * (e.g. "arrears-scoring-<instance>") so a restarted replica fences its previous life. */
arr_err arr_kafka_txn_new(arr_kafka_consumer *c, const char *brokers, const char *transactional_id,
                          arr_kafka_txn **out, char *errbuf, size_t errlen);

/* The transform: called once per consumed message inside an open transaction. It produces
 * its outputs (or a dead letter) with arr_kafka_txn_produce and returns ARR_OK; any other
 * return aborts the whole batch, which is then redelivered. */
typedef arr_err (*arr_kafka_transform_fn)(void *opaque, const arr_kafka_msg *in,
                                          arr_kafka_txn *txn);

/* Polls up to max_msgs messages (waiting at most timeout_ms for the first), runs fn on each
 * inside one transaction and commits outputs and offsets atomically. *processed counts the
 * committed inputs. ARR_ETIMEOUT when nothing arrived. */
arr_err arr_kafka_txn_process(arr_kafka_txn *t, int max_msgs, int timeout_ms,
                              arr_kafka_transform_fn fn, void *opaque, int *processed, char *errbuf,
                              size_t errlen);
/* The same, with before_commit (may be NULL) called once after the last transform and before
 * the commit, inside the transaction: where a batch's work is done at once (e.g. one
 * database transaction for all its messages) and its outputs produced. Its failure aborts
 * the batch like a transform's. */
typedef arr_err (*arr_kafka_before_commit_fn)(void *opaque, arr_kafka_txn *txn, char *errbuf,
                                              size_t errlen);
arr_err arr_kafka_txn_process_batch(arr_kafka_txn *t, int max_msgs, int timeout_ms,
                                    arr_kafka_transform_fn fn,
                                    arr_kafka_before_commit_fn before_commit, void *opaque,
                                    int *processed, char *errbuf, size_t errlen);
arr_err arr_kafka_txn_produce(arr_kafka_txn *t, const char *topic, const char *key, size_t key_len,
                              const void *value, size_t value_len);
/* The current transactional producer (replaced after a recovered fatal error): borrowed. */
rd_kafka_t *arr_kafka_txn_handle(arr_kafka_txn *t);
void arr_kafka_txn_free(arr_kafka_txn *t);

/* 0 when the cluster answers a metadata request within timeout_ms. */
arr_err arr_kafka_ping(rd_kafka_t *rk, int timeout_ms, char *errbuf, size_t errlen);

#endif
