#!/usr/bin/python3
"""Unit tests of tools/debtor-sim/debtor_sim.py: traits, decisions and door formats, no servers.

    /usr/bin/python3 -m unittest discover -s tests/unit -p 'debtor_sim_test.py'
    /usr/bin/python3 tests/unit/debtor_sim_test.py

The replies are checked against the words outreach really reads: the phrase tables, negations
and precedence of services/outreach/callback.c and the STOP keywords of
services/outreach/compliance.c are read from the C sources, and a Python transcription of their
folding and matching classifies every reply text the simulator can send.

DEBTOR_SIM_SMOKE=1 adds a live run (LiveSmoke): the simulator as a process on free ports, an
e-mail over SMTP and a Twilio-shaped text, a day ended, and the POSTs it makes seen by a small
receiver started here. No arrears service is needed.
"""

import collections
import dataclasses
import datetime as dt
import hashlib
import hmac
import http.server
import json
import os
import random
import re
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(ROOT / "tools" / "debtor-sim"))
import debtor_sim as sim  # noqa: E402

SEED = "42"
TENANTS = ["smart", "uniform"]


# ------------------------------------------------------------------ outreach's classifier


def c_strings(block):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', block)


def load_classifier():
    """The tables of callback.c and compliance.c, as data."""
    cb = (ROOT / "services/outreach/callback.c").read_text()
    comp = (ROOT / "services/outreach/compliance.c").read_text()
    tables = {}
    for name, body in re.findall(r"static const phrase (\w+)\[\] = \{(.*?)\};", cb, re.S):
        tables[name] = [(t, n == "1") for t, n in re.findall(r'\{"([^"]+)", (\d)\}', body)]
    rules_body = re.search(r"\} RULES\[\] = \{(.*?)\};", cb, re.S).group(1)
    rules = [(i.lower(), tables[t]) for i, t in
             re.findall(r"\{OUTREACH_CALLBACK_INTENT_(\w+), (\w+)\}", rules_body)]
    negations = c_strings(re.search(r"NEGATIONS\[\] = \{(.*?)\};", cb, re.S).group(1))
    stop_words = c_strings(re.search(r"words\[\] = \{(.*?)\};", comp, re.S).group(1))
    return rules, negations, stop_words


RULES, NEGATIONS, STOP_WORDS = load_classifier()
LATIN1 = "aaaaaaaceeeeiiiidnooooo ouuuuyts" "aaaaaaaceeeeiiiidnooooo ouuuuyty"
MARK = "|"


def fold(text):
    """callback.c's fold()."""
    d = [" "]
    for ch in text:
        cp = ord(ch)
        c = " "
        if cp < 0x80:
            if ch.isascii() and ch.isalnum():
                c = ch.lower()
            elif ch in "'`":
                c = None
            elif ch in ",.;:!?":
                c = MARK
        elif 0xC0 <= cp <= 0xFF:
            c = LATIN1[cp - 0xC0]
        elif cp in (0x2018, 0x2019, 0x02BC):
            c = None
        elif cp in (0xA1, 0xBF):
            c = MARK
        if c is None:
            continue
        if c == " ":
            if d[-1] != " ":
                d.append(" ")
        elif c == MARK:
            if len(d) >= 2 and d[-2] == MARK and d[-1] == " ":
                continue
            if d[-1] != " ":
                d.append(" ")
            d += [MARK, " "]
        else:
            d.append(c)
    if d[-1] != " ":
        d.append(" ")
    return "".join(d)


def negated(folded, pos):
    s = pos
    while s > 0 and folded[s - 1] != " ":
        s -= 1
    return folded[s:pos] in NEGATIONS


def matches(folded, text, negatable):
    prefix = text.endswith("*")
    needle = " " + text.rstrip("*") + ("" if prefix else " ")
    pos = folded.find(needle)
    while pos >= 0:
        if not negatable or not negated(folded, pos):
            return True
        pos = folded.find(needle, pos + 1)
    return False


def is_space_or_punct(ch):
    o = ord(ch)
    return (ch == " " or 9 <= o <= 13 or 0x21 <= o <= 0x2F or 0x3A <= o <= 0x40
            or 0x5B <= o <= 0x60 or 0x7B <= o <= 0x7E)


def stop_keyword(text):
    """compliance.c's outreach_compliance_stop_keyword()."""
    a, b = 0, len(text)
    while a < b and is_space_or_punct(text[a]):
        a += 1
    while b > a and is_space_or_punct(text[b - 1]):
        b -= 1
    core = text[a:b]
    for w in STOP_WORDS:
        pattern = "".join(r"(?:[-_]|[ \t]*)" if ch == " " else re.escape(ch) for ch in w)
        if re.fullmatch(pattern, core.upper() if core.isascii() else core):
            return w
    return None


def intent(text):
    """callback.c's outreach_callback_intent()."""
    if stop_keyword(text):
        return "stop"
    f = fold(text)
    for name, phrases in RULES:
        if any(matches(f, t, neg) for t, neg in phrases):
            return name
    return "other"


def strip_quoted(text):
    """callback.c's strip_quoted(), for what email_form writes."""
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith(">"):
            continue
        low = s.lower()
        if low.startswith(("on ", "el ")) and low.endswith(("wrote:", "escribió:", "escribio:")):
            break
        out.append(line)
    return "\n".join(out).rstrip()


def email_intent(subject, text):
    """callback.c's outreach_callback_email_intent() on what the door stores."""
    s = subject.strip()
    again = True
    while again:
        again = False
        for p in ("re:", "fwd:", "fw:", "rv:", "aw:", "tr:", "sv:"):
            if s.lower().startswith(p):
                s, again = s[len(p):].strip(), True
    body = strip_quoted(text)
    if (s and stop_keyword(s)) or any(stop_keyword(line) for line in body.split("\n") if line):
        return "stop"
    return intent(subject + "\n" + body)


# What outreach reads for each intent the simulator means ("plan" has no intent of its own).
EXPECTED = {"stop": "stop", "dispute": "dispute", "promise": "promise", "paid": "paid",
            "plan": "other", "other": "other"}


# ------------------------------------------------------------------ fixtures


def row(account, **kw):
    r = {"account_id": account, "currency": "USD", "balance": "120.00", "first_name": "Ana",
         "last_name": "Diaz", "email": f"{account.lower()}@Example.ORG",
         "phone": f"+1512555{int(hashlib.sha256(account.encode()).hexdigest(), 16) % 10000:04d}",
         "phone_type": "mobile", "state": "TX", "zip": "78701", "language": "en"}
    r.update(kw)
    return r


def people_of(rows):
    return {p.account: p for p in map(sim.person_of, rows)}


def contacts_for(people, day, tenants=TENANTS):
    """A busy day: every account gets an e-mail (with a Date), a text and a call per tenant."""
    out = []
    for a, p in sorted(people.items()):
        for i, t in enumerate(tenants):
            ms = int(dt.datetime.fromisoformat(f"{day}T{14 + i}:30:00+00:00").timestamp() * 1000)
            out.append(sim.Contact(t, a, "email", f"<{t}.{a}.{day}@arrears.example>", ms,
                                   "delivered", p.emails[0], "collections@arrears.example",
                                   "Your balance"))
            out.append(sim.Contact(t, a, "sms", "SM" + sim.hex_id(t, a, day, n=32), None,
                                   "delivered", p.phones[0][0], "+15550001111"))
            out.append(sim.Contact(t, a, "voice", "CA" + sim.hex_id("v", t, a, day, n=32), None,
                                   ("human", "machine", "no-answer")[len(a) % 3],
                                   p.phones[0][0], "+15550001111"))
    return out


def run_days(people, days, order_seed=None):
    """Actions of several days, contacts fed in a shuffled order when order_seed is set."""
    book, out = sim.Book(), []
    for day in days:
        cs = contacts_for(people, day)
        if order_seed is not None:
            random.Random(f"{order_seed}:{day}").shuffle(cs)
        for a in sim.decide_day(book, SEED, day, cs, people):
            out.append(json.dumps([a.record(), a.route], sort_keys=True))
    return out


# ------------------------------------------------------------------ tests


class Traits(unittest.TestCase):
    def test_archetype_shares(self):
        ids = [f"UA{n:010d}" for n in range(20000)]
        counts = collections.Counter(sim.traits_for(SEED, a).archetype for a in ids)
        self.assertAlmostEqual(sum(s for _, s, _ in sim.ARCHETYPES), 1.0, places=9)
        for name, share, _ in sim.ARCHETYPES:
            with self.subTest(archetype=name):
                self.assertAlmostEqual(counts[name] / len(ids), share, delta=0.015)
        bank = sum(sim.traits_for(SEED, a).by_bank for a in ids) / len(ids)
        self.assertAlmostEqual(bank, sim.BANK_SHARE, delta=0.015)

    def test_trait_ranges(self):
        for n in range(2000):
            t = sim.traits_for(SEED, f"X{n}")
            self.assertTrue(8 <= t.window[0] < t.window[1] <= 21, t.window)
            self.assertTrue(0 <= t.sensitivity < 1 and 0.3 <= t.part_share < 0.6)
            self.assertTrue(3 <= t.promise_days <= 10 and 2 <= t.instalments <= 4)
            self.assertEqual(t.engagement == 0, t.archetype == "silent")

    def test_traits_are_a_function_of_seed_and_account(self):
        a = [sim.traits_for(SEED, f"UA{n}") for n in range(500)]
        sim.traits_for.cache_clear()
        self.assertEqual(a, [sim.traits_for(SEED, f"UA{n}") for n in range(500)])
        other = [sim.traits_for("43", f"UA{n}") for n in range(500)]
        self.assertNotEqual(a, other)

    def test_reaction_probability(self):
        t = sim.traits_for(SEED, next(f"UA{n}" for n in range(10**4)
                                      if sim.traits_for(SEED, f"UA{n}").archetype == "pays_full"))
        inside, outside = t.window[0], (t.window[0] - 1 if t.window[0] > 8 else t.window[1])
        p = sim.reaction_probability
        self.assertGreater(p(t, "email", "delivered", inside, 4000),
                           p(t, "email", "delivered", outside, 4000))
        self.assertGreaterEqual(p(t, "sms", "delivered", None, 2000),
                                p(t, "sms", "delivered", None, 40000))
        self.assertEqual(p(t, "sms", "undelivered", None, 2000), 0)
        self.assertEqual(p(t, "voice", "no-answer", None, 2000), 0)
        self.assertGreater(p(t, "voice", "human", None, 2000), p(t, "voice", "machine", None, 2000))


class Decisions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.people = people_of(row(f"UA{n:010d}", balance=f"{20 + n * 7 % 400}.{n % 100:02d}",
                                   language="es" if n % 5 == 0 else "en")
                               for n in range(300))
        cls.days = [sim.add_days("2026-11-02", k) for k in range(12)]

    def test_same_actions_whatever_the_arrival_order(self):
        base = run_days(self.people, self.days)
        self.assertGreater(len(base), 50)
        for order in range(3):
            self.assertEqual(base, run_days(self.people, self.days, order_seed=order))

    def test_repeated_contacts_count_once(self):
        day = self.days[0]
        cs = contacts_for(self.people, day)
        a = [x.record() for x in sim.decide_day(sim.Book(), SEED, day, cs, self.people)]
        b = [x.record() for x in sim.decide_day(sim.Book(), SEED, day, cs + cs[::3], self.people)]
        self.assertEqual(a, b)

    def test_another_seed_other_people(self):
        book = sim.Book()
        other = [a.record() for a in sim.decide_day(book, "99", self.days[0],
                                                    contacts_for(self.people, self.days[0]),
                                                    self.people)]
        mine = [a.record() for a in sim.decide_day(sim.Book(), SEED, self.days[0],
                                                   contacts_for(self.people, self.days[0]),
                                                   self.people)]
        self.assertNotEqual(other, mine)

    def test_what_each_archetype_does(self):
        book, acts = sim.Book(), []
        for day in self.days:
            acts += sim.decide_day(book, SEED, day, contacts_for(self.people, day), self.people)
        by = collections.defaultdict(list)
        for a in acts:
            by[sim.traits_for(SEED, a.account).archetype].append(a)
        self.assertNotIn("silent", by)
        kinds = {k: {(a.kind, a.intent or a.label.split()[0]) for a in v} for k, v in by.items()}
        self.assertLessEqual(kinds["stop"], {("reply", "stop")})
        self.assertLessEqual(kinds["dispute"], {("reply", "dispute")})
        self.assertLessEqual(kinds["promise_broken"], {("reply", "promise")})
        self.assertIn(("payment", "promise"), kinds["promise_kept"])
        self.assertIn(("reply", "plan"), kinds["plan"])
        self.assertIn(("payment", "instalment"), kinds["plan"])
        self.assertIn(("payment", "full"), kinds["pays_full"])
        self.assertIn(("payment", "part"), kinds["pays_part"])
        # nobody pays more than they owe, and payments add up to what the book says is left
        for (tenant, account), debt in book.debts.items():
            paid = sum(a.amount_cents for a in acts if a.kind == "payment"
                       and (a.tenant, a.account) == (tenant, account))
            self.assertEqual(paid + debt.owed, self.people[account].balance_cents)
            self.assertGreaterEqual(debt.owed, 0)
        # a STOP or a dispute ends the conversation with that creditor
        for a in acts:
            if a.intent in ("stop", "dispute"):
                later = [b for b in acts if (b.tenant, b.account) == (a.tenant, a.account)
                         and b.day > a.day]
                self.assertEqual(later, [])

    def test_promises_are_kept_on_or_before_their_date(self):
        book, acts = sim.Book(), []
        for day in [sim.add_days("2026-11-02", k) for k in range(25)]:
            acts += sim.decide_day(book, SEED, day, contacts_for(self.people, day)
                                   if day < "2026-11-05" else [], self.people)
        promised = {(a.tenant, a.account): a for a in acts if a.intent == "promise"}
        kept = [a for a in acts if a.label == "promise"]
        self.assertTrue(kept)
        for p in kept:
            date = re.search(r"\d{4}-\d{2}-\d{2}", promised[(p.tenant, p.account)].text).group(0)
            self.assertLessEqual(p.day, date)

    def test_a_call_to_a_landline_gets_no_written_reply(self):
        person = sim.person_of(row("UA1", phone_type="landline"))
        c = sim.Contact("smart", "UA1", "voice", "CA1", None, "human", person.phones[0][0], "+1")
        self.assertIsNone(sim.reply_door(c, person))
        self.assertEqual(sim.reply_door(c, sim.person_of(row("UA1"))), "sms")


class Replies(unittest.TestCase):
    def test_the_stop_texts(self):
        self.assertEqual(sim.REPLIES["en"]["stop"], ("STOP", "Stop", "STOP."))
        self.assertEqual(sim.REPLIES["es"]["stop"], ("STOP", "Stop"))
        self.assertIn("STOP", STOP_WORDS)  # compliance.c's list, read above
        for lang in sim.REPLIES:
            for text in sim.REPLIES[lang]["stop"]:
                self.assertEqual(stop_keyword(text), "STOP", text)

    def test_every_text_reads_as_its_intent(self):
        for lang, table in sim.REPLIES.items():
            for meant, texts in table.items():
                for text in texts:
                    text = text.format(amount="$40.00", date="2026-12-20")
                    with self.subTest(lang=lang, text=text):
                        self.assertEqual(intent(text), EXPECTED[meant])

    def test_every_text_reads_so_in_an_email_reply(self):
        tpl = json.loads((ROOT / "deploy/outreach/templates/default-1.json").read_text())
        subjects = [v["subject"] for t in tpl["templates"].values() for v in t.values()
                    if "subject" in v]
        self.assertGreater(len(subjects), 6)
        values = {"creditor": "Riverside Utilities", "balance": "$35.09",
                  "reference": "UA0000000001"}
        for subject in subjects:
            subject = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], subject)
            for lang, table in sim.REPLIES.items():
                for meant, texts in table.items():
                    a = sim.Action("2026-12-01", "smart", "UA1", "reply", "email", intent=meant,
                                   id="<x@y>", text=texts[-1].format(amount="$1.00", date="D"),
                                   route={"from": "a@b.example", "to": "collections@x.example",
                                          "subject": "Re: " + subject, "in_reply_to": "<m@x>"})
                    form = sim.email_form(a, lang)
                    with self.subTest(subject=subject, text=a.text):
                        self.assertEqual(email_intent(form["subject"], form["text"]),
                                         EXPECTED[meant])

    def test_classifier_port_agrees_with_callback_h(self):
        # the examples callback.h gives, so the transcription above is trusted
        for text, want in [("I haven't paid it", "other"), ("no voy a pagar", "other"),
                           ("not my debt", "dispute"), ("ya pagué", "paid"),
                           ("I will pay on Friday", "promise"), ("stop", "stop"),
                           ("OPT-OUT", "stop"), ("see my lawyer, I dispute it", "attorney"),
                           ("I already paid, I'll pay nothing more", "paid")]:
            self.assertEqual(intent(text), want, text)


class Doors(unittest.TestCase):
    def payment(self, door="card"):
        base = sim.hex_id(SEED, "smart", "UA0000000007", "2026-11-03", "full", 1)
        pid = f"ch_sim_{base}" if door == "card" else f"SIM{base.upper()}"
        return sim.Action("2026-11-03", "smart", "UA0000000007", "payment", door, label="full",
                          amount_cents=4012, id=pid, at_s=1793800000,
                          route={"base": base, "name": "Ana Díaz & Co"})

    def test_stripe_signature_matches_an_independent_hmac(self):
        a = self.payment()
        body = sim.stripe_event(a, "smart")
        t = 1793800123
        header = sim.stripe_signature(body, "whsec_test-secret", t)
        want = hmac.new(b"whsec_test-secret", b"1793800123." + body, hashlib.sha256).hexdigest()
        self.assertEqual(header, f"t={t},v1={want}")
        ev = json.loads(body)
        self.assertEqual(ev["type"], "charge.succeeded")
        self.assertEqual(ev["created"], 1793800000)
        ch = ev["data"]["object"]
        self.assertEqual((ch["object"], ch["id"], ch["amount"], ch["currency"], ch["created"]),
                         ("charge", a.id, 4012, "usd", 1793800000))
        self.assertEqual(ch["metadata"]["account_id"], "UA0000000007")
        self.assertIn("UA0000000007", ch["description"])
        self.assertEqual(body, sim.stripe_event(self.payment(), "smart"))  # a retry: same bytes

    def test_camt053(self):
        pays = [self.payment("bank"), dataclasses.replace(self.payment("bank"), account="UA9",
                                                          id="SIMABC", amount_cents=99)]
        xml = sim.camt053("smart", "2026-11-03", pays, 15000)
        root = ET.fromstring(xml)
        ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}
        stmt = root.find("c:BkToCstmrStmt/c:Stmt", ns)
        entries = stmt.findall("c:Ntry", ns)
        self.assertEqual([e.find("c:Amt", ns).text for e in entries], ["40.12", "0.99"])
        self.assertEqual([e.find("c:Amt", ns).get("Ccy") for e in entries], ["USD", "USD"])
        self.assertEqual([e.find("c:AcctSvcrRef", ns).text for e in entries],
                         [pays[0].id, "SIMABC"])
        self.assertEqual([e.find("c:NtryDtls/c:TxDtls/c:RmtInf/c:Ustrd", ns).text
                          for e in entries], ["ACCOUNT UA0000000007", "ACCOUNT UA9"])
        for e in entries:
            self.assertEqual((e.find("c:CdtDbtInd", ns).text, e.find("c:Sts", ns).text,
                              e.find("c:BookgDt/c:Dt", ns).text), ("CRDT", "BOOK", "2026-11-03"))
        self.assertEqual(entries[0].find("c:NtryDtls/c:TxDtls/c:RltdPties/c:Dbtr/c:Nm", ns).text,
                         "Ana Díaz & Co")
        bal = {b.find("c:Tp/c:CdOrPrtry/c:Cd", ns).text: b.find("c:Amt", ns).text
               for b in stmt.findall("c:Bal", ns)}
        self.assertEqual(bal, {"OPBD": "150.00", "CLBD": "191.11"})
        tot = stmt.find("c:TxsSummry/c:TtlNtries", ns)
        self.assertEqual((tot.find("c:NbOfNtries", ns).text, tot.find("c:Sum", ns).text),
                         ("2", "41.11"))
        self.assertEqual(stmt.find("c:Id", ns).text, "SIM-smart-2026-11-03")

    def test_sms_form(self):
        a = sim.Action("2026-11-03", "smart", "UA1", "reply", "sms", intent="stop",
                       id="SM" + "a" * 32, text="STOP",
                       route={"from": "+15125550100", "to": "+15550001111", "account_sid": "AC1"})
        self.assertEqual(sim.sms_form(a), {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC1",
                                           "From": "+15125550100", "To": "+15550001111",
                                           "Body": "STOP", "NumMedia": "0"})


class Attribution(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.people = people_of([row("UA0000000001"), row("UA0000000002", phone="(512) 555-0000"),
                                row("UA0000000003", phone="1-512-555-0000",
                                    email="shared@example.org"),
                                row("UA0000000004", email="shared@example.org")])
        cls.by = sim.address_index(cls.people)

    def test_phone_and_email_as_ingest_normalises_them(self):
        self.assertEqual(sim.normal_phone("1-704-555-0174"), "+17045550174")
        self.assertEqual(sim.normal_phone("(512) 555-0100"), "+15125550100")
        self.assertEqual(sim.normal_phone("+44 20 7946 0958"), "+442079460958")
        self.assertEqual(sim.normal_email(" Joe@Example.ORG "), "Joe@example.org")
        self.assertEqual(self.by["+15125550000"], ["UA0000000002", "UA0000000003"])

    def test_email_by_its_link(self):
        rec = {"message_id": "<uniform.0b9e4c2d-7a1f-4e3b-8d6c-5f2a9e1b3c7d@arrears.example>",
               "to": ["shared@example.org"], "from": "collections@arrears.example",
               "header_from": "Riverside Utilities <collections@arrears.example>",
               "subject": "Your balance", "date": "Tue, 03 Nov 2026 15:04:05 +0000",
               "text": "Pay: https://pay.arrears.example/uniform/UA0000000004\n\nAccount "
                       "reference: UA0000000004\n", "html": None,
               "list_unsubscribe": "<https://pay.arrears.example/uniform/UA0000000004/opt-out>"}
        c, how = sim.email_contact(rec, TENANTS, self.people, self.by)
        self.assertEqual((c.tenant, c.account, c.channel, c.reached), ("uniform", "UA0000000004",
                                                                       "email", "delivered"))
        self.assertEqual(c.sent_ms, 1793718245000)
        self.assertEqual(c.reply_to, "collections@arrears.example")
        self.assertEqual(how, "link")

    def test_text_by_key_and_reference(self):
        rec = {"sid": "SM" + "1" * 32, "key": "smart.0b9e4c2d-7a1f-4e3b-8d6c-5f2a9e1b3c7d",
               "to": "+15125550000", "from": "+15550001111", "account_sid": "AC1",
               "status_callback": None, "body": "Riverside Utilities: Ana, $1.00 is still unpaid "
                                                "on account UA0000000003. Pay or set up a plan."}
        c, how = sim.provider_contact("message", rec, SEED, TENANTS, self.people, self.by)
        self.assertEqual((c.tenant, c.account, c.channel), ("smart", "UA0000000003", "sms"))
        self.assertEqual(how, "reference+key")

    def test_call_by_status_callback_and_twiml(self):
        rec = {"sid": "CA" + "2" * 32, "key": None, "to": "+15125550000", "from": "+15550001111",
               "account_sid": "AC1",
               "status_callback": "http://127.0.0.1:1/v1/outreach/callbacks/uniform/status",
               "twiml": '<Response><Say language="en-US">Hello, your account, reference '
                        "UA0000000002, has a balance &amp; more.</Say></Response>"}
        c, how = sim.provider_contact("call", rec, SEED, TENANTS, self.people, self.by)
        self.assertEqual((c.tenant, c.account, c.channel), ("uniform", "UA0000000002", "voice"))
        self.assertIn(c.reached, ("human", "machine", "no-answer"))
        self.assertEqual(how, "reference+status_callback")

    def test_ambiguous_number_without_reference_is_not_attributed(self):
        rec = {"sid": "SM" + "3" * 32, "key": "smart.x", "to": "+15125550000",
               "from": "+1555", "body": "Riverside Utilities: your opt-out is confirmed."}
        c, how = sim.provider_contact("message", rec, SEED, TENANTS, self.people, self.by)
        self.assertIsNone(c)


# ------------------------------------------------------------------ live smoke (opt-in)


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.posts = []
        super().__init__(("127.0.0.1", 0), ReceiverHandler)


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


def pick(want, contact_of, balance):
    """An account id whose person answers contact_of(person) with the action kinds in want,
    found by running the decision itself: traits are known to anyone holding the seed."""
    for n in range(100000):
        r = row(f"SM{n:08d}", balance=balance)
        p = sim.person_of(r)
        acts = sim.decide_day(sim.Book(), SEED, "2026-11-02", [contact_of(p)], {p.account: p})
        if [(a.door, a.intent or a.label) for a in acts] == want:
            return r
    raise AssertionError("no account found")


@unittest.skipUnless(os.environ.get("DEBTOR_SIM_SMOKE") == "1", "set DEBTOR_SIM_SMOKE=1")
class LiveSmoke(unittest.TestCase):
    def test_email_and_text_to_payment_and_reply(self):
        sent_ms = 1793635200000  # Mon, 02 Nov 2026 16:00:00 +0000, the Date below
        rows = [pick([("card", "full")], lambda p: sim.Contact(
                    "smart", p.account, "email", "<smart.step-1@arrears.example>", sent_ms,
                    "delivered", p.emails[0], "collections@arrears.example"), "50.00"),
                pick([("sms", "stop")], lambda p: sim.Contact(
                    "smart", p.account, "sms", "SM" + sim.sinks.hex32("smart.step-2"), None,
                    "delivered", p.phones[0][0], "+15550001111"), "30.00")]
        payer, stopper = rows[0]["account_id"], rows[1]["account_id"]
        recv = Receiver()
        threading.Thread(target=recv.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{recv.server_address[1]}"
        with tempfile.TemporaryDirectory() as tmp:
            portfolio = os.path.join(tmp, "p.jsonl")
            with open(portfolio, "w") as f:
                f.write("".join(json.dumps(r) + "\n" for r in rows))
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "tools/debtor-sim/debtor_sim.py"), "--portfolio",
                 portfolio, "--seed", SEED, "--dir", os.path.join(tmp, "out"), "--tenants",
                 "smart", "--processor-secret", "smart:whsec_1", "--callback-auth",
                 "smart:smart:cb-secret", "--webhook-base", base, "--outreach-base", base,
                 "--auth", "AC9:tok", "--quiet"], stdout=subprocess.PIPE, text=True)
            try:
                ports = {}
                for line in proc.stdout:
                    if line.strip() == "READY":
                        break
                    k, v = line.split()
                    ports[k] = int(v)
                api = f"http://127.0.0.1:{ports['HTTP']}"

                def call(path, obj=None, form=None, headers=()):
                    data = json.dumps(obj).encode() if obj is not None else \
                        urllib.parse.urlencode(form).encode()
                    req = urllib.request.Request(api + path, data=data, headers=dict(headers))
                    with urllib.request.urlopen(req, timeout=60) as r:
                        return json.loads(r.read())

                call("/control/day", {"day": "2026-11-02"})
                msg = EmailMessage()
                msg["From"] = "Riverside Utilities <collections@arrears.example>"
                msg["To"] = rows[0]["email"]
                msg["Subject"] = "Your Riverside Utilities balance of $50.00"
                msg["Date"] = "Mon, 02 Nov 2026 16:00:00 +0000"
                msg["Message-ID"] = "<smart.step-1@arrears.example>"
                msg.set_content(f"Pay at https://pay.arrears.example/smart/{payer}\n")
                with smtplib.SMTP("127.0.0.1", ports["SMTP"]) as s:
                    s.send_message(msg)
                auth = {"Authorization": sim.basic("AC9:tok")["Authorization"],
                        "Idempotency-Key": "smart.step-2"}
                made = call("/2010-04-01/Accounts/AC9/Messages.json",
                            form={"To": rows[1]["phone"], "From": "+15550001111",
                                  "Body": f"Pay at https://pay.arrears.example/smart/{stopper}"},
                            headers=auth)
                self.assertTrue(made["sid"].startswith("SM"))
                answer = call("/control/day/end", {"day": "2026-11-02"})
                self.assertEqual(answer["contacts"], 2, answer)
                self.assertEqual(answer["payments"], {"n": 1, "cents": 5000})
                self.assertEqual(answer["replies"]["stop"], 1)
                self.assertIsNone(answer["bank_file"])
                paths = sorted(p for p, _, _ in recv.posts)
                self.assertEqual(paths, ["/v1/outreach/callbacks/smart/sms",
                                         "/v1/webhooks/processor/smart"])
                for path, headers, body in recv.posts:
                    if path.endswith("/sms"):
                        form = dict(urllib.parse.parse_qsl(body.decode()))
                        self.assertEqual((form["Body"] in sim.REPLIES["en"]["stop"],
                                          form["From"], form["To"], form["NumMedia"]),
                                         (True, rows[1]["phone"], "+15550001111", "0"))
                        self.assertEqual(headers["Authorization"],
                                         sim.basic("smart:cb-secret")["Authorization"])
                    else:
                        t, v1 = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})",
                                             headers["Stripe-Signature"]).groups()
                        self.assertLess(abs(int(t) - time.time()), 60)
                        want = hmac.new(b"whsec_1", t.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
                        self.assertEqual(v1, want)
                        ev = json.loads(body)
                        self.assertEqual(ev["data"]["object"]["metadata"]["account_id"], payer)
                again = call("/control/day/end", {"day": "2026-11-02"})
                self.assertTrue(again["repeat"])
                self.assertEqual(len(recv.posts), 2)
                stats = call_get(api + "/control/stats")
                self.assertEqual(stats["tenants"]["smart"]["stops"], 1)
                self.assertEqual(stats["tenants"]["smart"]["payments"]["card"]["cents"], 5000)
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(10), 0)
                proc.stdout.close()
                recv.shutdown()
                recv.server_close()


def call_get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


if __name__ == "__main__":
    unittest.main()
