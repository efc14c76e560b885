/* Helpers shared by the subcommands: flag values and the envelope of the events they send. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

const char *cli_arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 0; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    return def;
}

arr_err cli_envelope(arr_envelope *env, const char *tenant, const char *account, const char *type,
                     const char *id_name, int64_t at_ms, const char *service)
{
    arr_envelope_init(env);
    arr_err e = arr_uuid_named(tenant, id_name, env->event_id);
    snprintf(env->event_type, sizeof(env->event_type), "%s", type);
    env->schema_version = 1;
    snprintf(env->tenant, sizeof(env->tenant), "%s", tenant);
    snprintf(env->account, sizeof(env->account), "%s", account);
    env->event_time_ms = at_ms;
    env->produced_at_ms = at_ms;
    memcpy(env->correlation_id, env->event_id, ARR_UUID_STRLEN);
    snprintf(env->producer_service, sizeof(env->producer_service), "%s", service);
    snprintf(env->producer_version, sizeof(env->producer_version), "%s", ARR_VERSION);
    snprintf(env->producer_instance, sizeof(env->producer_instance), "arrears-cli");
    return e;
}

const char *cli_topic(cli_ctx *c, const char *topic, char *out, size_t cap)
{
    const char *prefix = "";
    char why[128];
    arr_config_str(c->cfg, "ARR_TOPIC_PREFIX", "", &prefix, why, sizeof(why));
    snprintf(out, cap, "%s%s", prefix, topic);
    return out;
}
