"""Small building blocks for the benchmark: run commands, start gunicorn,
drive wrk and pgbench, read a worker's memory. Loopback only."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def run(cmd: list[str], *, env: dict | None = None, check: bool = True, quiet: bool = False) -> str:
    result = subprocess.run(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise SystemExit(
            f"Command failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
        )
    if not quiet and result.stdout.strip():
        print(result.stdout.strip())
    return result.stdout


def ensure_tools() -> None:
    missing = [tool for tool in ("wrk", "pgbench", "psql") if not shutil.which(tool)]
    if "wrk" in missing and os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (apt-get install wrk) ...")
        run(["apt-get", "update", "-qq"], quiet=True)
        run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env={"DEBIAN_FRONTEND": "noninteractive"},
            quiet=True,
        )
        missing.remove("wrk")
    if missing:
        raise SystemExit(
            f"The benchmark needs {', '.join(missing)} (apt-get install wrk postgresql-client)."
        )


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    pids: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        return [int(pid) for pid in out]

    def worker_rss_mb(self) -> float:
        """The largest resident set size among the workers, in MB."""
        largest = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        largest = max(largest, int(line.split()[1]))
            except FileNotFoundError:
                continue
        return largest / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def configured_workers() -> int:
    """The number of workers gunicorn.conf.py gives the deployment (it reads
    GUNICORN_WORKERS), so the reports name what was measured."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


def start_gunicorn(env: dict, *, port: int, workers: int) -> Server:
    # The deployment's own settings (gunicorn.conf.py), on the bench's port.
    cmd = [
        str(BIN / "gunicorn"),
        "portal.wsgi",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    process = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    server = Server(port=port, process=process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise SystemExit("gunicorn did not start within 30 s")


def get(url: str, *, timeout: float) -> int:
    """One GET, waited for to the end; the status code."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()
        return response.status


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(
    url: str,
    *,
    seconds: int = 5,
    connections: int = 32,
    threads: int = 2,
    script: str | None = None,
    env: dict | None = None,
) -> WrkResult:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = run(cmd, env=env, quiet=True)
    if "requests in" not in out:
        raise SystemExit(f"wrk failed against {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    if requests == 0:
        # A zero would pass for a measurement and skew every median.
        raise SystemExit(f"wrk completed no request against {url} in {seconds} s:\n{out}")
    return WrkResult(rps=rps, p50_ms=p50, p99_ms=p99, errors=errors, requests=requests)


def pgbench(
    database_url: str,
    script: Path,
    *,
    seconds: int = 5,
    clients: int = 8,
    mode: str = "simple",
) -> float:
    """Transactions per second of `script` (pgbench's own TPS figure);
    `mode` "prepared" runs each statement prepared (parsed and planned once
    per client)."""
    out = run(
        [
            "pgbench",
            "-n",
            "-M",
            mode,
            "-T",
            str(seconds),
            "-c",
            str(clients),
            "-j",
            "2",
            "-f",
            str(script),
            database_url,
        ],
        quiet=True,
    )
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def summary(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def fmt(values: list[float], digits: int = 0) -> str:
    low, mid, high = summary(values)
    return f"{mid:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})".replace(",", " ")


# The tables a submission adds rows to, answers first: they name the responses.
SUBMISSION_TABLES = ("surveys_answer", "surveys_response", "surveys_submissionnonce")


def next_ids(cursor, tables) -> dict[str, int]:
    """Where the rows a run adds will begin, per table (a DB-API cursor)."""
    ids = {}
    for table in tables:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        ids[table] = cursor.fetchone()[0]
    return ids


def delete_added(cursor, first_new: dict[str, int]) -> None:
    """Delete the rows added since `next_ids`, in the order given."""
    for table, first in first_new.items():
        cursor.execute(f"DELETE FROM {table} WHERE id >= %s", [first])
