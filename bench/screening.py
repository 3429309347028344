"""Benchmark of sanctions screening: list load time and single-name screening latency.

Run on demand: `python bench/screening.py [folder]` (default: the shipped data/sanctions). Never a test.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bpmn_requests.service_tasks.kyc.sanctions import SdnList, SdnScreener

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "data" / "sanctions"
RUNS = 2000
NAMES = {
    "hit": "Manuel A. Noriega",
    "near miss": "Manuel Jose Noriega",
    "clean": "Harriet Lowe",
    "common words": "Ahmad Ali Hassan Muhammad",  # many list names share these words: the slow case
}


def timed_ms(action: Callable[[], object], runs: int) -> list[float]:
    """Sorted wall-clock times of `runs` calls, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000.0)
    return sorted(samples)


def main(folder: Path) -> None:
    loads = timed_ms(lambda: SdnScreener(SdnList.load(folder)), 3)
    sdn = SdnList.load(folder)
    screener = SdnScreener(sdn)
    print(f"list {folder.name}: {len(sdn.entries)} entries, {len(sdn.aliases)} aliases "
          f"({sdn.skipped_aliases} aliases without an entry skipped), list date {sdn.list_date}")
    print(f"load and index: median {statistics.median(loads):.0f} ms of {len(loads)} loads")
    print(f"screening one name, {RUNS} runs each (threshold {screener.threshold}):")
    for label, name in NAMES.items():
        best = screener.screen([(name, "customer")]).candidates
        found = f"{best[0].list_name} {best[0].score:.1f}" if best else "no candidate"
        samples = timed_ms(partial(screener.screen, [(name, "customer")]), RUNS)
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"  {label:<13} {name!r:<30} median {statistics.median(samples):.3f} ms  "
              f"p99 {p99:.3f} ms  ({found})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER)
