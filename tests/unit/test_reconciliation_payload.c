/* Unit tests of services/reconciliation/entry.c and payload.c: exact amounts and dates, and the
 * payment.received payload both ways (what a door publishes is what the service reads). */
#include <criterion/criterion.h>
#include <string.h>

#include "arrears/money.h"
#include "entry.h"
#include "payload.h"

static int64_t amount(const char *s, int decimals)
{
    int64_t v = -1;
    if (recon_amount_parse(s, strlen(s), decimals, &v) != ARR_OK)
        return -1;
    return v;
}

Test(recon_entry, amounts_are_exact_minor_units)
{
    cr_assert_eq(amount("123.45", 2), 12345);
    cr_assert_eq(amount("123.4", 2), 12340);
    cr_assert_eq(amount("123", 2), 12300);
    cr_assert_eq(amount("0.01", 2), 1);
    cr_assert_eq(amount("885", 0), 885);
    cr_assert_eq(amount("1.234", 3), 1234);
    cr_assert_eq(amount("12.345", 2), -1); /* a third decimal in a 2-decimal currency */
    cr_assert_eq(amount("-1.00", 2), -1);
    cr_assert_eq(amount("1.", 2), -1);
    cr_assert_eq(amount("", 2), -1);
    cr_assert_eq(amount("1e3", 2), -1);
    cr_assert_eq(amount("99999999999999999999", 2), -1); /* overflow */
    cr_assert_eq(arr_currency_decimals("JPY"), 0);
    cr_assert_eq(arr_currency_decimals("KWD"), 3);
    cr_assert_eq(arr_currency_decimals("USD"), 2);
}

Test(recon_entry, dates_are_real_calendar_days)
{
    int64_t ms;
    cr_assert_eq(recon_date_ms("2026-11-27", 10, &ms), ARR_OK);
    cr_assert_eq(ms, 20784LL * 86400000); /* days from 1970-01-01 to 2026-11-27 */
    cr_assert_eq(recon_date_ms("261127", 6, &ms), ARR_OK);
    cr_assert_eq(ms, 20784LL * 86400000);
    cr_assert_eq(recon_date_ms("2028-02-29", 10, &ms), ARR_OK);
    cr_assert_eq(recon_date_ms("2027-02-29", 10, &ms), ARR_EINVAL);
    cr_assert_eq(recon_date_ms("2026-13-01", 10, &ms), ARR_EINVAL);
    cr_assert_eq(recon_date_ms("26-11-27", 8, &ms), ARR_EINVAL);
}

Test(recon_entry, text_is_joined_with_single_spaces_and_capped)
{
    char buf[20] = "";
    recon_text_append(buf, sizeof buf, "  ACCT\t 123 ", 12);
    recon_text_append(buf, sizeof buf, "\nINV-9", 6);
    cr_assert_str_eq(buf, "ACCT 123 INV-9");
    recon_text_append(buf, sizeof buf, "overflowing", 11); /* 19 characters and the NUL */
    cr_assert_str_eq(buf, "ACCT 123 INV-9 over");
}

Test(recon_payload, an_entry_survives_its_payload)
{
    recon_entry e;
    memset(&e, 0, sizeof e);
    e.kind = RECON_RETURN;
    strcpy(e.payment_id, "nacha:return:091000017611242");
    strcpy(e.source, "nacha");
    e.amount_cents = 12354;
    strcpy(e.currency, "USD");
    e.received_at_ms = 20784LL * 86400000;
    strcpy(e.reference, "MjMxNDAwMjAtOGQ");
    strcpy(e.payer_name, "Paul Jones");
    strcpy(e.return_code, "R01");
    strcpy(e.returned_payment_id, "nacha:091000017611242");
    strcpy(e.type_code, "26");
    e.line = 3;
    json_t *p = recon_payload_from_entry(&e);
    cr_assert_not_null(p);
    cr_assert_str_eq(json_string_value(json_object_get(p, "received_at")),
                     "2026-11-27T00:00:00.000Z");
    recon_entry back;
    char why[256];
    cr_assert_eq(recon_payload_to_entry(p, &back, why, sizeof why), ARR_OK, "%s", why);
    json_decref(p);
    cr_assert_eq(memcmp(&back, &e, sizeof e), 0);
    /* A return is routed by the payment it undoes, so both land on one partition. */
    cr_assert_str_eq(recon_payload_routing_key(&e), "nacha:091000017611242");
    strcpy(e.account_hint, "UA1");
    cr_assert_str_eq(recon_payload_routing_key(&e), "UA1");
}

static void refused(const char *json, const char *field)
{
    json_error_t jerr;
    json_t *p = json_loads(json, 0, &jerr);
    cr_assert_not_null(p, "%s", jerr.text);
    recon_entry e;
    char why[256] = "";
    cr_assert_eq(recon_payload_to_entry(p, &e, why, sizeof why), ARR_EINVAL, "%s", json);
    cr_assert(strstr(why, field), "'%s' does not name %s", why, field);
    json_decref(p);
}

Test(recon_payload, a_broken_payload_names_its_field)
{
#define OK                                                                                         \
    "\"payment_id\":\"x:1\",\"source\":\"api\",\"currency\":\"USD\",\"received_at\":\"2026-11-"    \
    "27T00:00:00Z\""
    refused("{" OK ",\"amount_cents\":0}", "payload.amount_cents");
    refused("{" OK ",\"amount_cents\":1.5}", "payload.amount_cents");
    refused("{" OK ",\"amount_cents\":5,\"kind\":\"refund\"}", "payload.kind");
    refused("{" OK ",\"amount_cents\":5,\"kind\":\"return\"}", "payload.returned_payment_id");
    refused("{" OK ",\"amount_cents\":5,\"colour\":\"red\"}", "payload.colour");
    refused("{\"payment_id\":\"x 1\",\"source\":\"api\",\"currency\":\"USD\",\"received_at\":"
            "\"2026-11-27T00:00:00Z\",\"amount_cents\":5}",
            "payload.payment_id");
    refused("{\"payment_id\":\"x1\",\"source\":\"api\",\"currency\":\"usd\",\"received_at\":"
            "\"2026-11-27T00:00:00Z\",\"amount_cents\":5}",
            "payload.currency");
    refused("{\"payment_id\":\"x1\",\"source\":\"api\",\"currency\":\"USD\",\"received_at\":"
            "\"yesterday\",\"amount_cents\":5}",
            "payload.received_at");
}
