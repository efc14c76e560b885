#!/usr/bin/env bash
# Scoring, exactly once, in a namespace of its own (ARR_TOPIC_PREFIX: its own topics,
# consumer group and transactional ids, so the other tests' services never see its
# accounts): a generated export of 100,000 rows is ingested; two scoring replicas share the
# partitions; one is killed with SIGKILL half way and started again. A read_committed
# consumer must then see exactly one score per placed account, and PostgreSQL one history
# row each. The same export under a second tenant is scored again: the same accounts get the
# very same scores. A day on the clock re-scores every open account once.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
stamp=$(date +%s%N | tail -c 9)
export ARR_TOPIC_PREFIX="e2e$stamp."
cli="$ARR_BIN_DIR/arrears"
"$cli" topics apply >/dev/null
cleanup() {
  local t
  for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${ARR_TOPIC_PREFIX//./\\.}[^\"]*\)\".*/\1/p"); do
    ARR_TOPIC_PREFIX= "$cli" topics delete "$t" >/dev/null 2>&1
  done
}
trap 'finish; rc=$?; cleanup; exit $rc' EXIT
scores="${ARR_TOPIC_PREFIX}arrears.scores"
# No ARR_TOPIC_ACCOUNTS: the CLI's import follows the namespace by itself.
n=${ARR_E2E_SCORING_ROWS:-100000}
t1="sca$stamp" t2="scb$stamp"
file="$E2E_TMP/portfolio.csv"
"$ARR_BIN_DIR/gen-portfolio" --accounts "$n" --seed 11 --format csv --out "$file"
q() { psql_q "$1"; }
"$cli" ingest accounts "$file" --tenant "$t1" --mapping "$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.csv.json" \
  --as-of 2026-11-01 >"$E2E_TMP/ingest1.out" 2>&1
check "the export is ingested" test $? -eq 0
acc=$(q "select accepted from ingest.imports where tenant = '$t1'")
echo "$acc accounts placed"

# Scores as a read_committed consumer sees them: key, causation id and payload per line.
score_lines() {
  kcat -b "$ARR_KAFKA_BROKERS" -C -t "$scores" -o beginning -e -q -X isolation.level=read_committed \
    -f '%s\n' 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    try: e = json.loads(line)
    except ValueError: continue
    p = e["payload"]
    print("\t".join([e["tenant"], e["account"], e["causation_id"] or "", p["cause_event_type"],
                     json.dumps({k: p[k] for k in sorted(p) if k != "cause_event_type"}, sort_keys=True)]))'
}
history() { q "select count(*) from scoring.scores where tenant = '$1' and cause_type = '$2'"; }

start_service scoring 28721 score-a$stamp
a=$E2E_LAST_PID
start_service scoring 28722 score-b$stamp
check "both scoring replicas become ready" wait_for 60 ready 28721
wait_for 60 ready 28722
halfway() { (($(history "$t1" account.placed) > acc / 3)); }
check "scores are being written" wait_for 120 halfway
kill -KILL "$a"
echo "killed replica a with $(history "$t1" account.placed) scores in the history"
start_service scoring 28721 score-a$stamp
all_scored() { [[ $(history "$t1" account.placed) == "$acc" ]]; }
check "every placed account has its score in the history" wait_for 300 all_scored
settled() { [[ $(score_lines | awk -F'\t' -v t="$t1" '$1 == t && $4 == "account.placed"' | wc -l) -ge $acc ]]; }
wait_for 120 settled
score_lines >"$E2E_TMP/scores1.txt"
placed_lines=$(awk -F'\t' -v t="$t1" '$1 == t && $4 == "account.placed"' "$E2E_TMP/scores1.txt" | wc -l)
distinct=$(awk -F'\t' -v t="$t1" '$1 == t && $4 == "account.placed" { print $3 }' "$E2E_TMP/scores1.txt" | sort -u | wc -l)
check "a read_committed consumer sees one score per placed account ($placed_lines for $acc)" test "$placed_lines" -eq "$acc"
check "no cause scored twice ($distinct distinct causes)" test "$distinct" -eq "$acc"
check "the history holds each score once" \
  test "$(q "select count(distinct cause_event_id) from scoring.scores where tenant = '$t1'")" -eq "$acc"
check "every score carries model, table, arm and reasons" \
  test "$(awk -F'\t' -v t="$t1" '$1 == t && $5 ~ /"model_id": "scorecard-default-1"/ && $5 ~ /"arm": "champion"/ && $5 ~ /"reason_codes": \[/' "$E2E_TMP/scores1.txt" | wc -l)" -eq "$acc"
check "the feature state is cached in Redis, without personal data" \
  test "$(redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" hget "arr:acct:$t1/$(awk -F'\t' -v t="$t1" '$1 == t { print $2; exit }' "$E2E_TMP/scores1.txt")" features | cut -c1-3)" = "v1|"

# Redis is a cache: dropped, it is rebuilt from PostgreSQL, the same as it was.
some=$(awk -F'\t' -v t="$t1" '$1 == t { print $2; exit }' "$E2E_TMP/scores1.txt")
rcli() { redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" "$@"; }
view() { rcli hmget "arr:acct:$t1/$some" features score_bp strategy arm | tr '\n' ' '; }
before=$(view)
rcli --scan --pattern "arr:acct:$t1/*" | xargs -r -n 500 redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" del >/dev/null
check "the cache is gone" test "$(rcli exists "arr:acct:$t1/$some")" = 0
"$cli" cache rebuild --tenant "$t1" >"$E2E_TMP/rebuild.out" 2>&1
check "arrears cache rebuild restores every account of the tenant" grep -q "^cache: $acc account" "$E2E_TMP/rebuild.out"
check "as it was ($before)" test "$(view)" = "$before"

# The same export under another tenant: the same accounts, scored again, score the same.
"$cli" ingest accounts "$file" --tenant "$t2" --mapping "$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.csv.json" \
  --as-of 2026-11-01 >"$E2E_TMP/ingest2.out" 2>&1
all_scored2() { [[ $(history "$t2" account.placed) == "$acc" ]]; }
check "the second tenant is scored too" wait_for 300 all_scored2
settled2() { [[ $(score_lines | awk -F'\t' -v t="$t2" '$1 == t && $4 == "account.placed"' | wc -l) -ge $acc ]]; }
wait_for 120 settled2
score_lines >"$E2E_TMP/scores2.txt"
same() {
  diff <(awk -F'\t' -v t="$t1" '$1 == t && $4 == "account.placed" { print $2 "\t" $5 }' "$E2E_TMP/scores2.txt" | sort) \
       <(awk -F'\t' -v t="$t2" '$1 == t && $4 == "account.placed" { print $2 "\t" $5 }' "$E2E_TMP/scores2.txt" | sort) >/dev/null
}
check "scored again, the same events give the same scores" same

# A day begins: every open account of both tenants is re-scored once, as of that day.
open=$(q "select count(*) from scoring.accounts where tenant in ('$t1', '$t2') and status = 'open'")
day=$(date -u -d '+20 days' +%F) # the accounts were placed today: 20 days later
"$cli" clock tick --day "$day" >/dev/null
"$cli" clock tick --day "$day" >/dev/null # the same day again counts once
rescored() { [[ $(q "select count(*) from scoring.scores where tenant in ('$t1', '$t2') and cause_type = 'clock.day_started'") == "$open" ]]; }
check "the day re-scores each of the $open open accounts once" wait_for 300 rescored
clock_scores() { score_lines | awk -F'\t' -v a="$t1" -v b="$t2" '($1 == a || $1 == b) && $4 == "clock.day_started"' | wc -l; }
clock_once() { [[ $(clock_scores) == "$open" ]]; }
check "and a read_committed consumer sees each of those scores once" wait_for 60 clock_once
aged() {
  # One pass grouped by account (a join of two CTEs could be planned as a nested loop over
  # ~100,000 x 100,000 rows when the statistics lag).
  [[ $(q "select count(*) from (select account_id,
                 max(features[2]) filter (where cause_type = 'clock.day_started') r,
                 max(features[2]) filter (where cause_type = 'account.placed') p
            from scoring.scores where tenant = '$t1'
             and cause_type in ('clock.day_started', 'account.placed') group by account_id) x
          where p > 0 and r is not null and r - p not between 19 and 21") == 0 ]]
}
check "as of the new day: 20 days more past due than at placement" aged
