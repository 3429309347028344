"""A fake credit bureau for tests, chaos runs and benchmarks: `GET /reports?customer_id=...` over HTTP.

Each call behaves as the script says (in order), then as `default`; on top of that a seeded random share
of calls (`fail_rate`) fails with one of `fail_with`. Behaviours:
  ok        200 {"score": ..., "delinquencies": ..., "report_id": "R-000001"}
  503, 500, 429, 404, 400
            that HTTP status with a small JSON body
  timeout   answers only after `slow_seconds` (longer than the client's timeout)
  reset     closes the connection without an answer
  garbage   200 with a body that is not JSON

Threaded, quiet (no request log, no tracebacks for clients that hung up), and started on 127.0.0.1 with
a free port. In a test:

    with BureauServer(script=["503", "503", "ok"]) as bureau:
        HttpCreditBureau(bureau.url, timeout=0.5).report(...)
        assert bureau.calls == 1

Standalone (prints its URL, serves until interrupted):

    python tests/fakes/bureau_server.py --port 8765 --fail-rate 0.3 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

BEHAVIOURS = ("ok", "503", "500", "429", "404", "400", "timeout", "reset", "garbage")
Script = Iterable[str] | Callable[[int, dict[str, str]], str]  # a list, or (call number, query) -> behaviour


@dataclass(frozen=True)
class Call:
    number: int  # 1, 2, ...
    behaviour: str
    query: dict[str, str]
    authorization: str | None = None  # the Authorization header the client sent


class BureauServer:
    """A scripted credit bureau on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(self, script: Script = (), *, default: str = "ok", fail_rate: float = 0.0,
                 fail_with: Iterable[str] = ("503", "429", "timeout"), seed: int | None = None,
                 score: int = 720, delinquencies: int = 0, slow_seconds: float = 2.0, latency: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self._rule = script if callable(script) else None
        self._script = [] if callable(script) else list(script)
        self.default, self.fail_rate, self.fail_with = default, fail_rate, tuple(fail_with)
        self.score, self.delinquencies, self.slow_seconds = score, delinquencies, slow_seconds
        self.latency = latency  # every answer takes at least this long, as a real bureau does
        for behaviour in (*self._script, default, *self.fail_with):
            _check(behaviour)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._server = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def calls(self) -> int:
        """How many requests reached /reports so far."""
        with self._lock:
            return len(self._calls)

    @property
    def log(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def start(self) -> BureauServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-bureau", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes the "timeout" answers still sleeping
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> BureauServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def next_behaviour(self, query: dict[str, str], authorization: str | None = None) -> Call:
        """Record one call and decide how it is answered."""
        with self._lock:
            number = len(self._calls) + 1
            if self._rule is not None:
                behaviour = _check(self._rule(number, query))
            elif self._script:
                behaviour = self._script.pop(0)
            else:
                behaviour = self.default
            if behaviour == "ok" and self.fail_rate and self._random.random() < self.fail_rate:
                behaviour = self._random.choice(self.fail_with)
            call = Call(number, behaviour, query, authorization)
            self._calls.append(call)
            return call

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many workers at once: a full backlog would look like a timeout

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out hang up on purpose; their broken pipes are not news."""


def _check(behaviour: str) -> str:
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; expected one of {', '.join(BEHAVIOURS)}")
    return behaviour


def _handler_for(bureau: BureauServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            parts = urlsplit(self.path)
            if parts.path.rstrip("/").rsplit("/", 1)[-1] != "reports":
                self._answer(404, {"error": "no such path"})
                return
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            self._behave(bureau.next_behaviour(query, self.headers.get("Authorization")))

        def _behave(self, call: Call) -> None:
            behaviour = call.behaviour
            if bureau.latency:
                bureau.wait(bureau.latency)
            if behaviour == "timeout":
                bureau.wait(bureau.slow_seconds)
                behaviour = "ok"
            if behaviour == "reset":
                self.close_connection = True
            elif behaviour == "garbage":
                self._send(200, b"<html>bureau maintenance</html>", "text/html")
            elif behaviour == "ok":
                self._answer(200, {"score": bureau.score, "delinquencies": bureau.delinquencies,
                                   "report_id": f"R-{call.number:06d}"})
            else:
                self._answer(int(behaviour), {"error": f"HTTP {behaviour}"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the signature http.server uses
            """Quiet: a chaos run makes thousands of calls."""

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake credit bureau answering GET /reports.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of calls that fail, 0..1")
    parser.add_argument("--fail-with", default="503,429,timeout", help="comma-separated failure behaviours")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--default", default="ok", choices=BEHAVIOURS)
    parser.add_argument("--score", type=int, default=720)
    parser.add_argument("--delinquencies", type=int, default=0)
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="how long a 'timeout' answer takes")
    args = parser.parse_args(argv)
    server = BureauServer(default=args.default, fail_rate=args.fail_rate, seed=args.seed,
                          fail_with=[b for b in args.fail_with.split(",") if b], score=args.score,
                          delinquencies=args.delinquencies, slow_seconds=args.slow_seconds,
                          host=args.host, port=args.port)
    stop = threading.Event()

    def interrupted(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    with server:
        print(f"fake credit bureau at {server.url}", flush=True)
        stop.wait()
    print(f"served {server.calls} calls", flush=True)


if __name__ == "__main__":
    main()
