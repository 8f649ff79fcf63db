"""`make loadtest`: the documented production deployment run through its
faults under a burst of survey submissions.

What runs (bench/stack.py, every process started here and stopped at the
end): nginx in front of two gunicorn app servers (`gunicorn portal.wsgi`,
production settings), one PostgreSQL cluster of its own (initdb into a
temporary directory, port 55432) and one redis-server of its own (port
6391). Nothing touches the machine's PostgreSQL or Redis. All traffic goes
to 127.0.0.1.

The residents: 100+ clients, each with its own address (documentation
ranges, told to nginx by a test header; nginx sets X-Forwarded-For as
documented), each filling in the survey as a browser would: GET the form,
fill it in from its HTML (radios, checkboxes, selects, one free-text field
carrying a marker that names the submission), POST it, follow the
redirect. Some send the same form again (Back and send again) and some a
forged token. The client does not retry errors away: every 503, other 5xx
and connection error a resident saw is counted, in the fault window it fell
in; the resident then waits and sends the same form again, as the 503 page
tells them, a bounded number of times. An official downloads the export
(logged in with a password and a TOTP code) and visitors read the results
pages meanwhile.

The faults, in one run: one app server killed (SIGKILL to master and
workers) and started again; Redis stopped for 20 s and started again;
PostgreSQL restarted, and later stopped for 30 s and started again.

Afterwards, from the database: every submission acknowledged (the redirect
to the thanks page) is stored exactly once with all its answers, nothing
else is stored (a form sent again, a forged token), and every 5xx was the
portal's Swedish 503 page. Writes docs/loadtest-results.md.

Bounded: every loop has a count and a deadline; the burst stops at
--max-seconds. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import platform
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import stack

RESULTS = ROOT / "docs" / "loadtest-results.md"
NGINX_PORT, APP_PORTS = 8150, (8151, 8152)
PG_PORT, REDIS_PORT = 55432, 6391
# The header nginx reads each load client's address from (test config only).
CLIENT_HEADER = "X-Loadtest-Client"
# A resident who sees an error waits and sends the same form again, at most
# this often and this long; then they give up (counted).
RETRY_PAUSE = 2.0
RETRY_ATTEMPTS = 40
RETRY_SECONDS = 120
REQUEST_TIMEOUT = 60

FAULTS = (
    ("app server killed", 0.12),
    ("Redis stopped 20 s", 0.32),
    ("PostgreSQL restarted", 0.52),
    ("PostgreSQL stopped 30 s", 0.72),
)
BEFORE = "before the faults"
FRIENDLY_KIND = "503 (the portal's page)"


def client_address(number: int) -> str:
    """Documentation-range addresses (RFC 5737, RFC 3849): header values
    only, no traffic goes there. IPv6 clients each get their own /64."""
    kind, host = number % 4, 1 + number // 4
    if kind == 3:
        return f"2001:db8:{host:x}::1"
    net = ("192.0.2", "198.51.100", "203.0.113")[kind]
    if host > 249:
        raise SystemExit("at most 1000 clients")
    return f"{net}.{host}"


# --- the form, read from its HTML --------------------------------------


class FormParser(HTMLParser):
    """The fields of the page's POST form, as a browser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_form = False
        self.hidden: list[str] = []
        self.radios: dict[str, list[str]] = {}
        self.checkboxes: dict[str, list[str]] = {}
        self.selects: dict[str, list[str]] = {}
        self.textareas: list[str] = []
        self.texts: list[str] = []
        self.submit: tuple[str, str] | None = None
        # A choice's own text field ("Annat, nämligen"): the text input named
        # "<question>__<part>" right after that choice's box.
        self.choice_text: dict[tuple[str, str], str] = {}
        self._select: str | None = None
        self._last_choice: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "hidden":
                self.hidden.append(name)
            elif kind in ("radio", "checkbox"):
                group = (self.radios if kind == "radio" else self.checkboxes).setdefault(name, [])
                if a.get("value", "on") not in group:
                    group.append(a.get("value", "on"))
                self._last_choice = (name, a.get("value", "on"))
            elif kind == "submit":
                self._button(a)
            elif kind in ("text", "number", "email", "tel", "url", "search"):
                self.texts.append(name)
                last = self._last_choice
                if last and name.startswith(f"{last[0]}__"):
                    self.choice_text[last] = name
        elif tag == "select" and name:
            self._select = name
            self.selects[name] = []
        elif tag == "option" and self._select and a.get("value"):
            self.selects[self._select].append(a["value"])
        elif tag == "textarea" and name:
            self.textareas.append(name)
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button(a)

    def _button(self, a):
        # The form's own submit button; the language buttons skip validation.
        if self.submit is None and a.get("name") and "formnovalidate" not in a:
            self.submit = (a["name"], a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self.in_form = False


_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def hidden_values(page: str) -> dict[str, str]:
    """The hidden inputs of one rendering (the token changes every time)."""
    values = {}
    for tag in _INPUT.findall(page):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            values[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return values


@dataclass
class FormShape:
    parser: FormParser
    marker_field: str

    @classmethod
    def parse(cls, page: str) -> FormShape:
        parser = FormParser()
        parser.feed(page)
        if not parser.radios and not parser.checkboxes and not parser.selects:
            raise SystemExit("The survey form has no questions the load test can answer")
        if parser.submit is None:
            raise SystemExit("The survey form has no submit button")
        # The marker goes into a free-text question of its own (a textarea
        # whose name is not a sub-field "<question>__<part>" of another).
        standalone = [name for name in parser.textareas if "__" not in name]
        if not standalone:
            raise SystemExit("The survey form has no free-text question to carry the marker")
        return cls(parser, standalone[0])

    def answers(self, rng: random.Random, marker: str) -> tuple[list[tuple[str, str]], int]:
        """A filled-in form and the answers it holds: one per radio group
        and chosen select, one per ticked checkbox, one for the free text.
        Text inputs stay empty (among them the honeypot), but for a ticked
        choice's own text field."""
        p = self.parser
        fields: list[tuple[str, str]] = []
        count = 0
        chosen = []
        for name, values in p.radios.items():
            chosen.append((name, rng.choice(values)))
        for name, values in p.selects.items():
            if values and rng.random() < 0.7:
                fields.append((name, rng.choice(values)))
                count += 1
        for name, values in p.checkboxes.items():
            chosen += [(name, v) for v in rng.sample(values, k=rng.randint(0, min(2, len(values))))]
        for choice in chosen:
            fields.append(choice)
            count += 1
            if choice in p.choice_text:
                fields.append((p.choice_text[choice], "annat svar"))
        fields.append((self.marker_field, marker))
        count += 1
        fields.append(p.submit)
        return fields, count


# --- HTTP as a browser does it -----------------------------------------


class ConnectionFailed(Exception):
    pass


@dataclass
class Reply:
    status: int
    location: str
    body: bytes
    seconds: float


class Browser:
    """One visitor: a keep-alive connection to nginx and a cookie jar."""

    def __init__(self, port: int, address: str):
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, fields=None, *, stream=None) -> Reply:
        headers = {CLIENT_HEADER: self.address, "Host": "127.0.0.1"}
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
                )
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = stream(response) if stream and response.status == 200 else response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ConnectionFailed(type(exc).__name__) from exc
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.close()
        return Reply(
            response.status,
            response.getheader("Location") or "",
            data,
            time.monotonic() - started,
        )

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- what the residents saw, per fault window --------------------------


@dataclass
class Record:
    """Everything the visitors saw; appended to from many threads (list
    appends and Counter updates under one lock)."""

    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[dict] = field(default_factory=list)  # name, start, back
    errors: list[tuple[float, str, str]] = field(default_factory=list)  # time, what, kind
    acks: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    reads: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    form_latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)  # marker -> answers
    unacknowledged: dict[str, str] = field(default_factory=dict)  # marker -> last error kind
    refused: set[str] = field(default_factory=set)  # forged tokens' markers
    done: int = 0
    unfriendly: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # why valid forms were refused

    def window(self, at: float) -> str:
        name = BEFORE
        for fault in self.faults:
            if fault["start"] <= at:
                name = fault["name"]
        return name

    def error(self, what: str, kind: str, reply: Reply | None = None):
        with self.lock:
            self.errors.append((time.monotonic(), what, kind))
            if reply is not None and reply.status >= 500 and kind != FRIENDLY_KIND:
                self.unfriendly.append(f"{what}: {reply.status} {reply.body[:200]!r}")


def refusal_reason(body: bytes) -> str:
    """The form's error messages, as the page shows them."""
    page = body.decode(errors="replace")
    found = re.findall(
        r'class="[^"]*(?:invalid-feedback|errorlist|alert)[^"]*"[^>]*>(.*?)</', page, re.S
    )
    return (
        " | ".join(html.unescape(re.sub(r"<[^>]+>", "", f)).strip() for f in found)[:300]
        or page[:300]
    )


def acknowledgement(reply: Reply, form_path: str) -> bool:
    """The redirect away from the form (to the thanks page): saved."""
    return reply.status in (301, 302, 303) and urlsplit(reply.location).path not in ("", form_path)


def classify(reply: Reply, friendly_text: bytes) -> str:
    if reply.status == 503 and friendly_text in reply.body:
        return FRIENDLY_KIND
    return f"{reply.status} (not the portal's 503 page)"


class Resident(threading.Thread):
    def __init__(self, number, plan, ctx):
        super().__init__(daemon=True, name=f"resident-{number}")
        self.number = number
        self.plan = plan  # list of kinds: "valid", "forged"; a valid one may be sent again
        self.ctx = ctx
        self.browser = Browser(NGINX_PORT, client_address(number))
        self.rng = random.Random(number)

    def attempt(self, what: str, method: str, path: str, fields=None) -> Reply | None:
        """One request a resident repeats after an error (waiting between
        tries, bounded); every error is recorded. None: they gave up."""
        ctx, rec = self.ctx, self.ctx.record
        first = time.monotonic()
        for _ in range(RETRY_ATTEMPTS):
            if ctx.stop.is_set():
                return None
            try:
                reply = self.browser.request(method, path, fields)
            except ConnectionFailed as exc:
                rec.error(what, f"connection error ({exc})")
                self.last_error = "connection error"
            else:
                if reply.status < 500:
                    return reply
                kind = classify(reply, ctx.friendly)
                rec.error(what, kind, reply)
                self.last_error = kind
            if time.monotonic() - first > RETRY_SECONDS:
                break
            time.sleep(RETRY_PAUSE * (0.5 + self.rng.random()))
        return None

    def run(self):
        ctx, rec = self.ctx, self.ctx.record
        for sequence, kind in enumerate(self.plan):
            if ctx.stop.is_set() or time.monotonic() > ctx.deadline:
                break
            self.last_error = ""
            form = self.attempt("survey form (GET)", "GET", ctx.form_path)
            if form is None or form.status != 200:
                with rec.lock:
                    rec.outcomes[f"form not shown ({form.status if form else 'gave up'})"] += 1
                continue
            with rec.lock:
                rec.form_latencies.append(form.seconds)
            page = form.body.decode()
            shape = ctx.shape(page)
            hidden = hidden_values(page)
            marker = f"lt{ctx.run_id}c{self.number}s{sequence}"
            answers, count = shape.answers(self.rng, marker)
            if kind == "forged" and "token" in hidden:
                hidden["token"] = hidden["token"][:-4] + "AAAA"
            fields = [*hidden.items(), *answers]
            reply = self.attempt("submission (POST)", "POST", ctx.form_path, fields)
            self.settle(kind, marker, count, reply)
            if reply is not None and reply.status in (301, 302, 303) and kind == "valid":
                thanks = self.attempt(
                    "thanks page (GET)",
                    "GET",
                    urlsplit(reply.location).path
                    + (
                        f"?{urlsplit(reply.location).query}"
                        if urlsplit(reply.location).query
                        else ""
                    ),
                )
                if thanks is None or thanks.status != 200:
                    with rec.lock:
                        rec.outcomes["thanks page not shown"] += 1
                if self.rng.random() < ctx.resend_share:
                    # Back, and send the same form again.
                    again = self.attempt(
                        "submission sent again (POST)", "POST", ctx.form_path, fields
                    )
                    with rec.lock:
                        if again is None:
                            rec.outcomes["sent again: gave up"] += 1
                        elif again.status in (301, 302, 303) and "redan=" in again.location:
                            rec.outcomes["sent again: 'already received'"] += 1
                        else:
                            rec.outcomes[f"sent again: {again.status}"] += 1
        self.browser.close()

    def settle(self, kind, marker, count, reply):
        rec = self.ctx.record
        now = time.monotonic()
        with rec.lock:
            rec.done += 1
            if reply is None:
                rec.outcomes[f"{kind}: gave up after errors"] += 1
                if kind == "valid":
                    rec.unacknowledged[marker] = self.last_error
                return
            rec.latencies.append(reply.seconds)
            if acknowledgement(reply, self.ctx.form_path):
                if kind == "valid":
                    rec.acknowledged[marker] = count
                    rec.acks.append(now)
                    already = "redan=" in reply.location
                    rec.outcomes[
                        "valid: acknowledged" + (" as already received" if already else "")
                    ] += 1
                else:
                    rec.outcomes[f"{kind}: acknowledged (WRONG)"] += 1
                    rec.acknowledged[marker] = count
            else:
                rec.outcomes[f"{kind}: {reply.status}"] += 1
                if kind == "valid":
                    rec.unacknowledged[marker] = f"status {reply.status}"
                    if len(rec.refusals) < 3:
                        rec.refusals.append(refusal_reason(reply.body))
                else:
                    rec.refused.add(marker)


class Abuser(threading.Thread):
    """A script sending one form over and over from one address, on a few
    connections at once: the rate limit stops it (its repeats store
    nothing, the form's token sees to that)."""

    CONNECTIONS = 4

    def __init__(self, ctx, count):
        super().__init__(daemon=True, name="abuser")
        self.ctx, self.count = ctx, count
        self.address = "198.51.100.250"
        self.sent = 0

    def run(self):
        ctx, rec = self.ctx, self.ctx.record
        browser = Browser(NGINX_PORT, self.address)
        try:
            form = browser.request("GET", ctx.form_path)
            page = form.body.decode()
        except (ConnectionFailed, UnicodeDecodeError):
            return
        finally:
            browser.close()
        marker = f"lt{ctx.run_id}abuse"
        answers, count = ctx.shape(page).answers(random.Random(0), marker)
        fields = [*hidden_values(page).items(), *answers]
        lock = threading.Lock()

        cookies = dict(browser.cookies)

        def send():
            browser = Browser(NGINX_PORT, self.address)
            browser.cookies.update(cookies)
            while not ctx.stop.is_set() and time.monotonic() < ctx.deadline:
                with lock:
                    if self.sent >= self.count:
                        break
                    self.sent += 1
                try:
                    reply = browser.request("POST", ctx.form_path, fields)
                except ConnectionFailed:
                    continue
                with rec.lock:
                    if acknowledgement(reply, ctx.form_path):
                        rec.acknowledged[marker] = count
                        rec.outcomes["script from one address: acknowledged"] += 1
                    else:
                        rec.outcomes[f"script from one address: {reply.status}"] += 1
            browser.close()

        senders = [threading.Thread(target=send, daemon=True) for _ in range(self.CONNECTIONS)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=ctx.deadline - time.monotonic() + REQUEST_TIMEOUT)


class Reader(threading.Thread):
    """Visitors reading the published results (and the municipality page)."""

    def __init__(self, ctx, paths, number):
        super().__init__(daemon=True, name=f"reader-{number}")
        self.ctx, self.paths = ctx, paths
        self.browser = Browser(NGINX_PORT, f"192.0.2.{251 + number}")

    def run(self):
        ctx, rec = self.ctx, self.ctx.record
        while not ctx.stop.is_set() and time.monotonic() < ctx.deadline:
            for path in self.paths:
                try:
                    reply = self.browser.request("GET", path)
                except ConnectionFailed as exc:
                    rec.error("results page (GET)", f"connection error ({exc})")
                    continue
                with rec.lock:
                    rec.reads[f"results pages: {reply.status}"] += 1
                if reply.status >= 500:
                    rec.error("results page (GET)", classify(reply, ctx.friendly), reply)
            ctx.stop.wait(0.5)
        self.browser.close()


class Official(threading.Thread):
    """An official downloading the survey's export now and then, logged in
    with a password and a TOTP code (two-factor, as production requires)."""

    def __init__(self, ctx):
        super().__init__(daemon=True, name="official")
        self.ctx = ctx
        self.browser = Browser(NGINX_PORT, "203.0.113.251")

    def login(self) -> bool:
        ctx = self.ctx
        self.browser.cookies.clear()
        page = self.browser.request("GET", "/admin/login/?next=/admin/")
        fields = {
            **hidden_values(page.body.decode()),
            "username": ctx.username,
            "password": ctx.password,
        }
        reply = self.browser.request("POST", "/admin/login/?next=/admin/", list(fields.items()))
        for _ in range(5):  # the redirects to the second factor
            if reply.status not in (301, 302, 303):
                break
            target = reply.location
            page = self.browser.request("GET", target)
            if page.status == 200 and b'name="code"' in page.body:
                code = ctx.totp_code()
                fields = {**hidden_values(page.body.decode()), "code": code}
                reply = self.browser.request(
                    "POST",
                    urlsplit(target).path + "?" + urlsplit(target).query,
                    list(fields.items()),
                )
                return reply.status in (301, 302, 303)
            reply = page
        return False

    def run(self):
        ctx, rec = self.ctx, self.ctx.record
        logged_in = False
        while not ctx.stop.is_set() and time.monotonic() < ctx.deadline:
            try:
                if not logged_in:
                    logged_in = self.login()
                    with rec.lock:
                        rec.reads[f"official's login: {'ok' if logged_in else 'failed'}"] += 1
                    if not logged_in:
                        ctx.stop.wait(5)
                        continue
                reply = self.browser.request("GET", ctx.export_path, stream=read_export)
            except ConnectionFailed as exc:
                rec.error("export (GET)", f"connection error ({exc})")
                with rec.lock:
                    rec.reads["exports: broken off"] += 1
                ctx.stop.wait(3)
                continue
            with rec.lock:
                if reply.status == 200:
                    rec.reads["exports: complete"] += 1
                    rec.export_rows = reply.body
                else:
                    rec.reads[f"exports: {reply.status}"] += 1
            if reply.status in (301, 302):
                logged_in = False
            if reply.status >= 500:
                rec.error("export (GET)", classify(reply, ctx.friendly), reply)
            ctx.stop.wait(8)
        self.browser.close()


def read_export(response) -> int:
    """Read the streamed CSV to its end; its number of lines."""
    lines = 0
    while chunk := response.read(65536):
        lines += chunk.count(b"\n")
    return lines


# --- the run -----------------------------------------------------------


class Context:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.stop = threading.Event()
        self.record = Record()
        self._shape = None
        self._shape_lock = threading.Lock()

    def shape(self, page: str) -> FormShape:
        with self._shape_lock:
            if self._shape is None:
                self._shape = FormShape.parse(page)
            return self._shape


def fault_controller(ctx, stack_parts, total):
    """Start each fault once the burst has come that far (or that much of the
    time budget has passed), one after the other."""
    rec = ctx.record
    app, redis, pg = stack_parts
    budget = ctx.deadline - rec.started
    for name, share in FAULTS:
        while not ctx.stop.is_set():
            progressed = rec.done >= share * total
            late = time.monotonic() - rec.started >= share * budget
            if progressed or late:
                break
            ctx.stop.wait(0.2)
        if ctx.stop.is_set():
            return
        fault = {"name": name, "start": time.monotonic()}
        with rec.lock:
            rec.faults.append(fault)
        print(f"== {name} (at {rec.done} submissions)", flush=True)
        if name == "app server killed":
            app.kill()
            ctx.stop.wait(3)
            app.start()
        elif name == "Redis stopped 20 s":
            redis.stop()
            ctx.stop.wait(20)
            redis.start()
        elif name == "PostgreSQL restarted":
            pg.restart()
        elif name == "PostgreSQL stopped 30 s":
            pg.stop()
            ctx.stop.wait(30)
            pg.start()
        fault["back"] = time.monotonic()
        print(f"   back after {fault['back'] - fault['start']:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--submissions", type=int, default=20_000, help="forms to fill in (all clients)"
    )
    parser.add_argument("--clients", type=int, default=120)
    parser.add_argument("--max-seconds", type=int, default=840, help="the burst stops here")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    if args.clients < 1 or args.clients > 990:
        raise SystemExit("--clients: 1 to 990")

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    directory = Path(tempfile.mkdtemp(prefix="portal-loadtest-"))
    directory.chmod(0o755)
    parts: list = []
    try:
        run(args, directory, parts)
    finally:
        for part in reversed(parts):
            try:
                part.close()
            except Exception as exc:
                print(f"!! stopping {type(part).__name__}: {exc}", file=sys.stderr)
        subprocess.run(["rm", "-rf", str(directory)], check=False)


def run(args, directory: Path, parts: list) -> None:
    per_client = -(-args.submissions // args.clients)
    resend_share = 0.1
    forged_share = 0.03
    # Every POST counts for the rate limit, a form sent again too: the limit
    # for the run is well above what one resident sends, so the legitimate
    # burst fits; the one script sending a single form over and over runs
    # into it.
    rate_limit = max(50, int(per_client * (1 + resend_share) * 2))
    abuse_count = rate_limit + 60

    pg = stack.Postgres(directory, PG_PORT)
    redis = stack.Redis(directory, REDIS_PORT)
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_DEVELOPMENT": "false",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback; nginx sets X-Forwarded-Proto as documented.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "PORTAL_TRUSTED_PROXY_COUNT": "1",
        "DATABASE_URL": pg.url,
        "REDIS_URL": redis.url,
        "SURVEY_RATE_LIMIT": f"{rate_limit}/h",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    print(
        f"== PostgreSQL {PG_PORT}, Redis {REDIS_PORT}, nginx {NGINX_PORT}, app servers {APP_PORTS} in {directory}",
        flush=True,
    )
    parts.append(pg)
    pg.init()
    pg.start()
    pg.create_database()
    parts.append(redis)
    redis.start()

    import django

    django.setup()
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Count
    from django.urls import reverse
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from surveys.models import Answer, Response, Survey

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("load_demo", stdout=StringIO())
    survey = Survey.objects.open_now().filter(mode=Survey.Mode.OPEN).order_by("pk").first()
    if survey is None:
        raise SystemExit("The demo data has no open survey")
    published = [s.get_results_url() for s in Survey.objects.filter(results_published=True)[:2]]
    before = Response.objects.filter(survey=survey).count()

    # An official with a second factor, for the export.
    User = get_user_model()
    password = secrets.token_urlsafe(20)
    official = User.objects.filter(username="kommun-redaktor").first()
    if official is None:
        official = User.objects.create_superuser("loadtest-official", password=password)
    official.set_password(password)
    official.save()
    TOTPDevice.objects.filter(user=official).delete()
    device = TOTPDevice.objects.create(user=official, name="loadtest", confirmed=True)
    used_steps: set[int] = set()

    def totp_code() -> str:
        # A code is accepted once: wait for the next time step after a used one.
        for _ in range(70):
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
            if totp.t() not in used_steps:
                used_steps.add(totp.t())
                return f"{totp.token():0{device.digits}d}"
            time.sleep(1)
        raise RuntimeError("no fresh TOTP step")

    connections.close_all()

    app_env = {**env, "GUNICORN_LOG_LEVEL": "warning"}
    apps = [
        stack.AppServer(name, port, app_env, directory / f"gunicorn-{name}.log")
        for name, port in zip(("A", "B"), APP_PORTS, strict=True)
    ]
    for app in apps:
        parts.append(app)
        app.start()
    nginx = stack.Nginx(directory, NGINX_PORT, list(APP_PORTS), CLIENT_HEADER)
    parts.append(nginx)
    nginx.start()
    nginx_version = subprocess.run(
        [nginx.binary, "-v"], capture_output=True, text=True
    ).stderr.strip()

    friendly = (ROOT / "templates" / "503.html").read_text()
    friendly_text = re.search(r"<h1>(.*?)</h1>", friendly, re.S).group(1).strip().encode()

    rng = random.Random(2026)
    plans = [
        ["forged" if rng.random() < forged_share else "valid" for _ in range(per_client)]
        for _ in range(args.clients)
    ]
    total = sum(len(p) for p in plans)
    ctx = Context(
        run_id=secrets.token_hex(3),
        form_path=survey.get_absolute_url(),
        export_path=reverse("admin:surveys_survey_export_csv", args=[survey.pk]),
        friendly=friendly_text,
        resend_share=resend_share,
        username=official.get_username(),
        password=password,
        totp_code=totp_code,
    )
    ctx.deadline = time.monotonic() + args.max_seconds
    rec = ctx.record
    rec.export_rows = 0
    print(
        f"== {args.clients} residents, {total} forms, rate limit {rate_limit}/h, "
        f"at most {args.max_seconds} s",
        flush=True,
    )
    load_before = os.getloadavg()
    threads = [Resident(n, plans[n], ctx) for n in range(args.clients)]
    threads += [Reader(ctx, [*published, f"/{survey.municipality.slug}/"], n) for n in range(2)]
    threads += [Official(ctx), Abuser(ctx, abuse_count)]
    rec.started = time.monotonic()
    controller = threading.Thread(
        target=fault_controller, args=(ctx, (apps[0], redis, pg), total), daemon=True
    )
    for thread in threads:
        thread.start()
    controller.start()
    try:
        last = 0.0
        while any(t.is_alive() for t in threads[: args.clients]):
            if time.monotonic() > ctx.deadline + RETRY_SECONDS + REQUEST_TIMEOUT:
                print("!! residents still busy past the deadline", flush=True)
                break
            time.sleep(0.5)
            if time.monotonic() - last > 15:
                last = time.monotonic()
                print(
                    f"   {rec.done}/{total} forms, {time.monotonic() - rec.started:.0f} s",
                    flush=True,
                )
    finally:
        ctx.stop.set()
    elapsed = time.monotonic() - rec.started
    controller.join(timeout=90)
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 5)
    load_after = os.getloadavg()
    faults_done = [f for f in rec.faults if "back" in f]

    # --- checked from the database ---
    if not pg.ready():
        pg.start()
    connections.close_all()
    prefix = f"lt{ctx.run_id}"
    stored_total = Response.objects.filter(survey=survey).count() - before
    marked = defaultdict(list)
    for text, response_id in Answer.objects.filter(
        response__survey=survey, text__startswith=prefix
    ).values_list("text", "response_id"):
        marked[text].append(response_id)
    answers_of = dict(
        Answer.objects.filter(response__survey=survey)
        .values_list("response_id")
        .annotate(n=Count("pk"))
        .values_list("response_id", "n")
    )
    twice = {m: ids for m, ids in marked.items() if len(ids) > 1}
    missing = [m for m in rec.acknowledged if m not in marked]
    incomplete = [
        m
        for m, ids in marked.items()
        if m in rec.acknowledged and any(answers_of.get(i) != rec.acknowledged[m] for i in ids)
    ]
    stored_refused = [m for m in marked if m in rec.refused]
    stored_unacked = {m: rec.unacknowledged[m] for m in marked if m in rec.unacknowledged}
    after_503_only = [m for m, why in stored_unacked.items() if why.startswith("503")]
    unknown = stored_total - sum(len(ids) for ids in marked.values())
    stray = [
        m
        for m in marked
        if m not in rec.acknowledged and m not in rec.unacknowledged and m not in rec.refused
    ]
    connections.close_all()

    logs = {app.name: app.log.read_text(errors="replace") for app in apps}
    tracebacks = {name: text.count("Traceback") for name, text in logs.items()}
    five_hundreds = {name: text.count("Internal Server Error") for name, text in logs.items()}

    checks = {
        "every acknowledged submission is stored": not missing,
        "stored exactly once (a form sent again stored nothing)": not twice,
        "each stored response has all its answers": not incomplete,
        "nothing stored that was refused (forged token)": not stored_refused,
        "nothing stored after a 503 told the resident it was not saved": not after_503_only,
        "no response stored the residents did not send": unknown == 0 and not stray,
        "no 5xx but the portal's Swedish 503 page": not rec.unfriendly,
        "every fault was run": len(faults_done) == len(FAULTS),
        "the README's nginx blocks are the ones run": readme_documents_proxy(),
        "no resident refused by the rate limit": not any(
            k.startswith("valid: 429") for k in rec.outcomes
        ),
    }

    # --- per fault window ---
    windows = [BEFORE, *(name for name, _ in FAULTS)]
    per_window: dict[str, Counter] = {w: Counter() for w in windows}
    last_error: dict[str, float] = {}
    for at, _what, kind in rec.errors:
        w = rec.window(at)
        per_window[w][kind.split(" (")[0] if kind.startswith("connection") else kind] += 1
        last_error[w] = max(last_error.get(w, 0), at)
    acks_per_window = Counter(rec.window(at) for at in rec.acks)

    def t(at):
        return f"{at - rec.started:.1f}"

    fault_rows = []
    for fault in rec.faults:
        name = fault["name"]
        back = fault.get("back")
        errors = per_window[name]
        after = [at for at, _w, _k in rec.errors if rec.window(at) == name and back and at > back]
        first_ack = next((at for at in rec.acks if back and at >= back), None)
        if not errors:
            recovered = "no error seen"
        elif not after:
            recovered = "0 s (no error once it was back)"
        else:
            recovered = f"{max(after) - back:.1f} s after it was back"
        fault_rows.append(
            f"| {name} | {t(fault['start'])} s | {back - fault['start']:.1f} s | "
            f"{errors.get(FRIENDLY_KIND, 0)} | {errors.get('connection error', 0)} | "
            f"{sum(v for k, v in errors.items() if k != FRIENDLY_KIND and k != 'connection error')} | "
            f"{recovered} | {f'{first_ack - back:.1f} s' if first_ack else 'none'} |"
            if back
            else f"| {name} | {t(fault['start'])} s | not finished | | | | | |"
        )
    base = per_window[BEFORE]

    rec.latencies.sort()
    rec.form_latencies.sort()

    def pct(p, values=rec.latencies):
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(len(values) * p))] * 1000

    acknowledged = sum(1 for m in rec.acknowledged if not m.endswith("abuse"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    pg_version = subprocess.run(
        [str(pg.bindir / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    redis_version = subprocess.run(
        [redis.binary, "--version"], capture_output=True, text=True
    ).stdout.split(" sha=")[0]
    workers = stack_workers()
    lines = [
        "# Load test results",
        "",
        f"`make loadtest` (bench/loadtest.py) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}; "
        f"a {os.cpu_count()}-core machine ({platform.platform()}), shared: load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after. Load client, nginx, both app servers, "
        "PostgreSQL and Redis all on these cores.",
        "",
        "## What ran",
        "",
        f"- {nginx_version} in front of two app servers, `gunicorn portal.wsgi` with the project's "
        f"gunicorn.conf.py ({workers} sync workers each, ports {APP_PORTS[0]} and {APP_PORTS[1]}), production "
        "settings (`PORTAL_DEVELOPMENT=false`, `DEBUG=false`, a generated `SECRET_KEY`, `ALLOWED_HOSTS`, "
        "`PORTAL_TRUSTED_PROXY_COUNT=1`, `REDIS_URL`; `SECURE_SSL_REDIRECT=false` for plain HTTP on loopback, "
        f"nginx sets `X-Forwarded-Proto`); {pg_version} (a cluster of its own, initdb'd for the run, port {PG_PORT}); "
        f"{redis_version} (its own, port {REDIS_PORT}, nothing saved). The nginx config is the README's "
        "(upstream of both servers, the `location` blocks as documented) plus two test-only parts: nginx takes "
        f"each load client's address from a header it sends (`set_real_ip_from 127.0.0.1; real_ip_header "
        f"{CLIENT_HEADER};`), since all of them connect from 127.0.0.1, and the documented "
        "`X-Forwarded-For $proxy_add_x_forwarded_for` then carries it; and long keep-alives.",
        f"- {args.clients} residents, each with its own address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 "
        f"and one /64 each in 2001:db8::/32: header values only), filling in {total} forms: GET the form, answer "
        "it from its HTML, POST, follow the redirect; "
        f"{resend_share:.0%} of the acknowledged forms sent again (Back and send), about {forged_share:.0%} with a "
        "forged token. After an error a resident waits about "
        f"{RETRY_PAUSE:.0f} s and sends the same form again, at most {RETRY_ATTEMPTS} times or {RETRY_SECONDS} s; "
        "every error is counted.",
        f"- `SURVEY_RATE_LIMIT={rate_limit}/h` for the run: above what one resident sends (about {per_client} forms "
        f"and their re-sends), so the burst fits. A script sending one form {abuse_count} times from one address "
        "runs into it.",
        "- At the same time: two visitors reading the published results pages and the municipality page "
        "(every 0.5 s), and an official (password + TOTP code) downloading the CSV export every 8 s.",
        "",
        "## Outcome",
        "",
        f"- Burst: {rec.done} forms sent in {elapsed:.0f} s ({rec.done / elapsed:.0f} forms/s, each a GET, a POST "
        f"and the thanks page); POST latency p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms; "
        f"form GET p50 {pct(0.5, rec.form_latencies):.0f} ms, p95 {pct(0.95, rec.form_latencies):.0f} ms "
        "(the last try, faults included).",
        f"- Acknowledged: {acknowledged} submissions; stored: {stored_total} new responses "
        f"({len(marked)} markers found, of which {len(stored_unacked)} from submissions the resident gave up on "
        f"after a connection error); stored twice: {len(twice)}; missing: {len(missing)}; incomplete: "
        f"{len(incomplete)}.",
        "- Outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(rec.outcomes.items())) + ".",
        "- Reads: " + ", ".join(f"{k} {v}" for k, v in sorted(rec.reads.items())) + ".",
        f"- App server logs: tracebacks {tracebacks}, 'Internal Server Error' {five_hundreds}.",
        "",
        "## Faults",
        "",
        "Each window runs from the fault's start to the next fault's start. Errors are what residents, readers and "
        "the official saw (each failed request counted, a re-sent form again). Recovered: the last error in the "
        "window, counted from the moment the component was back.",
        "",
        "| fault | at | down for | 503 (portal's page) | connection errors | other errors | recovered | "
        "first acknowledged after it was back |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| ({BEFORE}) | 0 s | | {base.get(FRIENDLY_KIND, 0)} | {base.get('connection error', 0)} | "
        f"{sum(v for k, v in base.items() if k != FRIENDLY_KIND and k != 'connection error')} | | |",
        *fault_rows,
        "",
        "Acknowledged per window: "
        + ", ".join(f"{w} {acks_per_window.get(w, 0)}" for w in windows)
        + ".",
        "",
        "## Checks (from the database)",
        "",
        "| check | result |",
        "| --- | --- |",
        *[f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in checks.items()],
        "",
    ]
    if rec.refusals:
        lines += [
            "Valid forms refused, what the page said (first three):",
            "",
            *[f"- {r}" for r in rec.refusals],
            "",
        ]
    if rec.unfriendly:
        lines += [
            "Not the portal's 503 page (first five):",
            "",
            *[f"- `{u}`" for u in rec.unfriendly[:5]],
            "",
        ]
    if missing or twice or incomplete or after_503_only or stored_refused:
        lines += [
            "Details: "
            f"missing {missing[:5]}, twice {list(twice)[:5]}, incomplete {incomplete[:5]}, "
            f"stored after 503 {after_503_only[:5]}, stored though refused {stored_refused[:5]}",
            "",
        ]
    text = "\n".join(lines)
    Path(args.output).write_text(text)
    print(text)
    for name, log in logs.items():
        if "Traceback" in log:
            print(f"--- app server {name}: first traceback ---")
            start = log.index("Traceback")
            print(log[start : start + 3000])
    if not all(checks.values()):
        raise SystemExit(1)


def readme_documents_proxy() -> bool:
    """The README's nginx snippet holds the location blocks this run used."""
    readme = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()]
    block = [line.strip() for line in stack.PROXY_LOCATION.splitlines()]
    return any(readme[i : i + len(block)] == block for i in range(len(readme)))


def stack_workers() -> int:
    import runpy

    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


if __name__ == "__main__":
    main()
