"""Unattended operation, measured through HTTP on PostgreSQL and Redis with real processes.

Run on demand: `python bench/unattended.py [--requests 120] [--workers 1,2,4] [--latency 0.2] [--timers 20]`.

For each worker count it starts a fresh installation (a PostgreSQL schema, a Redis database, two gunicorn
web processes, N `bpmn-requests worker`s, the scheduler, and a fake credit bureau answering after
`--latency` seconds), drives `--requests` requests of every type through the REST API to closure (the same
mix and driver as the chaos test, without failures), and reports:

- completed lifecycles per second (from the first submission to the last closure);
- task-completion latency through the API (median and 99th percentile);

then, once, the delay between a timer's due time and its firing: `--timers` billing disputes ask the customer
a question whose answer period is 15 seconds (RFI_ANSWER_PERIOD=PT15S); the delay is the time from each
instance's stored due time to its automatic closure in the audit trail.

The machine is shared and noisy: compare the columns of one run, never against a fixed number.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from chaos_plan import plans  # noqa: E402
from cluster import BIN, STARTUP, Stack, healthy, postgres_stack, until  # noqa: E402
from drive import USERS, Driver, seed_facts  # noqa: E402
from fakes.bureau_server import BureauServer  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def start(stack: Stack, workers: int, facts: Any) -> None:
    stack.cli("init", "--demo")
    seed_facts(stack, facts)
    stack.create_tokens(*USERS)
    for name in ("web-1", "web-2"):
        stack.start_web(name)
    for n in range(workers):
        stack.start(f"worker-{n + 1}", str(BIN / "bpmn-requests"), "worker")
    stack.start("scheduler", str(BIN / "bpmn-requests"), "scheduler")
    until(lambda: all(healthy(p) for p in stack.web_ports.values()), "the web processes", STARTUP)
    until(lambda: all(" ready." in stack.procs[f"worker-{n + 1}"].log() for n in range(workers)), "the workers",
          STARTUP)


def lifecycles(workers: int, count: int, latency: float) -> tuple[float, list[float]]:
    facts, planned = plans(count, date.today(), seed=23)
    with BureauServer(latency=latency) as bureau, tempfile.TemporaryDirectory() as tmp, \
            postgres_stack(Path(tmp), Stack, sweep_seconds="0.5", credit_bureau_url=bureau.url) as stack:
        start(stack, workers, facts)
        driver = Driver(stack, planned, date.today())
        began = time.perf_counter()
        driver.run(time.monotonic() + 1800)
        wall = time.perf_counter() - began
    return count / wall, driver.completion_seconds


def timer_delays(count: int) -> list[float]:
    facts, planned = plans(count * 4, date.today(), seed=29)
    disputes = [p for p in planned if p.type == "billing_dispute"][:count]
    with tempfile.TemporaryDirectory() as tmp, postgres_stack(Path(tmp), Stack, sweep_seconds="1",
                                                              rfi_answer_period="PT15S") as stack:
        start(stack, 2, facts)
        driver = Driver(stack, disputes, date.today())
        for plan in disputes:
            plan.ask_info = True
            driver.submit(plan)
        deadline = time.monotonic() + 120
        while not all(p.state.get("asked") for p in disputes) and time.monotonic() < deadline:
            driver.work("bob")  # each investigation asks the customer a question
        references = [p.reference for p in disputes]
        with stack.connect() as conn:
            due = dict(conn.execute("SELECT request_reference, due_at FROM instances WHERE request_reference = "
                                    "ANY(%s)", (references,)).fetchall())
        until(lambda: driver_closed(stack, references) == len(references), "the automatic closures", 120)
        with stack.connect() as conn:
            fired = dict(conn.execute("SELECT subject, at FROM audit_events WHERE action = 'instance.completed' "
                                      "AND subject = ANY(%s)", (references,)).fetchall())
    return [(fired[r] - due[r]).total_seconds() for r in references]


def driver_closed(stack: Stack, references: list[str]) -> int:
    with stack.connect() as conn:
        row = conn.execute("SELECT count(*) FROM requests WHERE status = 'closed' AND outcome = 'no_response' "
                           "AND reference = ANY(%s)", (references,)).fetchone()
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake credit bureau takes")
    parser.add_argument("--timers", type=int, default=20)
    args = parser.parse_args()
    print(f"{args.requests} lifecycles of every type through HTTP; bureau latency {args.latency:.2f} s")
    for workers in (int(w) for w in args.workers.split(",")):
        rate, latencies = lifecycles(workers, args.requests, args.latency)
        ms = [v * 1000 for v in latencies]
        print(f"  {workers} worker process(es): {rate:6.2f} lifecycles/s   task completion median "
              f"{statistics.median(ms):7.1f} ms   p99 {percentile(ms, 0.99):7.1f} ms   (n={len(ms)})")
    if args.timers:
        delays = timer_delays(args.timers)
        print(f"timer due -> fired ({len(delays)} timers, 2 workers, scheduler every 1 s): median "
              f"{statistics.median(delays) * 1000:.0f} ms   p99 {percentile(delays, 0.99) * 1000:.0f} ms   "
              f"max {max(delays) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

