#!/usr/bin/env bash
# gen-portfolio, the synthetic billing export: the same seed gives the same bytes and another
# seed other bytes; the CSV is RFC 4180 that Python's csv module reads back with the row
# count asked for and every column the mapping deploy/mappings/gen-portfolio.csv.json names;
# balances have the intended shape (80-95% under $500); the JSON Lines variant is one JSON
# object per line with the fields of its own mapping. Needs no servers.
# Environment: ARR_BIN_DIR (the binaries), ARR_SOURCE_DIR (the repository).
set -uo pipefail

passes=0 fails=0
ok() { passes=$((passes + 1)); printf 'ok   %s\n' "$*"; }
fail() { fails=$((fails + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

src=${ARR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd -P)}
gen=${ARR_BIN_DIR:-$src/build/bin}/gen-portfolio
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=20000

run() { "$gen" --quiet --accounts "$n" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

check "gen-portfolio exists" test -x "$gen"
check "writes 20000 CSV rows for seed 7" run --seed 7 --out "$tmp/a.csv"
check "writes them again" run --seed 7 --out "$tmp/b.csv"
check "writes 20000 CSV rows for seed 8" run --seed 8 --out "$tmp/c.csv"
check "the same seed gives the same bytes" test "$(sha "$tmp/a.csv")" = "$(sha "$tmp/b.csv")"
check "another seed gives other bytes" test "$(sha "$tmp/a.csv")" != "$(sha "$tmp/c.csv")"
check "stdout and --out give the same bytes" \
  test "$(run --seed 7 | sha256sum | cut -d' ' -f1)" = "$(sha "$tmp/a.csv")"
check "writes 20000 JSONL rows for seed 7" run --seed 7 --format jsonl --out "$tmp/a.jsonl"
check "writes a clean CSV (--broken-rate 0)" run --seed 9 --broken-rate 0 --out "$tmp/clean.csv"
check "writes a hospital CSV" run --seed 7 --tenant-style hospital --out "$tmp/h.csv"
check "rejects a bad --as-of" bash -c '! "$0" --accounts 1 --seed 1 --as-of 2026-13-45 2>/dev/null' "$gen"
check "rejects a missing --seed" bash -c '! "$0" --accounts 1 2>/dev/null' "$gen"

# Python does the reading: a parser nobody here wrote. It prints one "ok"/"FAIL" line per
# check; the counts are taken from its output.
py_checks() {
  python3 - "$src/deploy/mappings" "$tmp" "$n" <<'PY'
import csv, json, re, sys
maps, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
amount = re.compile(r"-?\d+\.\d\d")
def check(what, cond):
    print(("ok   " if cond else "FAIL ") + what)

def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]

csv_map = json.load(open(maps + "/gen-portfolio.csv.json"))
jsonl_map = json.load(open(maps + "/gen-portfolio.jsonl.json"))
header, rows = read_csv(tmp + "/a.csv")
check("CSV has %d records after the header (got %d)" % (n, len(rows)), len(rows) == n)
check("every CSV record has as many fields as the header",
      all(len(r) == len(header) for r in rows))
missing = [c for c in csv_map["columns"].values() if c not in header]
check("every column of the CSV mapping is in the header" + (" (missing %s)" % missing if missing else ""), not missing)
check("the CSV mapping says decimal amounts and %m/%d/%Y dates",
      csv_map["amount_format"] == "decimal" and csv_map["date_format"] == "%m/%d/%Y")
raw = open(tmp + "/a.csv", "rb").read()
check("CSV lines end in CRLF", raw.startswith(b"Account Number,") and raw.endswith(b"\r\n")
      and raw.count(b"\r\n") >= n + 1)
col = {c: header.index(c) for c in header}
due = [r[col["Amount Due"]] for r in rows]
cents = [int(a.replace(".", "")) for a in due if amount.fullmatch(a)]
share = sum(c < 50000 for c in cents) / len(cents)
check("balances under $500: %.1f%% (80-95%%)" % (100 * share), 0.80 <= share <= 0.95)
check("a few balances over $5,000", any(c >= 500000 for c in cents))
check("a few credits", any(c < 0 for c in cents))
l2 = [r[col["Service Address 2"]] for r in rows]
check("some quoted address lines (comma, quote, line break)",
      any("," in v for v in l2) and any('"' in v for v in l2) and any("\n" in v for v in l2))
check("broken rows: a few bad amounts, no account id, duplicates",
      len(cents) < n and any(r[0] == "" for r in rows)
      and len({r[0] for r in rows if r[0]}) < sum(1 for r in rows if r[0]))

_, clean = read_csv(tmp + "/clean.csv")
ids = [r[0] for r in clean]
check("--broken-rate 0: account ids all present and unique", all(ids) and len(set(ids)) == n)
check("--broken-rate 0: every amount and date parses",
      all(amount.fullmatch(r[col["Amount Due"]]) and amount.fullmatch(r[col["Original Amount"]])
          and re.fullmatch(r"\d\d/\d\d/\d{4}", r[col["Due Date"]]) and r[col["Currency"]] in ("USD", "")
          for r in clean))

hheader, hrows = read_csv(tmp + "/h.csv")
kinds = {r[hheader.index("Service Type")] for r in hrows}
check("hospital style is medical (and other) only: %s" % sorted(kinds), kinds <= {"medical", "other"} and "medical" in kinds)

objs, bad = [], 0
with open(tmp + "/a.jsonl", encoding="utf-8") as f:
    for line in f:
        try:
            o = json.loads(line)
            objs.append(o if isinstance(o, dict) else None)
        except ValueError:
            bad += 1
check("JSONL: %d lines, each one JSON object" % n, bad == 0 and len(objs) == n and all(objs))
known = set(jsonl_map["columns"].values())
extra = {k for o in objs for k in o} - known
check("JSONL: every field is a column of its mapping" + (" (not: %s)" % sorted(extra) if extra else ""), not extra)
check("JSONL: the same accounts as the CSV of the same seed",
      [o.get("account_id", "") for o in objs] == [r[0] for r in rows])
check("JSONL: amounts are decimal strings, dates YYYY-MM-DD",
      all(isinstance(o.get("original_balance"), str) for o in objs)
      and sum(bool(re.fullmatch(r"\d{4}-\d\d-\d\d", o.get("issue_date", ""))) for o in objs) == n)
PY
}
out=$(py_checks 2>&1) || fail "python checks ran (exit $?)"
while IFS= read -r line; do
  case $line in
    "ok   "*) ok "${line#ok   }" ;;
    "FAIL "*) fail "${line#FAIL }" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <<<"$out"

printf '%d passed, %d failed\n' "$passes" "$fails"
((fails == 0))
