/* ingest_batch_api: POST /v1/accounts:batch, for billing systems that push instead of
 * exporting files. Body: {"tenant": T, "as_of": "YYYY-MM-DD" (optional), "records": [ {...},
 * ... ]} with arrears' field names (amounts as decimal text, dates as YYYY-MM-DD). The caller
 * authenticates with "Authorization: Bearer <token>", the tenant's token from
 * ARR_INGEST_TOKENS ("tenant:token,tenant:token"). The batch goes through the same validator
 * and importer as a file; the same body posted again is the same import and changes nothing.
 * The response lists the counts and, per rejected record, its index, field and reason. */
#ifndef ARREARS_INGEST_BATCH_API_H
#define ARREARS_INGEST_BATCH_API_H

#include "arrears/http.h"
#include "arrears/service.h"

#define INGEST_BATCH_MAX_RECORDS 10000

typedef struct ingest_batch_api ingest_batch_api;

/* Opens the API's own connections (it runs on the HTTP thread) and registers the route on
 * s->http, which must not be started yet. tokens: the ARR_INGEST_TOKENS text (copied). */
arr_err ingest_batch_api_new(arr_svc *s, const char *tokens, ingest_batch_api **out, char *why,
                             size_t whylen);
void ingest_batch_api_free(ingest_batch_api *api);

#endif
