"""Instructions per request, counted by valgrind (callgrind): a measure of
the portal's own CPU work that this shared machine's noise does not move.

Timings of one request's parts swing by 10–20 % here from run to run, more
than most single changes to the submission path are worth. The number of
instructions the worker executes for a request is nearly the same every
run (hash seed fixed), so a change of a few microseconds shows. It counts
the process' user-space work through portal.wsgi (what gunicorn serves):
not the time spent waiting for PostgreSQL or Redis, not the kernel's
part, not gunicorn's (measure those with `make bench`).

Each count runs the process twice under callgrind, with a few requests and
with `--requests` more, and reports the difference per request, so Django's
start-up and the warm-up cancel out. Needs valgrind (apt-get install
valgrind) and the benchmark database `make bench` creates (the rows it
adds there are deleted again; not while `make bench` runs). About a minute
per kind:

    .venv/bin/python bench/instructions.py submission insert floor
    BENCH_OFF=rate .venv/bin/python bench/instructions.py submission

BENCH_OFF (comma-separated) takes a part out of the submission to price
it: `rate` (the rate limit answers "not over"), `token` (the form token is
taken as read).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("submission", "insert", "floor")
WARM_UP = 30
FEW = 3


def _environ(kind: str, path: str, body: bytes, cookie: str) -> dict:
    environ = {
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
        "wsgi.url_scheme": "http",
    }
    if kind == "submission":
        return {
            **environ,
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_COOKIE": f"csrftoken={cookie}",
            "wsgi.input": io.BytesIO(body),
        }
    return {
        **environ,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/_bench/{kind}/",
        "wsgi.input": io.BytesIO(b""),
    }


def _take_out(parts: set[str]) -> None:
    from surveys import security

    if "rate" in parts:
        security.rate_limit_exceeded = lambda request, survey: False
    if "token" in parts:
        security.token_read = lambda value, survey: security.Token(survey.pk, secrets.token_hex(32))


def serve(kind: str, requests: int) -> None:
    """Inside valgrind: warm up, then `requests` requests of `kind`."""
    import random

    from bench import run

    run.configure(os.environ["BENCH_DATABASE_URL"])
    import django

    django.setup()
    import gc

    from bench.bodies import csrf_pair, submission_body
    from surveys.models import Survey

    survey = Survey.objects.open_now().get(municipality__slug="osthammar")
    cookie, token = csrf_pair()
    rng = random.Random(1)
    # The same number of forms built in every run, whatever `requests` is:
    # building them is not what is measured.
    bodies = [submission_body(survey, token, rng).encode() for _ in range(WARM_UP + 500)]
    from portal.wsgi import application as app  # what gunicorn serves

    path = survey.get_absolute_url()
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    def one(body: bytes) -> None:
        response = app(_environ(kind, path, body, cookie), start_response)
        for _chunk in response:
            pass
        response.close()

    for body in bodies[:WARM_UP]:
        one(body)
    gc.freeze()  # as gunicorn.conf.py does once the application is loaded
    _take_out({part for part in os.environ.get("BENCH_OFF", "").split(",") if part})
    statuses.clear()
    for body in bodies[WARM_UP : WARM_UP + requests]:
        one(body)
    expected = "302 Found" if kind == "submission" else "200 OK"
    if statuses != {expected: requests}:
        raise SystemExit(f"{kind}: expected {requests} × {expected}, got {statuses}")


def _valgrind(kind: str, requests: int, database_url: str, out: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--requests",
            str(requests),
        ],
        env={**os.environ, "PYTHONHASHSEED": "0", "BENCH_DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def per_request(kind: str, requests: int, database_url: str) -> float:
    """The two runs side by side (one core each): instruction counts do
    not depend on what else runs."""
    import psycopg

    from bench import harness

    tables = (*harness.SUBMISSION_TABLES, "bench_ceiling")
    with psycopg.connect(database_url, autocommit=True) as db:
        first_new = harness.next_ids(db.cursor(), tables)
    counts, runs = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = [
                _valgrind(kind, n, database_url, f"{tmp}/{n}.out") for n in (FEW, FEW + requests)
            ]
            for process in runs:
                stdout, stderr = process.communicate()
                found = re.search(r"Collected : (\d+)", stderr)
                if process.returncode != 0 or not found:
                    raise SystemExit(f"valgrind run failed:\n{stdout}\n{stderr[-3000:]}")
                counts.append(int(found.group(1)))
    finally:
        for process in runs:
            process.wait()
        # The rows both runs added, deleted once both have ended.
        with psycopg.connect(database_url, autocommit=True) as db:
            harness.delete_added(db.cursor(), first_new)
    return (counts[1] - counts[0]) / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", choices=KINDS, help="default: submission")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.requests)
        return
    if not 1 <= args.requests <= 500 - FEW:
        raise SystemExit("--requests: between 1 and 497")
    database_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
    )
    off = os.environ.get("BENCH_OFF", "")
    for kind in args.kinds or ["submission"]:
        instructions = per_request(kind, args.requests, database_url)
        label = f"{kind} (without {off})" if off and kind == "submission" else kind
        print(f"{label:<32} {instructions / 1000:8.0f} k instructions per request", flush=True)


if __name__ == "__main__":
    main()
