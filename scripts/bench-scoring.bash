# scripts/bench scoring (sourced by scripts/bench, which has built and started everything):
# the same account events scored by one replica with Kafka transactions, then by one without,
# each in a namespace of its own (ARR_TOPIC_PREFIX: topics, group, state), and the raw
# ceiling: kcat consuming those events and producing them again.
stamp=$(date +%Y%m%d%H%M%S)
file=var/bench/portfolio-$accounts.csv
[[ -s $file ]] || "$bin/gen-portfolio" --accounts "$accounts" --seed 1 --out "$file" --quiet
echo "bench scoring: $accounts accounts, $(nproc) cores, $(date -u +%FT%TZ)"
namespaces=()
cleanup_ns() {
  local ns t
  for ns in "${namespaces[@]}"; do
    for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${ns//./\\.}[^\"]*\)\".*/\1/p"); do
      ARR_TOPIC_PREFIX= "$bin/arrears" topics delete "$t" >/dev/null 2>&1
    done
  done
  ((started)) && scripts/stack down >/dev/null
}
trap 'pkill -TERM -f "arrears-scoring" -P $$ 2>/dev/null; cleanup_ns' EXIT
count() { kcat -b "$ARR_KAFKA_BROKERS" -C -t "$1" -o beginning -e -q -X isolation.level=read_committed -f '.\n' 2>/dev/null | wc -l; }

# run NAME TRANSACTIONS: ingests the export into a new namespace (not timed), then times one
# scoring replica from its start to the last score committed; prints "seconds rss_kib".
run() {
  local ns="bench$stamp$1." tenant="bench$1$stamp"
  namespaces+=("$ns")
  ARR_TOPIC_PREFIX=$ns "$bin/arrears" topics apply >/dev/null
  ARR_TOPIC_PREFIX=$ns "$bin/arrears" ingest accounts "$file" --tenant "$tenant" \
    --mapping deploy/mappings/gen-portfolio.csv.json --as-of 2026-11-01 >/dev/null 2>&1
  local want t0 t1 pid port=$((28700 + RANDOM % 90))
  want=$(q "select accepted from ingest.imports where tenant = '$tenant'")
  ARR_TOPIC_PREFIX=$ns ARR_KAFKA_TRANSACTIONS=$2 ARR_INSTANCE="bench-$1" ARR_HTTP_PORT=$port \
    /usr/bin/time -f '%M' -o "var/bench/rss-$1.txt" "$bin/arrears-scoring" >"var/bench/scoring-$1.log" 2>&1 &
  pid=$!
  # The clock starts with the first event consumed: joining the group is not scoring.
  metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
  until [[ $(metric arrears_events_consumed_total) =~ ^[1-9] ]]; do
    kill -0 "$pid" 2>/dev/null || { echo "bench: the scoring replica died: var/bench/scoring-$1.log" >&2; return 1; }
    sleep 0.05
  done
  t0=$(now)
  # Scores counted by the replica once committed to Kafka: nothing reads the topic meanwhile.
  until (($(metric arrears_events_published_total) + 0 >= want)); do
    kill -0 "$pid" 2>/dev/null || { echo "bench: the scoring replica died: var/bench/scoring-$1.log" >&2; return 1; }
    sleep 0.1
  done
  t1=$(now)
  (($(count "${ns}arrears.scores") >= want)) || { echo "bench: fewer scores on the topic than counted" >&2; return 1; }
  pkill -TERM -P "$pid"; wait "$pid" 2>/dev/null
  echo "$(secs "$t0" "$t1") $(tail -n 1 "var/bench/rss-$1.txt") $want $ns"
}
run txn 1 >var/bench/run-txn.txt || exit 1
run plain 0 >var/bench/run-plain.txt || exit 1
read -r on_s on_rss n on_ns <var/bench/run-txn.txt
read -r off_s off_rss _ _ <var/bench/run-plain.txt
on_rate=$(rate "$n" "$on_s")
off_rate=$(rate "$n" "$off_s")

# ceiling: kcat consuming the same events and producing them to another topic.
sink="bench.kcat.$stamp"
"$bin/arrears" topics create "$sink" --partitions 12 >/dev/null
namespaces+=("$sink")
t0=$(now)
kcat -b "$ARR_KAFKA_BROKERS" -C -t "${on_ns}arrears.accounts" -o beginning -e -q -f '%k\t%s\n' 2>/dev/null |
  kcat -b "$ARR_KAFKA_BROKERS" -P -t "$sink" -K $'\t' -l -X enable.idempotence=true -X linger.ms=5 -X compression.type=lz4
t1=$(now)
kcat_s=$(secs "$t0" "$t1")
kcat_rate=$(rate "$n" "$kcat_s")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\n%-52s %12s %10s\n' "measure ($n account events)" "per second" "seconds"
printf '%-52s %12s %10s\n' "arrears-scoring, Kafka transactions (exactly once)" "$on_rate" "$on_s"
printf '%-52s %12s %10s\n' "arrears-scoring, no transactions (at least once)" "$off_rate" "$off_s"
printf '%-52s %12s %10s\n' "ceiling: kcat consume | kcat produce" "$kcat_rate" "$kcat_s"
printf '%-52s %12s\n' "transactions on, ratio to the ceiling" "$(ratio "$on_rate" "$kcat_rate")"
printf '%-52s %12s\n' "transactions on / off" "$(ratio "$on_rate" "$off_rate")"
printf '%-52s %9s MiB\n' "peak resident memory of the replica" "$((on_rss / 1024))"
echo "one account's decision, in memory: $("$bin/bench-scorecard" deploy 1000000)"
out=var/bench/scoring-$stamp.json
cat >"$out" <<JSON
{"bench": "scoring", "accounts": $n, "date": "$(date -u +%FT%TZ)", "cores": $(nproc),
 "transactions_per_s": $on_rate, "transactions_s": $on_s, "plain_per_s": $off_rate, "plain_s": $off_s,
 "kcat_per_s": $kcat_rate, "kcat_s": $kcat_s, "peak_rss_kib": $on_rss}
JSON
echo "results: $out"
