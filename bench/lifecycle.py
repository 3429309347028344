"""Benchmark of whole request lifecycles: what persistence costs on SQLite and PostgreSQL.

The eight seed cases run many times three ways, interleaved round-robin, so machine noise hits all
three alike: `bare` (the same use cases on the in-memory unit of work, no database), `sqlite` (the real
system on a file database) and `postgres` (the real system in a fresh schema, dropped at the end). The
three share one sanctions screener and one engine (parsed diagrams cached), so only persistence differs.

Run on demand: `python bench/lifecycle.py [--iterations N] [--postgres-url URL] [--profile MODE]`.
Never a test: the aims below are printed, not asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, text
from sqlalchemy.orm import Session

from bpmn_requests.bootstrap import LazyPepList, System, build_system, initialize, service_settings
from bpmn_requests.config import Settings
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.engine.runner import Engine
from bpmn_requests.service_tasks import build_registry
from bpmn_requests.service_tasks.kyc.sanctions import SdnScreener
from bpmn_requests.store.base import metadata
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.finance_sql import load_finance_facts
from bpmn_requests.store.memory import MemoryState, MemoryUnitOfWork
from bpmn_requests.store.memory_finance import MemoryFinanceGateway
from bpmn_requests.usecases.accounts import DEMO_PASSWORD, DEMO_USERS, add_user
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.deploy import collect_files, deploy
from bpmn_requests.usecases.seed_cases import SEED_CASES, run_seed_case

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = os.environ.get("BPMN_TESTS_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEMO_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the tests' demo date: stable amounts and due dates
AIMS = {"sqlite": 1.5, "postgres": 2.0}  # persisted / bare, on the median of a whole round
SCREENING_AIM_MS = 5.0
SCREENING_RUNS = 200
SCREENING_NAMES = {"clean": "Harriet Lowe", "hit": "Manuel A. Noriega"}


@dataclass
class Mode:
    """One way of running the seed cases: its services, how to reset its ledger, how to clean up."""

    name: str
    services: Services
    reset: Callable[[], None]
    close: Callable[[], None] = lambda: None
    samples: dict[int, list[float]] = field(default_factory=dict)  # case number -> ms per run
    rounds: list[float] = field(default_factory=list)  # ms for all eight cases of one iteration


@dataclass(frozen=True)
class Shared:
    settings: Settings
    clock: FixedClock
    screener: SdnScreener
    engine: Engine
    peps: LazyPepList


def bare_mode(shared: Shared) -> Mode:
    """The same use cases, diagrams and service tasks on the in-memory unit of work."""
    state = MemoryState()
    services = Services(engine=shared.engine, registry=build_registry(), screener=shared.screener,
                        peps=shared.peps, clock=shared.clock,
                        uow=lambda: MemoryUnitOfWork(state, shared.clock.now, snapshot=False),
                        settings=service_settings(shared.settings))
    with services.uow() as uow:
        for username, name, groups in DEMO_USERS:
            add_user(uow, username, name, groups, DEMO_PASSWORD, "admin")
        uow.commit()
    deploy(collect_files(shared.settings.processes_dir, shared.settings.forms_dir), "admin", services)

    def reset() -> None:
        state.finance = MemoryFinanceGateway(demo_finance_facts(shared.clock.today()))

    return Mode("bare", services, reset)


def _finance_reset(system: System, today: Any) -> Callable[[], None]:
    finance_tables = [t for t in reversed(metadata.sorted_tables) if t.name.startswith("ar_")]

    def reset() -> None:
        with Session(system.db) as session:
            for table in finance_tables:
                session.execute(delete(table))
            load_finance_facts(session, demo_finance_facts(today))
            session.commit()

    return reset


def sql_mode(name: str, url: str, shared: Shared, cleanup: Callable[[], None] = lambda: None) -> Mode:
    settings = Settings(database_url=url, processes_dir=shared.settings.processes_dir,
                        forms_dir=shared.settings.forms_dir, sanctions_dir=shared.settings.sanctions_dir)
    system = build_system(settings, clock=shared.clock, screener=shared.screener, peps=shared.peps,
                          engine=shared.engine)
    initialize(system, demo=True)

    def close() -> None:
        system.dispose()
        cleanup()

    return Mode(name, system.services, _finance_reset(system, shared.clock.today()), close)


def postgres_mode(url: str, shared: Shared) -> Mode | None:
    """The real system in a schema of its own, or None (with a message) when the server is unreachable."""
    server = create_engine(url, connect_args={"connect_timeout": 3})
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with server.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any failure to connect means "not here"
        server.dispose()
        print(f"postgres: skipped, {url} is not reachable ({str(exc).splitlines()[0]})")
        return None

    def drop() -> None:
        with server.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        server.dispose()

    sep = "&" if "?" in url else "?"
    try:
        return sql_mode("postgres", f"{url}{sep}options=-csearch_path%3D{schema}", shared, drop)
    except Exception:
        drop()
        raise


def run_round(mode: Mode, *, record: bool) -> dict[int, tuple[str, str | None]]:
    """Reset the ledger (untimed), then time each seed case's whole lifecycle."""
    mode.reset()
    gc.collect()
    outcomes: dict[int, tuple[str, str | None]] = {}
    total = 0.0
    for case in SEED_CASES:
        started = time.perf_counter()
        result = run_seed_case(case, mode.services)
        elapsed = (time.perf_counter() - started) * 1000.0
        total += elapsed
        outcomes[case.number] = (result.status, result.outcome)
        if record:
            mode.samples.setdefault(case.number, []).append(elapsed)
    if record:
        mode.rounds.append(total)
    return outcomes


def check_outcomes(found: dict[str, dict[int, tuple[str, str | None]]]) -> None:
    """Every mode must reach the same end for every case, or the timings compare different work."""
    reference_name, reference = next(iter(found.items()))
    for name, outcomes in found.items():
        for number, result in outcomes.items():
            if result[0] != "closed" or result != reference[number]:
                raise SystemExit(f"case {number}: {name} ended {result}, {reference_name} {reference[number]}")


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base else "   -  "


def print_table(modes: list[Mode]) -> None:
    bare = modes[0]
    persisted = modes[1:]
    head = f"{'case':<50}" + "".join(f"{m.name + ' med':>13}{'p90':>9}" for m in modes)
    head += "".join(f"{m.name + '/bare':>15}" for m in persisted)
    print(head)
    print("-" * len(head))
    rows = [(f"{c.number} {c.title}"[:49], {m.name: m.samples[c.number] for m in modes}) for c in SEED_CASES]
    rows.append(("all eight (one round)", {m.name: m.rounds for m in modes}))
    for label, samples in rows:
        medians = {name: statistics.median(values) for name, values in samples.items()}
        line = f"{label:<50}" + "".join(f"{medians[m.name]:13.1f}{p90(samples[m.name]):9.1f}" for m in modes)
        line += "".join(f"{_ratio(medians[m.name], medians[bare.name]):>15}" for m in persisted)
        print(line)
    print("(milliseconds per whole lifecycle: submit, every task, the customer's answer)")


def print_targets(modes: list[Mode]) -> None:
    base = statistics.median(modes[0].rounds)
    for mode in modes[1:]:
        ratio = statistics.median(mode.rounds) / base
        verdict = "meets" if ratio <= AIMS[mode.name] else "MISSES"
        print(f"target {mode.name}: {ratio:.2f}x bare, aim <= {AIMS[mode.name]}x: {verdict} the aim")
    for name in AIMS:
        if name not in {m.name for m in modes}:
            print(f"target {name}: not measured")


def time_screening(screener: SdnScreener) -> None:
    print(f"sanctions screening, one name against the full list ({len(screener.sdn.entries)} entries, "
          f"{len(screener.sdn.aliases)} aliases), median of {SCREENING_RUNS} runs (aim <= {SCREENING_AIM_MS} ms):")
    for label, name in SCREENING_NAMES.items():
        samples = []
        for _ in range(SCREENING_RUNS):
            started = time.perf_counter()
            result = screener.screen([(name, "customer")])
            samples.append((time.perf_counter() - started) * 1000.0)
        median = statistics.median(samples)
        verdict = "meets" if median <= SCREENING_AIM_MS else "MISSES"
        print(f"  {label:<6} {name!r:<22} median {median:6.3f} ms  p90 {p90(samples):6.3f} ms  "
              f"({len(result.candidates)} candidate(s)): {verdict} the aim")


def profile(mode: Mode, rounds: int) -> None:
    """cProfile of `rounds` rounds of one mode: where the time of a lifecycle goes."""
    profiler = cProfile.Profile()
    for _ in range(rounds):
        mode.reset()
        profiler.enable()
        for case in SEED_CASES:
            run_seed_case(case, mode.services)
        profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
    print(f"profile of {rounds} round(s) on {mode.name}, by cumulative time:")
    stats.print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def build_modes(args: argparse.Namespace, shared: Shared, workdir: Path) -> list[Mode]:
    modes = [bare_mode(shared), sql_mode("sqlite", f"sqlite:///{workdir / 'bench.db'}", shared)]
    postgres = postgres_mode(args.postgres_url, shared) if args.postgres_url else None
    if postgres is not None:
        modes.append(postgres)
    return modes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=15, help="timed rounds of the eight cases per mode")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="server for the postgres mode ('' skips)")
    parser.add_argument("--profile", choices=("bare", "sqlite", "postgres"),
                        help="instead of timing, profile a few rounds of one mode")
    args = parser.parse_args(argv)
    settings = Settings(database_url="sqlite://", processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        sanctions_dir=ROOT / "data" / "sanctions")
    started = time.perf_counter()
    screener = SdnScreener.from_directory(settings.sanctions_dir, threshold=88.0)
    print(f"sanctions list loaded once in {time.perf_counter() - started:.1f} s, shared by every mode")
    shared = Shared(settings, FixedClock(DEMO_NOW), screener, Engine(), LazyPepList())
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as tmp:
        modes = build_modes(args, shared, Path(tmp))
        try:
            # One untimed round each: parse the diagrams, warm caches and connection pools.
            check_outcomes({m.name: run_round(m, record=False) for m in modes})
            if args.profile:
                chosen = [m for m in modes if m.name == args.profile]
                if not chosen:
                    raise SystemExit(f"mode {args.profile} is not available")
                profile(chosen[0], max(1, args.iterations // 3))
                return
            for iteration in range(args.iterations):
                # Rotate the order too, so no mode always runs first after a reset.
                shift = iteration % len(modes)
                order = modes[shift:] + modes[:shift]
                check_outcomes({m.name: run_round(m, record=True) for m in order})
            print(f"{args.iterations} iterations, interleaved round-robin; {len(SEED_CASES)} seed cases "
                  f"each; python {sys.version.split()[0]}")
            print_table(modes)
            print_targets(modes)
        finally:
            for mode in modes:
                mode.close()
    time_screening(screener)


if __name__ == "__main__":
    main()
