#include "entry.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"

void recon_entries_init(recon_entries *l, size_t max)
{
    memset(l, 0, sizeof(*l));
    l->max = max ? max : RECON_ENTRIES_DEFAULT_CAP;
}

void recon_entries_free(recon_entries *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

arr_err recon_entries_push(recon_entries *l, recon_entry **out)
{
    if (l->n >= l->max)
        return ARR_ELIMIT;
    if (l->n == l->cap_alloc) {
        size_t cap = l->cap_alloc ? l->cap_alloc * 2 : 64;
        if (cap > l->max)
            cap = l->max;
        recon_entry *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return ARR_ENOMEM;
        l->v = v;
        l->cap_alloc = cap;
    }
    *out = &l->v[l->n++];
    memset(*out, 0, sizeof(**out));
    return ARR_OK;
}

arr_err recon_amount_parse(const char *s, size_t len, int decimals, int64_t *cents)
{
    int64_t v = 0;
    int seen_digit = 0, frac = -1; /* -1: before the point */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return ARR_EINVAL;
        if (frac >= 0 && ++frac > decimals)
            return ARR_EINVAL;
        if (v > (INT64_MAX - 9) / 10)
            return ARR_EINVAL;
        v = v * 10 + (c - '0');
        seen_digit = 1;
    }
    if (!seen_digit || frac == 0)
        return ARR_EINVAL;
    for (int k = frac < 0 ? 0 : frac; k < decimals; k++) {
        if (v > INT64_MAX / 10)
            return ARR_EINVAL;
        v *= 10;
    }
    *cents = v;
    return ARR_OK;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

arr_err recon_date_ms(const char *s, size_t len, int64_t *ms)
{
    int y, m, d;
    if (len == 10 && s[4] == '-' && s[7] == '-') {
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
            return ARR_EINVAL;
    } else if (len == 6) {
        if (!digits(s, 2, &y) || !digits(s + 2, 2, &m) || !digits(s + 4, 2, &d))
            return ARR_EINVAL;
        y += 2000;
    } else {
        return ARR_EINVAL;
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return ARR_EINVAL;
    *ms = arr_days_from_civil(y, m, d) * 86400000LL;
    return ARR_OK;
}

void recon_text_append(char *dst, size_t cap, const char *text, size_t len)
{
    size_t n = strlen(dst);
    int space = n > 0; /* a separator is owed before the next word */
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isspace(c) || c < 0x20 || c == 0x7f) {
            space = n > 0;
            continue;
        }
        if (space) {
            if (n + 2 >= cap)
                break;
            dst[n++] = ' ';
            space = 0;
        }
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
}

const char *recon_kind_name(recon_kind k)
{
    switch (k) {
    case RECON_PAYMENT:
        return "payment";
    case RECON_RETURN:
        return "return";
    case RECON_NOTICE:
        return "notice";
    case RECON_SKIPPED:
        return "skipped";
    }
    return "payment";
}
