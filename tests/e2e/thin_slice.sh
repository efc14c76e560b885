#!/usr/bin/env bash
# The thin slice end to end, against the real stack: account submissions go into ingest,
# are stored and published, scored in a Kafka transaction, planned by outreach and opened
# in reconciliation's ledger; a payment lowers the balance; malformed messages land in each
# service's dead-letter topic while the services keep running; a repeat of the same
# submissions changes nothing.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
trap 'finish; exit $?' EXIT
cli="$ARR_BIN_DIR/arrears"

tenant="e2e$(date +%s%N | tail -c 10)"
n=20
base=28400
start_service ingest $((base + 1))
start_service scoring $((base + 2))
start_service outreach $((base + 3))
start_service reconciliation $((base + 4))

for i in 1 2 3 4; do
  check "service on port $((base + i)) becomes ready" wait_for 60 ready $((base + i))
done
check "healthz answers 200" test "$(http_code http://127.0.0.1:$((base + 1))/healthz)" = 200

# /metrics must parse as Prometheus text: comments, or name{labels} value.
metrics_parse() {
  curl -sf "http://127.0.0.1:$1/metrics" >"$E2E_TMP/metrics" || return 1
  grep -q '^arrears_events_consumed_total' "$E2E_TMP/metrics" || return 1
  ! grep -Ev '^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.eE+-]+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (NaN|[+-]Inf)|)$' \
    "$E2E_TMP/metrics"
}
check "/metrics parses as Prometheus text" metrics_parse $((base + 2))

"$cli" sample accounts --tenant "$tenant" --count $n --seed 7 --bad 1 >/dev/null

accounts_stored() { [[ $(psql_q "select count(*) from ingest.accounts where tenant = '$tenant'") == "$n" ]]; }
check "ingest stores $n accounts in PostgreSQL" wait_for 60 accounts_stored
placed_published() { [[ $(count_keys arrears.accounts "$tenant/") == "$n" ]]; }
check "ingest publishes $n account.placed events" wait_for 30 placed_published
scored() { [[ $(count_keys arrears.scores "$tenant/") == "$n" ]]; }
check "scoring publishes one committed score per account" wait_for 60 scored
planned() {
  [[ $(psql_q "select count(*) from outreach.accounts a where tenant = '$tenant' and (run_over is not null
          or status <> 'open' or exists (select 1 from outreach.steps s where s.tenant = a.tenant
          and s.account_id = a.account_id and s.status = 'planned'))") == "$n" ]]
}
check "outreach plans a first step for each account (or records why none)" wait_for 60 planned
planned_events() {
  [[ $(topic_values arrears.outreach.events "$tenant/" | grep -c '"event_type":"outreach.planned"') == \
     $(psql_q "select count(*) from outreach.steps where tenant = '$tenant' and status = 'planned'") ]]
}
check "outreach publishes outreach.planned" wait_for 30 planned_events
ledgers() { [[ $(psql_q "select count(*) from reconciliation.ledger where tenant = '$tenant'") == "$n" ]]; }
check "reconciliation opens a ledger per account" wait_for 60 ledgers

rejected() { [[ $(psql_q "select count(*) from ingest.rejects where tenant = '$tenant'") == 1 ]]; }
check "the malformed submission is kept in ingest.rejects" wait_for 30 rejected
dlq_has_reason() {
  topic_values arrears.ingest.dlq "$tenant/BAD-0" | grep -q '"reason":"envelope: '
}
check "and lands in arrears.ingest.dlq with its reason" wait_for 30 dlq_has_reason

# A payment for the first account lowers its balance and is announced.
acct="S7-000000"
placed=$(psql_q "select balance_cents from reconciliation.ledger where tenant = '$tenant' and account_id = '$acct'")
"$cli" sample payment --tenant "$tenant" --account "$acct" --amount-cents 150 --payment-id "p-$tenant-1" >/dev/null
balance_lowered() {
  [[ $(psql_q "select balance_cents from reconciliation.ledger where tenant = '$tenant' and account_id = '$acct'") == $((placed - 150)) ]]
}
check "a payment lowers the balance by its amount" wait_for 30 balance_lowered
applied_event() { topic_values arrears.payments.events "$tenant/$acct" | grep -q '"event_type":"payment.applied"'; }
check "and is announced as payment.applied" wait_for 30 applied_event
invariant() {
  [[ $(psql_q "select count(*) from reconciliation.ledger where tenant = '$tenant' and balance_cents <> placed_cents - applied_cents + reversed_cents") == 0 ]]
}
check "balance = placed - applied + reversed for every account" invariant

# The same payment delivered again changes nothing.
"$cli" sample payment --tenant "$tenant" --account "$acct" --amount-cents 150 --payment-id "p-$tenant-1" >/dev/null
sleep 3
check "a repeated payment is applied once" balance_lowered

# The cached view holds each owner's fields and no personal data.
cache_fields() {
  local h
  h=$(redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" hgetall "arr:acct:$tenant/$acct")
  for f in placed_cents score_bp strategy next_step_at balance_cents; do
    grep -qx "$f" <<<"$h" || return 1
  done
  ! grep -q debtor <<<"$h"
}
check "Redis caches the account's fields from every service" wait_for 30 cache_fields

# The same submissions again: stored once, published once.
"$cli" sample accounts --tenant "$tenant" --count $n --seed 7 >/dev/null
sleep 5
check "a repeated import stores nothing new" accounts_stored
check "a repeated import publishes nothing new" placed_published

# A later submission of an account with another balance, written with kcat as a billing
# system would: ingest publishes account.updated naming what changed.
eid=$(python3 -c 'import uuid; print(uuid.uuid4())')
at=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
acct2="S7-000001"
payload='{"account_id":"'$acct2'","balance_cents":100,"original_balance_cents":100,"due_date":"2026-08-01","service_type":"water"}'
envelope='{"event_id":"'$eid'","event_type":"account.submitted","schema_version":1,"tenant":"'$tenant'","account":"'$acct2'","event_time":"'$at'","produced_at":"'$at'","causation_id":null,"correlation_id":"'$eid'","producer":{"service":"billing","version":"1","instance":"kcat"},"payload":'$payload'}'
printf '%s\t%s\n' "$tenant/$acct2" "$envelope" | kcat -b "$ARR_KAFKA_BROKERS" -P -t arrears.ingest.submissions -K $'\t'
updated() {
  topic_values arrears.accounts "$tenant/$acct2" | grep '"event_type":"account.updated"' |
    grep -q '"changes":\[[^]]*"balance_cents"'
}
check "a changed submission is published as account.updated naming the change" wait_for 30 updated
new_balance() { [[ $(psql_q "select balance_cents from ingest.accounts where tenant = '$tenant' and account_id = '$acct2'") == 100 ]]; }
check "and the stored account follows it" new_balance

# Malformed messages straight into each service's input topic, with kcat.
for pair in "arrears.accounts:arrears.scoring.dlq" "arrears.accounts:arrears.reconciliation.dlq" \
  "arrears.scores:arrears.outreach.dlq"; do
  in=${pair%%:*} dlq=${pair##*:}
  key="$tenant/KCAT-${in##*.}"
  printf '%s\t%s\n' "$key" 'this is not json' | kcat -b "$ARR_KAFKA_BROKERS" -P -t "$in" -K $'\t'
  in_dlq() { topic_values "$dlq" "$key" | grep -q '"reason":"envelope: not JSON'; }
  check "garbage on $in lands in $dlq with a reason" wait_for 30 in_dlq
done
for i in 1 2 3 4; do
  check "service on port $((base + i)) still ready after bad input" ready $((base + i))
done

# SIGTERM: every replica stops cleanly and promptly (a watchdog kills it after 60 s).
clean_stop() {
  local pid rc=0
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid"; done
  # The watchdog must not hold the test's output open, or ctest waits for its sleep.
  (sleep 60; kill -KILL "${E2E_PIDS[@]}" 2>/dev/null) >/dev/null 2>&1 &
  local dog=$!
  for pid in "${E2E_PIDS[@]}"; do wait "$pid" || rc=1; done
  pkill -P "$dog" 2>/dev/null
  kill "$dog" 2>/dev/null
  E2E_PIDS=()
  return $rc
}
check "SIGTERM stops every service with exit code 0" clean_stop
