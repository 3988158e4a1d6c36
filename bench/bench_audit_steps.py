"""Audit steps benchmark: CPU seconds of each step of one audit, for finding what to speed up.

For each inventory (``synthetic_inventory`` of bench/bench_audit.py and ``msp_inventory`` of
bench/bench_msp.py), one subprocess builds the audit once, then times each step again on it,
three times (the minimum is kept, with the garbage collector paused as the audit pauses it):
the inventory parse (``build_inventory``), the rules' context (``Ctx``), the rules
(``run_rules``), the findings frame (``findings_frame``: finding ids, texts, severity modifiers,
suppressions) and the tokens frame. CPU time (``time.process_time``): the machine is shared.

Prints a table (it does not rewrite BENCHMARKS.md; bench/bench_audit.py and bench/bench_msp.py
own those figures). Run: ``.venv/bin/python bench/bench_audit_steps.py`` (``--sizes 10000``
for a quick run).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, table

STEPS = ("parse", "context", "rules", "findings frame", "tokens frame")


def _best(step: Callable[[], Any]) -> float:
    times = []
    for _ in range(3):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return min(times)


def _fresh(ctx: Any) -> Any:
    """The context without what the rules make on first use and keep (each timed run of the
    rules pays for it, as the audit's one run does)."""
    for cached in ("atoms", "owner_codes", "_non_token_api"):
        vars(ctx).pop(cached, None)
    return ctx


def run(kind: str, n: int) -> dict[str, Any]:
    import pandas  # noqa: F401  (imported before timing)

    from cftokens.audit import Audit, synth
    from cftokens.audit._context import Ctx
    from cftokens.audit._inventory import build_inventory
    from cftokens.audit.frames import findings_frame, tokens_frame
    from cftokens.audit.rules import run_rules

    inventory = synth.msp_inventory(n) if kind == "msp" else synth.synthetic_inventory(n)
    audit = Audit.from_records(**inventory)
    gc.disable()
    hits, _ = run_rules(audit._ctx)
    _, _, positions = findings_frame(audit, hits)
    seconds = {
        "parse": _best(lambda: build_inventory(audit._records, audit._dir.zone_account)),
        "context": _best(
            lambda: Ctx(audit._inv, audit._dir, audit.profile, audit.now, audit._ctx.usage)
        ),
        "rules": _best(lambda: run_rules(_fresh(audit._ctx))),
        "findings frame": _best(lambda: findings_frame(audit, hits)),
        "tokens frame": _best(lambda: tokens_frame(audit, positions)),
    }
    return {"seconds": seconds, "findings": len(audit.findings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
                [sys.executable, __file__, "--child", kind, str(n)],
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
                    f"{found['findings']:,}",
                    *(f"{found['seconds'][s]:.2f}" for s in STEPS),
                    f"{total:.2f}",
                    f"{total / n * 1e6:.1f}",
                ]
            )
    print(f"Audit steps, CPU seconds (min of 3), {machine()}\n")
    print(table(["inventory", "tokens", "findings", *STEPS, "sum", "µs per token"], rows))


if __name__ == "__main__":
    main()
