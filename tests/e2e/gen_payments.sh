#!/usr/bin/env bash
# gen-payments, the synthetic payment files for reconciliation: the same seed gives the same
# bytes and another seed other bytes; every line is one JSON object of the JSON-lines payment
# format; each category is what it claims to be when checked against the portfolio itself;
# expected.json agrees with the files as Python counts them; every plan's instalments add up
# to the balance; bad arguments and bad portfolio lines are refused. Needs no servers.
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
bin=${ARR_BIN_DIR:-$src/build/bin}
gen=$bin/gen-payments
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=20000

run() { "$gen" --quiet --portfolio "$tmp/p.jsonl" --tenant acme "$@"; }
same_dir() { diff -r "$1" "$2" >/dev/null; }
refused() { # refused "text the message must hold" args...: exit status 1 or 2, message on stderr
  local want=$1; shift
  "$gen" "$@" >/dev/null 2>"$tmp/err" && return 1
  grep -qF -- "$want" "$tmp/err" || { echo "  stderr: $(cat "$tmp/err")"; return 1; }
}

check "gen-payments exists" test -x "$gen"
check "gen-portfolio writes a clean JSONL portfolio of $n accounts" \
  "$bin/gen-portfolio" --quiet --accounts "$n" --seed 3 --format jsonl --broken-rate 0 --out "$tmp/p.jsonl"
check "writes the files for seed 7" run --seed 7 --out-dir "$tmp/a"
check "writes them again" run --seed 7 --out-dir "$tmp/b"
check "writes the files for seed 8" run --seed 8 --out-dir "$tmp/c"
for f in payments.jsonl returns.jsonl arrangements.jsonl expected.json; do
  check "the same seed gives the same bytes: $f" cmp -s "$tmp/a/$f" "$tmp/b/$f"
done
check "another seed gives other payments" bash -c '! cmp -s "$0/a/payments.jsonl" "$0/c/payments.jsonl"' "$tmp"
check "--payments 2000 scales the mix" run --seed 7 --payments 2000 --out-dir "$tmp/d"
check "a small portfolio runs out, says so and still writes consistent files" \
  bash -c 'head -n 50 "$0/p.jsonl" >"$0/small.jsonl" &&
    "$1" --portfolio "$0/small.jsonl" --seed 1 --tenant acme --out-dir "$0/e" --payments 1000 --quiet \
      2>"$0/e.err" && grep -q "ran out of accounts for exact" "$0/e.err"' "$tmp" "$gen"

# Arguments and broken portfolios.
check "refuses a missing --seed" refused "are needed" --portfolio "$tmp/p.jsonl" --tenant acme --out-dir "$tmp/x"
check "refuses a bad --seed" refused "bad --seed" --portfolio "$tmp/p.jsonl" --seed -1 --tenant acme --out-dir "$tmp/x"
check "refuses a bad --tenant" refused "bad --tenant" --portfolio "$tmp/p.jsonl" --seed 1 --tenant Acme --out-dir "$tmp/x"
check "refuses a bad --payments" refused "bad --payments" --portfolio "$tmp/p.jsonl" --seed 1 --tenant acme --out-dir "$tmp/x" --payments 10x
check "refuses an unknown argument" refused "unknown argument --colour" --colour red
check "refuses a missing portfolio" refused "cannot read" --portfolio "$tmp/nope.jsonl" --seed 1 --tenant acme --out-dir "$tmp/x"
head -n 3 "$tmp/p.jsonl" >"$tmp/ok3.jsonl"
broken() { # broken NAME LINE2: a portfolio whose second line is LINE2
  { head -n 1 "$tmp/ok3.jsonl"; printf '%s\n' "$2"; tail -n 1 "$tmp/ok3.jsonl"; } >"$tmp/$1.jsonl"
}
broken noid '{"currency":"USD","balance":"19.14"}'
broken nobal '{"account_id":"X1","currency":"USD"}'
broken badbal '{"account_id":"X1","currency":"USD","balance":"19.145"}'
broken badcur '{"account_id":"X1","currency":"usd","balance":"19.14"}'
broken notjson '{"account_id":"X1","balance":"19.14"'
broken twice '{"account_id":"X1","balance":"19.14","balance":"1.00"}'
{ head -n 2 "$tmp/ok3.jsonl"; head -n 1 "$tmp/ok3.jsonl"; } >"$tmp/dupid.jsonl"
python3 -c 'print("{\"account_id\":\"X1\",\"balance\":\"1.00\",\"pad\":\"" + "x" * 70000 + "\"}")' >"$tmp/long.jsonl"
for c in "noid:line 2 field account_id: missing" "nobal:line 2 field balance: missing" \
  "badbal:line 2 field balance: not a decimal" "badcur:line 2 field currency" \
  "notjson:line 2: not valid JSON" "twice:line 2 field balance: appears twice" \
  "dupid:line 3 field account_id" "long:line 1: longer than 65536 bytes"; do
  name=${c%%:*} msg=${c#*:}
  check "refuses portfolio '$name' with \"$msg\"" \
    refused "$msg" --portfolio "$tmp/$name.jsonl" --seed 1 --tenant acme --out-dir "$tmp/x"
done
check "takes a portfolio without currency (USD, as the mapping says) and with a BOM" \
  bash -c 'printf "\xef\xbb\xbf{\"account_id\":\"X1\",\"balance\":19.14}\r\n\n" >"$0/bom.jsonl" &&
    "$1" --quiet --portfolio "$0/bom.jsonl" --seed 1 --tenant acme --out-dir "$0/f" --payments 100 2>/dev/null &&
    grep -q "\"currency\":\"USD\"" "$0/f/payments.jsonl"' "$tmp" "$gen"

# Python does the reading: a parser nobody here wrote. It prints one "ok"/"FAIL" line per
# check; the counts are taken from its output. Every expectation is worked out from the
# portfolio and the rules of the mix, never taken from expected.json alone.
py_checks() {
  python3 - "$tmp" "$n" <<'PY'
import collections, json, re, sys
tmp, n = sys.argv[1], int(sys.argv[2])
def check(what, cond):
    print(("ok   " if cond else "FAIL ") + what)
def cents(s):
    neg = s.startswith("-")
    w, _, f = s.lstrip("-").partition(".")
    v = int(w) * 100 + int((f + "00")[:2])
    return -v if neg else v
def lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]

def verify(tag, d, port, N):
    accts = {o["account_id"]: o for o in port}
    bal = {a: cents(o["balance"]) for a, o in accts.items()}
    bal_count = collections.Counter(bal.values())
    inv = {o["invoice_id"]: a for a, o in accts.items() if o.get("invoice_id")}
    name = {a: " ".join(x for x in (o.get("first_name", ""), o.get("last_name", "")) if x)
            for a, o in accts.items()}
    exp = json.load(open(d + "/expected.json"))
    pays = lines(d + "/payments.jsonl")
    rets = lines(d + "/returns.jsonl")
    arrs = lines(d + "/arrangements.jsonl")
    fields = {"payment_id", "amount_cents", "currency", "received_at", "reference", "payer_name"}
    check(tag + "payments: every line has exactly the six fields",
          all(set(p) == fields for p in pays))
    check(tag + "payments: amounts positive integers, dates 2026-11-02..28 at noon UTC",
          all(type(p["amount_cents"]) is int and p["amount_cents"] > 0 for p in pays)
          and all(re.fullmatch(r"2026-11-(0[2-9]|1\d|2[0-8])T12:00:00Z", p["received_at"]) for p in pays))
    seen, dups, distinct = {}, 0, []
    for p in pays:
        if p["payment_id"] in seen:
            dups += 1
            if seen[p["payment_id"]] != p:
                print("  not verbatim: " + p["payment_id"])
                dups = -10**9
        else:
            seen[p["payment_id"]] = p
            distinct.append(p)
    check(tag + "lines %d = expected payments_lines %d" % (len(pays), exp["payments_lines"]),
          len(pays) == exp["payments_lines"])
    check(tag + "distinct ids %d = expected %d, ids gen-<seed>-<n>" % (len(distinct), exp["distinct_payments"]),
          len(distinct) == exp["distinct_payments"]
          and all(re.fullmatch(r"gen-%s-\d+" % exp["seed"], p["payment_id"]) for p in distinct))
    check(tag + "duplicates %d are verbatim repeats, expected %d = 3%% of %d" % (dups, exp["duplicates"], len(distinct)),
          dups == exp["duplicates"] == len(distinct) * 3 // 100)

    plans = {a["account_id"]: a["terms"] for a in arrs if a["kind"] == "plan"}
    settles = {a["account_id"]: a["terms"] for a in arrs if a["kind"] == "settlement"}
    cat, used, bad = collections.Counter(), collections.Counter(), []
    kind_of = {}
    for p in distinct:
        ref, amt, who = p["reference"], p["amount_cents"], p["payer_name"]
        m = re.fullmatch(r"Payment for account (\S+)|INV (\S+)|ACCT (\S+)|misc deposit \d{6}|settlement (\S+)|(\S+)|", ref)
        k, a = None, None
        if m and m.group(1) in bal and amt == bal[m.group(1)]:
            k, a = "exact", m.group(1)
        elif m and m.group(2) in inv and 1 <= amt < bal[inv[m.group(2)]]:
            k, a = "partial", inv[m.group(2)]
        elif m and m.group(3) in bal and bal[m.group(3)] + 1 <= amt <= bal[m.group(3)] + 5000:
            k, a = "over", m.group(3)
        elif ref.startswith("misc deposit ") and who == "Unknown Payer" and amt <= 99999:
            k = "unmatchable"
        elif m and m.group(4) in settles and amt == settles[m.group(4)]["amount_cents"] \
                and p["received_at"].startswith("2026-11-20"):
            k, a = "settlements", m.group(4)
        elif m and m.group(5) in plans and amt == plans[m.group(5)]["instalments"][0]["amount_cents"]:
            k, a = "instalments", m.group(5)
        elif ref == "":
            hits = [x for x, b in bal.items() if b == amt]
            if len(hits) == 1 and name[hits[0]] == who:
                k, a = "amount_name", hits[0]
        if k is None:
            bad.append(p["payment_id"])
            continue
        if a is not None and k != "unmatchable" and who != name[a]:
            bad.append(p["payment_id"] + " (payer)")
        cat[k] += 1
        kind_of[p["payment_id"]] = k
        if a:
            used[a] += 1
    check(tag + "every payment is one of the categories%s" % (" (not: %s)" % bad[:5] if bad else ""), not bad)
    check(tag + "each account gets at most one payment", not [a for a, c in used.items() if c > 1])
    for k, pct in (("exact", 40), ("partial", 15), ("over", 5), ("amount_name", 10), ("unmatchable", 5)):
        check(tag + "%s: %d found, expected.json %d, %d%% of %d = %d" % (k, cat[k], exp[k], pct, N, N * pct // 100),
              cat[k] == exp[k] == N * pct // 100)
    check(tag + "one instalment per plan (%d), a payment for half the settlements (%d)" % (cat["instalments"], cat["settlements"]),
          cat["instalments"] == exp["instalments"] == len(plans)
          and cat["settlements"] == exp["settlements"] == len(settles) // 2)

    check(tag + "arrangements: %d plans, %d settlements = 1%% of the accounts each, disjoint" % (len(plans), len(settles)),
          len(plans) == exp["arrangements_plan"] == len(port) // 100
          and len(settles) == exp["arrangements_settlement"] == len(port) // 100
          and not set(plans) & set(settles) and len(arrs) == len(plans) + len(settles))
    check(tag + "arrangements only on balances of 30.00 or more",
          all(bal[a] >= 3000 for a in list(plans) + list(settles)))
    check(tag + "every plan: 3 instalments summing to the balance, due 12-01, 01-01, 02-01, 5 grace days",
          all(t["id"] == "plan-" + a and t["grace_days"] == 5
              and [i["due_date"] for i in t["instalments"]] == ["2026-12-01", "2027-01-01", "2027-02-01"]
              and sum(i["amount_cents"] for i in t["instalments"]) == bal[a]
              and all(i["amount_cents"] > 0 for i in t["instalments"])
              for a, t in plans.items()))
    check(tag + "every settlement: 60% of the balance rounded down, 2026-11-01..2026-12-31",
          all(t == {"id": "settle-" + a, "amount_cents": bal[a] * 60 // 100, "from": "2026-11-01", "until": "2026-12-31"}
              for a, t in settles.items()))

    byid = {p["payment_id"]: p for p in distinct}
    real = [r for r in rets if r["returned_payment_id"] in byid]
    missing = [r for r in rets if r["returned_payment_id"] not in byid]
    rfields = fields | {"kind", "returned_payment_id", "return_code"}
    check(tag + "returns: every line a return of the format, received 2026-11-29, ids gen-<seed>-r<n>",
          all(set(r) == rfields and r["kind"] == "return" and r["received_at"] == "2026-11-29T12:00:00Z"
              and re.fullmatch(r"gen-%s-r\d+" % exp["seed"], r["payment_id"]) for r in rets)
          and len({r["payment_id"] for r in rets}) == len(rets))
    check(tag + "returns: %d of exact or partial payments = 2%% of %d, expected %d"
          % (len(real), cat["exact"] + cat["partial"], exp["returns"]),
          len(real) == exp["returns"] == (cat["exact"] + cat["partial"]) * 2 // 100
          and all(kind_of[r["returned_payment_id"]] in ("exact", "partial") for r in real)
          and len({r["returned_payment_id"] for r in real}) == len(real))
    check(tag + "returns: R01 gives back all of it, refund half",
          all((r["return_code"] == "R01" and r["amount_cents"] == byid[r["returned_payment_id"]]["amount_cents"])
              or (r["return_code"] == "refund"
                  and r["amount_cents"] == max(1, byid[r["returned_payment_id"]]["amount_cents"] // 2))
              for r in real)
          and sum(r["return_code"] == "refund" for r in real) == exp["returns_refund"])
    check(tag + "returns: 10 of payments that never were",
          len(missing) == exp["returns_missing"] == 10
          and all(re.fullmatch(r"gen-%s-missing-\d+" % exp["seed"], r["returned_payment_id"]) for r in missing))
    applied = sum(p["amount_cents"] for p in distinct if kind_of[p["payment_id"]] != "unmatchable")
    unmatched = sum(p["amount_cents"] for p in distinct if kind_of[p["payment_id"]] == "unmatchable")
    returned = sum(r["amount_cents"] for r in real)
    check(tag + "totals: applied %d, returned %d, unmatched %d" % (applied, returned, unmatched),
          (applied, returned, unmatched) == (exp["applied_cents"], exp["returned_cents"], exp["unmatched_cents"]))

port = lines(tmp + "/p.jsonl")
check("the portfolio has %d accounts" % n, len(port) == n)
verify("seed 7: ", tmp + "/a", port, n)
verify("seed 7 --payments 2000: ", tmp + "/d", port, 2000)
e = json.load(open(tmp + "/e/expected.json"))
check("the small portfolio: fewer exact payments than asked, and expected.json says so",
      e["exact"] < 400 and e["accounts"] == 50 and e["partial"] + e["exact"] + e["over"] + e["amount_name"] <= 50
      and sum(1 for _ in open(tmp + "/e/payments.jsonl")) == e["payments_lines"])
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
