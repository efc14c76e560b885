#!/usr/bin/python3
"""debtor_sim: the people behind the accounts, for the demo.

It receives what the outreach service sends (e-mail over SMTP, texts and calls through a
Twilio-shaped HTTP API: the provider side is tests/e2e/outreach_sinks.py, whose behaviour it
keeps) and answers as people do: some pay by card, some by bank transfer, some promise, ask for a
plan, reply STOP or dispute, most never answer. It sees only what a debtor sees: the messages and
its portfolio file (a person knows their own name, contact points and balance), never the
scoring model or the services' tables. Python 3.11 standard library plus Debian's
python3-aiosmtpd; run it with /usr/bin/python3:

    /usr/bin/python3 tools/debtor-sim/debtor_sim.py --portfolio FILE.jsonl --seed S --dir DIR
        --tenants T1[,T2] [--processor-secret TENANT:SECRET ...]
        [--callback-auth TENANT:USER:PASS ...] [--webhook-base URL] [--outreach-base URL]
        [--auth SID:TOKEN] [--smtp-port 0] [--http-port 0] [--callback-delay-ms 50] [--quiet]

The portfolio is gen-portfolio's JSON Lines; every tenant placed the same one, so each person has
one account per tenant and the same hidden traits for both: the tenants differ only in how they
contact people (each tenant is a parallel world of the same people: paying one does not pay the
other). Both servers bind 127.0.0.1; once listening it prints "SMTP <port>", "HTTP <port>" and
"READY" on stdout and runs until SIGTERM or SIGINT (exit 0; 1 when it cannot start, 2 for a bad
command line).

People. Each account gets hidden traits from sha256(f"{seed}:{account_id}") (ARCHETYPES below
for the shares): an archetype, a responsiveness per channel, a preferred local hour window, a
balance sensitivity, a door (card, or bank transfer for about a quarter) and a few numbers
(part share, promise horizon, instalments). A contact makes a person react with probability
    engagement(archetype) x responsiveness(channel) x reach x hour factor x balance factor
(at most 0.95, one reaction a day per account): reach is 1 for a delivered e-mail or text and a
call a human answered, 0.3 for voicemail, 0 for undelivered texts and unanswered calls; the hour
factor is 1.25 inside the person's window, 0.75 elsewhere in 8-21 and 0.4 outside it, from the
e-mail's Date header (the simulated send time) in the person's zone (portfolio timezone, else
their state's main zone); texts and calls carry no time, so they get 0.85. The balance factor
favours small balances (1.3 at $0 down to 0.6 from $438) as far as the person is sensitive.

Time. The simulator has no clock: POST /control/day {"day": "YYYY-MM-DD"} begins a simulated
day (contacts received from then on belong to it; contacts received while no day is open wait
for the next day begun); POST /control/day/end {"day": ...} decides every contact of that day in
sorted order (tenant, account, channel, message id), with draws named by (seed, account, day,
contact index, channel), performs the reactions and payments due that day, and answers
    {"day", "contacts", "unattributed", "payments": {"n", "cents"},
     "replies": {"stop", "dispute", "promise", "paid", "plan", "other"},
     "bank_files": {tenant: path | null}, "bank_file": path | null (only with one tenant),
     "tenants": {tenant: {"contacts", "payments", "replies"}}}.
Same portfolio, seed and contacts give the same actions, byte for byte, whatever the arrival
order. Days end in increasing order (an earlier one: 409; the same one again: its answer again,
nothing redone); contacts of a day begun but not ended are decided with the next day ended. End a
day only once outreach has sent everything of it (a late text would belong to the next day).

Doors (the real ones of the system):
  card       POST {webhook-base}/v1/webhooks/processor/<tenant>: a Stripe charge.succeeded
             event (amount, currency, metadata.account_id, description, created = the simulated
             payment time), Stripe-Signature "t=<now>,v1=<HMAC-SHA256 of 't.body'>" keyed by the
             tenant's --processor-secret; ids are named from the payment, so a retry is the
             same payment (reconciliation's id: processor:<charge id>)
  bank       DIR/bank/<tenant>-<day>.xml, a camt.053.001.02 statement of the day's transfers
             (AcctSvcrRef -> camt:<ref>, remittance "ACCOUNT <id>"); import it with
             arrears payments import FILE --format camt053 --tenant T
  sms        POST {outreach-base}/v1/outreach/callbacks/<tenant>/sms, Twilio's inbound form
             (MessageSid, AccountSid, From = the person's number, To, Body, NumMedia=0)
  email      POST {outreach-base}/v1/outreach/callbacks/<tenant>/email, the gateway form of
             services/outreach/callback.h (message_id, from, to, subject, text, in_reply_to)
with basic auth from --callback-auth for that tenant; a refused connection, 429 or 5xx is tried
again up to 5 times. Without --webhook-base or --outreach-base the action is recorded, not sent.
A call is answered on the phone; a reply to it goes by text when the number is a mobile.

Which account: the {tenant}/{account} path of a link in the message (payment, opt-out and
dispute links), else a known account id in the text (the reference), else the only account at
the address or number it went to; the tenant from such a link, else the StatusCallback path
/v1/outreach/callbacks/<tenant>/status, else the idempotency key or Message-ID "<tenant>.<step>",
else the only tenant.

Control: GET /control/stats -> {"current_day", "last_day_ended", "pending_contacts",
"unattributed", "tenants": {tenant: {"contacts": {"email", "sms", "voice"}, "payments": {"card",
"bank", "total": {"n", "cents"}}, "replies": {intent: n}, "stops", "disputes"}}, "provider": the
outreach_sinks counters}. POST /control/inbound-sms is outreach_sinks'.

Files under DIR (JSON Lines, appended): contacts.jsonl and actions.jsonl, written at each day's
end in decision order (ids, amounts and intents; no names, addresses or numbers), days.jsonl (the
day/end answers), bank/<tenant>-<day>.xml, and outreach_sinks' emails, messages, calls,
callbacks and inbound files. Log lines on stderr carry ids, never personal data.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import email.utils
import functools
import hashlib
import hmac
import html
import json
import logging
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping, Optional
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "e2e"))
import outreach_sinks as sinks  # noqa: E402  (the provider side, shared with the e2e tests)

CHANNELS = ("email", "sms", "voice")
INTENTS = ("stop", "dispute", "promise", "paid", "plan", "other")

# name, share, engagement (the base of the reaction probability), what a reaction does
ARCHETYPES = (
    ("pays_full", 0.18, 0.60),       # pays the balance, usually the same day
    ("pays_part", 0.12, 0.50),       # pays part of what is left; again on a later contact
    ("promise_broken", 0.08, 0.50),  # "I will pay $X on D" and does not (promises twice at most)
    ("promise_kept", 0.07, 0.50),    # "I will pay $X on D" and pays on or before D
    ("plan", 0.06, 0.50),            # asks for a payment plan, then pays weekly instalments
    ("stop", 0.06, 0.55),            # replies STOP
    ("dispute", 0.04, 0.55),         # replies that the debt is not theirs
    ("silent", 0.39, 0.00),          # never answers, never pays
)
BANK_SHARE = 0.25          # people who pay by bank transfer rather than card
SAYS_PAID_SHARE = 0.5      # a paid-up person contacted again answers "I already paid"
PART_ALL_BELOW = 2000      # a part payer pays what is left once it is under $20
REACH = {"delivered": 1.0, "undelivered": 0.0, "human": 1.0, "machine": 0.3, "no-answer": 0.0}
REPLY_DOMAIN = "replies.debtor-sim.invalid"

# Replies, checked by tests/unit/debtor_sim_test.py against the phrase tables of
# services/outreach/callback.c and the STOP keywords of services/outreach/compliance.c: the
# intent outreach reads is the one the trait means ("plan" and "other" both read as other).
REPLIES = {
    "en": {
        "stop": ("STOP", "Stop", "STOP."),
        "dispute": ("I dispute this debt.", "This is not my debt.",
                    "I don't owe this, I dispute it."),
        "promise": ("I will pay {amount} on {date}.", "I'll pay {amount} on {date}, thanks."),
        "paid": ("I already paid this.", "I paid it already, please check."),
        "plan": ("Can I set up a payment plan?",
                 "Could we do a payment plan? I can't pay all at once."),
        "other": ("I can only pay part of it right now.", "Sending what I can for now."),
    },
    "es": {
        "stop": ("STOP", "Stop"),
        "dispute": ("No es mi deuda.", "Disputo esta deuda."),
        "promise": ("Voy a pagar {amount} el {date}.", "Pagaré {amount} el {date}."),
        "paid": ("Ya pagué.", "Ya lo pagué, gracias."),
        "plan": ("¿Puedo hacer un plan de pagos?",),
        "other": ("Solo puedo pagar una parte por ahora.",),
    },
}

# The main IANA zone of each state (split states: where most people live). Approximate on
# purpose: it only shapes the hour factor.
STATE_ZONES = {
    **dict.fromkeys("CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV".split(),
                    "America/New_York"),
    **dict.fromkeys("AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI".split(), "America/Chicago"),
    **dict.fromkeys("CO ID MT NM UT WY".split(), "America/Denver"),
    **dict.fromkeys("CA NV OR WA".split(), "America/Los_Angeles"),
    "AZ": "America/Phoenix", "AK": "America/Anchorage", "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico", "VI": "America/St_Thomas", "GU": "Pacific/Guam",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}
DEFAULT_ZONE = "America/New_York"

POST_RETRIES = 5
POST_BACKOFF_S = 0.25
POST_TIMEOUT_S = 10
PERFORM_WORKERS = 8
TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ------------------------------------------------------------------ draws and traits


def unit(*parts) -> float:
    """A number in [0, 1) named by parts: the same parts, the same number, on every machine."""
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


def hex_id(*parts, n=24) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:n]


@dataclasses.dataclass(frozen=True)
class Traits:
    archetype: str
    engagement: float
    responsiveness: tuple  # (email, sms, voice) multipliers, CHANNELS order
    window: tuple          # preferred local hours [start, end)
    sensitivity: float     # 0: the balance does not matter, 1: it does fully
    by_bank: bool          # pays by bank transfer rather than card
    part_share: float      # a part payer pays this share of what is left
    promise_days: int      # a promise is for this many days ahead
    instalments: int       # a plan is paid in this many weekly instalments

    def responsive(self, channel: str) -> float:
        return self.responsiveness[CHANNELS.index(channel)]


@functools.lru_cache(maxsize=1 << 17)
def traits_for(seed: str, account: str) -> Traits:
    root = hashlib.sha256(f"{seed}:{account}".encode()).hexdigest()

    def u(name):
        return unit(root, name)

    r, acc = u("archetype"), 0.0
    name, engagement = ARCHETYPES[-1][0], ARCHETYPES[-1][2]
    for a, share, eng in ARCHETYPES:
        acc += share
        if r < acc:
            name, engagement = a, eng
            break
    start = 8 + int(u("window") * 11)  # 8..18
    end = min(21, start + 3 + int(u("width") * 4))
    return Traits(
        archetype=name,
        engagement=engagement,
        # email is read least, a text most; voice counts once a human picked up
        responsiveness=(round(0.15 + 0.7 * u("email"), 4), round(0.3 + 1.0 * u("sms"), 4),
                        round(0.5 + 1.0 * u("voice"), 4)),
        window=(start, end),
        sensitivity=round(u("sensitivity"), 4),
        by_bank=u("bank") < BANK_SHARE,
        part_share=round(0.3 + 0.3 * u("part"), 4),
        promise_days=3 + int(u("promise") * 8),
        instalments=2 + int(u("instalments") * 3),
    )


def hour_factor(window: tuple, hour: Optional[int]) -> float:
    if hour is None:
        return 0.85
    if window[0] <= hour < window[1]:
        return 1.25
    return 0.75 if 8 <= hour < 21 else 0.4


def balance_factor(owed_cents: int, sensitivity: float) -> float:
    base = min(1.3, max(0.6, 1.3 - 0.0016 * owed_cents / 100))
    return 1 + sensitivity * (base - 1)


def reaction_probability(t: Traits, channel: str, reached: str, local_hour: Optional[int],
                         owed_cents: int) -> float:
    p = (t.engagement * t.responsive(channel) * REACH.get(reached, 0.0)
         * hour_factor(t.window, local_hour) * balance_factor(owed_cents, t.sensitivity))
    return min(0.95, p)


# ------------------------------------------------------------------ people


def normal_phone(text: str) -> Optional[str]:
    """E.164, as ingest normalises a North American number (services/ingest/fields.h)."""
    if not text:
        return None
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+") and not digits.startswith("1"):
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return "+1" + digits if len(digits) == 10 else None


def normal_email(text: str) -> Optional[str]:
    text = (text or "").strip()
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    return f"{local}@{domain.lower()}"


@dataclasses.dataclass(frozen=True)
class Person:
    account: str
    first_name: str
    last_name: str
    emails: tuple     # normalised
    phones: tuple     # ((E.164, mobile), ...)
    zone: str
    lang: str
    balance_cents: int
    currency: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def mobile(self, number: str) -> bool:
        return any(n == number and m for n, m in self.phones)


def cents_of(text) -> int:
    text = str(text).strip()
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("+-").partition(".")
    cents = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -cents if neg else cents


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def person_of(row: dict) -> Person:
    emails = tuple(e for e in (normal_email(row.get(k)) for k in ("email", "email2")) if e)
    phones = []
    for k in ("phone", "phone2"):
        n = normal_phone(row.get(k) or "")
        if n:
            kind = (row.get(k + "_type") or "").lower()
            phones.append((n, kind not in ("landline", "home", "work", "fixed", "l")))
    zone = row.get("timezone") or STATE_ZONES.get((row.get("state") or "").upper(), DEFAULT_ZONE)
    return Person(
        account=row["account_id"], first_name=row.get("first_name") or "",
        last_name=row.get("last_name") or "", emails=emails, phones=tuple(phones), zone=zone,
        lang="es" if (row.get("language") or "en").lower().startswith("es") else "en",
        balance_cents=max(0, cents_of(row.get("balance", "0"))),
        currency=(row.get("currency") or "USD").upper())


def load_portfolio(path: str) -> dict:
    people = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                p = person_of(json.loads(line))
                people[p.account] = p
    return people


def address_index(people: Mapping[str, Person]) -> dict:
    """Normalised address or number -> the accounts there, sorted."""
    idx = {}
    for p in people.values():
        for a in p.emails + tuple(n for n, _ in p.phones):
            idx.setdefault(a, []).append(p.account)
    return {a: sorted(v) for a, v in idx.items()}


# ------------------------------------------------------------------ contacts


@dataclasses.dataclass(frozen=True)
class Contact:
    tenant: str
    account: str
    channel: str              # email | sms | voice
    message_id: str           # the Message-ID, or the provider's sid
    sent_ms: Optional[int]    # simulated send time (an e-mail's Date), None when unknown
    reached: str              # delivered | undelivered | human | machine | no-answer
    address: str = ""         # the person's address or number it went to
    reply_to: str = ""        # ours: the sender's address or number
    subject: str = ""
    account_sid: str = ""

    def sort_key(self):
        return (self.tenant, self.account, self.channel, self.message_id)

    def record(self, day: str, people: Mapping[str, Person]) -> dict:
        p = people.get(self.account)
        return {"day": day, "tenant": self.tenant, "account": self.account,
                "channel": self.channel, "message_id": self.message_id,
                "sent_ms": self.sent_ms, "local_hour": local_hour(self, p),
                "reached": self.reached}


def local_hour(c: Contact, p: Optional[Person]) -> Optional[int]:
    if c.sent_ms is None or p is None:
        return None
    return dt.datetime.fromtimestamp(c.sent_ms / 1000, ZoneInfo(p.zone)).hour


URL_RE = re.compile(r"https?://[^\s<>\"')]+")
TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")  # no trailing dot
CALLBACK_RE = re.compile(r"/v1/outreach/callbacks/([^/]+)/status")


def attribute(text: str, keys: Iterable[str], status_callback: str, to: str,
              tenants: Iterable[str], people: Mapping[str, Person],
              by_address: Mapping[str, list]) -> tuple:
    """(tenant, account, how) of a message, None where it cannot be told (see the docstring)."""
    tenants = list(tenants)
    tenant = account = None
    how = []
    for url in URL_RE.findall(text or ""):
        url = url.rstrip(".,;:!?")
        segs = [urllib.parse.unquote(s) for s in urllib.parse.urlsplit(url).path.split("/")]
        for a, b in zip(segs, segs[1:]):
            if a in tenants and b in people:
                tenant, account = a, b
                how.append("link")
                break
        if account:
            break
    if account is None:
        found = sorted({t for t in TOKEN_RE.findall(text or "") if t in people})
        if len(found) == 1:
            account = found[0]
            how.append("reference")
    if account is None:
        at = by_address.get(to, [])
        if len(at) == 1:
            account = at[0]
            how.append("address")
    if tenant is None:
        m = CALLBACK_RE.search(status_callback or "")
        if m and m.group(1) in tenants:
            tenant = m.group(1)
            how.append("status_callback")
    for key in keys:
        if tenant is None and key:
            head = key.strip("<>").split("@", 1)[0].rsplit(".", 1)[0]
            if head in tenants:
                tenant = head
                how.append("key")
    if tenant is None and len(tenants) == 1:
        tenant = tenants[0]
        how.append("only_tenant")
    return tenant, account, "+".join(how)


def email_contact(rec: dict, tenants, people, by_address) -> tuple:
    """(Contact or None, why) of an e-mail as outreach_sinks records it."""
    to = normal_email(rec["to"][0]) if rec.get("to") else ""
    text = "\n".join(x for x in (rec.get("text"), rec.get("html"), rec.get("list_unsubscribe"))
                     if x)
    mid = rec.get("message_id") or ""
    tenant, account, how = attribute(text, [mid], "", to, tenants, people, by_address)
    if not (tenant and account and mid):
        return None, f"unattributed e-mail ({how or 'nothing matched'})"
    sent = None
    try:
        sent = int(email.utils.parsedate_to_datetime(rec["date"]).timestamp() * 1000)
    except (TypeError, ValueError, KeyError):
        pass
    reply_to = email.utils.parseaddr(rec.get("header_from") or "")[1] or rec.get("from") or ""
    return Contact(tenant, account, "email", mid, sent, "delivered", to, reply_to,
                   rec.get("subject") or "", ""), how


def provider_contact(kind: str, rec: dict, seed: str, tenants, people, by_address) -> tuple:
    """(Contact or None, why) of a created message or call, as outreach_sinks records it."""
    text = rec.get("body") if kind == "message" else html.unescape(rec.get("twiml") or "")
    to = normal_phone(rec.get("to") or "") or ""
    tenant, account, how = attribute(text or "", [rec.get("key") or ""],
                                     rec.get("status_callback") or "", to, tenants, people,
                                     by_address)
    if not (tenant and account):
        return None, f"unattributed {kind} ({how or 'nothing matched'})"
    if kind == "message":
        channel = "sms"
        reached = "undelivered" if (rec.get("to") or "").endswith("0002") else "delivered"
    else:
        channel = "voice"
        _, answered_by, _ = sinks.call_outcome(seed, rec["sid"])
        reached = ("no-answer" if answered_by is None else
                   "human" if answered_by == "human" else "machine")
    return Contact(tenant, account, channel, rec["sid"], None, reached, rec.get("to") or "",
                   rec.get("from") or "", "", rec.get("account_sid") or ""), how


# ------------------------------------------------------------------ the book and decisions


@dataclasses.dataclass
class Debt:
    """One tenant's account as its debtor sees it."""
    owed: int                   # cents still owed, as the person counts
    pending: int = 0            # cents decided but not yet paid
    status: str = "open"        # open | stopped | disputed
    promises: int = 0
    promise_until: Optional[str] = None
    plan: bool = False
    said_paid: bool = False
    last_reaction: Optional[str] = None
    seq: int = 0                # payments decided, for their ids


@dataclasses.dataclass(frozen=True)
class Due:
    """A payment decided for a later (or the same) day."""
    due: str
    tenant: str
    account: str
    amount: int
    door: str                   # card | bank
    label: str                  # full | part | promise | instalment k/n
    made: str                   # the day it was decided
    n: int
    after_ms: Optional[int] = None  # not before this (the contact that caused it)


@dataclasses.dataclass
class Action:
    day: str
    tenant: str
    account: str
    kind: str                   # payment | reply
    door: str                   # card | bank | sms | email
    intent: Optional[str] = None   # replies: INTENTS
    label: Optional[str] = None    # payments: full | part | promise | instalment k/n
    amount_cents: int = 0
    currency: str = "USD"
    id: str = ""                # charge id, bank reference, MessageSid or Message-ID
    at_s: Optional[int] = None  # the simulated time of a payment (Unix s)
    text: Optional[str] = None
    cause: Optional[str] = None  # the message id of the contact it answers
    route: dict = dataclasses.field(default_factory=dict, repr=False)  # addresses; never logged

    def record(self) -> dict:
        r = {k: v for k, v in dataclasses.asdict(self).items() if k != "route" and v is not None}
        if self.kind == "reply":
            r.pop("amount_cents", None)
            r.pop("currency", None)
        return r


class Book:
    """What the people know and have decided: debts per (tenant, account), payments to come,
    and each tenant's bank account balance (the statements' running balance)."""

    def __init__(self):
        self.debts = {}
        self.agenda = []
        self.bank_balance = {}

    def debt(self, tenant: str, person: Person) -> Debt:
        key = (tenant, person.account)
        if key not in self.debts:
            self.debts[key] = Debt(owed=person.balance_cents)
        return self.debts[key]

    def take_due(self, day: str) -> list:
        due = sorted((d for d in self.agenda if d.due <= day),
                     key=lambda d: (d.tenant, d.account, d.made, d.n))
        self.agenda = [d for d in self.agenda if d.due > day]
        return due


def add_days(day: str, n: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=n)).isoformat()


def reply_text(person: Person, intent: str, draw: float, **kw) -> str:
    choices = REPLIES[person.lang][intent]
    return choices[int(draw * len(choices))].format(**kw)


def reply_door(c: Contact, person: Person) -> Optional[str]:
    """Where a written answer to c goes: the same medium, a text after a call to a mobile."""
    if c.channel in ("sms", "email"):
        return c.channel
    return "sms" if person.mobile(normal_phone(c.address) or "") else None


def make_reply(seed: str, day: str, c: Contact, person: Person, intent: str, text: str):
    door = reply_door(c, person)
    if door is None:
        return None
    h = hex_id(seed, "reply", c.tenant, c.account, day, c.message_id, n=32)
    route = {"from": c.address, "to": c.reply_to, "account_sid": c.account_sid}
    if door == "email":
        rid = f"<{h}@{REPLY_DOMAIN}>"
        route.update(subject="Re: " + c.subject if c.subject else "Re:", in_reply_to=c.message_id)
    else:
        rid = "SM" + h
    return Action(day, c.tenant, c.account, "reply", door, intent=intent, id=rid, text=text,
                  cause=c.message_id, route=route)


def react(book: Book, seed: str, day: str, c: Contact, idx: int, person: Person) -> list:
    """What one contact makes its person do: replies now, payments on the agenda."""
    t = traits_for(seed, c.account)
    if t.archetype == "silent":
        return []
    debt = book.debt(c.tenant, person)

    def draw(purpose):
        return unit(seed, c.account, day, idx, c.channel, purpose)

    out = []
    if debt.owed <= 0 and debt.pending == 0:  # paid up, in their eyes
        if (not debt.said_paid and c.channel in ("sms", "email") and REACH[c.reached] > 0
                and draw("paid") < SAYS_PAID_SHARE):
            debt.said_paid = True
            r = make_reply(seed, day, c, person, "paid", reply_text(person, "paid", draw("text")))
            out += [r] if r else []
        return out
    if (debt.status != "open" or debt.pending > 0 or debt.plan or debt.last_reaction == day
            or (debt.promise_until is not None and day <= debt.promise_until)):
        return []  # already decided, or done with this creditor
    p = reaction_probability(t, c.channel, c.reached, local_hour(c, person), debt.owed)
    if draw("react") >= p:
        return []
    debt.last_reaction = day

    def schedule(amount, due, label):
        debt.seq += 1
        debt.pending += amount
        after = c.sent_ms if due == day else None
        book.agenda.append(Due(due, c.tenant, c.account, amount, "bank" if t.by_bank else "card",
                               label, day, debt.seq, after))

    def reply(intent, **kw):
        r = make_reply(seed, day, c, person, intent, reply_text(person, intent, draw("text"), **kw))
        if r:
            out.append(r)
        return r

    lag = draw("lag")
    lag_days = 0 if lag < 0.6 else 1 if lag < 0.85 else 2 + int((lag - 0.85) / 0.075)
    a = t.archetype
    if a == "pays_full":
        schedule(debt.owed, add_days(day, lag_days), "full")
    elif a == "pays_part":
        amount = debt.owed
        if debt.owed > PART_ALL_BELOW:  # whole dollars, at least $5
            amount = min(debt.owed, max(500, int(debt.owed * t.part_share) // 100 * 100))
        partial = amount < debt.owed
        schedule(amount, add_days(day, min(lag_days, 1)), "part")
        if partial and c.channel != "voice" and draw("note") < 0.3:
            reply("other")
    elif a in ("promise_kept", "promise_broken"):
        if a == "promise_broken" and debt.promises >= 2:
            return out
        until = add_days(day, t.promise_days)
        debt.promises += 1
        debt.promise_until = until
        reply("promise", amount=f"${money(debt.owed)}", date=until)
        if a == "promise_kept":  # on or before the date
            schedule(debt.owed, add_days(day, 1 + int(draw("when") * t.promise_days)), "promise")
    elif a == "plan":
        debt.plan = True
        reply("plan")
        n, owed = t.instalments, debt.owed
        for k in range(n):
            part = owed // n + (owed % n if k == n - 1 else 0)
            if part > 0:
                schedule(part, add_days(day, 2 + 7 * k), f"instalment {k + 1}/{n}")
    elif a == "stop":
        if reply("stop"):
            debt.status = "stopped"
    elif a == "dispute":
        if reply("dispute"):
            debt.status = "disputed"
    return out


def payment_time(seed: str, d: Due, day: str, person: Person) -> int:
    """Unix seconds of a payment: inside the person's hours on the day, after its cause."""
    t = traits_for(seed, d.account)
    u = unit(seed, d.account, d.made, d.n, "time")
    start, end = t.window
    minutes = start * 60 + int(u * (end - start) * 60)
    y, m, dd = (int(x) for x in day.split("-"))
    local = dt.datetime(y, m, dd, minutes // 60, minutes % 60, tzinfo=ZoneInfo(person.zone))
    at = int(local.timestamp())
    if d.after_ms is not None and at * 1000 <= d.after_ms:
        at = d.after_ms // 1000 + 300 + int(u * 5400)  # 5 to 95 minutes after the message
    return at


def pay_due(book: Book, seed: str, day: str, people: Mapping[str, Person]) -> list:
    out = []
    for d in book.take_due(day):
        person = people.get(d.account)
        if person is None:
            continue
        debt = book.debt(d.tenant, person)
        debt.pending -= d.amount
        amount = min(d.amount, debt.owed)
        if amount <= 0:
            continue
        debt.owed -= amount
        base = hex_id(seed, d.tenant, d.account, d.made, d.label, d.n)
        pid = f"ch_sim_{base}" if d.door == "card" else f"SIM{base.upper()}"
        out.append(Action(day, d.tenant, d.account, "payment", d.door, label=d.label,
                          amount_cents=amount, currency=person.currency, id=pid,
                          at_s=payment_time(seed, d, day, person),
                          route={"base": base, "name": person.name}))
    return out


def decide_day(book: Book, seed: str, day: str, contacts: Iterable[Contact],
               people: Mapping[str, Person]) -> list:
    """Every reaction and payment of a day, in a fixed order: contacts sorted by (tenant,
    account, channel, message id), whatever order they came in; then the payments due."""
    actions, index, seen = [], {}, set()
    for c in sorted(contacts, key=Contact.sort_key):
        if c.sort_key() in seen or c.account not in people:
            continue
        seen.add(c.sort_key())
        k = (c.tenant, c.account, c.channel)
        index[k] = index.get(k, -1) + 1
        actions += react(book, seed, day, c, index[k], people[c.account])
    actions += pay_due(book, seed, day, people)
    actions.sort(key=lambda a: (a.tenant, a.account))  # stable: replies before payments
    return actions


# ------------------------------------------------------------------ door formats


def stripe_event(a: Action, tenant: str) -> bytes:
    """A Stripe charge.succeeded event, as services/reconciliation/stripe.c reads it."""
    base = a.route["base"]
    charge = {
        "id": a.id, "object": "charge", "amount": a.amount_cents,
        "amount_captured": a.amount_cents, "currency": a.currency.lower(), "created": a.at_s,
        "captured": True, "paid": True, "status": "succeeded",
        "description": f"ACCOUNT {a.account}",
        "metadata": {"account_id": a.account, "tenant": tenant},
        "billing_details": {"name": a.route.get("name") or None},
        "payment_intent": f"pi_sim_{base}",
    }
    event = {"id": f"evt_sim_{base}", "object": "event", "type": "charge.succeeded",
             "created": a.at_s, "livemode": False, "data": {"object": charge}}
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def stripe_signature(body: bytes, secret: str, t: int) -> str:
    """Stripe-Signature: HMAC-SHA256 over "<t>.<body>" keyed by the whole secret."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def camt053(tenant: str, day: str, payments: list, opening_cents: int,
            currency: str = "USD") -> bytes:
    """One day's statement of the tenant's collection account: a booked credit per transfer,
    the bank's reference (AcctSvcrRef) as the payment's identity, the account id in the
    remittance text (reconciliation's "ACCOUNT <id>" pattern), control totals and balances that
    services/reconciliation/camt.c checks."""
    total = sum(a.amount_cents for a in payments)
    stmt_id = f"SIM-{tenant}-{day}"
    x = escape
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">',
        "  <BkToCstmrStmt>",
        f"    <GrpHdr><MsgId>{x(stmt_id)}</MsgId><CreDtTm>{day}T23:59:59+00:00</CreDtTm></GrpHdr>",
        "    <Stmt>",
        f"      <Id>{x(stmt_id)}</Id>",
        f"      <CreDtTm>{day}T23:59:59+00:00</CreDtTm>",
        f"      <FrToDt><FrDtTm>{day}T00:00:00+00:00</FrDtTm>"
        f"<ToDtTm>{day}T23:59:59+00:00</ToDtTm></FrToDt>",
        f"      <Acct><Id><Othr><Id>{x(f'SIM-{tenant}-COLLECTIONS')}</Id></Othr></Id>"
        f"<Ccy>{currency}</Ccy></Acct>",
    ]
    for code, amount in (("OPBD", opening_cents), ("CLBD", opening_cents + total)):
        out.append(f"      <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
                   f'<Amt Ccy="{currency}">{money(abs(amount))}</Amt>'
                   f"<CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd>"
                   f"<Dt><Dt>{day}</Dt></Dt></Bal>")
    n = len(payments)
    out.append(f"      <TxsSummry><TtlNtries><NbOfNtries>{n}</NbOfNtries><Sum>{money(total)}</Sum>"
               f"<TtlNetNtryAmt>{money(total)}</TtlNetNtryAmt><CdtDbtInd>CRDT</CdtDbtInd>"
               f"</TtlNtries><TtlCdtNtries><NbOfNtries>{n}</NbOfNtries><Sum>{money(total)}</Sum>"
               f"</TtlCdtNtries></TxsSummry>")
    for a in payments:
        out += [
            "      <Ntry>",
            f'        <Amt Ccy="{a.currency}">{money(a.amount_cents)}</Amt>',
            "        <CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd><Sts>BOOK</Sts>",
            f"        <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>",
            f"        <AcctSvcrRef>{x(a.id)}</AcctSvcrRef>",
            "        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd>"
            "</Fmly></Domn></BkTxCd>",
            "        <NtryDtls><TxDtls>",
            "          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>",
            f'          <AmtDtls><TxAmt><Amt Ccy="{a.currency}">{money(a.amount_cents)}</Amt>'
            "</TxAmt></AmtDtls>",
            f"          <RltdPties><Dbtr><Nm>{x(a.route.get('name') or 'UNKNOWN')}</Nm></Dbtr>"
            "</RltdPties>",
            f"          <RmtInf><Ustrd>ACCOUNT {x(a.account)}</Ustrd></RmtInf>",
            "        </TxDtls></NtryDtls>",
            "      </Ntry>",
        ]
    out += ["    </Stmt>", "  </BkToCstmrStmt>", "</Document>", ""]
    return "\n".join(out).encode()


def sms_form(a: Action) -> dict:
    return {"MessageSid": a.id, "AccountSid": a.route.get("account_sid") or sinks.DEFAULT_ACCOUNT,
            "From": a.route["from"], "To": a.route["to"], "Body": a.text, "NumMedia": "0"}


def email_form(a: Action, lang: str) -> dict:
    """A reply as the mail gateway posts it: the person's words above the quoted original (which
    callback.c drops before reading)."""
    intro = "El {d}, {w} escribió:" if lang == "es" else "On {d}, {w} wrote:"
    quoted = intro.format(d=a.day, w=a.route["to"]) + "\n> (original message)\n"
    return {"message_id": a.id, "from": a.route["from"], "to": a.route["to"],
            "subject": a.route.get("subject") or "Re:", "text": f"{a.text}\n\n{quoted}",
            "in_reply_to": a.route.get("in_reply_to") or ""}


def new_summary(tenants: Iterable[str]) -> dict:
    return {t: {"contacts": 0, "payments": {"n": 0, "cents": 0},
                "replies": dict.fromkeys(INTENTS, 0)} for t in tenants}


# ------------------------------------------------------------------ outgoing HTTP


def post(url: str, data: bytes, headers_fn, timeout=POST_TIMEOUT_S) -> dict:
    """POSTs data (headers_fn() gives fresh headers each attempt: a signature's time); tries
    again on no answer, 429 and 5xx. Returns {"http_status"} or {"error"}, with "attempts"."""
    attempt, result = 0, {}
    while attempt <= POST_RETRIES:
        attempt += 1
        req = urllib.request.Request(url, data=data, method="POST", headers=headers_fn())
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read()
                result = {"http_status": resp.status}
        except urllib.error.HTTPError as e:
            e.read()
            result = {"http_status": e.code}
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            result = {"error": f"{type(reason).__name__}: {reason}"}
        status = result.get("http_status", 0)
        if status and status != 429 and status < 500:
            break
        if attempt <= POST_RETRIES:
            time.sleep(POST_BACKOFF_S * 2 ** (attempt - 1))
    result["attempts"] = attempt
    return result


def basic(userpass: Optional[str]) -> dict:
    return {"Authorization": sinks.basic_auth_header(userpass)} if userpass else {}


# ------------------------------------------------------------------ the simulator


class Simulator(sinks.Sinks):
    """outreach_sinks' provider and SMTP receiver, plus the people and their days."""

    name = "debtor_sim"

    def __init__(self, args, people):
        super().__init__(args)
        self.people = people
        self.by_address = address_index(people)
        self.tenants = args.tenants
        self.seed = args.seed
        self.book = Book()
        self.sim_lock = threading.Lock()   # contacts and the current day
        self.day_lock = threading.Lock()   # one day end at a time
        self.current_day = None
        self.contacts = {}                 # day -> [Contact]
        self.pending = []                  # received while no day was open
        self.ended = {}                    # day -> its answer
        self.last_ended = None
        self.unattributed = 0              # since the start
        self.unattributed_day = 0          # since the last day ended
        self.totals = {t: {"contacts": dict.fromkeys(CHANNELS, 0),
                           "payments": {d: {"n": 0, "cents": 0} for d in ("card", "bank", "total")},
                           "replies": dict.fromkeys(INTENTS, 0), "stops": 0, "disputes": 0}
                       for t in self.tenants}
        self.files = {n: sinks.JsonlLog(os.path.join(args.dir, n + ".jsonl"))
                      for n in ("contacts", "actions", "days")}
        os.makedirs(os.path.join(args.dir, "bank"), exist_ok=True)

    # --- hooks of outreach_sinks

    def log_email(self, rec):
        self.log(f"email {rec['message_id']}")  # never the address

    def callback_auth_for(self, url):
        m = re.search(r"/callbacks/([^/]+)/", urllib.parse.urlsplit(url).path)
        return self.args.callback_creds.get(m.group(1)) if m else None

    def on_email(self, rec):
        try:
            self.intake(*email_contact(rec, self.tenants, self.people, self.by_address))
        except Exception as e:  # a message is recorded by the sinks whatever happens here
            self.error(f"email {rec.get('message_id')}: {e!r}")

    def on_created(self, kind, rec):
        try:
            self.intake(*provider_contact(kind, rec, self.seed, self.tenants, self.people,
                                          self.by_address))
        except Exception as e:
            self.error(f"{kind} {rec.get('sid')}: {e!r}")

    def intake(self, contact: Optional[Contact], how: str):
        with self.sim_lock:
            if contact is None:
                self.unattributed += 1
                self.unattributed_day += 1
                self.log(how)
                return
            if self.current_day is None:
                self.pending.append(contact)
            else:
                self.contacts.setdefault(self.current_day, []).append(contact)

    # --- days

    def begin_day(self, day: str) -> tuple:
        with self.sim_lock:
            if self.last_ended and day <= self.last_ended:
                return 409, {"error": f"day {day} is not after the last day ended "
                                      f"({self.last_ended})"}
            self.current_day = day
            waiting, self.pending = self.pending, []
            self.contacts.setdefault(day, []).extend(waiting)
        self.log(f"day {day} begins ({len(waiting)} waiting contacts)")
        return 200, {"day": day, "contacts_attached": len(waiting)}

    def end_day(self, day: str) -> tuple:
        with self.day_lock:
            if day in self.ended:
                return 200, dict(self.ended[day], repeat=True)
            if self.last_ended and day < self.last_ended:
                return 409, {"error": f"day {day} is before the last day ended "
                                      f"({self.last_ended})"}
            with self.sim_lock:
                contacts = []
                for d in sorted(k for k in self.contacts if k <= day):
                    contacts += self.contacts.pop(d)
                if self.current_day is not None and self.current_day <= day:
                    self.current_day = None
                self.last_ended = day
                unattributed, self.unattributed_day = self.unattributed_day, 0
            answer = self.run_day(day, contacts, unattributed)
            self.ended[day] = answer
            return 200, answer

    def run_day(self, day: str, contacts: list, unattributed: int) -> dict:
        contacts = sorted({c.sort_key(): c for c in contacts}.values(), key=Contact.sort_key)
        actions = decide_day(self.book, self.seed, day, contacts, self.people)
        files = self.write_bank_files(day, [a for a in actions if a.door == "bank"])
        results = self.perform([a for a in actions if a.door != "bank"])
        per = new_summary(self.tenants)
        for c in contacts:
            self.files["contacts"].write(c.record(day, self.people))
            per[c.tenant]["contacts"] += 1
            self.totals[c.tenant]["contacts"][c.channel] += 1
        for a in actions:
            rec = a.record()
            rec.update(results.get(id(a), {"file": files.get(a.tenant)}))
            self.files["actions"].write(rec)
            self.count_action(a, per[a.tenant])
        answer = {"day": day, "contacts": len(contacts),
                  "unattributed": unattributed,
                  "payments": {k: sum(p["payments"][k] for p in per.values())
                               for k in ("n", "cents")},
                  "replies": {i: sum(p["replies"][i] for p in per.values()) for i in INTENTS},
                  "bank_files": {t: files.get(t) for t in self.tenants},
                  "tenants": per}
        if len(self.tenants) == 1:
            answer["bank_file"] = files.get(self.tenants[0])
        self.files["days"].write(answer)
        self.log(f"day {day} ends: {answer['contacts']} contacts, {answer['payments']['n']} "
                 f"payments ({money(answer['payments']['cents'])}), replies {answer['replies']}")
        return answer

    def count_action(self, a: Action, per: dict):
        tot = self.totals[a.tenant]
        if a.kind == "payment":
            for bucket in (per["payments"], tot["payments"][a.door], tot["payments"]["total"]):
                bucket["n"] += 1
                bucket["cents"] += a.amount_cents
        else:
            per["replies"][a.intent] += 1
            tot["replies"][a.intent] += 1
            tot["stops"] += a.intent == "stop"
            tot["disputes"] += a.intent == "dispute"

    def write_bank_files(self, day: str, payments: list) -> dict:
        files = {}
        for tenant in self.tenants:
            mine = [a for a in payments if a.tenant == tenant]
            if not mine:
                continue
            opening = self.book.bank_balance.get(tenant, 0)
            path = os.path.join(self.args.dir, "bank", f"{tenant}-{day}.xml")
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(camt053(tenant, day, mine, opening, mine[0].currency))
            os.replace(tmp, path)  # never a half-written statement for the importer
            self.book.bank_balance[tenant] = opening + sum(a.amount_cents for a in mine)
            files[tenant] = path
        return files

    def perform(self, actions: list) -> dict:
        """Sends the card payments and replies, each account's in order, accounts in parallel.
        Returns {id(action): result}."""
        groups = {}
        for a in actions:
            groups.setdefault((a.tenant, a.account), []).append(a)
        results = {}

        def run(group):
            for a in group:
                results[id(a)] = self.send(a)

        with ThreadPoolExecutor(PERFORM_WORKERS) as pool:
            list(pool.map(run, groups.values()))
        return results

    def send(self, a: Action) -> dict:
        args = self.args
        if a.door == "card":
            secret = args.processor_secrets.get(a.tenant)
            if not args.webhook_base or not secret:
                return {"sent": False, "why": "no --webhook-base or processor secret"}
            body = stripe_event(a, a.tenant)
            url = f"{args.webhook_base.rstrip('/')}/v1/webhooks/processor/{a.tenant}"
            res = post(url, body, lambda: {"Content-Type": "application/json",
                                           "Stripe-Signature": stripe_signature(
                                               body, secret, int(time.time()))})
        else:
            if not args.outreach_base:
                return {"sent": False, "why": "no --outreach-base"}
            form = (sms_form(a) if a.door == "sms"
                    else email_form(a, self.people[a.account].lang))
            data = urllib.parse.urlencode(form).encode()
            url = f"{args.outreach_base.rstrip('/')}/v1/outreach/callbacks/{a.tenant}/{a.door}"
            auth = basic(args.callback_creds.get(a.tenant))
            res = post(url, data, lambda: {"Content-Type": "application/x-www-form-urlencoded",
                                           **auth})
        if "error" in res or res.get("http_status", 0) >= 300:
            self.error(f"{a.kind} {a.id} ({a.tenant}/{a.account}) to {a.door}: "
                       f"{res.get('error') or res.get('http_status')}")
        return res

    def sim_stats(self) -> dict:
        with self.sim_lock:
            return {"current_day": self.current_day, "last_day_ended": self.last_ended,
                    "pending_contacts": len(self.pending) + sum(map(len, self.contacts.values())),
                    "unattributed": self.unattributed,
                    "tenants": json.loads(json.dumps(self.totals)),
                    "provider": self.snapshot()}

    def close(self):
        super().close()
        for f in self.files.values():
            f.close()


class ControlHandler(sinks.ProviderHandler):
    """outreach_sinks' provider API plus the simulator's control endpoints."""

    server_version = "debtor-sim/1"

    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path == "/control/stats":
            self.send_json(200, self.state.sim_stats())
        else:
            super().do_GET()

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path not in ("/control/day", "/control/day/end"):
            return super().do_POST()
        body = self.read_body()
        if body is None:
            return
        try:
            day = json.loads(body or b"{}")["day"]
            if not (isinstance(day, str) and DAY_RE.match(day)):
                raise ValueError("not YYYY-MM-DD")
            dt.date.fromisoformat(day)
        except (ValueError, KeyError, TypeError) as e:
            self.send_json(400, {"error": f'want JSON {{"day": "YYYY-MM-DD"}}: {e}'})
            return
        fn = self.state.begin_day if path == "/control/day" else self.state.end_day
        self.send_json(*fn(day))


# ------------------------------------------------------------------ main


def pairs(values, parts, what):
    """["T:REST", ...] -> {T: REST}; parts=3 also checks REST is USER:PASS."""
    out = {}
    for v in values or []:
        t, sep, rest = v.partition(":")
        if not sep or not rest or (parts == 3 and ":" not in rest):
            want = "TENANT:USER:PASS" if parts == 3 else "TENANT:SECRET"
            raise argparse.ArgumentTypeError(f"{what}: want {want}")
        out[t] = rest
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(description="The debtors of a generated portfolio, for the demo.")
    p.add_argument("--portfolio", required=True, help="gen-portfolio JSON Lines")
    p.add_argument("--seed", required=True)
    p.add_argument("--dir", required=True, help="where the records and bank files go")
    p.add_argument("--tenants", required=True, help="T1[,T2]")
    p.add_argument("--processor-secret", action="append", default=[], metavar="TENANT:SECRET")
    p.add_argument("--callback-auth", action="append", default=[], metavar="TENANT:USER:PASS")
    p.add_argument("--webhook-base", help="reconciliation's base URL")
    p.add_argument("--outreach-base", help="outreach's base URL")
    p.add_argument("--auth", type=sinks.userpass, help="basic auth the provider API requires")
    p.add_argument("--smtp-port", type=int, default=0)
    p.add_argument("--http-port", type=int, default=0)
    p.add_argument("--callback-delay-ms", type=int, default=50)
    p.add_argument("--quiet", action="store_true", help="log errors only")
    args = p.parse_args(argv)
    args.tenants = [t for t in args.tenants.split(",") if t]
    if not args.tenants or not all(TENANT_RE.match(t) for t in args.tenants):
        p.error("--tenants: one or more of [a-z0-9][a-z0-9_-]{0,63}, comma-separated")
    try:
        args.processor_secrets = pairs(args.processor_secret, 2, "--processor-secret")
        args.callback_creds = pairs(args.callback_auth, 3, "--callback-auth")
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if args.callback_delay_ms < 0:
        p.error("--callback-delay-ms must not be negative")
    # what outreach_sinks reads: the calls' outcomes follow the seed
    args.answer_seed, args.fail_every, args.callback_auth = args.seed, 0, None
    return args


def main(argv):
    args = parse_args(argv)
    logging.getLogger("mail.log").setLevel(logging.ERROR if args.quiet else logging.WARNING)
    try:
        people = load_portfolio(args.portfolio)
        os.makedirs(args.dir, exist_ok=True)
        state = Simulator(args, people)
        smtp = sinks.SmtpServer(state, args.smtp_port)
        http = sinks.ProviderServer(state, args.http_port, ControlHandler)
    except (OSError, ValueError, KeyError) as e:
        print(f"debtor_sim: error: cannot start: {e!r}", file=sys.stderr, flush=True)
        return 1

    return sinks.serve(state, smtp, http,
                       f"{len(people)} people, tenants {','.join(args.tenants)}, seed {args.seed}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
