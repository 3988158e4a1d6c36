"""Inner test loop benchmark: ``pytest -n auto -m "not slow and not notebooks"`` by xdist mode.

Each variant is the README's inner loop as a fresh ``python -m pytest`` process (this checkout's
``sdk`` first on ``PYTHONPATH``), timed from outside: wall seconds and CPU seconds (user + system
of the process and its children, from ``getrusage``), the variants alternating run by run,
median of ``--runs`` (default 1: a run takes a minute or more). Also the sum of the tests' own
times (setup + call + teardown of each, from the run's JUnit XML): what the tests cost apart
from starting the processes and collecting (on a busy machine it grows with the load too).

- ``--dist loadfile``: the default of ``addopts`` (each file on one worker, for the notebooks);
- ``--dist worksteal``: the README's inner loop (each test to whichever worker is free);
- ``--dist load``: for reference.

The machine may be shared: the load average before each run is shown, and CPU seconds matter
more than wall seconds. Target (issue 14): the inner loop ≤ 30 s of wall time on 2 cores.
Run: ``.venv/bin/python bench/bench_test_loop.py``.

``--against DIR`` compares instead this checkout's README loop (``--dist worksteal``) with
the same loop in another checkout of the repository (``DIR``: a ``git worktree add`` of the
commit to compare with, its own ``sdk`` on ``PYTHONPATH``), alternating run by run; it prints
the table and leaves BENCHMARKS.md alone.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, machine, table, update_section

LOOP = ["-m", "pytest", "-n", "auto", "-q", "-p", "no:cacheprovider"]
SELECT = ["-m", "not slow and not notebooks"]
VARIANTS = {
    "--dist loadfile (addopts)": ["--dist", "loadfile"],
    "--dist worksteal (README)": ["--dist", "worksteal"],
    "--dist load": ["--dist", "load"],
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tests_seconds(junit: Path) -> float:
    """The sum of the tests' own times in a JUnit XML report (setup + call + teardown)."""
    return sum(float(case.get("time", 0)) for case in ET.parse(junit).iter("testcase"))


HEADERS = ["mode", "wall s", "CPU s", "CPU vs loadfile", "tests' own s", "load average before"]
Run = tuple[float, float, float, float]  # wall s, CPU s, tests' own s, load average before


Variant = tuple[Path, list[str]]  # the checkout it runs in, its --dist arguments


def measure(runs: int, variants: dict[str, Variant]) -> dict[str, list[Run]]:
    """(wall s, CPU s, tests' own s, load average before) per run of each variant, alternating."""
    results: dict[str, list[Run]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as scratch:
        junit = Path(scratch) / "junit.xml"
        for _ in range(runs):
            for name, (checkout, dist) in variants.items():
                env = {**os.environ, "PYTHONPATH": str(checkout / "sdk")}
                load = os.getloadavg()[0]
                cpu, start = _children_cpu(), time.perf_counter()
                done = subprocess.run(
                    [sys.executable, *LOOP, *dist, *SELECT, f"--junitxml={junit}"],
                    cwd=checkout,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                wall = time.perf_counter() - start
                if done.returncode != 0:
                    raise SystemExit(f"{name}: the loop failed\n{done.stdout[-3000:]}")
                own = tests_seconds(junit)
                results[name].append((wall, _children_cpu() - cpu, own, load))
    return results


def rows_of(results: dict[str, list[Run]], base: str) -> list[list[object]]:
    """One table row per variant: medians, CPU relative to ``base``'s, the loads seen."""
    reference = statistics.median(run[1] for run in results[base])
    rows: list[list[object]] = []
    for name, runs in results.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        own = statistics.median(run[2] for run in runs)
        loads = ", ".join(f"{run[3]:.1f}" for run in runs)
        rows.append([name, wall, cpu, f"{cpu / reference:.2f}×", own, loads])
    return rows


def compare(against: Path, runs: int) -> None:
    """This checkout's README loop against another checkout's, alternating (printed only)."""
    if not (against / "pyproject.toml").is_file() or not (against / "sdk").is_dir():
        raise SystemExit(f"--against {against}: not a checkout of this repository (no sdk/)")
    worksteal = VARIANTS["--dist worksteal (README)"]
    base = f"against: {against}"
    variants = {base: (against, worksteal), f"this: {ROOT}": (ROOT, worksteal)}
    headers = ["checkout", *HEADERS[1:3], "CPU vs against", *HEADERS[4:]]
    print(f"README inner loop (--dist worksteal), median of {runs}, alternating, on {machine()}\n")
    print(table(headers, rows_of(measure(runs, variants), base)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout: compare its README loop with this one's (prints only)",
    )
    args = parser.parse_args()
    if args.against is not None:
        compare(args.against.resolve(), args.runs)
        return
    results = measure(args.runs, {name: (ROOT, dist) for name, dist in VARIANTS.items()})
    rows = rows_of(results, "--dist loadfile (addopts)")
    body = "\n".join(
        [
            "## Inner test loop (bench/bench_test_loop.py)",
            "",
            f"`python bench/bench_test_loop.py --runs {args.runs}` on {machine()}: "
            '`python -m pytest -n auto -m "not slow and not notebooks"` by xdist mode, fresh '
            "processes timed from outside, the modes alternating, median of "
            f"{args.runs}. CPU: user + system of pytest and its workers; tests' own: the sum of "
            "each test's setup + call + teardown (JUnit XML).",
            "",
            table(HEADERS, rows),
            "",
            "Target ≤ 30 s of wall time on 2 cores (wall time needs a quiet machine; the CPU "
            "seconds over 2 cores bound it from below).",
        ]
    )
    print(body)
    if not args.no_write:
        update_section("test-loop", body)


if __name__ == "__main__":
    main()
