/* arr_deadletter: turns a message a service could not accept into a deadletter.recorded
 * event for the service's dead-letter topic, keeping the original bytes and the reason.
 * The dead letter's event id is derived from (topic, partition, offset), so recording the
 * same bad message twice (after a crash) yields the same id. */
#ifndef ARREARS_DEADLETTER_H
#define ARREARS_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/envelope.h"
#include "arrears/err.h"
#include "arrears/kafka.h"

typedef struct arr_producer_id {
    const char *service;  /* borrowed */
    const char *version;  /* borrowed */
    const char *instance; /* borrowed */
} arr_producer_id;

/* Builds the dead-letter envelope for msg. The tenant and account come from the original key
 * when it is a valid "<tenant>/<account>", else "unknown"/"unknown". *value (malloc'ed, caller
 * frees) is the encoded envelope; key receives its Kafka key; event_id its id. */
arr_err arr_deadletter_build(const arr_kafka_msg *msg, const char *reason,
                             const arr_producer_id *who, int64_t now_ms, char **value,
                             size_t *value_len, char key[ARR_KEY_MAX],
                             char event_id[ARR_UUID_STRLEN]);

#endif
