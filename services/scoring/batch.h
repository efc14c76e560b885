/* scoring_batch: one consumed batch of events, scored in one PostgreSQL transaction.
 *
 * Each event is claimed in scoring.inbox first. A fresh one is folded into its account's
 * feature state (scoring.accounts, loaded FOR UPDATE) and, when it is a scoring trigger,
 * scored by the engine: the score.computed message and its history row (scoring.scores,
 * with the model's input and the message itself) are written. An event claimed before (its
 * batch's Kafka transaction aborted after PostgreSQL had committed, or a zombie replica got
 * there first) is not folded again: its scores are read back from the history and produced
 * again unchanged. A clock.day_started event re-scores a chunk of its partition's open
 * accounts and, when more remain, names the next chunk in a continuation event.
 * A payment labels the account's earlier scores (paid_at), for training.
 *
 * So PostgreSQL commits first, then the caller produces the batch's messages in the same
 * Kafka transaction as the consumed offsets: whatever fails, the events come again and the
 * very same messages are produced, once, as a read_committed consumer sees them. */
#ifndef ARREARS_SCORING_BATCH_H
#define ARREARS_SCORING_BATCH_H

#include <stdint.h>
#include "arrears/buf.h"
#include "arrears/deadletter.h"
#include "arrears/envelope.h"
#include "arrears/kafka.h"
#include "arrears/pg.h"
#include "engine.h"

typedef struct scoring_batch scoring_batch;

/* One account whose state the batch changed or scored, for the cache once committed
 * (strings borrowed until the next reset). */
typedef struct scoring_scored {
    const char *key;    /* tenant/account */
    int probability_bp; /* -1: not scored in this batch (only its state changed) */
    const char *strategy, *segment, *arm; /* NULL when not scored */
    const char *status;
    const char *state; /* the encoded feature state */
} scoring_scored;

/* 1 when an event of this type is scored once folded (placements, updates, payments,
 * promises, replies), 0 for the rest (outreach.sent only folds; the clock re-scores). */
int scoring_triggers_score(const char *event_type);

arr_err scoring_batch_new(scoring_batch **out);
void scoring_batch_free(scoring_batch *b);
/* The topic namespace (ARR_TOPIC_PREFIX; "" in production) the accounts are recorded under: a
 * clock day re-scores only the accounts of its own namespace, so deployments (tests,
 * benchmarks) sharing a database do not re-score one another's. Copied; 63 bytes at most. */
void scoring_batch_set_namespace(scoring_batch *b, const char *ns);
/* Prepares the statements on pg (once per connection). */
arr_err scoring_batch_prepare(arr_pg *pg, char *why, size_t whylen);
/* Empties the batch for the next one. */
void scoring_batch_reset(scoring_batch *b);
/* Takes one decoded event (steals env->payload) and copies the message it came in. */
arr_err scoring_batch_add(scoring_batch *b, arr_envelope *env, const arr_kafka_msg *msg);
/* The work, in one PostgreSQL transaction on pg (committed on ARR_OK, rolled back
 * otherwise). Afterwards scoring_batch_messages gives what to produce. */
arr_err scoring_batch_run(scoring_batch *b, arr_pg *pg, const scoring_engine *engine,
                          const arr_producer_id *who, int64_t now_ms, char *why, size_t whylen);
/* The messages to produce, "key\tvalue\n" lines (borrowed), and how many. */
const arr_buf *scoring_batch_messages(const scoring_batch *b, int *n);
/* Continuations of a day's re-scoring for arrears.clock (a partition is re-scored
 * RESCORE_CHUNK accounts per transaction), "key\tvalue\n" lines (borrowed), and how many. */
const arr_buf *scoring_batch_continuations(const scoring_batch *b, int *n);
/* Dead letters for the scoring DLQ (events whose payload the account's state refused),
 * "key\tvalue\n" lines (borrowed), and how many. */
const arr_buf *scoring_batch_dead_letters(const scoring_batch *b, int *n);
/* The accounts changed or scored, for the cache: *n entries, borrowed until the next reset. */
const scoring_scored *scoring_batch_cached(scoring_batch *b, int *n);

#endif
