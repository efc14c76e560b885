# scripts/bench reconciliation (sourced by scripts/bench, which has built and started
# everything): N generated payments (the e2e test's mix: exact, partial, over, by amount and
# name, unmatchable, instalments, settlements, repeats) against N placed accounts, applied by
# one replica with exactly once on (inbox, unique payment claim, outbox in one transaction),
# timed from the import's start to the last payment recorded; and the raw ceiling measured in
# the same run: the same payment rows loaded with psql \copy.
stamp=$(date +%Y%m%d%H%M%S)
ns="benchr$stamp." tenant="benchr$stamp"
export ARR_TOPIC_PREFIX=$ns
echo "bench reconciliation: $accounts accounts and payments, $(nproc) cores, $(date -u +%FT%TZ)"
cleanup_ns() {
  local t
  for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${ns//./\\.}[^\"]*\)\".*/\1/p"); do
    ARR_TOPIC_PREFIX= "$bin/arrears" topics delete "$t" >/dev/null 2>&1
  done
  ((started)) && scripts/stack down >/dev/null
}
trap 'for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; done; cleanup_ns' EXIT
pids=()
"$bin/arrears" topics apply >/dev/null
portfolio=var/bench/portfolio-$accounts.jsonl
[[ -s $portfolio ]] || "$bin/gen-portfolio" --accounts "$accounts" --seed 1 --format jsonl --broken-rate 0 --out "$portfolio" --quiet
# Replicas share the payments' partitions as a consumer group (ARR_BENCH_REPLICAS, default 2:
# each one waits on PostgreSQL round trips most of the time, so two keep both cores busy).
replicas=${ARR_BENCH_REPLICAS:-2}
pids=()
for ((r = 0; r < replicas; r++)); do
  ARR_INSTANCE="bench-rec$r" ARR_HTTP_PORT=$((28800 + RANDOM % 90)) /usr/bin/time -f '%M' -o var/bench/rss-rec$r.txt \
    "$bin/arrears-reconciliation" >var/bench/reconciliation$r.log 2>&1 &
  pids+=($!)
done
pid=${pids[0]}
"$bin/arrears" ingest accounts "$portfolio" --tenant "$tenant" --mapping deploy/mappings/gen-portfolio.jsonl.json \
  --as-of 2026-11-01 >/dev/null 2>&1
placed=$(q "select accepted from ingest.imports where tenant = '$tenant'")
until [[ $(q "select count(*) from reconciliation.ledger where tenant = '$tenant'") == "$placed" ]]; do
  kill -0 "$pid" 2>/dev/null || { echo "bench: a replica died: var/bench/reconciliation0.log" >&2; exit 1; }
  sleep 0.2
done
# Payments for the accounts ingest accepted (it rejects a few rows: bad e-mails, phones).
q "select account_id from ingest.accounts where tenant = '$tenant'" >var/bench/accepted.txt
python3 - var/bench/accepted.txt "$portfolio" var/bench/accepted.jsonl <<'PY'
import json, sys
ids = set(open(sys.argv[1]).read().split())
with open(sys.argv[2]) as src, open(sys.argv[3], "w") as out:
    for line in src:
        if json.loads(line)["account_id"] in ids:
            out.write(line)
PY
rm -rf var/bench/pay && "$bin/gen-payments" --portfolio var/bench/accepted.jsonl --seed 1 --tenant "$tenant" \
  --payments "$accounts" --out-dir var/bench/pay --quiet
"$bin/arrears" payments arrange --file var/bench/pay/arrangements.jsonl --tenant "$tenant" >/dev/null
want=$(python3 -c "import json; print(json.load(open('var/bench/pay/expected.json'))['distinct_payments'])")
t0=$(now)
"$bin/arrears" payments import var/bench/pay/payments.jsonl --format json --tenant "$tenant" >/dev/null
t_pub=$(now)
# Polled twice a second: the count itself costs PostgreSQL a few milliseconds.
until [[ $(q "select count(*) from reconciliation.payments where tenant = '$tenant'") == "$want" ]]; do
  kill -0 "$pid" 2>/dev/null || { echo "bench: a replica died: var/bench/reconciliation0.log" >&2; exit 1; }
  sleep 0.5
done
t1=$(now)
"$bin/arrears" payments verify --tenant "$tenant" >var/bench/verify.out || { cat var/bench/verify.out; exit 1; }
for p in "${pids[@]}"; do pkill -TERM -P "$p"; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
rec_s=$(secs "$t0" "$t1")
pub_s=$(secs "$t0" "$t_pub")
rec_rate=$(rate "$want" "$rec_s")
rss=$(for ((r = 0; r < replicas; r++)); do tail -n 1 var/bench/rss-rec$r.txt; done | sort -n | tail -n 1)

# ceiling: the same payment rows with psql \copy into a table shaped like reconciliation.payments.
q "set client_min_messages = warning; drop table if exists public.bench_copy; create table public.bench_copy (like reconciliation.payments including all)"
psql "$ARR_PG_CONNINFO" -XAtq -c "\\copy (select * from reconciliation.payments where tenant = '$tenant') to 'var/bench/payments.copy'"
t0=$(now)
psql "$ARR_PG_CONNINFO" -XAtq -c "\\copy public.bench_copy from 'var/bench/payments.copy'"
t1=$(now)
copy_s=$(secs "$t0" "$t1")
copy_rate=$(rate "$want" "$copy_s")
q "drop table public.bench_copy"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\n%-60s %12s %10s\n' "measure ($want distinct payments)" "per second" "seconds"
printf '%-60s %12s %10s\n' "arrears, $replicas replica(s): file -> matched, allocated, announced" "$rec_rate" "$rec_s"
printf '%-60s %12s %10s\n' "  of which parsing and publishing the file" "" "$pub_s"
printf '%-60s %12s %10s\n' "ceiling: psql \\copy of the same payment rows" "$copy_rate" "$copy_s"
printf '%-60s %12s\n' "ratio to the ceiling" "$(ratio "$rec_rate" "$copy_rate")"
printf '%-60s %9s MiB\n' "peak resident memory of a replica" "$((rss / 1024))"
out=var/bench/reconciliation-$stamp.json
cat >"$out" <<JSON
{"bench": "reconciliation", "accounts": $accounts, "payments": $want, "date": "$(date -u +%FT%TZ)", "cores": $(nproc),
 "replicas": $replicas, "applied_per_s": $rec_rate, "seconds": $rec_s, "publish_s": $pub_s, "copy_per_s": $copy_rate, "copy_s": $copy_s,
 "ratio": $(ratio "$rec_rate" "$copy_rate"), "peak_rss_kib": $rss}
JSON
echo "results: $out"
