#!/usr/bin/env bash
# A generated billing export of 100,000 rows through `arrears ingest accounts`, against the
# real stack: rows in PostgreSQL, account events on the topic (read with kcat) and rejects
# add up exactly to the rows read; the same file again changes nothing; an import killed
# with SIGKILL in the middle and run again ends in the same state as an uninterrupted one;
# a later snapshot closes the accounts it lacks and publishes what changed.
# Its events go to a scratch topic (ARR_TOPIC_ACCOUNTS), so the hundreds of thousands of
# accounts it places do not become a backlog for the consumer services of other tests.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
stamp=$(date +%s%N | tail -c 9)
export ARR_TOPIC_ACCOUNTS="e2e.ingest.accounts.$stamp"
"$ARR_BIN_DIR/arrears" topics create "$ARR_TOPIC_ACCOUNTS" --partitions 12 >/dev/null
trap 'finish; rc=$?; "$ARR_BIN_DIR/arrears" topics delete "$ARR_TOPIC_ACCOUNTS" >/dev/null; exit $rc' EXIT
cli="$ARR_BIN_DIR/arrears"
gen="$ARR_BIN_DIR/gen-portfolio"
mapping="$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.csv.json"
n=${ARR_E2E_INGEST_ROWS:-100000}
t1="imp$stamp" t2="impk$stamp"
file="$E2E_TMP/portfolio.csv"
"$gen" --accounts "$n" --seed 5 --format csv --out "$file"
rows=$(python3 -c "import csv,sys; r=csv.reader(open(sys.argv[1], newline='', encoding='utf-8-sig')); next(r); print(sum(1 for _ in r))" "$file")
echo "generated $rows records"

q() { psql_q "$1"; }
summary_of() { grep -E '^ingest: read ' "$1" | sed -E 's/.*read ([0-9]+) = accepted ([0-9]+) \+ rejected ([0-9]+).*/\1 \2 \3/'; }

"$cli" ingest accounts "$file" --tenant "$t1" --mapping "$mapping" --as-of 2026-11-01 >"$E2E_TMP/first.out" 2>"$E2E_TMP/first.err"
check "the first import succeeds" test $? -eq 0
read -r read acc rej < <(summary_of "$E2E_TMP/first.out")
check "the summary says read = accepted + rejected ($read = $acc + $rej)" test "$read" -eq $((acc + rej))
check "every record of the file was read ($rows)" test "$read" -eq "$rows"
stored=$(q "select count(*) from ingest.accounts where tenant = '$t1'")
check "accounts in PostgreSQL = accepted ($stored)" test "$stored" -eq "$acc"
rejects=$(q "select count(*) from ingest.rejects where tenant = '$t1'")
check "rejects kept in ingest.rejects = rejected ($rejects)" test "$rejects" -eq "$rej"
check "some rows were rejected (the generator breaks a few)" test "$rej" -gt 0
codes=$(q "select string_agg(distinct reason_code, ',' order by reason_code) from ingest.rejects where tenant = '$t1'")
echo "reject reasons: $codes"
check "duplicates in the file are rejected as such" grep -q duplicate_in_file <<<"$codes"
published() { [[ $(count_keys "$ARR_TOPIC_ACCOUNTS" "$t1/") == "$acc" ]]; }
check "one account.placed per accepted record on the topic (kcat)" wait_for 60 published

"$cli" ingest accounts "$file" --tenant "$t1" --mapping "$mapping" --as-of 2026-11-01 >"$E2E_TMP/second.out" 2>&1
check "the second import of the same file says nothing changed" grep -q "already imported" "$E2E_TMP/second.out"
check "and stores nothing new" test "$(q "select count(*) from ingest.accounts where tenant = '$t1'")" -eq "$stored"
sleep 2
check "and publishes nothing new" published

# Killed in the middle, then run again: the same end state as the uninterrupted import.
"$cli" ingest accounts "$file" --tenant "$t2" --mapping "$mapping" --as-of 2026-11-01 --batch 2000 \
  >"$E2E_TMP/killed.out" 2>&1 &
victim=$!
partial() { (($(q "select count(*) from ingest.accounts where tenant = '$t2'") > n / 4)); }
wait_for 120 partial
kill -KILL "$victim" 2>/dev/null
wait "$victim" 2>/dev/null
at_kill=$(q "select count(*) from ingest.accounts where tenant = '$t2'")
echo "killed with $at_kill accounts stored"
check "the kill landed mid-import" test "$at_kill" -lt "$acc"
"$cli" ingest accounts "$file" --tenant "$t2" --mapping "$mapping" --as-of 2026-11-01 --batch 2000 >"$E2E_TMP/resumed.out" 2>&1
check "the restarted import finishes" test $? -eq 0
check "and says it resumed" grep -q "resumed after line" "$E2E_TMP/resumed.out"
read -r read2 acc2 rej2 < <(summary_of "$E2E_TMP/resumed.out")
check "the resumed summary has the same totals ($read2 = $acc2 + $rej2)" test "$read2 $acc2 $rej2" = "$read $acc $rej"
same_rows() {
  [[ $(q "select count(*) from (select account_id, content_hash from ingest.accounts where tenant = '$t1'
          except select account_id, content_hash from ingest.accounts where tenant = '$t2') d") == 0 &&
     $(q "select count(*) from ingest.accounts where tenant = '$t2'") == "$stored" ]]
}
check "the same accounts with the same content as the uninterrupted import" same_rows
check "the same rejects" test "$(q "select count(*) from ingest.rejects where tenant = '$t2'")" -eq "$rej"
distinct_placed() {
  local keys
  keys=$(topic_keys "$ARR_TOPIC_ACCOUNTS" | grep "^$t2/" | sort)
  [[ $(wc -l <<<"$keys") -ge $acc && $(sort -u <<<"$keys" | wc -l) == "$acc" ]]
}
check "every account published (duplicates from the replayed batch share their event id)" wait_for 60 distinct_placed

# A snapshot with a tenth of the accounts removed and one balance changed.
snap="$E2E_TMP/snapshot.csv"
python3 - "$file" "$snap" <<'PY'
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, newline='', encoding='utf-8-sig') as f, open(dst, 'w', newline='', encoding='utf-8') as g:
    r, w = csv.reader(f), csv.writer(g, lineterminator='\r\n')
    header = next(r); w.writerow(header)
    due = header.index('Amount Due')
    for i, row in enumerate(r):
        if i % 10 == 9:
            continue
        if i == 0:
            row[due] = '1.23'
        w.writerow(row)
PY
before_open=$(q "select count(*) from ingest.accounts where tenant = '$t1' and status = 'open'")
"$cli" ingest accounts "$snap" --tenant "$t1" --mapping "$mapping" --mode snapshot --as-of 2026-11-02 >"$E2E_TMP/snap.out" 2>&1
check "the snapshot import succeeds" test $? -eq 0
closed=$(q "select count(*) from ingest.accounts where tenant = '$t1' and status = 'closed'")
echo "snapshot closed $closed of $before_open open accounts"
check "accounts missing from the snapshot are closed" test "$closed" -gt 0
check "the summary reports them" grep -q "closed $closed;" "$E2E_TMP/snap.out"
closed_events() { [[ $(topic_values "$ARR_TOPIC_ACCOUNTS" "$t1/" | grep -c '"event_type":"account.closed"') == "$closed" ]]; }
check "one account.closed event each" wait_for 60 closed_events
updated_event() { topic_values "$ARR_TOPIC_ACCOUNTS" "$t1/" | grep '"event_type":"account.updated"' | grep -q '"balance_cents"'; }
check "the changed balance is published as account.updated naming the change" wait_for 60 updated_event

# The push API: POST /v1/accounts:batch with a bearer token per tenant.
# A crash right after a batch's commit, before its events went out (the test hook exits
# there): the stored accounts must still all be published, by the import itself when it
# runs again, or by the ingest service when nobody runs it again.
placed_of() { topic_keys "$ARR_TOPIC_ACCOUNTS" | grep "^$1/" | sort -u | wc -l; }
caught_up() {
  [[ $(q "select published_line = lines_done from ingest.imports where tenant = '$1'") == t &&
     $(placed_of "$1") == $(q "select count(*) from ingest.accounts where tenant = '$1'") ]]
}
t5="impc$stamp" t4="impo$stamp"
for t in "$t5" "$t4"; do
  ARR_TEST_CRASH_AFTER_COMMITS=5 "$cli" ingest accounts "$file" --tenant "$t" --mapping "$mapping" \
    --as-of 2026-11-01 --batch 2000 >"$E2E_TMP/crash-$t.out" 2>&1
  check "the import of $t died after its 5th commit" test $? -eq 137
done
check "a crash after the commit left events unpublished" \
  test "$(q "select published_line < lines_done from ingest.imports where tenant = '$t5'")" = t
"$cli" ingest accounts "$file" --tenant "$t5" --mapping "$mapping" --as-of 2026-11-01 --batch 2000 >"$E2E_TMP/resumed5.out" 2>&1
check "run again, it finishes" test $? -eq 0
check "and every stored account is published once more or for the first time" wait_for 60 caught_up "$t5"
check "no more and no other accounts than the uninterrupted import" test "$(placed_of "$t5")" = "$acc"

t3="api$stamp"
token="tok-$stamp-0123456789abcdef"
port=28611
ARR_INGEST_TOKENS="$t3:$token" start_service ingest $port ingest-api
check "ingest with the batch API becomes ready" wait_for 60 ready $port
check "the service publishes what the import that never ran again left unpublished" wait_for 60 caught_up "$t4"
batch="$E2E_TMP/batch.json"
cat >"$batch" <<JSON
{"tenant": "$t3", "as_of": "2026-11-01", "records": [
 {"account_id": "API-1", "balance": "120.50", "due_date": "2026-09-01", "service_type": "water",
  "first_name": "Ana", "last_name": "Diaz", "email": "ana@example.com", "phone": "(512) 555-0100",
  "phone_type": "mobile", "phone_sms_consent": "yes", "state": "TX", "zip": "78701"},
 {"account_id": "API-2", "balance": "12.345", "due_date": "2026-09-01"},
 {"account_id": "API-3", "balance": "40", "due_date": "2026-10-15", "service_type": "gas", "state": "FL", "zip": "32501"}
]}
JSON
post() { curl -s -o "$E2E_TMP/resp.json" -w '%{http_code}' -H "Authorization: Bearer $1" \
  -H 'Content-Type: application/json' --data-binary @"$2" "http://127.0.0.1:$port/v1/accounts:batch"; }
code=$(post "$token" "$batch")
check "a batch is answered 200" test "$code" = 200
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$E2E_TMP/resp.json" "$1"; }
check "2 accepted, 1 rejected" test "$(field "d['accepted'], d['rejected']")" = "(2, 1)"
check "the reject names the record, field and reason" \
  test "$(field "[(r['index'], r['field'], r['code']) for r in d['rejects']]")" = "[(2, 'balance', 'bad_amount')]"
check "the accounts are stored" test "$(q "select count(*) from ingest.accounts where tenant = '$t3'")" = 2
code=$(post "$token" "$batch")
check "the same batch again is answered 200" test "$code" = 200
check "and marked as already imported, changing nothing" test "$(field "d['already_imported'], d['accepted'], d['rejected']")" = "(True, 2, 1)"
check "a wrong token is refused with 401" test "$(post "wrong-$token" "$batch")" = 401
head -c 9000000 /dev/zero | tr '\0' ' ' >"$E2E_TMP/huge.json"
check "a body over the size limit is refused with 413" test "$(post "$token" "$E2E_TMP/huge.json")" = 413
