"""The processes of an installation, started for real (Docker cannot run here): gunicorn web processes,
`bpmn-requests worker`s and the `bpmn-requests scheduler`, on a PostgreSQL schema and a Redis database of
their own. The worker test, the chaos test and the unattended benchmark drive them through the REST API.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from testenv import POSTGRES_URL, REDIS_URL, ROOT

BIN = Path(sys.executable).parent
T = TypeVar("T")
STARTUP = 45.0  # seconds a process may take to start on a busy machine


class Timeout(AssertionError):
    pass


def until(check: Callable[[], T], what: str, timeout: float = 20.0, every: float = 0.1) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise Timeout(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Proc:
    """A started process with its output in a log file; it can be restarted with the same command."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path):
        self.name, self.args, self.env, self.cwd = name, args, env, cwd
        self.log_path = cwd / f"{name}.log"
        self.starts = 0
        self.start()

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as out:
            out.write(f"--- start {self.starts} ---\n".encode())
            out.flush()
            # A session of its own: a kill reaches the process and its children (gunicorn's workers) at once.
            self.popen = subprocess.Popen(self.args, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the process and everything it started, and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)
            raise AssertionError(f"{self.name} did not stop within {timeout:.0f} s after {signal.Signals(sig).name}:"
                                 f"\n{self.log()[-3000:]}") from None


class Stack:
    """The processes of one installation: their settings, their API, their database."""

    def __init__(self, tmp: Path, database_url: str, **settings: str):
        self.tmp = tmp
        self.web_port = free_port()  # of the first web process
        self.web_ports: dict[str, int] = {}
        self.pg = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        self.schema = ""
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BPMN_REQUESTS_")}
        self.env.update({
            "BPMN_REQUESTS_DATABASE_URL": database_url,
            "BPMN_REQUESTS_PROCESSES_DIR": str(ROOT / "processes"), "BPMN_REQUESTS_FORMS_DIR": str(ROOT / "forms"),
            "BPMN_REQUESTS_SANCTIONS_DIR": str(ROOT / "data" / "sanctions"),
            "BPMN_REQUESTS_SECRET_KEY": uuid.uuid4().hex,
            **{f"BPMN_REQUESTS_{name.upper()}": value for name, value in settings.items()}})
        self.procs: dict[str, Proc] = {}
        self.tokens: dict[str, str] = {}
        self._round_robin = itertools.count()

    def create_tokens(self, *users: str) -> None:
        for user in users:
            created = self.cli("tokens", "create", "--user", user, "--name", "test", "--json")
            self.tokens[user] = json.loads(created)["token"]

    def cli(self, *args: str, **env: str) -> str:
        done = subprocess.run([str(BIN / "bpmn-requests"), *args], env={**self.env, **env}, cwd=self.tmp,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"bpmn-requests {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str, **env: str) -> Proc:
        self.procs[name] = Proc(name, list(args), {**self.env, **env}, self.tmp)
        return self.procs[name]

    def start_web(self, name: str, port: int | None = None, threads: int = 4) -> Proc:
        port = port or (self.web_port if not self.web_ports else free_port())
        self.web_ports[name] = port
        return self.start(name, str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                          "--threads", str(threads), "--graceful-timeout", "5", "--log-level", "warning",
                          "bpmn_requests.web.wsgi:app")

    def live_ports(self) -> list[int]:
        return [port for name, port in self.web_ports.items() if self.procs[name].alive]

    def api(self, method: str, path: str, user: str, body: Any = None, *, port: int | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, Any]:
        """(status, JSON body) of one call; a refused or dropped connection raises OSError (URLError)."""
        if port is None:
            ports = self.live_ports() or [self.web_port]
            port = ports[next(self._round_robin) % len(ports)]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json",
                     **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def connect(self) -> Any:
        import psycopg
        return psycopg.connect(self.pg, options=f"-csearch_path={self.schema}")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(AssertionError):
                proc.stop()


def redis_database() -> int:
    """A Redis database number nobody uses now (empty), so a test's queue is its own."""
    import redis
    for number in random.sample(range(1, 16), 15):
        if redis.Redis.from_url(f"{REDIS_URL}/{number}").dbsize() == 0:
            return number
    raise RuntimeError("every Redis database 1-15 holds data: no room for a queue of our own")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200 and json.loads(response.read())["database"] == "ok"
    except OSError:
        return False


S = TypeVar("S", bound=Stack)


@contextlib.contextmanager
def postgres_stack(tmp: Path, kind: type[S], **settings: str) -> Iterator[S]:
    """A `kind` of Stack on a fresh PostgreSQL schema and an empty Redis database; both are removed after."""
    import psycopg
    import redis
    schema, redis_db = f"t_{uuid.uuid4().hex[:12]}", redis_database()
    sep = "&" if "?" in POSTGRES_URL else "?"
    stack = kind(tmp, f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}",
                 broker_url=f"{REDIS_URL}/{redis_db}", **settings)
    stack.schema = schema
    with psycopg.connect(stack.pg, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield stack
    finally:
        stack.stop_all()
        with psycopg.connect(stack.pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        redis.Redis.from_url(f"{REDIS_URL}/{redis_db}").flushdb()
