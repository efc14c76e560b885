#include "arrears/uuid.h"

#include <sodium.h>
#include <string.h>

#define UUID_BYTES 16

/* RFC 9562 puts the version in the high nibble of octet 6 and the variant in the high bits
 * of octet 8; everything else is the caller's. */
static void set_version_variant(unsigned char b[UUID_BYTES], unsigned version)
{
    b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
}

static void to_text(const unsigned char b[UUID_BYTES], char out[ARR_UUID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < UUID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/* sodium_init is idempotent; calling it here keeps callers free of a global init step. */
static arr_err random_bytes(unsigned char *b, size_t n)
{
    if (sodium_init() < 0)
        return ARR_EFATAL;
    randombytes_buf(b, n);
    return ARR_OK;
}

arr_err arr_uuid_v4(char out[ARR_UUID_STRLEN])
{
    if (!out)
        return ARR_EINVAL;
    unsigned char b[UUID_BYTES];
    arr_err e = random_bytes(b, sizeof b);
    if (e)
        return e;
    set_version_variant(b, 4);
    to_text(b, out);
    return ARR_OK;
}

arr_err arr_uuid_v7(int64_t unix_ms, char out[ARR_UUID_STRLEN])
{
    /* The timestamp field is 48 bits; anything outside would wrap and break ordering. */
    if (!out || unix_ms < 0 || unix_ms > (int64_t)0xffffffffffffLL)
        return ARR_EINVAL;
    unsigned char b[UUID_BYTES];
    arr_err e = random_bytes(b + 6, sizeof b - 6);
    if (e)
        return e;
    uint64_t ms = (uint64_t)unix_ms;
    for (int i = 5; i >= 0; i--) {
        b[i] = (unsigned char)(ms & 0xff);
        ms >>= 8;
    }
    set_version_variant(b, 7);
    to_text(b, out);
    return ARR_OK;
}

arr_err arr_uuid_named(const char *ns, const char *name, char out[ARR_UUID_STRLEN])
{
    if (!ns || !name || !out)
        return ARR_EINVAL;
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)ns, strlen(ns));
    crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
    crypto_hash_sha256_final(&st, digest);
    set_version_variant(digest, 8);
    to_text(digest, out);
    return ARR_OK;
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Lower case only: ids are compared as text (dedupe tables, keys), so an upper-case spelling
 * of the same id would silently become a different id. */
int arr_uuid_valid(const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < ARR_UUID_STRLEN - 1; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !is_lower_hex(s[i]))
            return 0;
    }
    return s[ARR_UUID_STRLEN - 1] == '\0';
}
