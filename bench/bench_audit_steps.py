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

import gc
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_cpu, steps_main

STEPS = ("parse", "context", "rules", "findings frame", "tokens frame")


def _fresh(ctx: Any) -> Any:
    """The context without what the rules make on first use and keep (each timed run of the
    rules pays for it, as the audit's one run does)."""
    for cached in ("owner_codes", "token_index"):  # (the atoms' numbers are the parse's)
        vars(ctx).pop(cached, None)
    ctx.memo.clear()
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
        "parse": best_cpu(lambda: build_inventory(audit._records, audit._dir.zone_account)),
        "context": best_cpu(
            lambda: Ctx(audit._inv, audit._dir, audit.profile, audit.now, audit._ctx.usage)
        ),
        "rules": best_cpu(lambda: run_rules(_fresh(audit._ctx))),
        "findings frame": best_cpu(lambda: findings_frame(audit, hits)),
        "tokens frame": best_cpu(lambda: tokens_frame(audit, positions)),
    }
    return {"seconds": seconds, "findings": len(audit.findings)}


def main() -> None:
    steps_main(__doc__ or "", __file__, run, STEPS, "findings", "Audit steps", 2)


if __name__ == "__main__":
    main()
