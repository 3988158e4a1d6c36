"""Import benchmark: whole processes, interpreter start included, against the official SDK.

Each variant is a fresh ``python -c …`` process timed from outside (``perf_counter`` around
``subprocess.run``), the variants alternating run by run, median of ``--runs`` (default 9):

- ``cftokens``: ``import cftokens``, ``cftokens.Client(token=…)`` and a catalogue lookup
  (``permission_groups.get("DNS Write")``): what a script pays before its first request;
- ``cftokens + HTTP stack``: the same plus ``import httpx``, which cftokens loads with the
  client's first request (shown so the comparison hides nothing);
- ``cloudflare``: ``import cloudflare``, ``cloudflare.Cloudflare(api_token=…)`` and its token
  resources (``client.user.tokens``, ``client.accounts.tokens``, ``permission_groups``);
- ``python``: the bare interpreter, for reference.

Target (issue 13): cftokens ≤ 0.45× cloudflare. Run: ``.venv/bin/python bench/bench_import.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, table, update_section

CFTOKENS = (
    "import cftokens; cftokens.Client(token='x' * 40); cftokens.permission_groups.get('DNS Write')"
)
VARIANTS = {
    "cftokens": CFTOKENS,
    "cftokens + HTTP stack (first request)": CFTOKENS + "; import httpx",
    "cloudflare": (
        "import cloudflare; c = cloudflare.Cloudflare(api_token='x' * 40); "
        "c.user.tokens, c.accounts.tokens, c.user.tokens.permission_groups"
    ),
    "python (bare interpreter)": "pass",
}


def measure(runs: int) -> dict[str, list[float]]:
    """Wall seconds per variant, alternating variants within each run."""
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    env = dict(os.environ)
    for _ in range(runs):
        for name, code in VARIANTS.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    times = measure(args.runs)
    med = {name: statistics.median(values) for name, values in times.items()}
    base = med["cloudflare"]
    rows = [
        [name, med[name] * 1000, min(times[name]) * 1000, f"{med[name] / base:.2f}×"]
        for name in VARIANTS
    ]
    ratio = med["cftokens"] / base
    ratio_http = med["cftokens + HTTP stack (first request)"] / base
    verdict = "met" if ratio <= 0.45 else "**missed**"
    body = "\n".join(
        [
            "## Import, whole process (bench/bench_import.py)",
            "",
            f"`python bench/bench_import.py` on {machine()}; load average {load:.1f} at the "
            f"start. Fresh processes timed from outside (interpreter start included), the "
            f"variants alternating, median of {args.runs}.",
            "",
            table(["process", "median ms", "fastest ms", "vs cloudflare"], rows),
            "",
            f"Target ≤ 0.45×: {ratio:.2f}× ({verdict}). cftokens loads httpx with the "
            f"client's first request, asyncio and the async client with the first "
            f"`AsyncClient`; with the HTTP stack loaded too it is {ratio_http:.2f}×.",
        ]
    )
    print(body)
    if not args.no_write:
        update_section("import", body)


if __name__ == "__main__":
    main()
