"""`make loadtest`: a burst of survey submissions against gunicorn +
PostgreSQL on loopback, with a database restart in the middle.

100+ simulated clients (told apart by X-Forwarded-For behind one trusted
proxy) send a mix of valid, duplicate (the same form twice), invalid
(tampered or tokenless) and, past their limit, rate-limited submissions.
Afterwards the database is checked: responses stored = submissions the
server acknowledged as saved, each with all its answers; duplicates stored
nothing; no 5xx but the friendly 503 while the database was down.
Bounded in count and time; writes docs/loadtest-results.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness
from bench.run import configure, create_database

PORT = int(os.environ.get("LOADTEST_PORT", "8300"))
RESULTS = ROOT / "docs" / "loadtest-results.md"
WORKERS = harness.configured_workers()


def restart_postgres() -> float:
    """Restart the local cluster; returns how long it was down (s)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=120)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--limit", type=int, default=150, help="rate limit per client and hour")
    parser.add_argument("--no-restart", action="store_true")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
    )
    env = configure(database_url)
    env.update(
        {
            "SURVEY_RATE_LIMIT": f"{args.limit}/h",
            "PORTAL_TRUSTED_PROXY_COUNT": "1",
            "DB_POOL_TIMEOUT": "3",
            "CACHE_KEY_PREFIX": f"load{os.getpid()}",
        }
    )
    os.environ.update(env)
    harness.ensure_tools()
    create_database(database_url)
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from bench.bodies import csrf_pair, submission_body
    from surveys.models import Answer, Response, Survey

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("load_demo", stdout=StringIO())
    survey = Survey.objects.open_now().get(municipality__slug="osthammar")
    path = survey.get_absolute_url()
    before_ids = set(Response.objects.filter(survey=survey).values_list("id", flat=True))

    # The plan: per client a shuffled list of requests.
    rng = random.Random(2026)
    cookie, token = csrf_pair()
    # One client in ten sends three times as much as the others and runs
    # into the rate limit; the rest stay under it all the way through.
    heavy = max(1, args.clients // 10)
    per_client = args.requests // (args.clients + 2 * heavy)
    plans: list[list[tuple[str, str, int]]] = []  # (kind, body, expected answers)
    for number in range(args.clients):
        plan = []
        valid = []
        for _ in range(per_client * (3 if number < heavy else 1)):
            roll = rng.random()
            if roll < 0.6 or not valid:
                body = submission_body(survey, token, rng)
                answers = sum(1 for k, _v in parse_qsl(body) if k.startswith("q_"))
                valid.append((body, answers))
                plan.append(("valid", body, answers))
            elif roll < 0.75:
                body, answers = rng.choice(valid)
                plan.append(("duplicate", body, answers))
            elif roll < 0.9:
                body = submission_body(survey, token, rng).replace("q_kon=", "q_kon=999999")
                plan.append(("invalid", body, 0))
            else:
                body = "&".join(
                    p
                    for p in submission_body(survey, token, rng).split("&")
                    if not p.startswith("token=")
                )
                plan.append(("invalid", body, 0))
        plans.append(plan)
    total = sum(len(plan) for plan in plans)
    print(f"== {args.clients} clients, {total} submissions, limit {args.limit}/h", flush=True)

    server = harness.start_gunicorn(env, port=PORT, workers=WORKERS)
    outcomes: Counter = Counter()
    latencies: list[float] = []
    saved_answers: dict[str, int] = {}  # token of each acknowledged body -> answers
    lock = threading.Lock()
    done = Counter()
    first_ok_after_restart: list[float] = []
    restart_window: list[float] = []

    def send(conn, body):
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "X-Forwarded-For": conn.client_ip,
        }
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or "", time.perf_counter() - started

    def run_client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        conn.client_ip = (
            f"198.51.100.{number % 250}" if number < 250 else f"203.0.113.{number % 250}"
        )
        for kind, body, answers in plans[number]:
            for attempt in range(3):
                try:
                    status, location, seconds = send(conn, body)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status, location, seconds = 0, "", 0.0
                if status in (503, 0) and attempt < 2:
                    time.sleep(1.0)  # the resident tries again, the same form
                    continue
                break
            with lock:
                latencies.append(seconds)
                token_value = dict(parse_qsl(body)).get("token", "")
                if status == 302 and "redan=1" in location and token_value in saved_answers:
                    outcomes["duplicate (nothing stored)"] += 1
                elif status == 302 and "redan=1" in location:
                    # A retry after a lost answer whose first try had been
                    # committed: "already received" acknowledges it as saved.
                    outcomes["saved"] += 1
                    outcomes["acknowledged on retry"] += 1
                    saved_answers[token_value] = answers
                elif status == 302:
                    outcomes["saved"] += 1
                    saved_answers[token_value] = answers
                    # Only once the restart is over (both ends recorded):
                    # saves that finish while it is still stopping do not count.
                    if (
                        len(restart_window) == 2
                        and not first_ok_after_restart
                        and time.monotonic() > restart_window[1]
                    ):
                        first_ok_after_restart.append(time.monotonic())
                elif status == 400:
                    outcomes["refused as invalid (400)"] += 1
                elif status == 429:
                    outcomes["rate limited (429)"] += 1
                elif status == 503:
                    outcomes["database unavailable (503)"] += 1
                else:
                    outcomes[f"other ({status})"] += 1
                done["n"] += 1
                done[kind] += 1
        conn.close()

    def restarter():
        target = args.requests * 0.4
        while done["n"] < target:
            time.sleep(0.2)
        restart_window.append(time.monotonic())
        restart_window.append(time.monotonic() + restart_postgres())
        print(
            f"== PostgreSQL restarted in {restart_window[1] - restart_window[0]:.1f} s", flush=True
        )

    started = time.monotonic()
    restart_thread = None
    if not args.no_restart:
        restart_thread = threading.Thread(target=restarter, daemon=True)
        restart_thread.start()
    try:
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(run_client, range(args.clients)))
    finally:
        elapsed = time.monotonic() - started
        server.stop()
    if restart_thread:
        restart_thread.join(timeout=60)

    connection.close()
    new = Response.objects.filter(survey=survey).exclude(id__in=before_ids)
    stored = new.count()
    stored_answers = Answer.objects.filter(response__in=new).count()
    without_answers = new.filter(answers__isnull=True).count()
    expected_answers = sum(saved_answers.values())
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    checks = {
        "responses stored = submissions acknowledged as saved": stored == outcomes["saved"],
        "every stored response has all its answers": stored_answers == expected_answers
        and without_answers == 0,
        "no 5xx other than the friendly 503": not any(k.startswith("other (5") for k in outcomes),
    }
    recovery = (
        f"{first_ok_after_restart[0] - restart_window[1]:.1f} s after the database was back"
        if first_ok_after_restart and len(restart_window) == 2
        else "n/a"
    )
    lines = [
        "# Load test results",
        "",
        f"Run by `make loadtest` on {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {os.cpu_count()} cores; "
        f"gunicorn {WORKERS} sync workers, PostgreSQL and Redis on loopback; {args.clients} concurrent clients "
        f"(X-Forwarded-For behind one trusted proxy), rate limit {args.limit}/h per client.",
        "",
        f"- Requests: {sum(outcomes.values())} in {elapsed:.0f} s = {sum(outcomes.values()) / elapsed:.0f} req/s",
        f"- Latency: p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, p99 {pct(0.99):.0f} ms (a retried request counts its last try)",
        f"- Planned mix: {dict((k, v) for k, v in done.items() if k != 'n')}",
        f"- Outcomes: {dict(outcomes)}",
        f"- Stored: {stored} responses with {stored_answers} answers (expected {expected_answers}); responses without answers: {without_answers}",
        f"- Database restart: {'not done' if args.no_restart else f'{restart_window[1] - restart_window[0]:.1f} s down; first saved submission {recovery}, without restarting the app'}",
        "",
        "| check | result |",
        "| --- | --- |",
        *[f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in checks.items()],
        "",
    ]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))
    if not all(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
