/* arr_config: service configuration from a file and the environment.
 *
 * The file holds KEY=VALUE lines (# comments, blank lines, optional surrounding quotes on
 * the value). Environment variables of the same name override the file. Keys are upper
 * case with the ARR_ prefix, e.g. ARR_KAFKA_BROKERS. Getters validate and return a clear
 * message naming the key and the reason (errbuf), so a service can refuse to start. */
#ifndef ARREARS_CONFIG_H
#define ARREARS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

typedef struct arr_config arr_config;

/* path may be NULL (environment only). A missing file is ARR_ENOTFOUND; a malformed line is
 * ARR_ECONFIG with "file:line: reason" in errbuf. *out is owned by the caller. */
arr_err arr_config_load(const char *path, arr_config **out, char *errbuf, size_t errlen);
void arr_config_free(arr_config *cfg);

/* Set or override a value (tests, command-line flags). Copies key and value. */
arr_err arr_config_set(arr_config *cfg, const char *key, const char *value);

/* Returned strings are owned by cfg and valid until arr_config_free. When the key is absent:
 * def is returned if non-NULL, else ARR_ECONFIG ("ARR_X is required"). */
arr_err arr_config_str(const arr_config *cfg, const char *key, const char *def, const char **out,
                       char *errbuf, size_t errlen);
/* Integer in [min, max]; def used when absent. Rejects trailing garbage and overflow. */
arr_err arr_config_int(const arr_config *cfg, const char *key, int64_t def, int64_t min,
                       int64_t max, int64_t *out, char *errbuf, size_t errlen);
/* true/false/1/0/yes/no/on/off. */
arr_err arr_config_bool(const arr_config *cfg, const char *key, int def, int *out, char *errbuf,
                        size_t errlen);

#endif
