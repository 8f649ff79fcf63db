"""The documented production deployment, started by `make loadtest` as its
own processes on loopback: a PostgreSQL cluster (initdb into a temporary
directory), a redis-server, two gunicorn app servers and nginx in front.

Everything here is started by the load test and can be stopped, killed and
started again by it; nothing touches the machine's own PostgreSQL or Redis.
Every wait is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _wait(condition, seconds: float, what: str) -> float:
    """Poll `condition` until it holds; the seconds it took. Bounded."""
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready within {seconds:.0f} s")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop_process(process: subprocess.Popen | None, sig=signal.SIGTERM, seconds=20) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Postgres:
    """A cluster of its own: initdb into `directory`, served on 127.0.0.1:port.
    PostgreSQL refuses to run as root, so as root it runs as `postgres`."""

    def __init__(self, directory: Path, port: int):
        self.port = port
        self.data = directory / "pgdata"
        self.log = directory / "postgresql.log"
        self.socket_dir = directory / "pgsocket"
        self.bindir = self._bindir()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://postgres@127.0.0.1:{port}/portal"

    @staticmethod
    def _bindir() -> Path:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
        if candidates:
            return candidates[0].parent
        found = shutil.which("initdb")
        if not found:
            raise SystemExit("The load test needs PostgreSQL's initdb (apt-get install postgresql)")
        return Path(found).resolve().parent

    def _run(
        self, *args: str, check: bool = True, timeout: float = 90
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            cwd="/",
        )

    def init(self) -> None:
        for path in (self.data, self.socket_dir):
            path.mkdir(mode=0o700)
            if self.as_user:
                user = pwd.getpwnam("postgres")
                os.chown(path, user.pw_uid, user.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "max_connections = 100\n"
            )
        if self.as_user:
            user = pwd.getpwnam("postgres")
            self.log.touch()
            os.chown(self.log, user.pw_uid, user.pw_gid)

    def _ctl(self, *args: str) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            *args,
        )

    def start(self) -> None:
        self._ctl("start")
        _wait(self.ready, 30, "PostgreSQL")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")
        _wait(self.ready, 30, "PostgreSQL")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def ready(self) -> bool:
        result = self._run(
            str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), check=False
        )
        return result.returncode == 0

    def create_database(self, name: str = "portal") -> None:
        self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )

    def close(self) -> None:
        if self.running():
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                check=False,
            )


class Redis:
    """redis-server on 127.0.0.1:port, nothing saved to disk."""

    def __init__(self, directory: Path, port: int):
        self.port = port
        self.directory = directory
        self.log = directory / "redis.log"
        self.process: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise SystemExit("The load test needs redis-server (apt-get install redis-server)")
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.log),
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.ready, 15, "Redis")

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        _stop_process(self.process, signal.SIGTERM, 15)
        self.process = None

    close = stop


class AppServer:
    """`gunicorn portal.wsgi` with the project's gunicorn.conf.py, in a
    process group of its own so that the whole server (master and workers)
    can be killed at once as in a crash."""

    def __init__(self, name: str, port: int, env: dict, log: Path):
        self.name = name
        self.port = port
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        started = time.monotonic()
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "portal.wsgi",
                    "--config",
                    str(ROOT / "gunicorn.conf.py"),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                ],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        _wait(self.healthy, 60, f"app server {self.name}")
        return time.monotonic() - started

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/healthz", timeout=2
            ) as response:
                return response.status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL to the master and every worker (its own process group)."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        if group == self.process.pid:  # the group this script created, nothing else
            os.killpg(group, signal.SIGKILL)
        else:
            self.process.kill()
        self.process.wait(timeout=10)

    def close(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            _stop_process(self.process, signal.SIGTERM, 35)
        # Workers left behind by a master that died first.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


def ensure_nginx() -> str:
    """nginx's path; installs Debian's nginx-light when missing (as root).
    If the package's own service got started by the installation, it is
    stopped again: the load test runs only its own nginx."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("The load test needs nginx: apt-get install nginx-light (as root)")
    pid_file = Path("/run/nginx.pid")
    had_pid = pid_file.exists()
    print("== installing nginx-light (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, timeout=300)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "nginx-light"], env=env, check=True, timeout=600
    )
    if not had_pid and pid_file.exists():
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
    return shutil.which("nginx") or "/usr/sbin/nginx"


# The deployment's proxy settings, as the README documents them (section
# "Deployment", "Reverse proxy"); the load test writes them into its config
# unchanged. TEST_ONLY below is what the test adds around them.
PROXY_LOCATION = """\
    location / {
        proxy_pass http://portal;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_read_timeout 300s;
    }
    # The survey form (/<kommun>/enkat/<enkät>/): a POST cut off by an app
    # server that died is sent again to the other one. Safe because of the
    # form's one-time token: a form the first server saved is answered
    # "already received" and stored nothing a second time.
    location ~ ^/[^/]+/enkat/[^/]+/$ {
        proxy_pass http://portal;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_next_upstream error timeout non_idempotent;
        proxy_next_upstream_tries 2;
    }
"""


def nginx_upstream(ports: list[int]) -> str:
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports
    )
    return f"    upstream portal {{\n{servers}\n    }}\n"


class Nginx:
    def __init__(self, directory: Path, port: int, upstream_ports: list[int], client_header: str):
        self.directory = directory / "nginx"
        self.port = port
        self.upstream_ports = upstream_ports
        self.client_header = client_header
        self.process: subprocess.Popen | None = None
        self.binary = ensure_nginx()
        self.conf = self.directory / "nginx.conf"
        self.error_log = self.directory / "error.log"

    def config(self) -> str:
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {kind}_temp_path {self.directory / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"{user}daemon off;\nworker_processes 1;\npid {self.directory / 'nginx.pid'};\n"
            f"error_log {self.error_log} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            f"{temp}\n"
            "    client_max_body_size 1m;\n"
            # Test only: the load clients all connect from 127.0.0.1, so
            # nginx takes each one's address from a header it sends (as if
            # it were the connection's source address); the documented
            # X-Forwarded-For line below then appends that address.
            "    set_real_ip_from 127.0.0.1;\n"
            f"    real_ip_header {self.client_header};\n"
            # Test only: a load client keeps its connection for the whole
            # run; an idle-closed keep-alive is not an error a resident sees.
            "    keepalive_timeout 600s;\n"
            "    keepalive_requests 1000000;\n"
            f"{nginx_upstream(self.upstream_ports)}"
            "    server {\n"
            f"        listen 127.0.0.1:{self.port};\n"
            "        server_name 127.0.0.1;\n"
            f"{PROXY_LOCATION}"
            "    }\n"
            "}\n"
        )

    def start(self) -> None:
        self.directory.mkdir(mode=0o755)
        self.conf.write_text(self.config())
        test = subprocess.run(
            [
                self.binary,
                "-t",
                "-p",
                str(self.directory),
                "-c",
                str(self.conf),
                "-e",
                str(self.error_log),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if test.returncode != 0:
            raise SystemExit(f"nginx refused its config:\n{test.stderr}")
        self.process = subprocess.Popen(
            [
                self.binary,
                "-p",
                str(self.directory),
                "-c",
                str(self.conf),
                "-e",
                str(self.error_log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: port_open(self.port), 15, "nginx")

    def close(self) -> None:
        _stop_process(self.process, signal.SIGQUIT, 15)
        self.process = None
