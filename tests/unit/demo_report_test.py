#!/usr/bin/python3
"""Unit tests of tools/demo-report/demo_report.py, no servers.

    cd /work/main && /usr/bin/python3 -m unittest tests/unit/demo_report_test.py -v

Inputs are written by hand in a temporary folder (two tenants, three days), the generator runs
through main(argv) (and once as a process), and the page is read back with html.parser: the
comparison table against numbers worked out by hand, the net-recovery statement, the four
charts, determinism, an empty campaign, and exit 2 on bad input.
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "demo-report" / "demo_report.py"
sys.path.insert(0, str(TOOL.parent))
import demo_report  # noqa: E402

SCORED, UNIFORM = "demo-scored", "demo-uniform"
DAYS = ["2026-11-27", "2026-11-28", "2026-11-29"]
BUCKETS = ["current", "1-30", "31-60", "61-90", "91-180", "180+"]
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


# ------------------------------------------------------------------ inputs


def aging(as_of, amounts):
    buckets = [{"bucket": b, "accounts": 1 if a else 0, "amount_cents": a}
               for b, a in zip(BUCKETS, amounts)]
    return {"as_of": as_of, "buckets": buckets, "accounts": sum(b["accounts"] for b in buckets),
            "amount_cents": sum(amounts)}


def report(tenant, collected, contacts, costs, suppressions, aging_start, aging_end):
    """contacts, costs: per channel email, sms, voice, letter."""
    channels = [{"channel": c, "contacts": n, "cost_cents": k, "cost_per_collected": None}
                for c, n, k in zip(["email", "sms", "voice", "letter"], contacts, costs)]
    return {
        "tenant": tenant, "from": DAYS[0], "to": DAYS[-1], "days": 3, "currency": "USD",
        "aging": {"start": aging("2026-11-26", aging_start),
                  "end": aging(DAYS[-1], aging_end)},
        "receivables": {"beginning_cents": 0, "credit_sales_cents": 200000,
                        "placed_accounts": 10, "ending_cents": sum(aging_end),
                        "ending_current_cents": aging_end[0], "collected_cents": collected},
        "dso_days": 2.25, "cei_percent": 12.5,
        "cohorts": [{"cohort": "2026-11", "accounts": 10, "placed_cents": 200000,
                     "collected_cents": collected, "collected_in_period_cents": collected,
                     "recovery_rate": round(collected / 200000, 4),
                     "liquidation_rate": round(collected / 200000, 4)}],
        "cost_to_collect": {"channels": channels, "contacts": sum(contacts),
                            "cost_cents": sum(costs),
                            "cost_per_collected":
                                round(sum(costs) / collected, 6) if collected else None},
        "promises": {"due": 4, "kept": 3, "broken": 1, "kept_rate": 0.75},
        "right_party_contact": {"contacted_accounts": 10, "right_party_accounts": 4,
                                "rate": 0.4},
        "suppressions": [{"rule_id": r, "suppressed_steps": s, "suppressed_unplanned": u,
                          "deferrals": 2, "deferred_steps": 1} for r, s, u in suppressions],
        "unmatched": {"as_of": DAYS[-1],
                      "buckets": [{"age": a, "payments": 0, "amount_cents": 0}
                                  for a in ["0-2", "3-7", "8-30", "31-90", "91+"]],
                      "payments": 0, "amount_cents": 0},
        "arms": [{"arm": "champion", "accounts": 10, "placed_cents": 200000,
                  "collected_cents": collected, "recovery_rate": round(collected / 200000, 4),
                  "contact_cost_cents": sum(costs),
                  "net_recovery_cents": collected - sum(costs)}],
    }


def day_row(day, tenant, kind, recovered, stop, dispute, contacts=(5, 1, 0, 0), cost=1000):
    return {"day": day, "tenant": tenant, "kind": kind, "active": 10,
            "contacts": dict(zip(["email", "sms", "voice", "letter"], contacts)),
            "cost_cents": cost, "suppressed": {"regf.1006.6b1.inconvenient_time": 1},
            "payments": 2, "recovered_cents": recovered,
            "replies": {"stop": stop, "dispute": dispute, "promise": 1, "paid": 1, "other": 0}}


# By hand: scored collects $500.00 for $30.00 of contacts (net $470.00) out of $2,000.00
# placed (25.00%), 2 STOP + 1 dispute; uniform collects $450.00 for $90.00 (net $360.00,
# 22.50%), 5 STOP + 2 disputes.
def scored_report():
    return report(SCORED, 50000, [20, 5, 1, 0], [1000, 500, 1500, 0],
                  [("regf.1006.6b1.inconvenient_time", 4, 1), ("cadence.not_worth_contact", 0, 6)],
                  [0, 123456, 50000, 0, 0, 0], [0, 0, 100000, 23456, 0, 0])


def uniform_report():
    return report(UNIFORM, 45000, [30, 30, 10, 0], [1500, 3000, 4500, 0],
                  [("regf.1006.6b1.inconvenient_time", 7, 0),
                   ("tcpa.64_1200.prerecorded_no_consent", 3, 0)],
                  [0, 123456, 50000, 0, 0, 0], [0, 0, 110000, 28456, 0, 0])


def days_rows():
    """The days agree with the reports: contacts 26 and 70, cost $30.00 and $90.00."""
    sc = [(7, 2, 0, 0), (7, 2, 0, 0), (6, 1, 1, 0)]
    uc = [(10, 10, 3, 0), (10, 10, 3, 0), (10, 10, 4, 0)]
    return ([day_row(d, SCORED, "scored", r, s, p, c)
             for d, r, s, p, c in zip(DAYS, [10000, 30000, 50000], [1, 0, 1], [0, 1, 0], sc)] +
            [day_row(d, UNIFORM, "uniform", r, s, p, c, cost=3000)
             for d, r, s, p, c in zip(DAYS, [15000, 20000, 45000], [2, 1, 2], [0, 1, 1], uc)])


# ------------------------------------------------------------------ reading the page


class Page(HTMLParser):
    """Elements as (tag, attrs, text, parent index) with the open-tag stack checked."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.nodes, self.stack, self.errors = [], [], []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {[self.nodes[i][0] for i in self.stack]}")

    def handle_starttag(self, tag, attrs):
        parent = self.stack[-1] if self.stack else None
        self.nodes.append([tag, dict(attrs), "", parent])
        if tag not in VOID:
            self.stack.append(len(self.nodes) - 1)

    def handle_startendtag(self, tag, attrs):
        parent = self.stack[-1] if self.stack else None
        self.nodes.append([tag, dict(attrs), "", parent])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.nodes[self.stack[-1]][0] != tag:
            open_tag = self.nodes[self.stack[-1]][0] if self.stack else "nothing"
            self.errors.append(f"</{tag}> closes <{open_tag}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        for i in self.stack:
            self.nodes[i][2] += data

    def find(self, tag=None, under=None, **attrs):
        out = []
        for i, (t, a, _, _) in enumerate(self.nodes):
            if tag and t != tag:
                continue
            if any(a.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            if under is not None and not self.within(i, under):
                continue
            out.append(i)
        return out

    def within(self, i, ancestor):
        p = self.nodes[i][3]
        while p is not None:
            if p == ancestor:
                return True
            p = self.nodes[p][3]
        return False

    def text(self, i):
        return " ".join(self.nodes[i][2].split())

    def attr(self, i, name):
        return self.nodes[i][1].get(name)


# ------------------------------------------------------------------ tests


class DemoReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, obj):
        p = self.dir / name
        if isinstance(obj, str):
            p.write_text(obj)
        elif isinstance(obj, list):
            p.write_text("".join(json.dumps(r) + "\n" for r in obj))
        else:
            p.write_text(json.dumps(obj))
        return str(p)

    def inputs(self, scored=None, uniform=None, days=None, extra=()):
        return ["--scored", self.write("scored.json", scored or scored_report()),
                "--uniform", self.write("uniform.json", uniform or uniform_report()),
                "--days", self.write("days.jsonl", days_rows() if days is None else days),
                "--title", "Demo <test>", "--seed", "42", "--accounts", "10", *extra]

    def run_main(self, argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = demo_report.main(argv)
        return rc, out.getvalue(), err.getvalue()

    def generate(self, name="page.html", **kw):
        path = str(self.dir / name)
        rc, out, err = self.run_main(self.inputs(**kw) + ["--out", path])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), path)
        text = Path(path).read_text(encoding="utf-8")
        page = Page(text)
        self.assertEqual(page.errors, [])
        return text, page

    def cmp_cells(self, page, row):
        (tr,) = page.find("tr", data_row=row)
        cells = {page.attr(i, "data-kind"): i for i in page.find("td", under=tr)
                 if page.attr(i, "data-kind")}
        return page, tr, cells

    def cmp_value(self, page, row, kind):
        _, _, cells = self.cmp_cells(page, row)
        return page.text(cells[kind]).replace("\u25b2 better", "").strip()

    def better(self, page, row):
        _, _, cells = self.cmp_cells(page, row)
        return sorted(k for k, i in cells.items() if "better" in page.attr(i, "class").split())

    # -- the comparison

    def test_comparison_table_numbers(self):
        _, page = self.generate()
        expect = {
            "recovered": ("$500.00", "$450.00"),
            "placed": ("$2,000.00", "$2,000.00"),
            "recovery_rate": ("25.00%", "22.50%"),
            "contacts": ("26", "70"),
            "cost": ("$30.00", "$90.00"),
            "net_recovery": ("$470.00", "$360.00"),      # recovered - cost
            "complaints": ("3", "7"),                    # STOP + disputes over the 3 days
            "stop_replies": ("2", "5"),
            "disputes": ("1", "2"),
            "suppressed:regf.1006.6b1.inconvenient_time": ("5", "7"),  # steps + unplanned
            "suppressed:cadence.not_worth_contact": ("6", "0"),
            "suppressed:tcpa.64_1200.prerecorded_no_consent": ("0", "3"),
            "suppressed_total": ("11", "10"),
        }
        for row, (s, u) in expect.items():
            with self.subTest(row=row):
                self.assertEqual(self.cmp_value(page, row, "scored"), s)
                self.assertEqual(self.cmp_value(page, row, "uniform"), u)
        self.assertEqual(self.better(page, "net_recovery"), ["scored"])
        self.assertEqual(self.better(page, "recovered"), ["scored"])
        self.assertEqual(self.better(page, "cost"), ["scored"])
        self.assertEqual(self.better(page, "complaints"), ["scored"])
        self.assertEqual(self.better(page, "suppressed_total"), ["uniform"])
        self.assertEqual(self.better(page, "placed"), [])      # informational, a tie anyway
        _, tr, _ = self.cmp_cells(page, "net_recovery")
        self.assertIn("+$110.00", page.text(tr))
        # the days file agrees with the reports: no consistency note
        self.assertEqual(page.find(id="notes"), [])

    def test_statement_names_higher_net_recovery(self):
        _, page = self.generate()
        (v,) = page.find(id="verdict")
        self.assertEqual(page.attr(v, "data-higher"), "scored")
        self.assertIn(f"scored tenant ({SCORED}) has the higher net recovery", page.text(v))
        self.assertIn("$470.00", page.text(v))
        self.assertIn("$110.00 more", page.text(v))

        rich = uniform_report()
        rich["receivables"]["collected_cents"] = 60000   # net 600.00 - 90.00 = 510.00
        _, page = self.generate("u.html", uniform=rich)
        (v,) = page.find(id="verdict")
        self.assertEqual(page.attr(v, "data-higher"), "uniform")
        self.assertIn(f"uniform tenant ({UNIFORM}) has the higher net recovery", page.text(v))
        self.assertIn("$510.00", page.text(v))
        self.assertEqual(self.better(page, "net_recovery"), ["uniform"])
        self.assertTrue(page.find(id="notes"))   # days file ends at $450.00: noted

    def test_comparison_file_is_used(self):
        cmp = {k: {"recovered_cents": r, "placed_cents": 100000, "recovery_rate": None,
                   "contacts": 9, "cost_cents": c, "net_recovery_cents": r - c,
                   "stop_replies": 1, "disputes": 0, "suppressions": {"x.rule": 2}}
               for k, r, c in (("scored", 10000, 2500), ("uniform", 20000, 12000))}
        _, page = self.generate(extra=["--comparison", self.write("cmp.json", cmp)])
        self.assertEqual(self.cmp_value(page, "net_recovery", "scored"), "$75.00")
        self.assertEqual(self.cmp_value(page, "net_recovery", "uniform"), "$80.00")
        self.assertEqual(self.cmp_value(page, "recovery_rate", "uniform"), "20.00%")
        self.assertEqual(self.cmp_value(page, "suppressed:x.rule", "scored"), "2")
        (v,) = page.find(id="verdict")
        self.assertEqual(page.attr(v, "data-higher"), "uniform")

    # -- the charts

    def test_four_charts_each_with_a_title(self):
        text, page = self.generate()
        svgs = page.find("svg")
        self.assertEqual(len(svgs), 4)
        self.assertEqual([page.attr(i, "id") for i in svgs],
                         ["chart-recovery", "chart-aging", "chart-channels",
                          "chart-suppressions"])
        for s in svgs:
            first_child = next(i for i in range(s + 1, len(page.nodes))
                               if page.nodes[i][3] == s)
            self.assertEqual(page.nodes[first_child][0], "title")
            self.assertTrue(page.text(first_child))
            self.assertEqual(page.attr(s, "role"), "img")
            self.assertFalse(page.find("text", under=s, **{"class": "nodata"}))
        # aging: 6 buckets x (2 tenants x start, end); channels: 2 panels x 4 x 2 tenants
        self.assertEqual(len(page.find("rect", under=svgs[1], **{"class": "bar"})), 24)
        self.assertEqual(len(page.find("rect", under=svgs[2], **{"class": "bar"})), 16)
        self.assertEqual(len(page.find("rect", under=svgs[3], **{"class": "bar"})), 3 * 2)
        # legends name both tenants
        for s in svgs:
            legend_text = " ".join(page.text(i) for i in page.find("g", under=s,
                                                                   **{"class": "legend"}))
            self.assertIn("scored", legend_text)
            self.assertIn("uniform", legend_text)

    def test_recovery_line_per_tenant_with_a_point_per_day(self):
        _, page = self.generate()
        (svg,) = page.find("svg", id="chart-recovery")
        lines = page.find("polyline", under=svg)
        self.assertEqual(sorted(page.attr(i, "data-kind") for i in lines), ["scored", "uniform"])
        ends = {}
        for i in lines:
            pts = [tuple(map(float, p.split(","))) for p in page.attr(i, "points").split()]
            self.assertEqual(len(pts), len(DAYS))
            xs = [x for x, _ in pts]
            self.assertEqual(xs, sorted(xs))
            ends[page.attr(i, "data-kind")] = pts
        self.assertEqual([x for x, _ in ends["scored"]], [x for x, _ in ends["uniform"]])
        # SVG y grows downwards: scored ends higher ($500 against $450), starts lower
        self.assertLess(ends["scored"][-1][1], ends["uniform"][-1][1])
        self.assertGreater(ends["scored"][0][1], ends["uniform"][0][1])
        labels = [page.text(i) for i in page.find("text", under=svg)]
        for d in DAYS:
            self.assertIn(d[5:], labels)

    # -- the business report

    def test_business_report_tables(self):
        _, page = self.generate()
        for k in ("scored", "uniform"):
            for part in ("summary", "aging", "cohorts", "costs", "rates", "suppressions",
                         "unmatched", "arms"):
                self.assertEqual(len(page.find("table", id=f"{k}-{part}")), 1, f"{k}-{part}")
        (t,) = page.find("table", id="scored-aging")
        cells = [page.text(i) for i in page.find("td", under=t)]
        self.assertIn("$1,234.56", cells)      # 1-30 at the start
        self.assertIn("$1,734.56", cells)      # total at the start
        (t,) = page.find("table", id="uniform-summary")
        text = page.text(t)
        for s in ("2.25", "12.50%", "$450.00"):
            self.assertIn(s, text)
        (t,) = page.find("table", id="scored-rates")
        self.assertIn("75.00%", page.text(t))
        (t,) = page.find("table", id="scored-arms")
        self.assertIn("$470.00", page.text(t))

    def test_self_contained_and_escaped(self):
        text, page = self.generate()
        lower = text.lower()
        for bad in ("<script", " src=", "<link", "@import", "url(", "http://", "https://"):
            if bad == "http://":
                lower = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
            self.assertNotIn(bad, lower)
        (title,) = page.find("title", under=None)[:1]
        self.assertEqual(page.text(title), "Demo <test>")
        self.assertIn("Demo &lt;test&gt;", text)
        self.assertEqual(page.text(page.find("dd", id="meta-seed")[0]), "42")
        self.assertEqual(page.text(page.find("dd", id="meta-accounts")[0]), "10")
        self.assertIn("3 (2026-11-27 to 2026-11-29)", page.text(page.find("dd", id="meta-days")[0]))
        self.assertIn("2026-11-29", page.text(page.find("dd", id="meta-generated")[0]))
        _, page = self.generate("g.html", extra=["--generated-at", "2026-11-30T06:00Z"])
        self.assertEqual(page.text(page.find("dd", id="meta-generated")[0]),
                         "2026-11-30T06:00Z")

    # -- determinism and edge cases

    def test_same_inputs_same_bytes(self):
        a = self.dir / "a.html"
        b = self.dir / "sub" / "b.html"
        b.parent.mkdir()
        argv = self.inputs()
        self.assertEqual(self.run_main(argv + ["--out", str(a)])[0], 0)
        self.assertEqual(self.run_main(argv + ["--out", str(b)])[0], 0)
        self.assertEqual(a.read_bytes(), b.read_bytes())
        # rows in another order give the same page
        self.assertEqual(self.run_main(self.inputs(days=list(reversed(days_rows())))
                                       + ["--out", str(b)])[0], 0)
        self.assertEqual(a.read_bytes(), b.read_bytes())

    def test_empty_campaign_is_a_valid_page(self):
        def empty(tenant):
            r = report(tenant, 0, [0, 0, 0, 0], [0, 0, 0, 0], [], [0] * 6, [0] * 6)
            r.update(currency=None, dso_days=None, cei_percent=None, cohorts=[], arms=[])
            r["receivables"]["credit_sales_cents"] = 0
            r["cost_to_collect"]["cost_per_collected"] = None
            r["promises"].update(due=0, kept=0, broken=0, kept_rate=None)
            r["right_party_contact"].update(contacted_accounts=0, right_party_accounts=0,
                                            rate=None)
            return r

        text, page = self.generate(scored=empty(SCORED), uniform=empty(UNIFORM), days="")
        svgs = page.find("svg")
        self.assertEqual(len(svgs), 4)
        for s in svgs:
            self.assertTrue(page.find("title", under=s))
            (nd,) = page.find("text", under=s, **{"class": "nodata"})
            self.assertEqual(page.text(nd), "no data")
        self.assertEqual(page.find("polyline"), [])
        self.assertEqual(self.cmp_value(page, "recovery_rate", "scored"), "n/a")
        self.assertEqual(self.cmp_value(page, "net_recovery", "uniform"), "$0.00")
        (v,) = page.find(id="verdict")
        self.assertEqual(page.attr(v, "data-higher"), "tie")
        self.assertIn("n/a", page.text(page.find("table", id="scored-summary")[0]))
        self.assertNotIn("NaN", text)

    def test_zero_recovery_days_still_draw(self):
        rows = [day_row(d, t, k, 0, 0, 0, contacts=(0, 0, 0, 0), cost=0)
                for k, t in (("scored", SCORED), ("uniform", UNIFORM)) for d in DAYS[:1]]
        _, page = self.generate(days=rows)
        (svg,) = page.find("svg", id="chart-recovery")
        lines = page.find("polyline", under=svg)
        self.assertEqual(len(lines), 2)
        for i in lines:
            self.assertEqual(len(page.attr(i, "points").split()), 1)

    # -- bad input

    def fails(self, argv, *words):
        rc, out, err = self.run_main(argv)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "")
        for w in words:
            self.assertIn(w, err)
        return err

    def test_bad_arguments_exit_2(self):
        out = str(self.dir / "x.html")
        self.fails(self.inputs(), "--out")                                 # missing --out
        self.fails(self.inputs() + ["--out", out, "--accounts", "ten"], "--accounts")
        self.fails(self.inputs() + ["--out", out, "--bogus"], "--bogus")
        self.assertFalse(os.path.exists(out))

    def test_bad_input_files_exit_2(self):
        out = ["--out", str(self.dir / "x.html")]
        argv = self.inputs()
        missing = str(self.dir / "nope.json")
        self.fails(["--scored", missing] + argv[2:] + out, missing, "cannot read")

        self.write("uniform.json", "{not json")
        self.fails(argv + out, "uniform.json", "not JSON")

        r = uniform_report()
        r["cost_to_collect"]["channels"][1]["cost_cents"] = "12.00"
        self.write("uniform.json", r)
        self.fails(argv + out, "uniform.json", "cost_to_collect.channels[1].cost_cents",
                   "integer")

        r = scored_report()
        del r["aging"]["end"]
        self.write("uniform.json", uniform_report())
        self.write("scored.json", r)
        self.fails(argv + out, "scored.json", "aging.end", "missing")
        self.write("scored.json", scored_report())

        rows = days_rows()
        rows[4]["recovered_cents"] = 12.5
        self.write("days.jsonl", rows)
        self.fails(argv + out, "days.jsonl", "line 5", "recovered_cents")

        rows = days_rows()
        rows[1]["kind"] = "smart"
        self.write("days.jsonl", rows)
        self.fails(argv + out, "line 2", "kind")

        rows = days_rows()
        rows[0]["tenant"] = UNIFORM
        self.write("days.jsonl", rows)
        self.fails(argv + out, "line 1", "tenant")

        rows = days_rows()
        rows[2]["day"] = rows[1]["day"]
        self.write("days.jsonl", rows)
        self.fails(argv + out, "line 3", "second scored row")

        self.write("days.jsonl", "[1, 2]\n")
        self.fails(argv + out, "line 1", "expected an object")

        self.write("days.jsonl", days_rows())
        cmp = {k: {"recovered_cents": 100, "placed_cents": 1000, "contacts": 1,
                   "cost_cents": 10, "net_recovery_cents": 95, "stop_replies": 0,
                   "disputes": 0, "suppressions": {}} for k in ("scored", "uniform")}
        self.fails(argv + out + ["--comparison", self.write("cmp.json", cmp)],
                   "cmp.json", "net_recovery_cents", "90")
        for k in cmp:
            cmp[k].update(net_recovery_cents=90, recovery_rate=10)   # a percent, not 0.1
        self.fails(argv + out + ["--comparison", self.write("cmp.json", cmp)],
                   "cmp.json", "scored.recovery_rate", "0.1")
        self.assertFalse((self.dir / "x.html").exists())

    def test_command_line_process(self):
        path = str(self.dir / "cli.html")
        p = subprocess.run([sys.executable, str(TOOL), *self.inputs(), "--out", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, path + "\n")
        p = subprocess.run([sys.executable, str(TOOL), "--scored", path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("required", p.stderr)


class HelpersTest(unittest.TestCase):
    def test_money_and_rates(self):
        m = demo_report.money
        self.assertEqual(m(0), "$0.00")
        self.assertEqual(m(5), "$0.05")
        self.assertEqual(m(123456789), "$1,234,567.89")
        self.assertEqual(m(-1050), "-$10.50")
        D = demo_report.Decimal
        self.assertEqual(demo_report.pct(D("0.12345")), "12.35%")
        self.assertEqual(demo_report.pct(None), "n/a")

    def test_axis_scale(self):
        s = demo_report.axis_scale
        self.assertEqual(s([], 100), (0, 100, [0, 20, 40, 60, 80, 100]))
        self.assertEqual(s([0, 0], 1), (0, 1, [0, 1]))
        self.assertEqual(s([123], 1), (0, 150, [0, 50, 100, 150]))
        b, t, ticks = s([-30, 70], 1)
        self.assertLessEqual(b, -30)
        self.assertGreaterEqual(t, 70)
        self.assertIn(0, ticks)
        self.assertEqual(demo_report.money_tick(250000), "$2.5k")
        self.assertEqual(demo_report.money_tick(50), "$0.50")


if __name__ == "__main__":
    unittest.main()
