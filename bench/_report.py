"""Shared helpers for benchmark scripts: machine facts, tables, and BENCHMARKS.md sections.

Each benchmark script owns one section of BENCHMARKS.md, delimited by
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``; :func:`update_section` replaces only it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures from the scripts in `bench/` (each writes its own section). Comparisons are made\n"
    "side by side in one run, so ratios matter more than absolute numbers on a noisy machine.\n"
)


def machine() -> str:
    """One line describing where the figures were measured."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, {datetime.now(UTC):%Y-%m-%d}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable in a terminal)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 1:
            return f"{value:.2f}"
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def update_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = BENCHMARKS.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(BENCHMARKS)


def best_cpu(step: Callable[[], Any], rounds: int = 3) -> float:
    """The least CPU time (``time.process_time``) of ``rounds`` runs of ``step``."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return min(times)


def steps_main(
    doc: str,
    script: str,
    run: Callable[[str, int], dict[str, Any]],
    steps: Sequence[str],
    count: str,
    title: str,
    digits: int,
) -> None:
    """The command line of a steps benchmark: ``--sizes`` (default 100,000), each inventory
    kind (synthetic, MSP) in a subprocess of ``script`` (``--child KIND N`` prints ``run``'s
    JSON: ``{"seconds": {step: s}, count: n}``), then one table of CPU seconds per step."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child[0], int(args.child[1]))))
        return
    rows = []
    for n in args.sizes:
        for kind in ("synthetic", "msp"):
            out = subprocess.run(
                [sys.executable, script, "--child", kind, str(n)],
                check=True,
                capture_output=True,
                text=True,
            )
            found = json.loads(out.stdout.strip().splitlines()[-1])
            total = sum(found["seconds"].values())
            rows.append(
                [
                    kind,
                    f"{n:,}",
                    f"{found[count]:,}",
                    *(f"{found['seconds'][s]:.{digits}f}" for s in steps),
                    f"{total:.2f}",
                    f"{total / n * 1e6:.1f}",
                ]
            )
    print(f"{title}, CPU seconds (min of 3), {machine()}\n")
    print(table(["inventory", "tokens", count, *steps, "sum", "µs per token"], rows))
