#!/usr/bin/env bash
# The audit trail end to end. The same generated portfolio, payments and campaign days run
# twice, each in a namespace of its own with every service (ingest via the CLI, scoring,
# reconciliation, outreach on the campaign clock with a real SMTP receiver and SMS provider
# stub, and the audit recorder): run A as it is, run B with a Redis FLUSHALL in the middle
# followed by `arrears cache rebuild`. Then:
#   - the audit store holds every event once (as many rows as distinct event ids published);
#   - `arrears account history` of a sample account lists its events in order, each with its
#     reason (the score's reason codes and versions, the contact's rule or template);
#   - `arrears replay --service scoring` over the whole run reproduces every recorded decision
#     exactly, in both runs (run B: the flush changed no decision);
#   - run B's recorder, killed with SIGKILL mid-run, loses and doubles nothing;
#   - the same replay with a changed strategy table reports differences and names the strategy
#     table version change as their cause;
#   - the reconciliation replay reproduces every allocation and unmatched payment, and names a
#     changed waterfall as the cause of the differences it then finds;
#   - the outreach replay reproduces every decision taken when a step fell due, and names a
#     changed cadence policy as the cause of the differences it then finds;
#   - `arrears report` runs over the campaign, its contact cost that of the sent steps;
#   - `arrears retention` years later anonymises run A's finished accounts (an erased e-mail
#     address or number is nowhere in the audit store) and every replay still reproduces everything;
#   - run B ends in the same state as run A: every balance, and the scores and contact steps of
#     every account whose inputs the services consumed in the same order in both runs.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
stamp=$(date +%s%N | tail -c 9)
cli="$ARR_BIN_DIR/arrears"
py=${ARR_PYTHON:-/usr/bin/python3}
n=${ARR_E2E_AUDIT_ACCOUNTS:-1200}
days=${ARR_E2E_AUDIT_DAYS:-8}
base=$((29300 + RANDOM % 40 * 6))
sid=AC$stamp token="tok-$stamp-0123456789"
sinks_pid=
namespaces=()
cleanup() {
  [[ -n $sinks_pid ]] && kill "$sinks_pid" 2>/dev/null
  local ns
  for ns in "${namespaces[@]}"; do ARR_TOPIC_PREFIX=$ns delete_namespace_topics; done
}
trap 'finish; rc=$?; cleanup; exit $rc' EXIT
q() { psql_q "$1"; }

mkdir -p "$E2E_TMP/sinks"
"$py" "$ARR_SOURCE_DIR/tests/e2e/outreach_sinks.py" --dir "$E2E_TMP/sinks" --auth "$sid:$token" \
  --quiet >"$E2E_TMP/sinks.out" 2>"$E2E_TMP/sinks.err" &
sinks_pid=$!
sinks_ready() { grep -q READY "$E2E_TMP/sinks.out"; }
check "the SMTP receiver and the provider stub start" wait_for 30 sinks_ready
export ARR_OUTREACH_TIME=campaign ARR_OUTREACH_SENDERS=2 ARR_OUTREACH_LEASE_MS=5000
sinks_http=$(sed -n 's/^HTTP //p' "$E2E_TMP/sinks.out")
export ARR_SMTP_URL="smtp://127.0.0.1:$(sed -n 's/^SMTP //p' "$E2E_TMP/sinks.out")"
export ARR_SMTP_FROM="collections@arrears.example"
export ARR_SMS_API_URL="http://127.0.0.1:$(sed -n 's/^HTTP //p' "$E2E_TMP/sinks.out")/2010-04-01/Accounts/$sid"
export ARR_SMS_ACCOUNT_SID=$sid ARR_SMS_AUTH_TOKEN=$token ARR_SMS_FROM=+15550001111
export ARR_OUTREACH_RATE_SMS=500/s ARR_OUTREACH_RATE_VOICE=200/s

"$ARR_BIN_DIR/gen-portfolio" --accounts "$n" --seed 23 --format jsonl --broken-rate 0 --quiet \
  --out "$E2E_TMP/portfolio.jsonl"

# The inputs the audit store recorded but a service that reads them has not claimed yet: 0
# when scoring, outreach and reconciliation have caught up with everything published so far.
unclaimed() {
  q "select count(*) from audit.events e where e.namespace = '$ns'
     and ((e.topic in ('arrears.accounts', 'arrears.payments.events', 'arrears.outreach.events',
                       'arrears.outreach.replies', 'arrears.clock')
           and not exists (select 1 from scoring.inbox i where i.event_id = e.event_id))
       or (e.topic in ('arrears.accounts', 'arrears.scores', 'arrears.payments.events',
                       'arrears.outreach.replies', 'arrears.outreach.callbacks', 'arrears.clock')
           and not exists (select 1 from outreach.inbox i where i.event_id = e.event_id))
       or (e.topic in ('arrears.accounts', 'arrears.payments.inbound', 'arrears.outreach.replies',
                       'arrears.clock')
           and not exists (select 1 from reconciliation.inbox i where i.event_id = e.event_id)))"
}
# The provider's status callbacks (delivered, undelivered, call outcomes) still to be posted.
callbacks() {
  curl -s -m 10 "http://127.0.0.1:$sinks_http/control/stats" | "$py" -c 'import json, sys
print(json.load(sys.stdin).get("callbacks_pending", 0))' 2>/dev/null || echo 1
}
recorded() { q "select count(*) from audit.events where namespace = '$ns'"; }
# Quiet: nothing unclaimed and the audit store no longer growing.
quiet() {
  local a b
  a=$(recorded)
  sleep 1
  b=$(recorded)
  [[ $a == "$b" && $(unclaimed) == 0 && $(callbacks) == 0 ]]
}
day_done() {
  [[ $(q "select count(*) from outreach.campaign_clock where namespace = '$ns'
          and until_at >= '$1'::date + 1") == 1 ]] || return 1
  [[ $(q "select count(*) from outreach.steps where tenant = '$tenant' and status in ('planned', 'sending')
          and due_at < '$1'::date + 1") == 0 ]]
}

# campaign NAME PORT_BASE FLUSH_DAY: one whole run in its own namespace (FLUSH_DAY -1: none).
campaign() {
  local name=$1 port=$2 flush_day=$3 d day
  ns="e2a$stamp$name." tenant="aud$stamp$name"
  namespaces+=("$ns")
  export ARR_TOPIC_PREFIX=$ns
  "$cli" topics apply >/dev/null
  start_service audit $((port + 0)) au-$name-$stamp
  audit_pid=$E2E_LAST_PID
  start_service scoring $((port + 1)) sc-$name-$stamp
  start_service reconciliation $((port + 2)) rc-$name-$stamp
  start_service outreach $((port + 3)) ou-$name-$stamp
  for i in 0 1 2 3; do
    check "run $name: service on port $((port + i)) becomes ready" wait_for 60 ready $((port + i))
  done
  "$cli" ingest accounts "$E2E_TMP/portfolio.jsonl" --tenant "$tenant" \
    --mapping "$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.jsonl.json" --as-of 2026-11-01 \
    --at "${first_day}T07:00:00Z" >"$E2E_TMP/ingest-$name.out" 2>&1
  placed=$(q "select count(*) from ingest.accounts where tenant = '$tenant'")
  check "run $name: the portfolio is placed ($placed accounts)" test "$placed" -gt $((n * 9 / 10))
  ledgers() { [[ $(q "select count(*) from reconciliation.ledger where tenant = '$tenant'") == "$placed" ]]; }
  check "run $name: every account has a ledger" wait_for 120 ledgers
  if [[ ! -s $E2E_TMP/pay/payments.jsonl ]]; then
    q "select account_id from ingest.accounts where tenant = '$tenant'" >"$E2E_TMP/accepted.txt"
    "$py" - "$E2E_TMP/accepted.txt" "$E2E_TMP/portfolio.jsonl" "$E2E_TMP/accepted.jsonl" <<'PY'
import json, sys
ids = set(open(sys.argv[1]).read().split())
with open(sys.argv[2]) as src, open(sys.argv[3], "w") as out:
    for line in src:
        if json.loads(line)["account_id"] in ids:
            out.write(line)
PY
    "$ARR_BIN_DIR/gen-payments" --portfolio "$E2E_TMP/accepted.jsonl" --seed 9 --tenant x \
      --payments $((n / 4)) --out-dir "$E2E_TMP/pay" --quiet
  fi
  check "run $name: scoring and outreach caught up with the placements" wait_for 180 quiet
  for ((d = 0; d < days; d++)); do
    day=$(date -u -d "$first_day + $d day" +%F)
    if ((d == 2)); then
      # Between two days, once every service is quiet, so both runs see them at the same point.
      "$cli" payments import "$E2E_TMP/pay/payments.jsonl" --format json --tenant "$tenant" \
        --wait 120 >"$E2E_TMP/pay-$name.out" 2>&1 || fail "run $name: payments import"
      wait_for 120 quiet || fail "run $name: the services did not catch up with the payments"
    fi
    # The day begins for reconciliation and scoring first, then, once they are done, for
    # outreach: a day's re-scores never race its contacts (arrears clock tick --services).
    "$cli" clock tick --day "$day" --services reconciliation,scoring >/dev/null
    wait_for 120 quiet || fail "run $name: day $day: the re-scoring did not finish"
    "$cli" clock tick --day "$day" --services outreach >/dev/null
    if ((d == 1 && flush_day >= 0)); then
      # The recorder killed mid-day: restarted, it records what it missed, each event once.
      kill -KILL "$audit_pid"
      wait "$audit_pid" 2>/dev/null
      start_service audit $((port + 0)) au-$name-$stamp
      audit_pid=$E2E_LAST_PID
      check "run $name: the audit recorder killed (SIGKILL) on day $d is ready again" wait_for 60 ready "$port"
    fi
    if ((d == flush_day)); then
      redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" flushall >/dev/null
      "$cli" cache rebuild --tenant "$tenant" >"$E2E_TMP/rebuild-$name.out" 2>&1
      check "run $name: FLUSHALL on day $d, then the cache is rebuilt from PostgreSQL" \
        grep -Eq ' [1-9][0-9]* scheduled step' "$E2E_TMP/rebuild-$name.out"
    fi
    wait_for 120 day_done "$day" || fail "run $name: day $day: due steps are still open"
    wait_for 120 quiet || fail "run $name: day $day: the services did not catch up"
  done
  check "run $name: contacts went out" \
    test "$(q "select count(*) from outreach.steps where tenant = '$tenant' and status = 'sent'")" -gt 0
  stop_services
}

first_day=$(date -u +%F)
campaign a "$base" -1
ns_a=$ns tenant_a=$tenant
campaign b $((base + 10)) 4
ns_b=$ns tenant_b=$tenant

# Every event once: one row per distinct event id published in the namespace.
published=$(for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${ns_b//./\\.}[^\"]*\)\".*/\1/p"); do
  kcat -b "$ARR_KAFKA_BROKERS" -C -t "$t" -o beginning -e -q -X isolation.level=read_committed -f '%s\n' 2>/dev/null |
    "$py" -c 'import sys, json
for l in sys.stdin:
    try: print(json.loads(l)["event_id"])
    except Exception: print("undecodable")'
done | sort -u | wc -l)
check "the audit store holds every published event once ($published)" \
  test "$(q "select count(*) from audit.events where namespace = '$ns_b'")" -eq "$published"

# One account's story: a paid account that was contacted.
acct=$(q "select s.account_id from outreach.steps s join reconciliation.ledger l using (tenant, account_id)
          where s.tenant = '$tenant_b' and s.status = 'sent' and l.applied_cents > 0
          order by s.account_id limit 1")
[[ -n $acct ]] || acct=$(q "select account_id from outreach.steps where tenant = '$tenant_b' and status = 'sent' order by 1 limit 1")
ARR_TOPIC_PREFIX=$ns_b "$cli" account history "$acct" --tenant "$tenant_b" --json >"$E2E_TMP/history.json" 2>"$E2E_TMP/history.err"
check "account history lists the account's events ($acct)" "$py" - "$E2E_TMP/history.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
types = [e["event_type"] for e in h]
times = [e["event_time"] for e in h]
assert times == sorted(times), "not in order"
assert "account.placed" in types, types[:3]
for t in ("score.computed", "outreach.planned", "outreach.sent"):
    assert t in types, t
assert all(e["summary"] for e in h), "an event without its reason"
PY
ARR_TOPIC_PREFIX=$ns_b "$cli" account history "$acct" --tenant "$tenant_b" >"$E2E_TMP/history.txt" 2>&1
check "each score in the history names its reason codes and versions" \
  grep -q 'strategy-default-1' "$E2E_TMP/history.txt"

for r in a b; do
  nsr=ns_$r tr=tenant_$r
  ARR_TOPIC_PREFIX=${!nsr} "$cli" replay --service scoring --tenant "${!tr}" --json \
    --shadow "$E2E_TMP/shadow-$r.jsonl" >"$E2E_TMP/replay-$r.json" 2>"$E2E_TMP/replay-$r.err"
  rc=$?
  check "run $r: the scoring replay reproduces every decision (exit $rc)" test "$rc" = 0
  check "run $r: ... and compared them all" "$py" - "$E2E_TMP/replay-$r.json" \
    "$(q "select count(*) from scoring.scores where tenant = '${!tr}'")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["compared"] == int(sys.argv[2]) and r["compared"] > 0, (r["compared"], sys.argv[2])
assert r["reproduced"] == r["compared"] and r["differed"] == 0 and r["unrecorded"] == 0, r
PY
done
check "the replay wrote its decisions to the shadow file only" test -s "$E2E_TMP/shadow-b.jsonl"

# Another strategy table: a different version that pursues small balances harder.
"$py" - "$ARR_SOURCE_DIR/deploy/strategy/default-1.json" "$E2E_TMP/strategy-2.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["version"] = "strategy-default-2"
for rule in t["rules"]:
    if rule["segment"] == "likely-small":
        rule["strategy"] = "digital-standard"
json.dump(t, open(sys.argv[2], "w"))
PY
ARR_TOPIC_PREFIX=$ns_b ARR_SCORING_STRATEGY="$E2E_TMP/strategy-2.json" "$cli" replay --service scoring \
  --tenant "$tenant_b" --json >"$E2E_TMP/replay-v2.json" 2>&1
rc=$?
check "with another strategy table the replay reports differences (exit $rc)" test "$rc" = 4
check "... and names the strategy table version change as their cause" "$py" - "$E2E_TMP/replay-v2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["differed"] > 0, r
assert all("strategy table version changed: recorded strategy-default-1, replay strategy-default-2" in c
           for c in r["causes"]), r["causes"]
assert r["differences"][0]["field"], r["differences"][0]
PY

# Reconciliation's decisions (allocations, balances, unmatched payments, deadlines) too.
for r in a b; do
  nsr=ns_$r tr=tenant_$r
  ARR_TOPIC_PREFIX=${!nsr} "$cli" replay --service reconciliation --tenant "${!tr}" --json \
    >"$E2E_TMP/replay-rc-$r.json" 2>"$E2E_TMP/replay-rc-$r.err"
  rc=$?
  check "run $r: the reconciliation replay reproduces every decision (exit $rc)" test "$rc" = 0
  check "run $r: ... one per payment" "$py" - "$E2E_TMP/replay-rc-$r.json" \
    "$(q "select count(*) from audit.events where namespace = '${!nsr}' and tenant = '${!tr}'
          and event_type in ('payment.applied', 'payment.unmatched')")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["compared"] >= int(sys.argv[2]) > 0 and r["reproduced"] == r["compared"], (r, sys.argv[2])
PY
done
# Another waterfall version (principal first): the replay names it.
mkdir -p "$E2E_TMP/deploy-v2/reconciliation"
"$py" - "$ARR_SOURCE_DIR/deploy/reconciliation/waterfalls.json" \
  "$E2E_TMP/deploy-v2/reconciliation/waterfalls.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
w["tenants"]["*"] = {"version": "principal-first-2", "order": ["principal", "interest", "fees"],
                     "oldest_invoice_first": False}
json.dump(w, open(sys.argv[2], "w"))
PY
ARR_TOPIC_PREFIX=$ns_b ARR_DEPLOY_DIR="$E2E_TMP/deploy-v2" "$cli" replay --service reconciliation \
  --tenant "$tenant_b" --json >"$E2E_TMP/replay-rc-v2.json" 2>&1
rc=$?
check "with another waterfall the reconciliation replay reports differences (exit $rc)" test "$rc" = 4
check "... and names the waterfall version change as their cause" \
  grep -q 'waterfall changed: recorded fees-interest-principal-1, replay principal-first-2' "$E2E_TMP/replay-rc-v2.json"

# Outreach's decisions when each step fell due (sent, deferred, suppressed, with their rules).
for r in a b; do
  nsr=ns_$r tr=tenant_$r
  ARR_TOPIC_PREFIX=${!nsr} "$cli" replay --service outreach --tenant "${!tr}" --json \
    >"$E2E_TMP/replay-ou-$r.json" 2>"$E2E_TMP/replay-ou-$r.err"
  rc=$?
  check "run $r: the outreach replay reproduces every contact decision (exit $rc)" test "$rc" = 0
  check "run $r: ... at least one per sent or deferred step" "$py" - "$E2E_TMP/replay-ou-$r.json" \
    "$(q "select count(*) from audit.events where namespace = '${!nsr}' and tenant = '${!tr}'
          and event_type in ('outreach.sent', 'outreach.deferred')")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["compared"] >= int(sys.argv[2]) > 0 and r["reproduced"] == r["compared"], (r, sys.argv[2])
PY
done
# Another cadence policy version, one e-mail a week: the replay names it.
cp -r "$ARR_SOURCE_DIR/deploy/outreach" "$E2E_TMP/outreach-v2"
"$py" - "$E2E_TMP/outreach-v2/cadences/default-1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["version"] = "cadence-default-2"
c["weekly_caps"]["email"] = 1
json.dump(c, open(sys.argv[1], "w"))
PY
ARR_TOPIC_PREFIX=$ns_b ARR_OUTREACH_SETTINGS="$E2E_TMP/outreach-v2/tenants.json" "$cli" replay \
  --service outreach --tenant "$tenant_b" --json >"$E2E_TMP/replay-ou-v2.json" 2>&1
rc=$?
check "with another cadence policy the outreach replay reports differences (exit $rc)" test "$rc" = 4
check "... and names the cadence policy version change as their cause" \
  grep -q 'cadence policy version changed: recorded cadence-default-1, replay cadence-default-2' "$E2E_TMP/replay-ou-v2.json"

# The business report over the campaign, checked against the steps themselves.
last_day=$(date -u -d "$first_day + $((days - 1)) day" +%F)
"$cli" report --tenant "$tenant_b" --from "$first_day" --to "$last_day" --json >"$E2E_TMP/report.json" 2>"$E2E_TMP/report.err"
check "the business report runs over the campaign" test -s "$E2E_TMP/report.json"
check "... its contact cost is that of the sent steps" "$py" - "$E2E_TMP/report.json" \
  "$(q "select coalesce(sum(cost_cents), 0) from outreach.steps where tenant = '$tenant_b' and status = 'sent'
        and done_at >= '$first_day'::date and done_at < '$last_day'::date + 1")" <<'PY'
import json, sys
r = json.dumps(json.load(open(sys.argv[1])))
assert '"cost_cents": %s' % sys.argv[2] in r, (sys.argv[2], r[:400])
PY

# Retention, years later: the finished accounts of run A are anonymised, the replays still hold.
"$cli" retention apply --tenant "$tenant_a" --as-of 2031-01-01 --json >"$E2E_TMP/retention.json" 2>&1
erased=$(q "select count(*) from audit.erasures where tenant = '$tenant_a'")
check "retention anonymises the finished accounts of run A ($erased)" test "$erased" -gt 0
q "select account_id from audit.erasures where tenant = '$tenant_a'" >"$E2E_TMP/erased.txt"
# A contact point of an erased account, as the billing export gave it: an e-mail or a phone.
contact=$("$py" - "$E2E_TMP/erased.txt" "$E2E_TMP/portfolio.jsonl" <<'PY'
import json, sys
erased = set(open(sys.argv[1]).read().split())
for line in open(sys.argv[2]):
    d = json.loads(line)
    if d["account_id"] in erased and (d.get("email") or d.get("phone")):
        print(d.get("email") or d["phone"])
        break
PY
)
check "... a contact point of an erased account ($contact) is nowhere in the audit store" \
  test -n "$contact" -a "$(q "select count(*) from audit.events where tenant = '$tenant_a' and message like '%$contact%'")" = 0
for s in scoring reconciliation outreach; do
  ARR_TOPIC_PREFIX=$ns_a "$cli" replay --service "$s" --tenant "$tenant_a" >"$E2E_TMP/replay-after-$s.txt" 2>&1
  rc=$?
  check "after retention the $s replay of run A still reproduces everything (exit $rc)" test "$rc" = 0
done

# The flushed run ends where the other did. Each service's decisions follow exactly from the
# order it consumed its inputs in (the replays above), but two runs need not see the same
# order: a day's re-score may count a contact sent that same day or not, depending on which
# of the two scoring consumed first, and outreach may see that re-score before or after the
# day began for it. So: every balance must be equal, every account whose inputs both services
# consumed in the same order in both runs (its events and its partition's clock events
# addressed to the service) must
# have the very same scores (exact probabilities) and contact steps (due time, status, rule),
# and accounts seen in another order must stay rare.
cat >"$E2E_TMP/order.sql" <<'SQL'
with acct as (
  select e.account_id, i.kafka_partition p, i.seq, 'o' svc, e.event_type || '@' || e.event_time tag
    from audit.events e join outreach.inbox i on i.event_id = e.event_id
   where e.namespace = :'ns' and e.tenant = :'t'
  union all
  select e.account_id, i.kafka_partition, i.seq, 's', e.event_type || '@' || e.event_time
    from audit.events e join scoring.inbox i on i.event_id = e.event_id
   where e.namespace = :'ns' and e.tenant = :'t'),
clk as (
  select i.kafka_partition p, i.seq, 'o' svc, e.event_type || '@' || e.event_time tag
    from audit.events e join outreach.inbox i on i.event_id = e.event_id
   where e.namespace = :'ns' and e.tenant = 'system'
     and coalesce(e.message::jsonb->'payload'->'services' ? 'outreach', true)
  union all
  select i.kafka_partition, i.seq, 's', e.event_type || '@' || e.event_time
    from audit.events e join scoring.inbox i on i.event_id = e.event_id
   where e.namespace = :'ns' and e.tenant = 'system'
     and coalesce(e.message::jsonb->'payload'->'services' ? 'scoring', true)),
x as (
  select a.account_id, a.svc, a.seq, a.tag from acct a
  union all
  select k.account_id, c.svc, c.seq, c.tag
    from (select distinct account_id, p from acct) k join clk c on c.p = k.p)
select 'I|' || account_id || '|' || md5(string_agg(svc || tag, ',' order by svc, seq))
  from x group by account_id;
SQL
rows() { # TENANT NAMESPACE
  q "select 'L|' || account_id || '|' || balance_cents || ':' || applied_cents || ':' || reversed_cents
       from reconciliation.ledger where tenant = '$1'
     union all select 'S|' || account_id || '|' || string_agg(cause_type || ':' || probability || ':'
       || strategy, ',' order by scored_at, cause_type, probability) from scoring.scores
       where tenant = '$1' group by account_id
     union all select 'O|' || account_id || '|' || string_agg(coalesce(step_key, '') || ':' || channel
       || ':' || due_at || ':' || status || ':' || coalesce(rule_id, ''), ',' order by step_key, due_at)
       from outreach.steps where tenant = '$1' group by account_id"
  psql "$ARR_PG_CONNINFO" -XAtq -v ON_ERROR_STOP=1 -v ns="$2" -v t="$1" -f "$E2E_TMP/order.sql"
}
rows "$tenant_a" "$ns_a" >"$E2E_TMP/state-a.txt"
rows "$tenant_b" "$ns_b" >"$E2E_TMP/state-b.txt"
check "run B (Redis flushed mid-run and rebuilt) ends in the same state as run A" \
  "$py" - "$E2E_TMP/state-a.txt" "$E2E_TMP/state-b.txt" <<'PY'
import sys
def load(path):
    d = {}
    for line in open(path):
        kind, acct, value = line.rstrip("\n").split("|", 2)
        d[(kind, acct)] = value
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
accts = {k[1] for k in a if k[0] == "L"}
assert accts == {k[1] for k in b if k[0] == "L"}, "not the same accounts"
bad = [x for x in accts if a[("L", x)] != b[("L", x)]]
assert not bad, "balances differ: %s" % bad[:5]
same = [x for x in accts if a.get(("I", x)) == b.get(("I", x))]
bad = [x for x in same if a.get(("S", x)) != b.get(("S", x)) or a.get(("O", x)) != b.get(("O", x))]
assert not bad, "same inputs in the same order, other decisions: %s" % bad[:5]
raced = len(accts) - len(same)
print("accounts %d, inputs in the same order %d, in another %d" % (len(accts), len(same), raced))
assert raced * 100 <= len(accts), "more than 1%% of the accounts saw another order: %d" % raced
PY
