#!/usr/bin/python3
"""demo_report: the demo's self-contained HTML page, scored outreach against uniform outreach.

    /usr/bin/python3 tools/demo-report/demo_report.py --scored S.json --uniform U.json
        --days DAYS.jsonl --out PAGE.html [--title TEXT] [--seed S] [--accounts N]
        [--comparison C.json] [--generated-at TEXT]

Inputs (Python 3.11 standard library only, no network):
  --scored, --uniform  `arrears report --tenant T --from D1 --to D2 --json` of each tenant
                       (docs/report.md): money integer cents, rates exact numbers or null.
  --days               JSON Lines, one object per simulated day per tenant: day, tenant,
                       kind (scored|uniform), active, contacts {email,sms,voice,letter},
                       cost_cents, suppressed {rule_id: n}, payments, recovered_cents
                       (cumulative), replies {stop,dispute,promise,paid,other}. Rows are
                       matched to a report by kind; a row whose tenant is not that report's
                       tenant, or a second row for the same day and kind, is an error.
                       Blank lines are skipped; an empty file is valid (charts say "no data").
  --comparison         optional, the demo's own totals: {"scored": {...}, "uniform": {...}}
                       with recovered_cents, placed_cents, recovery_rate (a fraction,
                       checked against recovered / placed to 0.001, or null or absent),
                       contacts, cost_cents, net_recovery_cents (optional; checked to be
                       recovered - cost), stop_replies, disputes, suppressions {rule: n}.
                       Without it the comparison comes from the reports (recovered = collected
                       in the period, placed = the cohorts' placed balance, contacts and cost =
                       cost to collect, suppressions = suppressed steps + unplanned per rule)
                       and the days file (STOP replies and disputes, summed).
  --title, --seed, --accounts, --generated-at  shown in the header; without --generated-at
                       the page says it is as of the last simulated day (else the reports'
                       end), never the wall clock: the same inputs give the same bytes.

Output: one HTML file with no external resource (inline CSS and SVG): the header, the
comparison table (better tenant per row highlighted, which tenant's net recovery is higher),
four charts (recovery by day, aging at the start and end, contacts and cost by channel,
suppressions by rule) and both tenants' business report tables; its path is printed on stdout.

Exit codes: 0 written; 1 the output could not be written; 2 bad arguments or an input that
cannot be read or is malformed (the message names the file, the line for the days file, and
the field).

Tests: cd /work/main && /usr/bin/python3 -m unittest tests/unit/demo_report_test.py -v
"""

import argparse
import datetime as dt
import html
import json
import sys
from decimal import ROUND_HALF_UP, Decimal

KINDS = ("scored", "uniform")
CHANNELS = ("email", "sms", "voice", "letter")
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "91-180", "180+")
REPLIES = ("stop", "dispute", "promise", "paid", "other")

COLOUR = {"scored": "#1f6fb4", "uniform": "#d95f02"}
LIGHT = {"scored": "#a6cbe8", "uniform": "#f9bf8f"}
INK, GRID, MUTED = "#222222", "#dddddd", "#666666"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


class UsageError(Exception):
    pass


class InputError(Exception):
    pass


# ------------------------------------------------------------------ validation


class Opt:
    """An optional key of an object spec (absent or null gives None)."""

    def __init__(self, spec):
        self.spec = spec


class MapOf:
    """An object whose keys are free (rule ids) and whose values match spec."""

    def __init__(self, spec):
        self.spec = spec


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def INT(v, path):
    if not _is_int(v):
        raise InputError(f"{path}: expected an integer, got {_kind(v)}")
    return v


def NINT(v, path):
    INT(v, path)
    if v < 0:
        raise InputError(f"{path}: expected a count or amount >= 0, got {v}")
    return v


def RATE(v, path):
    """A rate: a JSON number (kept exact as a Decimal) or null."""
    if v is None:
        return None
    if _is_int(v):
        return Decimal(v)
    if isinstance(v, Decimal):
        return v
    raise InputError(f"{path}: expected a number or null, got {_kind(v)}")


def STR(v, path):
    if not isinstance(v, str):
        raise InputError(f"{path}: expected a string, got {_kind(v)}")
    return v


def OSTR(v, path):
    return None if v is None else STR(v, path)


def DAY(v, path):
    STR(v, path)
    try:
        if len(v) != 10:
            raise ValueError
        dt.date.fromisoformat(v)
    except ValueError:
        raise InputError(f"{path}: expected a day YYYY-MM-DD, got {v!r}") from None
    return v


def ODAY(v, path):
    return None if v is None else DAY(v, path)


def KIND(v, path):
    if v not in KINDS:
        raise InputError(f"{path}: expected \"scored\" or \"uniform\", got {v!r}")
    return v


def _kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if _is_int(v):
        return f"the integer {v}"
    if isinstance(v, Decimal):
        return f"the number {v}"
    if isinstance(v, str):
        return f"the string {v!r}" if len(v) <= 40 else "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def check(v, spec, path):
    """v validated against spec (dict: object with these keys, [spec]: array, MapOf, a
    function); returns the value with rates as Decimals. Extra object keys are ignored."""
    if isinstance(spec, dict):
        if not isinstance(v, dict):
            raise InputError(f"{path or 'the top level'}: expected an object, got {_kind(v)}")
        out = {}
        for key, sub in spec.items():
            kp = f"{path}.{key}" if path else key
            if isinstance(sub, Opt):
                out[key] = None if v.get(key) is None else check(v[key], sub.spec, kp)
            elif key not in v:
                raise InputError(f"{kp}: missing")
            else:
                out[key] = check(v[key], sub, kp)
        return out
    if isinstance(spec, list):
        if not isinstance(v, list):
            raise InputError(f"{path}: expected an array, got {_kind(v)}")
        return [check(x, spec[0], f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(spec, MapOf):
        if not isinstance(v, dict):
            raise InputError(f"{path}: expected an object, got {_kind(v)}")
        return {k: check(x, spec.spec, f"{path}.{k}") for k, x in v.items()}
    return spec(v, path)


AGING_SPEC = {
    "as_of": ODAY,
    "buckets": [{"bucket": STR, "accounts": NINT, "amount_cents": INT}],
    "accounts": NINT,
    "amount_cents": INT,
}

REPORT_SPEC = {
    "tenant": STR,
    "from": DAY,
    "to": DAY,
    "days": NINT,
    "currency": OSTR,
    "aging": {"start": AGING_SPEC, "end": AGING_SPEC},
    "receivables": {
        "beginning_cents": INT,
        "credit_sales_cents": INT,
        "placed_accounts": NINT,
        "ending_cents": INT,
        "ending_current_cents": INT,
        "collected_cents": INT,
    },
    "dso_days": RATE,
    "cei_percent": RATE,
    "cohorts": [{
        "cohort": STR,
        "accounts": NINT,
        "placed_cents": INT,
        "collected_cents": INT,
        "collected_in_period_cents": INT,
        "recovery_rate": RATE,
        "liquidation_rate": RATE,
    }],
    "cost_to_collect": {
        "channels": [{"channel": STR, "contacts": NINT, "cost_cents": INT,
                      "cost_per_collected": RATE}],
        "contacts": NINT,
        "cost_cents": INT,
        "cost_per_collected": RATE,
    },
    "promises": {"due": NINT, "kept": NINT, "broken": NINT, "kept_rate": RATE},
    "right_party_contact": {"contacted_accounts": NINT, "right_party_accounts": NINT,
                            "rate": RATE},
    "suppressions": [{
        "rule_id": STR,
        "suppressed_steps": NINT,
        "suppressed_unplanned": NINT,
        "deferrals": NINT,
        "deferred_steps": NINT,
    }],
    "unmatched": {
        "as_of": ODAY,
        "buckets": [{"age": STR, "payments": NINT, "amount_cents": INT}],
        "payments": NINT,
        "amount_cents": INT,
    },
    "arms": [{
        "arm": STR,
        "accounts": NINT,
        "placed_cents": INT,
        "collected_cents": INT,
        "recovery_rate": RATE,
        "contact_cost_cents": INT,
        "net_recovery_cents": INT,
    }],
}

DAY_SPEC = {
    "day": DAY,
    "tenant": STR,
    "kind": KIND,
    "active": NINT,
    "contacts": {c: NINT for c in CHANNELS},
    "cost_cents": NINT,
    "suppressed": MapOf(NINT),
    "payments": NINT,
    "recovered_cents": INT,
    "replies": {r: NINT for r in REPLIES},
}

COMPARISON_ONE = {
    "recovered_cents": INT,
    "placed_cents": NINT,
    "recovery_rate": Opt(RATE),
    "contacts": NINT,
    "cost_cents": NINT,
    "net_recovery_cents": Opt(INT),
    "stop_replies": NINT,
    "disputes": NINT,
    "suppressions": MapOf(NINT),
}
COMPARISON_SPEC = {k: COMPARISON_ONE for k in KINDS}


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text, where):
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: not JSON: {e.msg} at line {e.lineno} column {e.colno}") \
            from None
    except ValueError as e:
        raise InputError(f"{where}: not JSON: {e}") from None


def read_text(path, what):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{path} ({what}): cannot read: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} ({what}): not UTF-8 (byte {e.start})") from None


def load_report(path, kind):
    what = f"--{kind} report"
    doc = parse_json(read_text(path, what), f"{path} ({what})")
    try:
        return check(doc, REPORT_SPEC, "")
    except InputError as e:
        raise InputError(f"{path} ({what}): {e}") from None


def load_days(path, tenants):
    """{kind: [row sorted by day]} from the days file."""
    what = "--days"
    text = read_text(path, what)
    rows = {k: [] for k in KINDS}
    seen = set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path} ({what}) line {n}"
        doc = parse_json(line, where)
        try:
            row = check(doc, DAY_SPEC, "")
        except InputError as e:
            raise InputError(f"{where}: {e}") from None
        kind = row["kind"]
        if row["tenant"] != tenants[kind]:
            raise InputError(f"{where}: tenant {row['tenant']!r} is not the {kind} report's "
                             f"tenant {tenants[kind]!r}")
        if (kind, row["day"]) in seen:
            raise InputError(f"{where}: a second {kind} row for {row['day']}")
        seen.add((kind, row["day"]))
        rows[kind].append(row)
    for k in KINDS:
        rows[k].sort(key=lambda r: r["day"])
    return rows


def load_comparison(path):
    what = "--comparison"
    doc = parse_json(read_text(path, what), f"{path} ({what})")
    try:
        cmp = check(doc, COMPARISON_SPEC, "")
    except InputError as e:
        raise InputError(f"{path} ({what}): {e}") from None
    for k in KINDS:
        c = cmp[k]
        net = c["recovered_cents"] - c["cost_cents"]
        if c["net_recovery_cents"] is not None and c["net_recovery_cents"] != net:
            raise InputError(f"{path} ({what}): {k}.net_recovery_cents is "
                             f"{c['net_recovery_cents']}, not recovered_cents - cost_cents "
                             f"= {net}")
        c["net_recovery_cents"] = net
        expect = ratio(c["recovered_cents"], c["placed_cents"])
        if c["recovery_rate"] is None:
            c["recovery_rate"] = expect
        elif expect is None or abs(c["recovery_rate"] - expect) > Decimal("0.001"):
            raise InputError(f"{path} ({what}): {k}.recovery_rate is {c['recovery_rate']}, not "
                             f"recovered_cents / placed_cents = {expect} (a fraction: 0.25 for "
                             f"25%)")
        c["source"] = "file"
    return cmp


def ratio(num, den, places="0.0001"):
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal(places), ROUND_HALF_UP)


def derive_comparison(rep, days):
    """One tenant's comparison figures from its report and its days."""
    recovered = rep["receivables"]["collected_cents"]
    placed = sum(c["placed_cents"] for c in rep["cohorts"])
    cost = rep["cost_to_collect"]["cost_cents"]
    sup = {}
    for s in rep["suppressions"]:
        n = s["suppressed_steps"] + s["suppressed_unplanned"]
        if n:
            sup[s["rule_id"]] = sup.get(s["rule_id"], 0) + n
    return {
        "recovered_cents": recovered,
        "placed_cents": placed,
        "recovery_rate": ratio(recovered, placed),
        "contacts": rep["cost_to_collect"]["contacts"],
        "cost_cents": cost,
        "net_recovery_cents": recovered - cost,
        "stop_replies": sum(r["replies"]["stop"] for r in days),
        "disputes": sum(r["replies"]["dispute"] for r in days),
        "suppressions": sup,
        "source": "report",
    }


# ------------------------------------------------------------------ formatting

e = html.escape


def money(cents, currency=None):
    """Integer cents as $1,234.56 (or 'EUR 1,234.56' for another currency)."""
    sign = "-" if cents < 0 else ""
    a = abs(cents)
    body = f"{a // 100:,}.{a % 100:02d}"
    if currency and currency != "USD":
        return f"{sign}{currency} {body}"
    return f"{sign}${body}"


def signed_money(cents, currency=None):
    return ("+" if cents > 0 else "") + money(cents, currency)


def count(n):
    return f"{n:,}"


def signed_count(n):
    return ("+" if n > 0 else "") + count(n)


def q2(d):
    return Decimal(d).quantize(Decimal("0.01"), ROUND_HALF_UP)


def pct(rate):
    """A fraction as a percentage with 2 decimals; None as n/a."""
    return "n/a" if rate is None else f"{q2(rate * 100)}%"


def pct_value(p):
    """A number already in percent (CEI)."""
    return "n/a" if p is None else f"{q2(p)}%"


def plain2(d):
    return "n/a" if d is None else f"{q2(d)}"


def trim_decimal(d):
    s = format(d.normalize(), "f")
    return s


def money_tick(cents):
    """Compact money for axis ticks: $0, $2.50, $750, $1.5k, $2M."""
    d = Decimal(cents) / 100
    sign = "-" if d < 0 else ""
    d = abs(d)
    if d >= 1_000_000:
        return f"{sign}${trim_decimal(d / 1_000_000)}M"
    if d >= 1_000:
        return f"{sign}${trim_decimal(d / 1_000)}k"
    if cents % 100 == 0:
        return f"{sign}${int(d)}"
    return f"{sign}${d:.2f}"


def money_compact(cents):
    """About three significant digits for a label on a bar: $7, $12.50, $1.2k, $35k, $1.2M
    (the exact amount is in the bar's title)."""
    d = Decimal(abs(cents)) / 100
    sign = "-" if cents < 0 else ""

    def r(x, places):
        return trim_decimal(x.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))

    if d >= 1_000_000:
        return f"{sign}${r(d / 1_000_000, 1)}M"
    if d >= 10_000:
        return f"{sign}${r(d / 1_000, 0)}k"
    if d >= 1_000:
        return f"{sign}${r(d / 1_000, 1)}k"
    if d >= 100 or cents % 100 == 0:
        return f"{sign}${r(d, 0)}"
    return f"{sign}${d:.2f}"


def count_tick(n):
    if abs(n) >= 1_000_000:
        return trim_decimal(Decimal(n) / 1_000_000) + "M"
    if abs(n) >= 10_000:
        return trim_decimal(Decimal(n) / 1_000) + "k"
    return f"{n:,}"


def f1(x):
    return f"{x:.1f}"


def text_width(s, size=12):
    """A rough width for layout (average glyph ~0.6 em)."""
    return len(s) * size * 0.6


# ------------------------------------------------------------------ SVG


def nice_step(span, target=5):
    """The smallest 1, 2 or 5 x 10^k (integer >= 1) dividing span into <= target steps."""
    p = 1
    while True:
        for m in (1, 2, 5):
            s = m * p
            if -(-span // s) <= target:
                return s
        p *= 10


def axis_scale(values, min_top):
    """(bottom, top, ticks) of an integer axis that includes 0 and every value."""
    lo = min([0, *values])
    hi = max([0, *values])
    if hi == lo:
        hi = lo + min_top
    step = nice_step(hi - lo)
    bottom = (lo // step) * step
    top = -((-hi) // step) * step
    return bottom, top, list(range(bottom, top + 1, step))


def svg_open(sid, w, h, title, desc):
    return [
        f'<svg id="{sid}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-labelledby="{sid}-title {sid}-desc" font-family="{e(FONT)}" font-size="12" '
        f'fill="{INK}">',
        f'<title id="{sid}-title">{e(title)}</title>',
        f'<desc id="{sid}-desc">{e(desc)}</desc>',
    ]


def svg_nodata(sid, title, why, w=760, h=140):
    out = svg_open(sid, w, h, title, f"No data: {why}")
    out.append(f'<rect x="0.5" y="0.5" width="{w - 1}" height="{h - 1}" fill="#fafafa" '
               f'stroke="{GRID}"/>')
    out.append(f'<text class="nodata" x="{w / 2:.0f}" y="{h / 2 - 4:.0f}" text-anchor="middle" '
               f'font-size="18" fill="{MUTED}">no data</text>')
    out.append(f'<text x="{w / 2:.0f}" y="{h / 2 + 20:.0f}" text-anchor="middle" '
               f'fill="{MUTED}">{e(why)}</text>')
    out.append("</svg>")
    return "\n".join(out)


LEGEND_ROW = 18


def legend(x, y, items, max_x):
    """items: (label, fill, stroke), in rows from (x, y) wrapped before max_x; returns
    (parts, number of rows)."""
    out = ['<g class="legend">']
    cx, rows = x, 1
    for label, fill, stroke in items:
        w = 19 + text_width(label)
        if cx > x and cx + w > max_x:
            cx, y, rows = x, y + LEGEND_ROW, rows + 1
        out.append(f'<rect x="{f1(cx)}" y="{f1(y - 10)}" width="14" height="12" fill="{fill}" '
                   f'stroke="{stroke}"/>')
        out.append(f'<text x="{f1(cx + 19)}" y="{f1(y)}">{e(label)}</text>')
        cx += w + 18
    out.append("</g>")
    return out, rows


def y_axis(x0, y0, w, h, bottom, top, ticks, fmt, label):
    """Horizontal grid lines, tick labels and the rotated axis title; returns (parts, y())."""

    def y(v):
        return y0 + h - (v - bottom) / (top - bottom) * h

    out = []
    for t in ticks:
        yy = y(t)
        out.append(f'<line x1="{f1(x0)}" y1="{f1(yy)}" x2="{f1(x0 + w)}" y2="{f1(yy)}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<line x1="{f1(x0 - 5)}" y1="{f1(yy)}" x2="{f1(x0)}" y2="{f1(yy)}" '
                   f'stroke="{INK}"/>')
        out.append(f'<text x="{f1(x0 - 8)}" y="{f1(yy)}" dy="0.32em" text-anchor="end">'
                   f'{e(fmt(t))}</text>')
    out.append(f'<line x1="{f1(x0)}" y1="{f1(y0)}" x2="{f1(x0)}" y2="{f1(y0 + h)}" '
               f'stroke="{INK}"/>')
    zero = y(0)
    out.append(f'<line x1="{f1(x0)}" y1="{f1(zero)}" x2="{f1(x0 + w)}" y2="{f1(zero)}" '
               f'stroke="{INK}"/>')
    widest = max(text_width(fmt(t)) for t in ticks)
    cx, cy = max(14.0, x0 - 8 - widest - 14), y0 + h / 2
    out.append(f'<text x="{f1(cx)}" y="{f1(cy)}" text-anchor="middle" '
               f'transform="rotate(-90 {f1(cx)} {f1(cy)})">{e(label)}</text>')
    return out, y


def chart_recovery(days, tenants):
    sid = "chart-recovery"
    title = "Recovery by day: cumulative amount recovered, per tenant"
    all_days = sorted({r["day"] for k in KINDS for r in days[k]})
    if not all_days:
        return svg_nodata(sid, title, "the days file has no simulated day")
    W, H, L, R, T, B = 760, 340, 92, 24, 44, 58
    keys, rows = legend(L, 22, [(f"{k} ({tenants[k]})", COLOUR[k], COLOUR[k]) for k in KINDS],
                        W - R)
    T, H = T + LEGEND_ROW * (rows - 1), H + LEGEND_ROW * (rows - 1)
    pw, ph = W - L - R, H - T - B
    values = [r["recovered_cents"] for k in KINDS for r in days[k]]
    bottom, top, ticks = axis_scale(values, 100)
    finals = "; ".join(
        f"{k} ({tenants[k]}) {money(days[k][-1]['recovered_cents'])} after {len(days[k])} days"
        if days[k] else f"{k} ({tenants[k]}) no days" for k in KINDS)
    out = svg_open(sid, W, H, title,
                   f"Cumulative recovered at the end of each simulated day from {all_days[0]} "
                   f"to {all_days[-1]}: {finals}.")
    grid, y = y_axis(L, T, pw, ph, bottom, top, ticks, money_tick, "recovered (cumulative)")
    out += grid
    n = len(all_days)

    def x(i):
        return L + (pw / 2 if n == 1 else i * pw / (n - 1))

    index = {d: i for i, d in enumerate(all_days)}
    every = max(1, -(-n // max(1, int(pw // 48))))
    for i, d in enumerate(all_days):
        out.append(f'<line x1="{f1(x(i))}" y1="{f1(T + ph)}" x2="{f1(x(i))}" '
                   f'y2="{f1(T + ph + 5)}" stroke="{INK}"/>')
        if i % every == 0 or (i == n - 1 and (n - 1) % every >= every / 2):
            out.append(f'<text x="{f1(x(i))}" y="{f1(T + ph + 19)}" text-anchor="middle">'
                       f'{e(d[5:])}</text>')
    out.append(f'<text x="{f1(L + pw / 2)}" y="{f1(H - 10)}" text-anchor="middle">'
               f'simulated day (UTC, MM-DD), {e(all_days[0])} to {e(all_days[-1])}</text>')
    for k in KINDS:
        if not days[k]:
            continue
        pts = [(x(index[r["day"]]), y(r["recovered_cents"]), r) for r in days[k]]
        out.append(f'<polyline class="series" data-kind="{k}" fill="none" '
                   f'stroke="{COLOUR[k]}" stroke-width="2.5" stroke-linejoin="round" '
                   f'points="{" ".join(f"{f1(px)},{f1(py)}" for px, py, _ in pts)}">'
                   f'<title>{e(k)} ({e(tenants[k])})</title></polyline>')
        for px, py, r in pts:
            out.append(f'<circle cx="{f1(px)}" cy="{f1(py)}" r="3.5" fill="{COLOUR[k]}">'
                       f'<title>{e(k)}, {e(r["day"])}: {money(r["recovered_cents"])}</title>'
                       f'</circle>')
    out += keys
    out.append("</svg>")
    return "\n".join(out)


def bar_panel(x0, y0, w, h, categories, series, tick_fmt, value_fmt, label_fmt, y_label,
              min_top):
    """Grouped vertical bars; series: (key, label, fill, stroke, values)."""
    vals = [v for s in series for v in s[4]]
    bottom, top, ticks = axis_scale(vals, min_top)
    out, y = y_axis(x0, y0, w, h, bottom, top, ticks, tick_fmt, y_label)
    gw = w / len(categories)
    bw = gw * 0.76 / len(series)
    labelled = all(text_width(label_fmt(v), 10) <= bw + 2 for v in vals if v)
    for i, cat in enumerate(categories):
        gx = x0 + i * gw + gw * 0.12
        for j, (key, label, fill, stroke, values) in enumerate(series):
            v = values[i]
            bx = gx + j * bw
            y1, y2 = y(max(v, 0)), y(min(v, 0))
            out.append(f'<rect class="bar" data-series="{e(key)}" x="{f1(bx + 1)}" '
                       f'y="{f1(y1)}" width="{f1(bw - 2)}" height="{f1(y2 - y1)}" '
                       f'fill="{fill}" stroke="{stroke}"><title>{e(label)}, {e(cat)}: '
                       f'{e(value_fmt(v))}</title></rect>')
            txt = label_fmt(v)
            if v and labelled:
                out.append(f'<text x="{f1(bx + bw / 2)}" y="{f1(y1 - 4)}" font-size="10" '
                           f'text-anchor="middle">{e(txt)}</text>')
        out.append(f'<text x="{f1(x0 + i * gw + gw / 2)}" y="{f1(y0 + h + 18)}" '
                   f'text-anchor="middle">{e(cat)}</text>')
    return out


def chart_aging(reps):
    sid = "chart-aging"
    title = "Aging at the period's start and end: open receivables by days past due, per tenant"

    def amounts(ag):
        by = {}
        for b in ag["buckets"]:
            by[b["bucket"]] = by.get(b["bucket"], 0) + b["amount_cents"]
        return by

    sides = {(k, s): amounts(reps[k]["aging"][s]) for k in KINDS for s in ("start", "end")}
    cats = list(AGING_BUCKETS)
    for k in KINDS:
        for s in ("start", "end"):
            for b in reps[k]["aging"][s]["buckets"]:
                if b["bucket"] not in cats:
                    cats.append(b["bucket"])
    if not any(v for d in sides.values() for v in d.values()):
        return svg_nodata(sid, title, "no open receivables at the start or the end of the "
                                      "period, for either tenant")
    series = []
    for k in KINDS:
        for s in ("start", "end"):
            as_of = reps[k]["aging"][s]["as_of"] or "?"
            label = f"{k} {s} ({as_of})"
            fill = LIGHT[k] if s == "start" else COLOUR[k]
            series.append((f"{k}-{s}", label, fill, COLOUR[k],
                           [sides[(k, s)].get(c, 0) for c in cats]))
    W, H, L, R, T, B = 760, 360, 92, 20, 48, 56
    keys, rows = legend(L, 22, [(s[1], s[2], s[3]) for s in series], W - R)
    T, H = T + LEGEND_ROW * (rows - 1), H + LEGEND_ROW * (rows - 1)
    tot = "; ".join(f"{k}: {money(reps[k]['aging']['start']['amount_cents'])} at the start, "
                    f"{money(reps[k]['aging']['end']['amount_cents'])} at the end"
                    for k in KINDS)
    out = svg_open(sid, W, H, title,
                   f"Grouped bars per aging bucket (current, 1-30, 31-60, 61-90, 91-180, "
                   f"180+ days past due) of the amount open at the period's start and end. "
                   f"Totals: {tot}.")
    out += bar_panel(L, T, W - L - R, H - T - B, cats, series, money_tick, money,
                     money_compact, "amount open", 100)
    out.append(f'<text x="{f1(L + (W - L - R) / 2)}" y="{H - 10}" text-anchor="middle">'
               f'days past due</text>')
    out += keys
    out.append("</svg>")
    return "\n".join(out)


def chart_channels(reps, tenants):
    sid = "chart-channels"
    title = "Contacts and cost to collect by channel, per tenant"
    by = {}
    cats = list(CHANNELS)
    for k in KINDS:
        by[k] = {}
        for c in reps[k]["cost_to_collect"]["channels"]:
            if c["channel"] not in cats:
                cats.append(c["channel"])
            prev = by[k].get(c["channel"], (0, 0))
            by[k][c["channel"]] = (prev[0] + c["contacts"], prev[1] + c["cost_cents"])
    if not any(a or b for d in by.values() for a, b in d.values()):
        return svg_nodata(sid, title, "no contact was sent in the period by either tenant")
    W, H, T, B = 760, 360, 70, 40
    pw = 270
    lx, rx = 86, 86 + pw + 110
    keys, rows = legend(lx, 22, [(f"{k} ({tenants[k]})", COLOUR[k], COLOUR[k]) for k in KINDS],
                        W - 20)
    T, H = T + LEGEND_ROW * (rows - 1), H + LEGEND_ROW * (rows - 1)
    cseries = [(k, f"{k} ({tenants[k]})", COLOUR[k], COLOUR[k],
                [by[k].get(c, (0, 0))[0] for c in cats]) for k in KINDS]
    mseries = [(k, f"{k} ({tenants[k]})", COLOUR[k], COLOUR[k],
                [by[k].get(c, (0, 0))[1] for c in cats]) for k in KINDS]
    desc = "; ".join(
        f"{k}: " + ", ".join(f"{c} {count(by[k].get(c, (0, 0))[0])} contacts "
                             f"{money(by[k].get(c, (0, 0))[1])}" for c in cats)
        for k in KINDS)
    out = svg_open(sid, W, H, title, f"Two panels of grouped bars per channel: contacts sent "
                                     f"and their cost in the period. {desc}.")
    out.append(f'<text x="{f1(lx + pw / 2)}" y="{T - 12}" text-anchor="middle" '
               f'font-weight="bold">contacts sent</text>')
    out.append(f'<text x="{f1(rx + pw / 2)}" y="{T - 12}" text-anchor="middle" '
               f'font-weight="bold">cost of the contacts</text>')
    out += bar_panel(lx, T, pw, H - T - B, cats, cseries, count_tick, count, count_tick,
                     "contacts", 1)
    out += bar_panel(rx, T, pw, H - T - B, cats, mseries, money_tick, money, money_compact,
                     "cost", 100)
    out += keys
    out.append("</svg>")
    return "\n".join(out)


def chart_suppressions(cmp, tenants):
    sid = "chart-suppressions"
    title = "Suppressions by rule, per tenant"
    rules = sorted({r for k in KINDS for r, n in cmp[k]["suppressions"].items() if n},
                   key=lambda r: (-sum(cmp[k]["suppressions"].get(r, 0) for k in KINDS), r))
    if not rules:
        return svg_nodata(sid, title, "no contact was suppressed by any rule")
    maxlab = 46

    def short(r):
        return r if len(r) <= maxlab else r[:maxlab - 1] + "\u2026"

    L = 12 + max(text_width(short(r)) for r in rules)
    W, R, T, B = 760, 60, 44, 48
    L = min(L, W - R - 200)
    bh, row = 13, 36
    keys, rows = legend(L, 22, [(f"{k} ({tenants[k]})", COLOUR[k], COLOUR[k]) for k in KINDS],
                        W - 20)
    T += LEGEND_ROW * (rows - 1)
    H = T + row * len(rules) + B
    pw = W - L - R
    vals = [cmp[k]["suppressions"].get(r, 0) for k in KINDS for r in rules]
    _, top, ticks = axis_scale(vals, 1)

    def x(v):
        return L + v / top * pw

    desc = "; ".join(f"{r}: " + ", ".join(f"{k} {cmp[k]['suppressions'].get(r, 0)}"
                                          for k in KINDS) for r in rules)
    out = svg_open(sid, W, H, title, f"Horizontal bars, contacts suppressed per rule id. "
                                     f"{desc}.")
    base = T + row * len(rules)
    for t in ticks:
        out.append(f'<line x1="{f1(x(t))}" y1="{T}" x2="{f1(x(t))}" y2="{base}" '
                   f'stroke="{GRID}"/>')
        out.append(f'<line x1="{f1(x(t))}" y1="{base}" x2="{f1(x(t))}" y2="{base + 5}" '
                   f'stroke="{INK}"/>')
        out.append(f'<text x="{f1(x(t))}" y="{base + 18}" text-anchor="middle">'
                   f'{e(count_tick(t))}</text>')
    out.append(f'<line x1="{f1(L)}" y1="{T}" x2="{f1(L)}" y2="{base}" stroke="{INK}"/>')
    out.append(f'<line x1="{f1(L)}" y1="{base}" x2="{f1(L + pw)}" y2="{base}" '
               f'stroke="{INK}"/>')
    out.append(f'<text x="{f1(L + pw / 2)}" y="{H - 8}" text-anchor="middle">'
               f'contacts suppressed</text>')
    for i, r in enumerate(rules):
        ry = T + i * row + 5
        out.append(f'<text x="{f1(L - 8)}" y="{f1(ry + bh)}" dy="0.32em" text-anchor="end">'
                   f'<title>{e(r)}</title>{e(short(r))}</text>')
        for j, k in enumerate(KINDS):
            v = cmp[k]["suppressions"].get(r, 0)
            by = ry + j * bh
            out.append(f'<rect class="bar" data-series="{k}" x="{f1(L)}" y="{f1(by)}" '
                       f'width="{f1(x(v) - L)}" height="{bh - 1}" fill="{COLOUR[k]}">'
                       f'<title>{e(k)}, {e(r)}: {count(v)}</title></rect>')
            out.append(f'<text x="{f1(x(v) + 4)}" y="{f1(by + bh / 2)}" dy="0.32em" '
                       f'font-size="10">{count(v)}</text>')
    out += keys
    out.append("</svg>")
    return "\n".join(out)


# ------------------------------------------------------------------ HTML


CSS = """
:root { color-scheme: light; }
body { font-family: %(font)s; color: #222; background: #fff; margin: 0; line-height: 1.4; }
header, main, footer { max-width: 1500px; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 1rem; border-bottom: 3px solid #1f6fb4; }
h1 { margin: .4rem 0 .6rem; font-size: 1.7rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { margin: 1.2rem 0 .4rem; }
h4 { margin: 1rem 0 .3rem; font-size: 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem;
          margin: 0 0 1rem; }
dl.meta dt { font-weight: 600; color: #555; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; margin: .3rem 0 .8rem; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid #d6d6d6; padding: .25rem .55rem; vertical-align: top; }
thead th { background: #f1f3f6; }
tbody th { text-align: left; font-weight: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td, tr.total th { font-weight: 600; background: #fafafa; }
tr.sub th { background: #f7f7f7; font-weight: 600; text-align: left; }
td.better { background: #dff3e4; font-weight: 600; }
.tag { font-size: .75rem; color: #17692e; margin-left: .35rem; font-weight: 600; }
.scored { color: #1f6fb4; } .uniform { color: #b44c00; }
.verdict { font-size: 1.15rem; padding: .6rem .8rem; background: #eef5fb;
           border-left: 5px solid #1f6fb4; }
.note, .source { color: #555; font-size: .9rem; }
figure { margin: 1rem 0 1.8rem; }
figcaption { font-weight: 600; margin-bottom: .3rem; }
svg.chart { max-width: 100%%; height: auto; display: block; }
.tenants { display: grid; gap: 0 2.5rem;
           grid-template-columns: repeat(auto-fit, minmax(min(36rem, 100%%), 1fr)); }
article.tenant, #comparison-section, details { overflow-x: auto; }
.empty { color: #777; font-style: italic; }
footer { color: #666; font-size: .85rem; border-top: 1px solid #ccc; margin-top: 2rem;
         padding-bottom: 2rem; }
@media print { .tenants { display: block; } }
""" % {"font": FONT}


def table(caption, headers, rows, num_cols=(), foot=None, empty="none", tid=None):
    """rows: lists of cell strings (already escaped); first column is a row header."""
    ident = f' id="{tid}"' if tid else ""
    out = [f"<table{ident}>", f"<caption>{caption}</caption>", "<thead><tr>"]
    for i, h in enumerate(headers):
        cls = ' class="num"' if i in num_cols else ""
        out.append(f'<th scope="col"{cls}>{h}</th>')
    out.append("</tr></thead><tbody>")
    if not rows:
        out.append(f'<tr><td class="empty" colspan="{len(headers)}">{e(empty)}</td></tr>')
    for r in rows + ([foot] if foot and rows else []):
        cls = ' class="total"' if foot is not None and r is foot else ""
        out.append(f"<tr{cls}>")
        for i, c in enumerate(r):
            if i == 0:
                out.append(f'<th scope="row">{c}</th>')
            else:
                out.append(f'<td class="num">{c}</td>' if i in num_cols else f"<td>{c}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def tenant_report(kind, rep):
    cur = rep["currency"]

    def m(c):
        return money(c, cur)

    rc = rep["receivables"]
    out = [f'<article class="tenant" id="report-{kind}">',
           f'<h3><span class="{kind}">{e(kind)}</span>: {e(rep["tenant"])}</h3>',
           f'<p class="note">Period {e(rep["from"])} to {e(rep["to"])} ({rep["days"]} days, '
           f'UTC); currency {e(cur) if cur else "none recorded (amounts are zero)"}.</p>']
    out.append(table("Receivables, DSO and CEI", ["measure", "value"], [
        ["receivables at the start", m(rc["beginning_cents"])],
        ["credit sales (placed in the period)", m(rc["credit_sales_cents"])],
        ["accounts placed in the period", count(rc["placed_accounts"])],
        ["receivables at the end", m(rc["ending_cents"])],
        ["current receivables at the end", m(rc["ending_current_cents"])],
        ["collected in the period", m(rc["collected_cents"])],
        ["DSO (days)", plain2(rep["dso_days"])],
        ["CEI", pct_value(rep["cei_percent"])],
    ], num_cols=(1,), tid=f"{kind}-summary"))

    st, en = rep["aging"]["start"], rep["aging"]["end"]
    sb = {b["bucket"]: b for b in st["buckets"]}
    eb = {b["bucket"]: b for b in en["buckets"]}
    names = [b["bucket"] for b in st["buckets"]]
    names += [b["bucket"] for b in en["buckets"] if b["bucket"] not in names]
    zero = {"accounts": 0, "amount_cents": 0}
    rows = [[e(n), count(sb.get(n, zero)["accounts"]), m(sb.get(n, zero)["amount_cents"]),
             count(eb.get(n, zero)["accounts"]), m(eb.get(n, zero)["amount_cents"])]
            for n in names]
    out.append(table(
        "Aging by days past due",
        ["bucket", f"accounts at start ({e(st['as_of'] or '?')})", "amount at start",
         f"accounts at end ({e(en['as_of'] or '?')})", "amount at end"],
        rows, num_cols=(1, 2, 3, 4),
        foot=["total", count(st["accounts"]), m(st["amount_cents"]), count(en["accounts"]),
              m(en["amount_cents"])], tid=f"{kind}-aging"))

    rows = [[e(c["cohort"]), count(c["accounts"]), m(c["placed_cents"]), m(c["collected_cents"]),
             m(c["collected_in_period_cents"]), pct(c["recovery_rate"]),
             pct(c["liquidation_rate"])] for c in rep["cohorts"]]
    out.append(table("Recovery and liquidation per placement cohort",
                     ["cohort", "accounts", "placed", "collected to date", "collected in period",
                      "recovery rate", "liquidation rate"], rows,
                     num_cols=(1, 2, 3, 4, 5, 6), empty="no account placed by the period's end",
                     tid=f"{kind}-cohorts"))

    ct = rep["cost_to_collect"]
    rows = [[e(c["channel"]), count(c["contacts"]), m(c["cost_cents"]),
             pct(c["cost_per_collected"])] for c in ct["channels"]]
    out.append(table("Cost to collect by channel (cost per collected: cost / collected in "
                     "the period)", ["channel", "contacts", "cost", "cost per collected"], rows,
                     num_cols=(1, 2, 3),
                     foot=["total", count(ct["contacts"]), m(ct["cost_cents"]),
                           pct(ct["cost_per_collected"])], tid=f"{kind}-costs"))

    pr, rp = rep["promises"], rep["right_party_contact"]
    out.append(table("Promises and right-party contact", ["measure", "value"], [
        ["promises due", count(pr["due"])], ["kept", count(pr["kept"])],
        ["broken", count(pr["broken"])], ["promise-kept rate", pct(pr["kept_rate"])],
        ["accounts contacted", count(rp["contacted_accounts"])],
        ["right-party contacts", count(rp["right_party_accounts"])],
        ["right-party-contact rate", pct(rp["rate"])],
    ], num_cols=(1,), tid=f"{kind}-rates"))

    sup = rep["suppressions"]
    rows = [[f"<code>{e(s['rule_id'])}</code>", count(s["suppressed_steps"]),
             count(s["suppressed_unplanned"]), count(s["deferrals"]),
             count(s["deferred_steps"])] for s in sup]
    out.append(table("Suppressions and deferrals by rule",
                     ["rule", "suppressed steps", "suppressed unplanned", "deferrals",
                      "deferred steps"], rows, num_cols=(1, 2, 3, 4),
                     foot=["total", count(sum(s["suppressed_steps"] for s in sup)),
                           count(sum(s["suppressed_unplanned"] for s in sup)),
                           count(sum(s["deferrals"] for s in sup)),
                           count(sum(s["deferred_steps"] for s in sup))],
                     empty="no suppression or deferral in the period", tid=f"{kind}-suppressions"))

    um = rep["unmatched"]
    rows = [[e(b["age"]), count(b["payments"]), m(b["amount_cents"])] for b in um["buckets"]]
    out.append(table(f"Unmatched payments by age (days) as of {e(um['as_of'] or '?')}",
                     ["age", "payments", "amount"], rows, num_cols=(1, 2),
                     foot=["total", count(um["payments"]), m(um["amount_cents"])],
                     tid=f"{kind}-unmatched"))

    rows = [[e(a["arm"]), count(a["accounts"]), m(a["placed_cents"]), m(a["collected_cents"]),
             pct(a["recovery_rate"]), m(a["contact_cost_cents"]), m(a["net_recovery_cents"])]
            for a in rep["arms"]]
    out.append(table("Champion against challenger (life to date at the period's end)",
                     ["arm", "accounts", "placed", "collected", "recovery rate", "contact cost",
                      "net recovery"], rows, num_cols=(1, 2, 3, 4, 5, 6),
                     empty="no account placed by the period's end", tid=f"{kind}-arms"))
    out.append("</article>")
    return "\n".join(out)


def better_of(a, b, higher):
    """'scored', 'uniform', 'tie' or None (not comparable)."""
    if a is None or b is None:
        return None
    if a == b:
        return "tie"
    return "scored" if (a > b) == higher else "uniform"


def comparison_section(cmp, tenants, currency):
    s, u = cmp["scored"], cmp["uniform"]

    def m(c):
        return money(c, currency)

    def pp(a, b):
        if a is None or b is None:
            return "n/a"
        d = q2((a - b) * 100)
        return f"{'+' if d > 0 else ''}{d} pp"

    rows = [
        # key, label, scored value, uniform value, shown s, shown u, difference, higher better?
        ("placed", "Placed balance", s["placed_cents"], u["placed_cents"], m, signed_money,
         None),
        ("recovered", "Recovered", s["recovered_cents"], u["recovered_cents"], m,
         signed_money, True),
        ("recovery_rate", "Recovery rate (recovered / placed)", s["recovery_rate"],
         u["recovery_rate"], pct, None, True),
        ("contacts", "Contacts sent", s["contacts"], u["contacts"], count, signed_count, False),
        ("cost", "Cost to collect (contact cost)", s["cost_cents"], u["cost_cents"], m,
         signed_money, False),
        ("net_recovery", "Net recovery (recovered - contact cost)", s["net_recovery_cents"],
         u["net_recovery_cents"], m, signed_money, True),
        ("complaints", "Complaints proxy (STOP replies + disputes)",
         s["stop_replies"] + s["disputes"], u["stop_replies"] + u["disputes"], count,
         signed_count, False),
        ("stop_replies", "&nbsp;&nbsp;of which STOP replies", s["stop_replies"],
         u["stop_replies"], count, signed_count, False),
        ("disputes", "&nbsp;&nbsp;of which disputes", s["disputes"], u["disputes"], count,
         signed_count, False),
    ]
    out = ['<table id="comparison">',
           "<caption>Side by side (the better tenant of each row is highlighted)</caption>",
           "<thead><tr>",
           '<th scope="col">measure</th>',
           f'<th scope="col" class="num"><span class="scored">scored</span><br>'
           f'<code>{e(tenants["scored"])}</code></th>',
           f'<th scope="col" class="num"><span class="uniform">uniform</span><br>'
           f'<code>{e(tenants["uniform"])}</code></th>',
           '<th scope="col" class="num">scored - uniform</th>',
           '<th scope="col">better</th>',
           "</tr></thead><tbody>"]

    def row(key, label, a, b, fmt, dfmt, higher, sub=False):
        win = better_of(a, b, higher) if higher is not None else None
        cells = []
        for k, v in (("scored", a), ("uniform", b)):
            shown = fmt(v)
            if win == k:
                cells.append(f'<td class="num better" data-kind="{k}">{shown}'
                             f'<span class="tag">\u25b2 better</span></td>')
            else:
                cells.append(f'<td class="num" data-kind="{k}">{shown}</td>')
        if dfmt is None:
            diff = pp(a, b)
        else:
            diff = dfmt(a - b)
        if higher is None:
            verdict = "&mdash;"
        elif win is None:
            verdict = "n/a"
        else:
            verdict = win
        rule = f"<code>{e(label)}</code>" if sub else label
        return (f'<tr data-row="{e(key)}"><th scope="row">{rule}</th>{"".join(cells)}'
                f'<td class="num">{diff}</td><td class="winner">{verdict}</td></tr>')

    for r in rows:
        out.append(row(*r))
    rules = sorted({r for k in KINDS for r in cmp[k]["suppressions"]})
    ts = sum(s["suppressions"].values())
    tu = sum(u["suppressions"].values())
    out.append('<tr class="sub"><th colspan="5" scope="rowgroup">Suppressions by rule '
               '(fewer is better: each one is a contact that could not be made)</th></tr>')
    for r in rules:
        out.append(row(f"suppressed:{r}", r, s["suppressions"].get(r, 0),
                       u["suppressions"].get(r, 0), count, signed_count, False, sub=True))
    if not rules:
        out.append('<tr><td class="empty" colspan="5">no suppression</td></tr>')
    out.append(row("suppressed_total", "All suppressions", ts, tu, count, signed_count, False))
    out.append("</tbody></table>")

    a, b = s["net_recovery_cents"], u["net_recovery_cents"]
    if a == b:
        verdict = (f'Both tenants have the same net recovery: <strong>{m(a)}</strong>.')
        higher = "tie"
    else:
        hi, lo = ("scored", "uniform") if a > b else ("uniform", "scored")
        higher = hi
        verdict = (f'The <strong class="{hi}">{hi}</strong> tenant (<code>{e(tenants[hi])}'
                   f'</code>) has the higher net recovery: <strong>'
                   f'{m(cmp[hi]["net_recovery_cents"])}</strong> against '
                   f'{m(cmp[lo]["net_recovery_cents"])} for the {lo} tenant '
                   f'(<code>{e(tenants[lo])}</code>), {m(abs(a - b))} more.')
    head = [f'<p id="verdict" class="verdict" data-higher="{higher}">{verdict}</p>']
    return "\n".join(head + out)


def consistency_notes(cmp, days, currency):
    notes = []
    for k in KINDS:
        rows = days[k]
        if not rows:
            notes.append(f"The days file has no {k} row.")
            continue
        last = rows[-1]["recovered_cents"]
        if last != cmp[k]["recovered_cents"]:
            notes.append(f"{k}: the days file ends at {money(last, currency)} recovered, the "
                         f"table shows {money(cmp[k]['recovered_cents'], currency)}.")
        cost = sum(r["cost_cents"] for r in rows)
        if cost != cmp[k]["cost_cents"]:
            notes.append(f"{k}: the days file's contact cost sums to {money(cost, currency)}, "
                         f"the table shows {money(cmp[k]['cost_cents'], currency)}.")
        contacts = sum(sum(r["contacts"].values()) for r in rows)
        if contacts != cmp[k]["contacts"]:
            notes.append(f"{k}: the days file's contacts sum to {count(contacts)}, the table "
                         f"shows {count(cmp[k]['contacts'])}.")
    return notes


def days_table(kind, rows, currency):
    body = [[e(r["day"]), count(r["active"])] + [count(r["contacts"][c]) for c in CHANNELS] +
            [money(r["cost_cents"], currency), count(sum(r["suppressed"].values())),
             count(r["payments"]), money(r["recovered_cents"], currency)] +
            [count(r["replies"][x]) for x in REPLIES] for r in rows]
    headers = ["day", "active"] + list(CHANNELS) + ["cost", "suppressed", "payments",
                                                    "recovered (cumulative)"] + \
        [f"{x} replies" for x in REPLIES]
    return table(f'<span class="{kind}">{kind}</span> tenant, day by day', headers, body,
                 num_cols=tuple(range(1, len(headers))), empty="no day", tid=f"{kind}-days")


def render(a, reps, days, cmp, generated):
    tenants = {k: reps[k]["tenant"] for k in KINDS}
    currency = reps["scored"]["currency"] or reps["uniform"]["currency"]
    all_days = sorted({r["day"] for k in KINDS for r in days[k]})
    if all_days:
        ndays = f"{len(all_days)} ({all_days[0]} to {all_days[-1]})"
    else:
        ndays = f"{reps['scored']['days']} (the report period; the days file is empty)"
    periods = sorted({(reps[k]["from"], reps[k]["to"], reps[k]["days"]) for k in KINDS})
    period = "; ".join(f"{f} to {t} ({n} days)" for f, t, n in periods)
    title = a.title
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           "<header>", f"<h1>{e(title)}</h1>", '<dl class="meta">',
           f"<dt>Seed</dt><dd id=\"meta-seed\">{e(a.seed) if a.seed is not None else 'not given'}"
           f"</dd>",
           f"<dt>Accounts</dt><dd id=\"meta-accounts\">"
           f"{count(a.accounts) if a.accounts is not None else 'not given'}</dd>",
           f"<dt>Days simulated</dt><dd id=\"meta-days\">{e(ndays)}</dd>",
           f"<dt>Report period</dt><dd>{e(period)}</dd>",
           f'<dt>Tenants</dt><dd><span class="scored">scored</span> <code>'
           f'{e(tenants["scored"])}</code> (scoring picks each account\'s strategy); '
           f'<span class="uniform">uniform</span> <code>{e(tenants["uniform"])}</code> '
           f'(every account gets the same cadence)</dd>',
           f"<dt>Generated</dt><dd id=\"meta-generated\">{e(generated)}</dd>",
           "</dl>", "</header>", "<main>"]

    out.append('<section id="comparison-section"><h2>Scored against uniform</h2>')
    out.append(comparison_section(cmp, tenants, currency))
    if cmp["scored"]["source"] == "file":
        src = (f"Source: the demo's comparison file ({e(a.comparison_name)}); suppressions by "
               f"rule as it counted them.")
    else:
        src = ("Source: the business reports below (recovered = collected in the period; "
               "placed = placed balance of the accounts placed by the period's end; contacts "
               "and cost = cost to collect; suppressions = suppressed steps + unplanned "
               "suppressions per rule) and the days file (STOP replies and disputes).")
    out.append(f'<p class="source">{src}</p>')
    notes = consistency_notes(cmp, days, currency)
    if notes:
        out.append('<ul class="note" id="notes">' +
                   "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    out.append("</section>")

    out.append('<section id="charts"><h2>Charts</h2>')
    for cap, svg in (
        ("Recovery by day", chart_recovery(days, tenants)),
        ("Aging before and after", chart_aging(reps)),
        ("Contacts and cost by channel", chart_channels(reps, tenants)),
        ("Suppressions by rule", chart_suppressions(cmp, tenants)),
    ):
        out.append(f"<figure><figcaption>{e(cap)}</figcaption>\n{svg}\n</figure>")
    out.append("</section>")

    out.append('<section id="business"><h2>Business report of each tenant</h2>'
               '<p class="note">The measures of <code>arrears report --json</code> '
               '(docs/report.md): money in dollars, rates as percentages, n/a when the '
               'denominator is zero.</p><div class="tenants">')
    for k in KINDS:
        out.append(tenant_report(k, reps[k]))
    out.append("</div></section>")

    out.append('<section id="daily"><h2>Day by day</h2>')
    for k in KINDS:
        out.append(f"<details><summary>{e(k)} ({e(tenants[k])}): {len(days[k])} days</summary>")
        out.append(days_table(k, days[k], currency))
        out.append("</details>")
    out.append("</section></main>")
    out.append(f"<footer><p>Written by tools/demo-report/demo_report.py from "
               f"{e(a.scored_name)}, {e(a.uniform_name)} and {e(a.days_name)}. Self-contained: "
               f"no script, font, image or stylesheet is loaded.</p></footer>")
    out.append("</body>\n</html>\n")
    return "\n".join(out)


# ------------------------------------------------------------------ command line


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def accounts_arg(v):
    try:
        n = int(v, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {v!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"negative: {v!r}")
    return n


def parse_args(argv):
    p = Parser(prog="demo_report.py",
               description="The demo's self-contained HTML report: scored against uniform.")
    p.add_argument("--scored", required=True, metavar="FILE",
                   help="arrears report --json of the scored tenant")
    p.add_argument("--uniform", required=True, metavar="FILE",
                   help="arrears report --json of the uniform tenant")
    p.add_argument("--days", required=True, metavar="FILE",
                   help="JSON lines, one per simulated day per tenant")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the page to write")
    p.add_argument("--title", default="arrears demo: scored against uniform outreach")
    p.add_argument("--seed", metavar="S")
    p.add_argument("--accounts", type=accounts_arg, metavar="N")
    p.add_argument("--comparison", metavar="FILE", help="the demo's comparison totals")
    p.add_argument("--generated-at", metavar="TEXT",
                   help="shown as the generation time (default: from the inputs)")
    a = p.parse_args(argv)
    for name in ("scored", "uniform", "days", "out", "comparison"):
        v = getattr(a, name)
        if v is not None and not v.strip():
            raise UsageError(f"--{name}: empty file name")
    return a


def basename(path):
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        a = parse_args(argv)
    except UsageError as ex:
        print(f"demo_report: {ex}", file=sys.stderr)
        print("usage: demo_report.py --scored FILE --uniform FILE --days FILE --out FILE.html "
              "[--title TEXT] [--seed S] [--accounts N] [--comparison FILE] "
              "[--generated-at TEXT]", file=sys.stderr)
        return 2
    except SystemExit as ex:  # --help
        return ex.code if isinstance(ex.code, int) else 0
    try:
        reps = {"scored": load_report(a.scored, "scored"),
                "uniform": load_report(a.uniform, "uniform")}
        tenants = {k: reps[k]["tenant"] for k in KINDS}
        days = load_days(a.days, tenants)
        cmp = load_comparison(a.comparison) if a.comparison else \
            {k: derive_comparison(reps[k], days[k]) for k in KINDS}
    except InputError as ex:
        print(f"demo_report: {ex}", file=sys.stderr)
        return 2
    if a.generated_at:
        generated = a.generated_at
    else:
        last = max([r["day"] for k in KINDS for r in days[k]], default=None)
        if last:
            generated = f"as of the end of simulated day {last} (UTC)"
        else:
            generated = f"as of the end of {max(reps[k]['to'] for k in KINDS)} (UTC), the " \
                        f"reports' last day"
    a.scored_name, a.uniform_name = basename(a.scored), basename(a.uniform)
    a.days_name = basename(a.days)
    a.comparison_name = basename(a.comparison) if a.comparison else None
    page = render(a, reps, days, cmp, generated)
    try:
        with open(a.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(page)
    except OSError as ex:
        print(f"demo_report: {a.out}: cannot write: {ex.strerror or ex}", file=sys.stderr)
        return 1
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
