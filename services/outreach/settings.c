#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define FILES_MAX 32

static const char *const text_fields[] = {
    "creditor",     "collector",    "collector_address", "agent_phone",
    "payment_link", "opt_out_link", "dispute_link",      NULL};

struct outreach_settings {
    json_t *doc; /* owns every string the tenants point to */
    outreach_tenant tenants[OUTREACH_SETTINGS_TENANTS_MAX];
    int ntenants;
    /* each file loaded once */
    char *cadence_path[FILES_MAX];
    outreach_cadence_policy *cadence[FILES_MAX];
    int ncadence;
    char *template_path[FILES_MAX];
    outreach_template_set *templates[FILES_MAX];
    int ntemplates;
};

void outreach_settings_free(outreach_settings *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ncadence; i++) {
        free(s->cadence_path[i]);
        outreach_cadence_policy_free(s->cadence[i]);
    }
    for (int i = 0; i < s->ntemplates; i++) {
        free(s->template_path[i]);
        outreach_template_set_free(s->templates[i]);
    }
    json_decref(s->doc);
    free(s);
}

static arr_err load_templates(outreach_settings *s, const char *path,
                              const outreach_template_set **out, char *why, size_t whylen)
{
    for (int i = 0; i < s->ntemplates; i++) {
        if (strcmp(s->template_path[i], path) == 0) {
            *out = s->templates[i];
            return ARR_OK;
        }
    }
    if (s->ntemplates == FILES_MAX) {
        snprintf(why, whylen, "outreach settings: more than %d template files", FILES_MAX);
        return ARR_ECONFIG;
    }
    outreach_template_set *set = NULL;
    arr_err e = outreach_template_set_load(path, &set, why, whylen);
    if (e)
        return e;
    s->template_path[s->ntemplates] = strdup(path);
    s->templates[s->ntemplates++] = set;
    *out = set;
    return s->template_path[s->ntemplates - 1] ? ARR_OK : ARR_ENOMEM;
}

static arr_err load_cadence(outreach_settings *s, const char *path,
                            const outreach_template_set *templates,
                            const outreach_cadence_policy **out, char *why, size_t whylen)
{
    /* The same policy file is checked against each template set that uses it. */
    for (int i = 0; i < s->ncadence; i++) {
        if (strcmp(s->cadence_path[i], path) == 0) {
            outreach_cadence_policy *check = NULL;
            arr_err e = outreach_cadence_policy_load(path, templates, &check, why, whylen);
            outreach_cadence_policy_free(check);
            if (e)
                return e;
            *out = s->cadence[i];
            return ARR_OK;
        }
    }
    if (s->ncadence == FILES_MAX) {
        snprintf(why, whylen, "outreach settings: more than %d cadence files", FILES_MAX);
        return ARR_ECONFIG;
    }
    outreach_cadence_policy *p = NULL;
    arr_err e = outreach_cadence_policy_load(path, templates, &p, why, whylen);
    if (e)
        return e;
    s->cadence_path[s->ncadence] = strdup(path);
    s->cadence[s->ncadence++] = p;
    *out = p;
    return s->cadence_path[s->ncadence - 1] ? ARR_OK : ARR_ENOMEM;
}

static const char *field(json_t *entry, json_t *defaults, const char *key)
{
    const char *v = json_string_value(json_object_get(entry, key));
    return v ? v : json_string_value(json_object_get(defaults, key));
}

static int known_key(const char *k)
{
    if (k[0] == '_' || strcmp(k, "cadence") == 0 || strcmp(k, "templates") == 0)
        return 1;
    for (int i = 0; text_fields[i]; i++) {
        if (strcmp(k, text_fields[i]) == 0)
            return 1;
    }
    return 0;
}

static arr_err check_entry(const char *name, json_t *entry, char *why, size_t whylen)
{
    const char *k;
    json_t *v;
    if (!json_is_object(entry)) {
        snprintf(why, whylen, "outreach settings: tenants.%s: must be an object", name);
        return ARR_ECONFIG;
    }
    json_object_foreach(entry, k, v)
    {
        if (!known_key(k)) {
            snprintf(why, whylen, "outreach settings: tenants.%s.%s: unknown field", name, k);
            return ARR_ECONFIG;
        }
        if (k[0] == '_')
            continue; /* a comment, whatever it holds */
        if (!json_is_string(v)) {
            snprintf(why, whylen, "outreach settings: tenants.%s.%s: must be a string", name, k);
            return ARR_ECONFIG;
        }
        if (strstr(k, "_link") && strncmp(json_string_value(v), "https://", 8) != 0 &&
            strncmp(json_string_value(v), "http://", 7) != 0) {
            snprintf(why, whylen, "outreach settings: tenants.%s.%s: must be an http(s) URL", name,
                     k);
            return ARR_ECONFIG;
        }
    }
    return ARR_OK;
}

static arr_err add_tenant(outreach_settings *s, const char *dir, const char *name, json_t *entry,
                          json_t *defaults, char *why, size_t whylen)
{
    if (s->ntenants == OUTREACH_SETTINGS_TENANTS_MAX) {
        snprintf(why, whylen, "outreach settings: more than %d tenants",
                 OUTREACH_SETTINGS_TENANTS_MAX);
        return ARR_ECONFIG;
    }
    outreach_tenant *t = &s->tenants[s->ntenants];
    memset(t, 0, sizeof(*t));
    if (snprintf(t->tenant, sizeof(t->tenant), "%s", name) >= (int)sizeof(t->tenant)) {
        snprintf(why, whylen, "outreach settings: tenant name too long");
        return ARR_ECONFIG;
    }
    const char *cad = field(entry, defaults, "cadence"), *tpl = field(entry, defaults, "templates");
    const char **dst[] = {&t->creditor,    &t->collector,    &t->collector_address,
                          &t->agent_phone, &t->payment_link, &t->opt_out_link,
                          &t->dispute_link};
    for (int i = 0; text_fields[i]; i++) {
        *dst[i] = field(entry, defaults, text_fields[i]);
        if (!*dst[i]) {
            snprintf(why, whylen, "outreach settings: tenants.%s.%s: required (here or in \"*\")",
                     name, text_fields[i]);
            return ARR_ECONFIG;
        }
    }
    if (!cad || !tpl) {
        snprintf(why, whylen, "outreach settings: tenants.%s: cadence and templates are required",
                 name);
        return ARR_ECONFIG;
    }
    char path[2048];
    const char *what = "templates";
    snprintf(path, sizeof(path), "%s/%s", dir, tpl);
    arr_err e = load_templates(s, path, &t->templates, why, whylen);
    if (!e) {
        what = "cadence";
        snprintf(path, sizeof(path), "%s/%s", dir, cad);
        e = load_cadence(s, path, t->templates, &t->cadence, why, whylen);
    }
    if (!e) {
        s->ntenants++;
    } else if (whylen) {
        /* the file's own error, under the tenant and field that named the file */
        char inner[1024];
        snprintf(inner, sizeof(inner), "%s", why);
        snprintf(why, whylen, "outreach settings: tenants.%s.%s: %s", name, what, inner);
    }
    return e;
}

arr_err outreach_settings_load(const char *path, outreach_settings **out, char *why, size_t whylen)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (json_error_code(&jerr) == json_error_cannot_open_file) {
            snprintf(why, whylen, "outreach settings %s: %s", path, jerr.text);
            return ARR_EIO;
        }
        snprintf(why, whylen, "outreach settings %s: line %d: %s", path, jerr.line, jerr.text);
        return ARR_ECONFIG;
    }
    outreach_settings *s = calloc(1, sizeof(*s));
    if (!s) {
        json_decref(doc);
        return ARR_ENOMEM;
    }
    s->doc = doc;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    json_t *tenants = json_object_get(doc, "tenants");
    json_t *defaults = json_object_get(tenants, "*");
    arr_err e = ARR_OK;
    if (!json_is_string(json_object_get(doc, "format")) ||
        strcmp(json_string_value(json_object_get(doc, "format")), "arrears-outreach-tenants-1") !=
            0) {
        snprintf(why, whylen, "outreach settings %s: format must be arrears-outreach-tenants-1",
                 path);
        e = ARR_ECONFIG;
    } else if (!json_is_object(defaults)) {
        snprintf(why, whylen, "outreach settings %s: tenants.\"*\" is required", path);
        e = ARR_ECONFIG;
    }
    const char *name;
    json_t *entry;
    if (!e) {
        json_object_foreach(doc, name, entry)
        {
            if (name[0] != '_' && strcmp(name, "format") != 0 && strcmp(name, "tenants") != 0) {
                snprintf(why, whylen, "outreach settings %s: %s: unknown field", path, name);
                e = ARR_ECONFIG;
                break;
            }
        }
    }
    if (!e) {
        json_object_foreach(tenants, name, entry)
        {
            if (name[0] == '_')
                continue;
            e = check_entry(name, entry, why, whylen);
            if (!e)
                e = add_tenant(s, dir, name, entry, defaults, why, whylen);
            if (e)
                break;
        }
    }
    if (e) {
        outreach_settings_free(s);
        return e;
    }
    *out = s;
    return ARR_OK;
}

const outreach_tenant *outreach_settings_tenant(const outreach_settings *s, const char *tenant)
{
    const outreach_tenant *def = NULL;
    for (int i = 0; i < s->ntenants; i++) {
        if (strcmp(s->tenants[i].tenant, tenant) == 0)
            return &s->tenants[i];
        if (strcmp(s->tenants[i].tenant, "*") == 0)
            def = &s->tenants[i];
    }
    return def;
}

static int put_encoded(const char *v, char *out, size_t outlen, size_t *used)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (*used + need >= outlen)
            return -1;
        if (plain) {
            out[(*used)++] = (char)*p;
        } else {
            out[(*used)++] = '%';
            out[(*used)++] = hex[*p >> 4];
            out[(*used)++] = hex[*p & 15];
        }
    }
    return 0;
}

arr_err outreach_settings_link(const char *pattern, const char *tenant, const char *account,
                               char *out, size_t outlen)
{
    size_t used = 0;
    for (const char *p = pattern; *p;) {
        int rc = 0;
        if (strncmp(p, "{tenant}", 8) == 0) {
            rc = put_encoded(tenant, out, outlen, &used);
            p += 8;
        } else if (strncmp(p, "{account}", 9) == 0) {
            rc = put_encoded(account, out, outlen, &used);
            p += 9;
        } else if (used + 1 < outlen) {
            out[used++] = *p++;
        } else {
            rc = -1;
        }
        if (rc)
            return ARR_ELIMIT;
    }
    if (used >= outlen)
        return ARR_ELIMIT;
    out[used] = '\0';
    return ARR_OK;
}
