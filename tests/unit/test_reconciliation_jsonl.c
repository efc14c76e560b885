/* Unit tests of services/reconciliation/jsonl.c: the JSON-lines payment file and the
 * POST /v1/payments object. Lines are written with ' for " and dq() swaps them back. Expected
 * times were worked out with date(1), e.g. `date -u -d '2026-01-02T03:04:05Z' +%s`. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

static char *dq(const char *s)
{
    char *d = strdup(s);
    cr_assert_not_null(d);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static arr_err parse(const char *src, recon_entries *l, char *why, size_t whylen)
{
    char *data = dq(src);
    why[0] = '\0';
    arr_err rc = recon_jsonl_parse(data, strlen(data), l, why, whylen);
    free(data);
    return rc;
}

#define GOOD_LINE                                                                                  \
    "{'payment_id':'pay-0001','amount_cents':12550,'currency':'USD',"                              \
    "'received_at':'2026-01-02T03:04:05.006Z'}"

/* The file GOOD_LINE + "\n" + bad + "\n" is refused with exactly want (or, for jansson's own
 * syntax messages, a reason starting with want when it ends in "..."), and a list that
 * already held one entry keeps just that one. */
static void refused(const char *bad, const char *want)
{
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_entry *first;
    cr_assert_eq(recon_entries_push(&l, &first), ARR_OK);
    strcpy(first->payment_id, "earlier:1");
    size_t n = strlen(GOOD_LINE) + strlen(bad) + 3;
    char *src = malloc(n);
    cr_assert_not_null(src);
    snprintf(src, n, "%s\n%s\n", GOOD_LINE, bad);
    char why[512];
    arr_err rc = parse(src, &l, why, sizeof why);
    cr_assert_eq(rc, ARR_EINVAL, "%s: expected refusal '%s', got %d (%s)", bad, want, rc, why);
    size_t wl = strlen(want);
    if (wl > 3 && strcmp(want + wl - 3, "...") == 0)
        cr_assert_eq(strncmp(why, want, wl - 3), 0, "'%s' does not start with '%s'", why, want);
    else
        cr_assert_str_eq(why, want, "for line %s", bad);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.v[0].payment_id, "earlier:1");
    free(src);
    recon_entries_free(&l);
}

/* ------------------------------------------------------------------ good files */

Test(recon_jsonl_parse, every_field_blank_lines_and_crlf)
{
    const char *src =
        "{'payment_id':'pay-0001','amount_cents':12550,'currency':'USD',"
        "'received_at':'2026-01-02T03:04:05.006Z','reference':'INV-2026-0042 \\t ARR 000123',"
        "'payer_name':'Jane  Q. Doe','account_id':'acct-000123','kind':'payment',"
        "'end_to_end_id':'E2E 0001'}\n"
        "\n"
        "{'payment_id':'bank:stmt-7/3','amount_cents':5,'currency':'JPY',"
        "'received_at':'2026-02-28'}\r\n"
        "  \t \r\n"
        "{'kind':'return','payment_id':'ret-0001','amount_cents':2000,'currency':'USD',"
        "'received_at':'2026-01-05T10:00:00+02:00','returned_payment_id':'pay-0001',"
        "'return_code':'R01','reference':null,'payer_name':'','account_id':null}";
    recon_entries l;
    recon_entries_init(&l, 0);
    char why[256];
    cr_assert_eq(parse(src, &l, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(l.n, 3);

    recon_entry *e = &l.v[0];
    cr_assert_eq(e->kind, RECON_PAYMENT);
    cr_assert_str_eq(e->payment_id, "json:pay-0001");
    cr_assert_str_eq(e->source, "json");
    cr_assert_eq(e->amount_cents, 12550);
    cr_assert_str_eq(e->currency, "USD");
    cr_assert_eq(e->received_at_ms, 1767323045006LL);
    cr_assert_str_eq(e->reference, "INV-2026-0042 ARR 000123"); /* whitespace run collapsed */
    cr_assert_str_eq(e->payer_name, "Jane Q. Doe");
    cr_assert_str_eq(e->account_hint, "acct-000123");
    cr_assert_str_eq(e->end_to_end_id, "E2E 0001");
    cr_assert_str_eq(e->return_code, "");
    cr_assert_str_eq(e->returned_payment_id, "");
    cr_assert_eq(e->line, 1);

    e = &l.v[1];
    cr_assert_str_eq(e->payment_id, "bank:stmt-7/3"); /* has ':', kept as is */
    cr_assert_eq(e->amount_cents, 5);
    cr_assert_str_eq(e->currency, "JPY");
    cr_assert_eq(e->received_at_ms, 1772236800000LL); /* 2026-02-28 00:00 UTC */
    cr_assert_str_eq(e->reference, "");
    cr_assert_eq(e->line, 3);

    e = &l.v[2];
    cr_assert_eq(e->kind, RECON_RETURN);
    cr_assert_str_eq(e->payment_id, "json:ret-0001");
    cr_assert_str_eq(e->returned_payment_id, "json:pay-0001");
    cr_assert_str_eq(e->return_code, "R01");
    cr_assert_eq(e->received_at_ms, 1767600000000LL); /* 10:00+02:00 is 08:00Z */
    cr_assert_str_eq(e->payer_name, "");
    cr_assert_str_eq(e->account_hint, "");
    cr_assert_eq(e->line, 5);
    recon_entries_free(&l);
}

Test(recon_jsonl_parse, empty_and_blank_files)
{
    recon_entries l;
    recon_entries_init(&l, 0);
    char why[256];
    cr_assert_eq(recon_jsonl_parse("", 0, &l, why, sizeof why), ARR_OK);
    cr_assert_eq(recon_jsonl_parse(NULL, 0, &l, why, sizeof why), ARR_OK);
    cr_assert_eq(parse("\n\n  \r\n\t\n", &l, why, sizeof why), ARR_OK);
    cr_assert_eq(l.n, 0);
    recon_entries_free(&l);
}

Test(recon_jsonl_parse, byte_order_mark_and_no_final_newline)
{
    recon_entries l;
    recon_entries_init(&l, 0);
    char why[256];
    cr_assert_eq(parse("\xEF\xBB\xBF" GOOD_LINE "\n" GOOD_LINE, &l, why, sizeof why), ARR_OK, "%s",
                 why);
    cr_assert_eq(l.n, 2);
    cr_assert_eq(l.v[1].line, 2);
    recon_entries_free(&l);
}

/* ------------------------------------------------------------------ bad lines */

Test(recon_jsonl_parse, bad_payment_id)
{
    refused("{'amount_cents':1,'currency':'USD','received_at':'2026-01-02'}",
            "line 2 field payment_id: missing");
    refused("{'payment_id':7,'amount_cents':1,'currency':'USD','received_at':'2026-01-02'}",
            "line 2 field payment_id: not a string");
    refused("{'payment_id':'pay 1','amount_cents':1,'currency':'USD','received_at':'2026-01-02'}",
            "line 2 field payment_id: not an id (printable ASCII without spaces)");
    refused("{'payment_id':'','amount_cents':1,'currency':'USD','received_at':'2026-01-02'}",
            "line 2 field payment_id: not an id (printable ASCII without spaces)");
}

Test(recon_jsonl_parse, payment_id_length_with_prefix)
{
    /* "json:" + 123 characters is 128 and fits; 124 do not. */
    char src[400], id[130];
    recon_entries l;
    recon_entries_init(&l, 0);
    char why[256];
    memset(id, 'x', 123);
    id[123] = '\0';
    snprintf(src, sizeof src,
             "{'payment_id':'%s','amount_cents':1,'currency':'USD','received_at':'2026-01-02'}",
             id);
    cr_assert_eq(parse(src, &l, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(strlen(l.v[0].payment_id), 128);
    recon_entries_free(&l);
    memset(id, 'x', 124);
    id[124] = '\0';
    snprintf(src, sizeof src,
             "{'payment_id':'%s','amount_cents':1,'currency':'USD','received_at':'2026-01-02'}",
             id);
    refused(src, "line 2 field payment_id: longer than 128 characters with its source prefix");
}

Test(recon_jsonl_parse, bad_amount)
{
    const char *want = "line 2 field amount_cents: missing or not a positive integer";
    const char *amounts[] = {"12.5", "'1250'", "0", "-1", "1.0", "1e3", "null", "true"};
    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
        char src[200];
        snprintf(src, sizeof src,
                 "{'payment_id':'p','amount_cents':%s,'currency':'USD','received_at':"
                 "'2026-01-02'}",
                 amounts[i]);
        refused(src, want);
    }
    refused("{'payment_id':'p','currency':'USD','received_at':'2026-01-02'}", want);
}

Test(recon_jsonl_parse, bad_currency)
{
    const char *want = "line 2 field currency: not three capital letters (ISO 4217)";
    const char *currencies[] = {"'usd'", "'US'", "'USDX'", "'U1D'", "''"};
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
        char src[200];
        snprintf(src, sizeof src,
                 "{'payment_id':'p','amount_cents':1,'currency':%s,'received_at':'2026-01-02'}",
                 currencies[i]);
        refused(src, want);
    }
    refused("{'payment_id':'p','amount_cents':1,'currency':840,'received_at':'2026-01-02'}",
            "line 2 field currency: not a string");
    refused("{'payment_id':'p','amount_cents':1,'received_at':'2026-01-02'}",
            "line 2 field currency: missing");
}

Test(recon_jsonl_parse, bad_received_at)
{
    const char *want = "line 2 field received_at: not an RFC 3339 time or a YYYY-MM-DD date";
    const char *times[] = {"'2026-02-30'", "'2026-01-02 03:04:05'",
                           "'yesterday'",  "'2026-01-02T03:04:05'",
                           "'260102'",     "'2026-13-01T00:00:00Z'"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char src[200];
        snprintf(src, sizeof src,
                 "{'payment_id':'p','amount_cents':1,'currency':'USD','received_at':%s}", times[i]);
        refused(src, want);
    }
    refused("{'payment_id':'p','amount_cents':1,'currency':'USD','received_at':1767323045}",
            "line 2 field received_at: not a string");
    refused("{'payment_id':'p','amount_cents':1,'currency':'USD'}",
            "line 2 field received_at: missing");
}

#define BASE "'payment_id':'p','amount_cents':1,'currency':'USD','received_at':'2026-01-02'"

Test(recon_jsonl_parse, bad_optional_fields)
{
    refused("{" BASE ",'reference':5}", "line 2 field reference: not a string");
    refused("{" BASE ",'payer_name':['Jane']}", "line 2 field payer_name: not a string");
    refused("{" BASE ",'account_id':'acct 1'}",
            "line 2 field account_id: not an account id (at most 128 printable ASCII "
            "characters, no spaces)");
    refused("{" BASE ",'end_to_end_id':'E2E\\t1'}",
            "line 2 field end_to_end_id: not at most 128 printable ASCII characters");
    refused("{" BASE ",'reference':'a\\u0000b'}", "line 2: invalid JSON at column ...");
    refused("{" BASE ",'kind':'refund'}", "line 2 field kind: not \"payment\" or \"return\"");
    refused("{" BASE ",'amount':1}", "line 2 field amount: unknown field");
    refused("{" BASE ",'return_code':'R01'}",
            "line 2 field return_code: only allowed when kind is \"return\"");
    refused("{" BASE ",'kind':'payment','returned_payment_id':'x'}",
            "line 2 field returned_payment_id: only allowed when kind is \"return\"");
}

Test(recon_jsonl_parse, text_length_caps)
{
    /* reference holds 512 bytes and payer_name 140: one more is refused, not cut. */
    char src[1200], text[600];
    recon_entries l;
    recon_entries_init(&l, 0);
    char why[256];
    memset(text, 'r', 512);
    text[512] = '\0';
    snprintf(src, sizeof src, "{" BASE ",'reference':'%s'}", text);
    cr_assert_eq(parse(src, &l, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(strlen(l.v[0].reference), 512);
    text[512] = 'r';
    text[513] = '\0';
    snprintf(src, sizeof src, "{" BASE ",'reference':'%s'}", text);
    refused(src, "line 2 field reference: longer than 512 bytes");
    text[141] = '\0';
    snprintf(src, sizeof src, "{" BASE ",'payer_name':'%s'}", text);
    refused(src, "line 2 field payer_name: longer than 140 bytes");
    recon_entries_free(&l);
}

Test(recon_jsonl_parse, return_needs_what_it_returns)
{
    refused("{" BASE ",'kind':'return','return_code':'R01'}",
            "line 2 field returned_payment_id: missing (required for a return)");
    refused("{" BASE ",'kind':'return','returned_payment_id':'p0'}",
            "line 2 field return_code: missing (required for a return)");
    refused("{" BASE ",'kind':'return','returned_payment_id':'p 0','return_code':'R01'}",
            "line 2 field returned_payment_id: not an id (printable ASCII without spaces)");
    refused("{" BASE ",'kind':'return','returned_payment_id':'p0','return_code':'R01 x'}",
            "line 2 field return_code: not 1 to 15 printable ASCII characters without spaces");
    refused("{" BASE ",'kind':'return','returned_payment_id':'p0','return_code':'R0123456789abcdef'}",
            "line 2 field return_code: not 1 to 15 printable ASCII characters without spaces");
}

Test(recon_jsonl_parse, bad_json)
{
    refused("[1,2]", "line 2: not a JSON object");
    refused("{'payment_id':'p'", "line 2: invalid JSON at column ...");
    refused("{" BASE "} {}", "line 2: invalid JSON at column ...");
    refused("{" BASE ",'payment_id':'q'}", "line 2: invalid JSON at column ...");
    refused("{" BASE, "line 2: invalid JSON at column ..."); /* truncated */
}

/* ------------------------------------------------------------------ caps */

Test(recon_jsonl_parse, line_cap)
{
    /* A line of exactly 65536 bytes (the object padded with spaces) is read; 65537 are not,
     * and the \r of a CRLF ending does not count. */
    char *obj = dq(GOOD_LINE);
    size_t n = strlen(obj), cap = 65536;
    char *src = malloc(cap + 3);
    cr_assert_not_null(src);
    memset(src, ' ', cap + 1);
    memcpy(src, obj, n);
    recon_entries l;
    recon_entries_init(&l, 0);
    char why[256];
    cr_assert_eq(recon_jsonl_parse(src, cap, &l, why, sizeof why), ARR_OK, "%s", why);
    src[cap] = '\r';
    src[cap + 1] = '\n';
    cr_assert_eq(recon_jsonl_parse(src, cap + 2, &l, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(l.n, 2);
    src[cap] = ' ';
    cr_assert_eq(recon_jsonl_parse(src, cap + 1, &l, why, sizeof why), ARR_ELIMIT);
    cr_assert_str_eq(why, "line 1: longer than 65536 bytes");
    cr_assert_eq(l.n, 2);
    free(src);
    free(obj);
    recon_entries_free(&l);
}

Test(recon_jsonl_parse, list_cap_refuses_the_whole_file)
{
    recon_entries l;
    recon_entries_init(&l, 1);
    char why[256];
    cr_assert_eq(parse(GOOD_LINE "\n" GOOD_LINE "\n", &l, why, sizeof why), ARR_ELIMIT);
    cr_assert_str_eq(why, "line 2: more than 1 entries");
    cr_assert_eq(l.n, 0);
    recon_entries_free(&l);
}

/* ------------------------------------------------------------------ one object (API) */

Test(recon_jsonl_entry, api_source)
{
    char *text = dq("{'payment_id':'pay-9','amount_cents':700,'currency':'EUR',"
                    "'received_at':'2026-01-02T05:04:05.006+02:00','account_id':'acct-9'}");
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    cr_assert_not_null(obj);
    recon_entry e;
    memset(&e, 0, sizeof e);
    char why[256];
    cr_assert_eq(recon_jsonl_entry(obj, "api", &e, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_str_eq(e.payment_id, "api:pay-9");
    cr_assert_str_eq(e.source, "api");
    cr_assert_eq(e.amount_cents, 700);
    cr_assert_eq(e.received_at_ms, 1767323045006LL); /* 05:04:05.006+02:00 = 03:04:05.006Z */
    cr_assert_str_eq(e.account_hint, "acct-9");
    cr_assert_eq(e.line, 0);

    /* A refusal names the field without a line and leaves e alone. */
    json_object_set_new(obj, "amount_cents", json_real(7.0));
    recon_entry before = e;
    cr_assert_eq(recon_jsonl_entry(obj, "api", &e, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "field amount_cents: missing or not a positive integer");
    cr_assert_eq(memcmp(&e, &before, sizeof e), 0);

    json_object_set_new(obj, "amount_cents", json_integer(7));
    cr_assert_eq(recon_jsonl_entry(obj, "API", &e, why, sizeof why), ARR_EINVAL);
    cr_assert_eq(recon_jsonl_entry(obj, "", &e, why, sizeof why), ARR_EINVAL);
    cr_assert_eq(recon_jsonl_entry(obj, NULL, &e, why, sizeof why), ARR_EINVAL);
    json_t *arr = json_array();
    cr_assert_eq(recon_jsonl_entry(arr, "api", &e, why, sizeof why), ARR_EINVAL);
    json_decref(arr);

    /* An unknown name is shown in a bounded, printable form. */
    json_object_set_new(obj, "bad\nname", json_true());
    cr_assert_eq(recon_jsonl_entry(obj, "api", &e, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "field bad?name: unknown field");
    json_decref(obj);
    free(text);
}
