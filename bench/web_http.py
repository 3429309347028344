"""HTTP benchmark: the inbox and task completion through gunicorn on PostgreSQL with 1,000 open requests.

Run on demand: `python bench/web_http.py [--requests 1000] [--samples 200] [--workers 2] [--postgres-url URL]`.
It creates a fresh PostgreSQL schema, loads the demo data plus one invoice per extra request, submits the
open requests through the real use case (each waits at billing's investigation), starts gunicorn
against that schema, and measures with real HTTP from this process:

- opening the inbox as bob (a signed-in session, 1,000 tasks visible to him), sequentially and with
  four concurrent clients;
- completing bob's investigation through the REST API (each completion runs the instance to its next
  wait state: the approval).

It prints requests per second, median and 99th-percentile latency. The machine is shared and noisy:
compare runs side by side, never against a fixed number. The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bpmn_requests.bootstrap import build_system, initialize  # noqa: E402
from bpmn_requests.config import Settings  # noqa: E402
from bpmn_requests.domain.finance import Invoice  # noqa: E402
from bpmn_requests.store.demo_data import FinanceFacts  # noqa: E402
from bpmn_requests.store.finance_sql import load_finance_facts  # noqa: E402
from bpmn_requests.usecases.submit import SubmitRequest, submit_request  # noqa: E402
from bpmn_requests.usecases.tokens import create_token  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def report(name: str, latencies: list[float], wall: float) -> None:
    ms = [v * 1000 for v in latencies]
    print(f"{name:<42} {len(ms) / wall:8.1f} req/s   median {statistics.median(ms):7.1f} ms   "
          f"p99 {percentile(ms, 0.99):7.1f} ms   (n={len(ms)})")


def seed(url: str, count: int) -> tuple[object, str]:
    """Demo data, `count` open disputes waiting for billing, and an API token for bob."""
    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        sanctions_dir=ROOT / "data" / "sanctions", secret_key="bench-secret")
    system = build_system(settings)
    initialize(system, demo=True)
    today = date.today()
    invoices = tuple(Invoice(number=f"INV-B{n:05d}", customer_id="C-1001", amount=Decimal("1000.00"),
                             open_amount=Decimal("1000.00"), currency="USD", issued_on=today - timedelta(days=5),
                             due_on=today + timedelta(days=25), status="open") for n in range(count))
    with system.services.uow() as uow:
        load_finance_facts(uow.session, FinanceFacts(invoices=invoices))
        uow.commit()
    started = time.perf_counter()
    for invoice in invoices:
        submit_request(SubmitRequest({"type": "billing_dispute", "customer_id": "C-1001",
                                      "invoice_numbers": [invoice.number],
                                      "description": "Benchmark dispute."}, "alice"), system.services)
    print(f"seeded {count} open requests in {time.perf_counter() - started:.1f} s")
    token = create_token("bob", "bench", "admin", system.services).token
    return system, token


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPMN_REQUESTS_")}
    env.update(BPMN_REQUESTS_DATABASE_URL=url, BPMN_REQUESTS_SECRET_KEY="bench-secret",
               BPMN_REQUESTS_PROCESSES_DIR=str(ROOT / "processes"), BPMN_REQUESTS_FORMS_DIR=str(ROOT / "forms"),
               BPMN_REQUESTS_SANCTIONS_DIR=str(ROOT / "data" / "sanctions"), PYTHONPATH=str(ROOT / "src"))
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "bpmn_requests.web.wsgi:app"], env=env, cwd=ROOT)
    for _ in range(120):
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not start")


def signed_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, "no CSRF token on the login page"
    answer = session.post(f"{base}/login", data={"username": username, "password": "demo",
                                                 "csrf_token": csrf.group(1)}, timeout=10)
    assert answer.ok, answer.status_code
    return session


def timed(call: Callable[[], requests.Response]) -> float:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if response.status_code >= 400:
        raise SystemExit(f"HTTP {response.status_code}: {response.text[:200]}")
    return elapsed


def bench_inbox(base: str, samples: int) -> None:
    session = signed_in(base, "bob")
    timed(lambda: session.get(f"{base}/", timeout=60))  # warm up every worker's caches
    started = time.perf_counter()
    latencies = [timed(lambda: session.get(f"{base}/", timeout=60)) for _ in range(samples)]
    report("inbox, 1 client", latencies, time.perf_counter() - started)
    sessions = [signed_in(base, "bob") for _ in range(4)]
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        latencies = list(pool.map(lambda i: timed(lambda: sessions[i % 4].get(f"{base}/", timeout=60)),
                                  range(samples)))
    report("inbox, 4 concurrent clients", latencies, time.perf_counter() - started)


def bench_completion(base: str, token: str, samples: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    tasks = requests.get(f"{base}/api/v1/tasks", headers=headers, timeout=60).json()
    items = tasks["items"] if isinstance(tasks, dict) else tasks
    ids = [t["id"] for t in items if t["element_id"] == "Task_Investigate"][:samples]
    body = {"decision": "adjust", "corrected_amount": "900.00", "reason_code": "pricing_error",
            "note": "Benchmark correction."}
    started = time.perf_counter()
    latencies = [timed(lambda i=task_id: requests.post(f"{base}/api/v1/tasks/{i}/complete", json=body,
                                                       headers=headers, timeout=60)) for task_id in ids]
    report("complete a task (REST), 1 client", latencies, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    raw = args.postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{args.postgres_url}?options=-csearch_path%3D{schema}"
    gunicorn = None
    try:
        system, token = seed(url, args.requests)
        system.dispose()  # type: ignore[attr-defined]
        port = free_port()
        gunicorn = start_gunicorn(url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        print(f"gunicorn, {args.workers} workers, PostgreSQL, {args.requests} open requests")
        bench_inbox(base, args.samples)
        bench_completion(base, token, min(args.samples, args.requests))
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
