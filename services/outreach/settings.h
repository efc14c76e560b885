/* outreach_settings: per-tenant outreach configuration (deploy/outreach/tenants.json): the
 * cadence policy and template set each tenant uses, and the names and links its messages
 * carry. "*" holds the defaults; a tenant entry overrides the fields it names. Files are
 * loaded once each (two tenants naming the same file share one policy), checked against each
 * other at load (every cadence step's template exists with the right channel and kind).
 *
 * Format: {"format": "arrears-outreach-tenants-1", "tenants": {"*": {...}, "<tenant>": {...}}}
 * with fields cadence, templates (paths relative to the settings file's folder), creditor,
 * collector, collector_address, agent_phone, payment_link, opt_out_link, dispute_link (http(s)
 * URLs; {tenant} and {account} are replaced, percent-encoded). Keys starting with "_" are
 * comments; any other unknown key is an error.
 *
 * Ownership: the settings own every policy, template set and string; immutable once loaded,
 * so any number of threads may read them. outreach_settings_free releases everything. */
#ifndef ARREARS_OUTREACH_SETTINGS_H
#define ARREARS_OUTREACH_SETTINGS_H

#include <stddef.h>
#include "arrears/err.h"
#include "cadence.h"
#include "template.h"

#define OUTREACH_SETTINGS_FILE_MAX (1u << 20)
#define OUTREACH_SETTINGS_TENANTS_MAX 64

typedef struct outreach_tenant {
    char tenant[65];                        /* "*" for the defaults */
    const outreach_cadence_policy *cadence; /* owned by the settings */
    const outreach_template_set *templates; /* owned by the settings */
    const char *creditor, *collector, *collector_address, *agent_phone;
    const char *payment_link, *opt_out_link, *dispute_link; /* patterns */
} outreach_tenant;

typedef struct outreach_settings outreach_settings;

/* ARR_EIO (unreadable), ARR_ECONFIG (invalid: why names the tenant and field, or the policy
 * or template file's own error), ARR_ENOMEM. */
arr_err outreach_settings_load(const char *path, outreach_settings **out, char *why, size_t whylen);
void outreach_settings_free(outreach_settings *s);

/* The tenant's settings, or the defaults ("*"). Never NULL for loaded settings. */
const outreach_tenant *outreach_settings_tenant(const outreach_settings *s, const char *tenant);

/* A link pattern with {tenant} and {account} replaced (percent-encoded). ARR_ELIMIT when out
 * is too small. */
arr_err outreach_settings_link(const char *pattern, const char *tenant, const char *account,
                               char *out, size_t outlen);

#endif
