"""Benchmark of server-side diagram drawing: reading the DI and rendering the SVG of the largest MIWG file.

Run on demand: `python bench/drawing.py [file.bpmn] [runs]` (default: the largest file of the MIWG suite in
../shared/data/bpmn-miwg, 50 runs). Never a test.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bpmn_requests.drawing import read_diagram, render_svg

MIWG = Path(__file__).resolve().parents[2] / "shared" / "data" / "bpmn-miwg"
RUNS = 50


def timed_ms(action: Callable[[], object], runs: int) -> list[float]:
    """Sorted wall-clock times of `runs` calls, in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000.0)
    return sorted(samples)


def largest_miwg_file() -> Path:
    files = sorted(MIWG.rglob("*.bpmn"), key=lambda path: path.stat().st_size)
    if not files:
        sys.exit(f"no MIWG files under {MIWG}: pass a .bpmn file")
    return files[-1]


def main(path: Path, runs: int) -> None:
    content = path.read_bytes()
    diagram = read_diagram(content)
    svg = render_svg(diagram)
    print(f"{path.name} ({path.parent.name}): {len(content) / 1024:.0f} KiB, {len(diagram.shapes)} shapes, "
          f"{len(diagram.edges)} edges -> {len(svg) / 1024:.0f} KiB of SVG")
    for label, action in (("read DI", lambda: read_diagram(content)), ("render SVG", lambda: render_svg(diagram)),
                          ("read + render", lambda: render_svg(content))):
        samples = timed_ms(action, runs)
        print(f"  {label:<14} median {statistics.median(samples):7.2f} ms  max {samples[-1]:7.2f} ms  ({runs} runs)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else largest_miwg_file(), int(sys.argv[2]) if len(sys.argv) > 2 else RUNS)
