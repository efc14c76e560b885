#!/usr/bin/env bash
# Reconciliation, exactly once, in a namespace of its own. One generated portfolio is placed
# under two tenants; both get the same arrangements (plans, settlement offers), the same
# 100,000 generated payments (exact, partial, over, by amount and name, unmatchable, plan
# instalments, settlements, repeats) and the same returns. Tenant A's replica is killed with
# SIGKILL in the middle and started again; tenant B runs undisturbed. Then:
#   - the invariants hold (arrears payments verify), for both;
#   - every outcome matches what the generator wrote (expected.json), for both;
#   - A ends with the very same balances and payment outcomes as B;
#   - importing the same files again changes nothing;
#   - a new day announces each missed instalment once, even when the day is ticked twice;
#   - an exception resolved by hand is applied and recorded as such;
#   - the real files of ../shared/fixtures/payments import, a broken one is refused whole;
#   - the HTTP doors: POST /v1/payments and a signed processor webhook (a bad signature is
#     refused).
set -uo pipefail
. "$(dirname "$0")/lib.bash"
stamp=$(date +%s%N | tail -c 9)
export ARR_TOPIC_PREFIX="e2r$stamp."
cli="$ARR_BIN_DIR/arrears"
"$cli" topics apply >/dev/null
trap 'finish; rc=$?; delete_namespace_topics; exit $rc' EXIT
q() { psql_q "$1"; }
n=${ARR_E2E_RECON_ACCOUNTS:-100000}
ta="rca$stamp" tb="rcb$stamp"
port=$((28900 + RANDOM % 50))
token=tok-$stamp-0123456789 secret=whsec-$stamp-0123456789
export ARR_RECON_TOKENS="$ta:$token" ARR_PROCESSOR_SECRETS="$ta:$secret"

"$ARR_BIN_DIR/gen-portfolio" --accounts "$n" --seed 21 --format jsonl --broken-rate 0 --quiet \
  --out "$E2E_TMP/portfolio.jsonl"
expect() { python3 -c "import json,sys; print(json.load(open('$E2E_TMP/pay/expected.json'))['$1'])"; }

start_service reconciliation "$port" rec-a$stamp
check "the reconciliation replica becomes ready" wait_for 60 ready "$port"
for t in "$ta" "$tb"; do
  "$cli" ingest accounts "$E2E_TMP/portfolio.jsonl" --tenant "$t" \
    --mapping "$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.jsonl.json" --as-of 2026-11-01 \
    >"$E2E_TMP/ingest-$t.out" 2>&1
done
placed=$(q "select accepted from ingest.imports where tenant = '$ta'")
# Payments for the accounts ingest accepted (it rejects a few rows: bad e-mails, phones), so
# that every expected count is exact.
q "select account_id from ingest.accounts where tenant = '$ta'" >"$E2E_TMP/accepted.txt"
python3 - "$E2E_TMP/accepted.txt" "$E2E_TMP/portfolio.jsonl" "$E2E_TMP/accepted.jsonl" <<'PY'
import json, sys
ids = set(open(sys.argv[1]).read().split())
with open(sys.argv[2]) as src, open(sys.argv[3], "w") as out:
    for line in src:
        if json.loads(line)["account_id"] in ids:
            out.write(line)
PY
"$ARR_BIN_DIR/gen-payments" --portfolio "$E2E_TMP/accepted.jsonl" --seed 5 --tenant x \
  --out-dir "$E2E_TMP/pay" --quiet
check "the payment files are generated" test -s "$E2E_TMP/pay/payments.jsonl"
ledgers() { [[ $(q "select count(*) from reconciliation.ledger where tenant in ('$ta', '$tb')") == $((2 * placed)) ]]; }
check "a ledger is opened for every placed account of both tenants ($placed each)" wait_for 180 ledgers

for t in "$ta" "$tb"; do
  "$cli" payments arrange --file "$E2E_TMP/pay/arrangements.jsonl" --tenant "$t" >"$E2E_TMP/arr-$t.out" 2>&1 ||
    { cat "$E2E_TMP/arr-$t.out"; fail "arrangements for $t"; }
done
arrangements=$(($(expect arrangements_plan) + $(expect arrangements_settlement)))
check "the arrangements are recorded" test "$(q "select count(*) from reconciliation.arrangements where tenant = '$tb'")" -eq "$arrangements"

distinct=$(expect distinct_payments)
returns=$(($(expect returns) + $(expect returns_missing)))
recorded() { q "select count(*) from reconciliation.payments where tenant = '$1'"; }

# Tenant A: killed in the middle of its payments.
"$cli" payments import "$E2E_TMP/pay/payments.jsonl" --format json --tenant "$ta" >"$E2E_TMP/imp-a.out" 2>&1
check "tenant A's payment file is accepted" test $? -eq 0
some() { (($(recorded "$ta") > distinct / 4)); }
check "payments are being applied" wait_for 180 some
kill -KILL "$E2E_LAST_PID"
echo "killed the replica with $(recorded "$ta") of $distinct payments recorded"
start_service reconciliation "$port" rec-a$stamp
wait_for 60 ready "$port"
# Returns come the next day, as they do (and so never meet a balance a payment has yet to
# change: a match by amount and name sees the same balances in both runs).
payments_a() { [[ $(recorded "$ta") == "$distinct" ]]; }
wait_for 300 payments_a
"$cli" payments import "$E2E_TMP/pay/returns.jsonl" --format json --tenant "$ta" >>"$E2E_TMP/imp-a.out" 2>&1
all_a() { [[ $(recorded "$ta") == $((distinct + returns)) ]]; }
check "after the restart every payment and return of A is recorded" wait_for 300 all_a

# Tenant B: the same files, undisturbed.
"$cli" payments import "$E2E_TMP/pay/payments.jsonl" --format json --tenant "$tb" --wait 300 >"$E2E_TMP/imp-b.out" 2>&1
"$cli" payments import "$E2E_TMP/pay/returns.jsonl" --format json --tenant "$tb" --wait 120 >>"$E2E_TMP/imp-b.out" 2>&1
check "tenant B's files are imported and recorded" test $? -eq 0

for t in "$ta" "$tb"; do
  "$cli" payments verify --tenant "$t" >"$E2E_TMP/verify-$t.out" 2>&1
  check "the invariants hold for $t" test $? -eq 0
done
grep -q "every invariant holds" "$E2E_TMP/verify-$tb.out"
check "verify says so" test $? -eq 0

count_status() { q "select count(*) from reconciliation.payments where tenant = '$tb' and $1"; }
applied_expected=$(($(expect exact) + $(expect partial) + $(expect over) + $(expect amount_name) + $(expect instalments) + $(expect settlements)))
check "every matchable payment is applied once ($applied_expected)" \
  test "$(count_status "kind = 'payment' and status = 'applied'")" -eq "$applied_expected"
check "by amount and name where there was no reference ($(expect amount_name))" \
  test "$(count_status "matched_via = 'amount_name'")" -eq "$(expect amount_name)"
check "every unmatchable payment is an open exception ($(expect unmatchable))" \
  test "$(q "select count(*) from reconciliation.exceptions where tenant = '$tb' and status = 'open'")" -eq "$(expect unmatchable)"
check "every return of a known payment is applied ($(expect returns))" \
  test "$(count_status "kind = 'return' and status = 'applied'")" -eq "$(expect returns)"
check "returns of unknown payments wait for them ($(expect returns_missing))" \
  test "$(count_status "status = 'pending_original'")" -eq "$(expect returns_missing)"
check "applied money adds up to what was generated" \
  test "$(q "select sum(applied_cents) from reconciliation.ledger where tenant = '$tb'")" -eq "$(expect applied_cents)"
check "reversed money adds up to the returns" \
  test "$(q "select sum(reversed_cents) from reconciliation.ledger where tenant = '$tb'")" -eq "$(expect returned_cents)"
check "each full settlement payment settled its account ($(expect settlements))" \
  test "$(q "select count(*) from reconciliation.ledger where tenant = '$tb' and status = 'settled'")" -eq "$(expect settlements)"

state() { q "select md5(string_agg(account_id || ':' || balance_cents || ':' || applied_cents || ':' || reversed_cents || ':' || waived_cents || ':' || status, ',' order by account_id)) from reconciliation.ledger where tenant = '$1'"; }
outcomes() { q "select md5(string_agg(payment_id || ':' || status || ':' || coalesce(account_id, '') || ':' || allocated_cents || ':' || unapplied_cents || ':' || reversed_cents, ',' order by payment_id)) from reconciliation.payments where tenant = '$1'"; }
check "the killed tenant ends with the same balances as the undisturbed one" test "$(state "$ta")" == "$(state "$tb")"
check "and the same outcome for every payment" test "$(outcomes "$ta")" == "$(outcomes "$tb")"

events() { topic_values "${ARR_TOPIC_PREFIX}arrears.payments.events" "$1/" | python3 -c '
import json, sys
ids = set(); n = 0
for line in sys.stdin:
    e = json.loads(line); n += 1; ids.add(e["event_id"])
print(n, len(ids))'; }
read -r _ uniq_a <<<"$(events "$ta")"
read -r _ uniq_b <<<"$(events "$tb")"
check "both tenants announce as many distinct events ($uniq_b)" test "$uniq_a" -eq "$uniq_b"

before=$(state "$tb")
"$cli" payments import "$E2E_TMP/pay/payments.jsonl" --format json --tenant "$tb" --wait 120 >"$E2E_TMP/again.out" 2>&1
grep -q "($distinct already recorded before)" "$E2E_TMP/again.out"
check "a second import of the same file finds every payment recorded" test $? -eq 0
check "and changes nothing" test "$(state "$tb")" == "$before"

# A new day: the plans' second instalment (due 2027-01-01, 5 grace days) is missed on 01-07.
"$cli" clock tick --day 2027-01-07 >/dev/null
missed() { q "select count(*) from reconciliation.ledger where tenant = '$tb' and terms->'plan'->>'status' = 'broken'"; }
plans=$(expect arrangements_plan)
all_missed() { [[ $(missed) == "$plans" ]]; }
check "each plan's missed instalment is found ($plans)" wait_for 60 all_missed
"$cli" clock tick --day 2027-01-08 >/dev/null
sleep 3
missed_events() { topic_values "${ARR_TOPIC_PREFIX}arrears.payments.events" "$tb/" | grep -c '"event_type":"plan.instalment_missed"' || true; }
check "and announced once, the day ticked twice" test "$(missed_events)" -eq "$plans"

# A person places an exception.
exc=$("$cli" payments exceptions --tenant "$tb" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["payment_id"])')
acct=$(q "select account_id from reconciliation.ledger where tenant = '$tb' and status = 'open' order by account_id limit 1")
"$cli" payments resolve "$exc" --account "$acct" --tenant "$tb" --by e2e >/dev/null
check "an exception resolved by hand is applied, recorded as manual" \
  test "$(q "select status || '/' || matched_via || '/' || account_id from reconciliation.payments where tenant = '$tb' and payment_id = '$exc'")" == "resolved/manual/$acct"
check "and its exception is closed with who did it" \
  test "$(q "select status || '/' || resolved_by from reconciliation.exceptions where tenant = '$tb' and payment_id = '$exc'")" == "resolved/e2e"
"$cli" payments resolve "$exc" --account "$acct" --tenant "$tb" --by e2e >/dev/null 2>&1
check "resolving it again is refused" test $? -ne 0
"$cli" payments verify --tenant "$tb" >/dev/null
check "the invariants still hold" test $? -eq 0

# The real files.
fx="${ARR_FIXTURES_DIR:-$ARR_SOURCE_DIR/../shared/fixtures}/payments"
for f in bai2/sample1.txt:bai2 bai2/sample2.txt:bai2 nacha/ppd-debit.ach:nacha nacha/return-WEB.ach:nacha \
  nacha/cor-example.ach:nacha camt/camt053.v2.minimal.xml:camt053 camt/camt053.v2.multi.statement.xml:camt053 \
  camt/camt053.v4.xml:camt053 camt/camt054.v2.xml:camt054; do
  "$cli" payments import "$fx/${f%%:*}" --format "${f##*:}" --tenant "$ta" --wait 60 >"$E2E_TMP/fx.out" 2>&1
  check "the fixture ${f%%:*} imports" test $? -eq 0
done
"$cli" payments import "$fx/bai2/sample-parseError.txt" --format bai2 --tenant "$ta" >"$E2E_TMP/bad.out" 2>&1
rc=$?
check "sample-parseError.txt is refused with a clear error" test $rc -ne 0 -a -n "$(grep 'refused: line 1' "$E2E_TMP/bad.out")"
check "the BAI2 credits are recorded, the debits kept as skipped" \
  test "$(q "select count(*) filter (where kind = 'payment') || '/' || count(*) filter (where kind = 'skipped') from reconciliation.payments where tenant = '$ta' and source = 'bai2'")" == "9/12"
check "the NACHA return of a debit names its R-code; the returned credit is recorded only" \
  test "$(q "select string_agg(kind || ':' || return_code, ',' order by return_code) from reconciliation.payments where tenant = '$ta' and source = 'nacha' and return_code is not null")" == "return:R01,notice:R03"

# The HTTP doors.
body="{\"tenant\":\"$ta\",\"payments\":[{\"payment_id\":\"h1\",\"amount_cents\":100,\"currency\":\"USD\",\"received_at\":\"2026-11-20\",\"account_id\":\"$acct\"}]}"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/payments" -H "Authorization: Bearer $token" -d "$body")
check "POST /v1/payments accepts a payment with the tenant's token" test "$code" == 200
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/payments" -H "Authorization: Bearer wrong" -d "$body")
check "and refuses a wrong token" test "$code" == 401
hook="{\"id\":\"evt_$stamp\",\"type\":\"charge.succeeded\",\"created\":1795000000,\"data\":{\"object\":{\"id\":\"ch_$stamp\",\"object\":\"charge\",\"amount\":250,\"currency\":\"usd\",\"created\":1795000000,\"metadata\":{\"account_id\":\"$acct\"}}}}"
ts=$(date +%s)
sig=$(printf '%s' "$ts.$hook" | openssl dgst -sha256 -hmac "$secret" | awk '{print $NF}')
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/webhooks/processor/$ta" -H "Stripe-Signature: t=$ts,v1=$sig" -d "$hook")
check "a signed processor webhook is accepted" test "$code" == 200
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/webhooks/processor/$ta" -H "Stripe-Signature: t=$ts,v1=0$sig" -d "$hook")
check "a wrong signature is refused" test "$code" == 400
doors() { [[ $(q "select count(*) from reconciliation.payments where tenant = '$ta' and payment_id in ('api:h1', 'processor:ch_$stamp') and status = 'applied'") == 2 ]]; }
check "both are applied to the account they name" wait_for 30 doors

# A well-formed envelope whose payload breaks its contract, between two good payments: it is
# dead-lettered with the reason (the batch is redone message by message), the others apply.
now=$(date -u +%FT%T.000Z)
env() { printf '{"event_id":"%s","event_type":"payment.received","schema_version":1,"tenant":"%s","account":"%s","event_time":"%s","produced_at":"%s","causation_id":null,"correlation_id":"%s","producer":{"service":"e2e","version":"1","instance":"e2e"},"payload":%s}' \
  "$1" "$ta" "$acct" "$now" "$now" "$1" "$2"; }
good() { echo "{\"payment_id\":\"$1\",\"source\":\"api\",\"amount_cents\":5,\"currency\":\"USD\",\"received_at\":\"$now\",\"reference\":\"\"}"; }
u() { python3 -c 'import uuid; print(uuid.uuid4())'; }
{
  echo "$ta/$acct|$(env "$(u)" "$(good dl-before-$stamp)")"
  echo "$ta/$acct|$(env "$(u)" '{"payment_id":"dl-bad","source":"api","amount_cents":-5,"currency":"USD","received_at":"2026-11-20T00:00:00Z","reference":""}')"
  echo "$ta/$acct|$(env "$(u)" "$(good dl-after-$stamp)")"
} | kcat -b "$ARR_KAFKA_BROKERS" -P -t "${ARR_TOPIC_PREFIX}arrears.payments.inbound" -K '|' -p 0
dl() { topic_values "${ARR_TOPIC_PREFIX}arrears.reconciliation.dlq" "$ta/" | grep -q 'payload.amount_cents'; }
check "a payload that breaks its contract is dead-lettered with the field named" wait_for 30 dl
both() { [[ $(q "select count(*) from reconciliation.payments where tenant = '$ta' and payment_id in ('dl-before-$stamp', 'dl-after-$stamp') and status = 'applied'") == 2 ]]; }
check "and the payments around it are applied" wait_for 30 both

# A consumer's promise (a reply outreach heard) is kept by a payment or broken by the day.
reply() { # account, reply id, amount, date
  local id; id=$(u)
  printf '%s/%s|{"event_id":"%s","event_type":"reply.received","schema_version":1,"tenant":"%s","account":"%s","event_time":"%s","produced_at":"%s","causation_id":null,"correlation_id":"%s","producer":{"service":"e2e","version":"1","instance":"e2e"},"payload":{"reply_id":"%s","channel":"sms","intent":"promise","received_at":"%s","promised_amount_cents":%s,"currency":"USD","promised_date":"%s"}}\n' \
    "$ta" "$1" "$id" "$ta" "$1" "$now" "$now" "$id" "$2" "$now" "$3" "$4"
}
mapfile -t two < <(q "select account_id from reconciliation.ledger where tenant = '$ta' and status = 'open' and balance_cents > 1000 and not terms ? 'promise' order by account_id desc limit 2")
{ reply "${two[0]}" "r1-$stamp" 500 2027-02-01; reply "${two[1]}" "r2-$stamp" 500 2027-02-01; } |
  kcat -b "$ARR_KAFKA_BROKERS" -P -t "${ARR_TOPIC_PREFIX}arrears.outreach.replies" -K '|'
promised() { [[ $(q "select count(*) from reconciliation.ledger where tenant = '$ta' and account_id in ('${two[0]}', '${two[1]}') and terms->'promise'->>'status' = 'active'") == 2 ]]; }
check "a reply promising to pay becomes a promise" wait_for 30 promised
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/v1/payments" -H "Authorization: Bearer $token" \
  -d "{\"tenant\":\"$ta\",\"payments\":[{\"payment_id\":\"keep-$stamp\",\"amount_cents\":500,\"currency\":\"USD\",\"received_at\":\"2027-01-20\",\"account_id\":\"${two[0]}\"}]}"
kept() { [[ $(q "select terms->'promise'->>'status' from reconciliation.ledger where tenant = '$ta' and account_id = '${two[0]}'") == done ]]; }
check "a payment of the promised amount keeps it" wait_for 30 kept
"$cli" clock tick --day 2027-02-05 >/dev/null
broken() { topic_values "${ARR_TOPIC_PREFIX}arrears.payments.events" "$ta/${two[1]}" | grep -q '"event_type":"promise.broken"'; }
check "the other, unpaid after its date and grace, is announced broken" wait_for 30 broken
check "the kept one is not" test -z "$(topic_values "${ARR_TOPIC_PREFIX}arrears.payments.events" "$ta/${two[0]}" | grep '"event_type":"promise.broken"')"
