#include "arrears/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A config file is a handful of lines; anything bigger is a mistake (wrong path, binary). */
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_LINE_MAX 4096

/* One key/value pair, both strings in a single allocation: "KEY\0VALUE\0". */
struct kv {
    char *key;
    char *value;
};

/* Entries are only ever appended and lookups scan from the end, so the latest value wins
 * and a pointer handed out by a getter is never freed before arr_config_free. */
struct kv_list {
    struct kv *items;
    size_t n;
    size_t cap;
};

/* Copies of environment values. getenv() memory may be reused by a later setenv(), so
 * values are copied here to keep the "valid until arr_config_free" promise. Getters take a
 * const cfg, hence the cache lives behind a pointer and has its own lock. */
struct env_cache {
    pthread_mutex_t lock;
    struct kv_list list;
};

struct arr_config {
    struct kv_list file;   /* from the file, lowest precedence */
    struct kv_list set;    /* arr_config_set, highest precedence */
    struct env_cache *env; /* copies of getenv() results */
};

static void fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static bool key_valid(const char *key, size_t len)
{
    if (len == 0 || !(key[0] >= 'A' && key[0] <= 'Z'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static arr_err kv_list_add(struct kv_list *l, const char *key, size_t klen, const char *value,
                           size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct kv *p = realloc(l->items, cap * sizeof(*p));
        if (!p)
            return ARR_ENOMEM;
        l->items = p;
        l->cap = cap;
    }
    char *mem = malloc(klen + vlen + 2);
    if (!mem)
        return ARR_ENOMEM;
    memcpy(mem, key, klen);
    mem[klen] = '\0';
    memcpy(mem + klen + 1, value, vlen);
    mem[klen + 1 + vlen] = '\0';
    l->items[l->n].key = mem;
    l->items[l->n].value = mem + klen + 1;
    l->n++;
    return ARR_OK;
}

static const char *kv_list_find(const struct kv_list *l, const char *key)
{
    for (size_t i = l->n; i > 0; i--) {
        if (strcmp(l->items[i - 1].key, key) == 0)
            return l->items[i - 1].value;
    }
    return NULL;
}

static void kv_list_free(struct kv_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].key);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

/* Sets *out to a cfg-owned copy of the environment value of key, or NULL if unset. A value
 * already cached is reused so repeated reads do not grow the cache. */
static arr_err env_lookup(struct env_cache *env, const char *key, const char **out)
{
    arr_err e = ARR_OK;
    *out = NULL;
    pthread_mutex_lock(&env->lock);
    const char *v = getenv(key);
    if (v) {
        const char *cached = kv_list_find(&env->list, key);
        if (cached && strcmp(cached, v) == 0)
            *out = cached;
        else if ((e = kv_list_add(&env->list, key, strlen(key), v, strlen(v))) == ARR_OK)
            *out = env->list.items[env->list.n - 1].value;
    }
    pthread_mutex_unlock(&env->lock);
    return e;
}

/* Precedence: explicit overrides, then the environment, then the file. *out is NULL when
 * the key is set nowhere. */
static arr_err lookup(const arr_config *cfg, const char *key, const char **out, char *errbuf,
                      size_t errlen)
{
    *out = kv_list_find(&cfg->set, key);
    if (*out)
        return ARR_OK;
    if (env_lookup(cfg->env, key, out) != ARR_OK) {
        fail(errbuf, errlen, "%s: out of memory", key);
        return ARR_ENOMEM;
    }
    if (!*out)
        *out = kv_list_find(&cfg->file, key);
    return ARR_OK;
}

static const char *trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

struct line_ctx {
    const char *path;
    size_t lineno;
    char *errbuf;
    size_t errlen;
};

static arr_err parse_line(arr_config *cfg, const struct line_ctx *lc, const char *line, size_t len)
{
    line = trim(line, &len);
    if (len == 0 || line[0] == '#')
        return ARR_OK;
    const char *eq = memchr(line, '=', len);
    if (!eq) {
        /* The line is not echoed: it may well be a pasted secret. */
        fail(lc->errbuf, lc->errlen, "%s:%zu: expected KEY=VALUE", lc->path, lc->lineno);
        return ARR_ECONFIG;
    }
    size_t klen = (size_t)(eq - line);
    const char *key = trim(line, &klen);
    if (klen == 0) {
        fail(lc->errbuf, lc->errlen, "%s:%zu: empty key", lc->path, lc->lineno);
        return ARR_ECONFIG;
    }
    if (!key_valid(key, klen)) {
        fail(lc->errbuf, lc->errlen, "%s:%zu: invalid key '%.*s' (expected [A-Z][A-Z0-9_]*)",
             lc->path, lc->lineno, (int)(klen > 64 ? 64 : klen), key);
        return ARR_ECONFIG;
    }
    size_t vlen = (size_t)(line + len - (eq + 1));
    const char *value = trim(eq + 1, &vlen);
    if (vlen > 0 && (value[0] == '"' || value[0] == '\'')) {
        if (vlen < 2 || value[vlen - 1] != value[0]) {
            fail(lc->errbuf, lc->errlen, "%s:%zu: unterminated quote in value of %.*s", lc->path,
                 lc->lineno, (int)klen, key);
            return ARR_ECONFIG;
        }
        value++;
        vlen -= 2;
    }
    return kv_list_add(&cfg->file, key, klen, value, vlen);
}

static arr_err parse_text(arr_config *cfg, const char *path, const char *text, size_t len,
                          char *errbuf, size_t errlen)
{
    struct line_ctx lc = {.path = path, .lineno = 0, .errbuf = errbuf, .errlen = errlen};
    size_t pos = 0;
    while (pos < len) {
        lc.lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (n > CFG_LINE_MAX) {
            fail(errbuf, errlen, "%s:%zu: line longer than %d bytes", path, lc.lineno,
                 CFG_LINE_MAX);
            return ARR_ECONFIG;
        }
        if (memchr(text + pos, '\0', n)) {
            fail(errbuf, errlen, "%s:%zu: NUL byte in line", path, lc.lineno);
            return ARR_ECONFIG;
        }
        arr_err e = parse_line(cfg, &lc, text + pos, n);
        if (e) {
            if (e == ARR_ENOMEM)
                fail(errbuf, errlen, "%s: out of memory", path);
            return e;
        }
        pos += n + 1;
    }
    return ARR_OK;
}

/* Reads the whole file into a NUL-terminated heap buffer, refusing files over the cap
 * without trusting st_size (it may be a pipe or still growing). */
static arr_err read_file(const char *path, char **out, size_t *outlen, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int err = errno;
        fail(errbuf, errlen, "%s: %s", path, strerror(err));
        return err == ENOENT ? ARR_ENOTFOUND : ARR_EIO;
    }
    char *text = malloc(CFG_FILE_MAX + 2);
    if (!text) {
        fclose(f);
        fail(errbuf, errlen, "%s: out of memory", path);
        return ARR_ENOMEM;
    }
    size_t n = fread(text, 1, CFG_FILE_MAX + 1, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        free(text);
        fail(errbuf, errlen, "%s: %s", path, strerror(rerr));
        return ARR_EIO;
    }
    if (n > CFG_FILE_MAX) {
        free(text);
        fail(errbuf, errlen, "%s: larger than %d bytes", path, CFG_FILE_MAX);
        return ARR_ECONFIG;
    }
    text[n] = '\0';
    *out = text;
    *outlen = n;
    return ARR_OK;
}

static arr_config *config_new(void)
{
    arr_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    cfg->env = calloc(1, sizeof(*cfg->env));
    if (!cfg->env || pthread_mutex_init(&cfg->env->lock, NULL) != 0) {
        free(cfg->env);
        free(cfg);
        return NULL;
    }
    return cfg;
}

arr_err arr_config_load(const char *path, arr_config **out, char *errbuf, size_t errlen)
{
    if (!out) {
        fail(errbuf, errlen, "arr_config_load: out is NULL");
        return ARR_EINVAL;
    }
    arr_config *cfg = config_new();
    if (!cfg) {
        fail(errbuf, errlen, "config: out of memory");
        return ARR_ENOMEM;
    }
    if (path) {
        char *text = NULL;
        size_t len = 0;
        arr_err e = read_file(path, &text, &len, errbuf, errlen);
        if (!e)
            e = parse_text(cfg, path, text, len, errbuf, errlen);
        free(text);
        if (e) {
            arr_config_free(cfg);
            return e;
        }
    }
    *out = cfg;
    return ARR_OK;
}

void arr_config_free(arr_config *cfg)
{
    if (!cfg)
        return;
    kv_list_free(&cfg->file);
    kv_list_free(&cfg->set);
    if (cfg->env) {
        kv_list_free(&cfg->env->list);
        pthread_mutex_destroy(&cfg->env->lock);
        free(cfg->env);
    }
    free(cfg);
}

arr_err arr_config_set(arr_config *cfg, const char *key, const char *value)
{
    if (!cfg || !key || !value || !key_valid(key, strlen(key)))
        return ARR_EINVAL;
    return kv_list_add(&cfg->set, key, strlen(key), value, strlen(value));
}

/* Validates the getter arguments and finds the raw value of key (NULL when absent). */
static arr_err get_raw(const arr_config *cfg, const char *key, const void *out, const char **v,
                       char *errbuf, size_t errlen)
{
    if (!cfg || !key || !out || !key_valid(key, strlen(key))) {
        fail(errbuf, errlen, "config: invalid getter arguments for key '%.64s'",
             key ? key : "(null)");
        return ARR_EINVAL;
    }
    return lookup(cfg, key, v, errbuf, errlen);
}

arr_err arr_config_str(const arr_config *cfg, const char *key, const char *def, const char **out,
                       char *errbuf, size_t errlen)
{
    const char *v = NULL;
    arr_err e = get_raw(cfg, key, out, &v, errbuf, errlen);
    if (e)
        return e;
    if (!v && !def) {
        fail(errbuf, errlen, "%s is required", key);
        return ARR_ECONFIG;
    }
    *out = v ? v : def;
    return ARR_OK;
}

/* Strict decimal: optional sign, digits, nothing else (no spaces, no "12x", no hex). */
static bool parse_int64(const char *s, int64_t *out, bool *overflow)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    for (const char *q = p; *q; q++) {
        if (!isdigit((unsigned char)*q))
            return false;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    *overflow = errno == ERANGE;
    *out = (int64_t)v;
    return true;
}

arr_err arr_config_int(const arr_config *cfg, const char *key, int64_t def, int64_t min,
                       int64_t max, int64_t *out, char *errbuf, size_t errlen)
{
    const char *v = NULL;
    arr_err e = get_raw(cfg, key, out, &v, errbuf, errlen);
    if (e)
        return e;
    if (!v) {
        if (def < min || def > max) {
            /* A programming error, not a deployment one, but still refuse to start. */
            fail(errbuf, errlen,
                 "%s: default %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", key, def,
                 min, max);
            return ARR_EINVAL;
        }
        *out = def;
        return ARR_OK;
    }
    int64_t n = 0;
    bool overflow = false;
    if (!parse_int64(v, &n, &overflow)) {
        fail(errbuf, errlen, "%s: '%.64s' is not an integer", key, v);
        return ARR_ECONFIG;
    }
    if (overflow || n < min || n > max) {
        fail(errbuf, errlen, "%s: '%.64s' is out of range [%" PRId64 ", %" PRId64 "]", key, v, min,
             max);
        return ARR_ECONFIG;
    }
    *out = n;
    return ARR_OK;
}

static bool parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return true;
        }
    }
    return false;
}

arr_err arr_config_bool(const arr_config *cfg, const char *key, int def, int *out, char *errbuf,
                        size_t errlen)
{
    const char *v = NULL;
    arr_err e = get_raw(cfg, key, out, &v, errbuf, errlen);
    if (e)
        return e;
    if (!v) {
        *out = def ? 1 : 0;
        return ARR_OK;
    }
    int b = 0;
    if (!parse_bool(v, &b)) {
        fail(errbuf, errlen, "%s: '%.64s' is not a boolean (true/false/1/0/yes/no/on/off)", key, v);
        return ARR_ECONFIG;
    }
    *out = b;
    return ARR_OK;
}
