"""How long the course notebooks take to run (target: <= 90 s together on this machine).

    python bench/bench_notebooks.py [--runs 3]

Runs every ``notebooks/NN-*.ipynb`` top to bottom in a fresh kernel (as ``scripts/
run_notebooks.py --check`` does, writing nothing) ``--runs`` times, and reports per notebook
the median time of its cells and of the whole run including the kernel's start, then the
same for nbval (``pytest notebooks/``, what the test command adds). Writes the "notebooks"
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, table, update_section  # noqa: E402

TARGET = 90.0


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location(
        "run_notebooks", ROOT / "scripts" / "run_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per notebook (median)")
    args = parser.parse_args()
    runner = _runner()
    notebooks = runner.course()
    rows = []
    cells_total = wall_total = 0.0
    for path in notebooks:
        cells, walls = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            nb, seconds = runner.execute(path)
            walls.append(time.perf_counter() - start)
            cells.append(seconds)
        code = sum(c.cell_type == "code" for c in nb.cells)
        cell_s, wall_s = statistics.median(cells), statistics.median(walls)
        cells_total += cell_s
        wall_total += wall_s
        rows.append([path.name, code, round(cell_s, 2), round(wall_s, 2)])
        print(f"{path.name:45} {code:3} cells {cell_s:6.2f} s {wall_s:6.2f} s", flush=True)
    rows.append(["total", "", round(cells_total, 2), round(wall_total, 2)])

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    nbval = time.perf_counter() - start
    summary = (done.stdout.strip().splitlines() or ["?"])[-1]
    print(f"nbval: {nbval:.1f} s ({summary})")

    met = "met" if wall_total <= TARGET else "NOT met"
    body = "\n\n".join(
        [
            "## Notebooks (issue 7)",
            f"`python bench/bench_notebooks.py --runs {args.runs}` on {machine()}. Median of "
            f"{args.runs} runs per notebook, each in a fresh kernel (nbclient); *cells* is the "
            "time of the notebook's own cells, *with kernel* adds starting and stopping the "
            "kernel.",
            table(["notebook", "code cells", "cells (s)", "with kernel (s)"], rows),
            f"Target <= {TARGET:.0f} s for the whole course: {met} ({wall_total:.1f} s with "
            f"kernels). nbval over `notebooks/` (what `python -m pytest` adds, with strict "
            f"output comparison): {nbval:.1f} s, {summary}.",
        ]
    )
    update_section("notebooks", body)


if __name__ == "__main__":
    main()
