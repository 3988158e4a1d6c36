"""The fixed cost of small audits (``bench/bench_audit.py --small``): what a notebook re-run
or an inner-loop test pays whatever the inventory's size.

Three cases, each timed in CPU milliseconds per run (``time.process_time``; the machine is
shared): a tiny audit (``synthetic_inventory(3, n_accounts=3, n_zones=10)``:
``Audit.from_records`` plus its findings, tokens and grants frames), the demo company
re-audited from its export (47 tokens with their usage: ``Audit.from_json`` plus the
findings, tokens, grants and gaps frames) and the HTML report of the tiny audit (the audit
and ``to_html``, end to end). Each side runs in fresh processes, alternating (this checkout,
then ``--against``'s), and its median over the runs counts; inside a process each case's
median round counts.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CASES = (
    ("tiny", "tiny audit (3 tokens: from_records, findings, tokens, grants)"),
    ("demo", "demo company re-audited from its export (47 tokens, usage; 4 frames)"),
    ("report", "HTML report of the tiny audit (audit + to_html)"),
)


def _per_run_ms(step: Callable[[], Any], runs: int, rounds: int = 5) -> float:
    """The median round's CPU milliseconds per run of ``step`` (after 3 warm-up runs)."""
    for _ in range(3):
        step()
    spent = []
    for _ in range(rounds):
        cpu = time.process_time()
        for _ in range(runs):
            step()
        spent.append((time.process_time() - cpu) / runs * 1000)
    return statistics.median(spent)


def run_small(runs: int) -> dict[str, Any]:
    """Each case's CPU ms per run in this process (the child of :func:`compare`)."""
    import warnings

    import pandas  # noqa: F401  (imported before timing)

    import cftokens as cft
    from cftokens.audit import Audit
    from cftokens.audit.synth import synthetic_inventory

    tiny = synthetic_inventory(3, n_accounts=3, n_zones=10)

    def tiny_audit() -> None:
        audit = Audit.from_records(**tiny)
        _ = audit.findings, audit.tokens, audit.grants

    with cft.Sandbox.demo() as sandbox, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export = cft.run_audit(
            sandbox.async_client(), usage=sandbox.journal, now=sandbox.clock.now(), progress=False
        ).to_json()

    def demo_audit() -> None:
        audit = Audit.from_json(export)
        _ = audit.findings, audit.tokens, audit.grants, audit.gaps

    def report() -> None:
        Audit.from_records(**tiny).to_html()

    return {
        "tiny": _per_run_ms(tiny_audit, runs),
        "demo": _per_run_ms(demo_audit, max(runs // 10, 2)),
        "report": _per_run_ms(report, max(runs // 4, 2)),
    }


def _child(script: str, sdk: Path | None, runs: int) -> dict[str, Any]:
    env = dict(os.environ)
    if sdk is not None:
        env["PYTHONPATH"] = str(sdk)
    out = subprocess.run(
        [sys.executable, script, "--child", "small", str(runs)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def compare(script: str, against: Path | None, runs: int, repeat: int) -> dict[str, Any]:
    """Medians over ``repeat`` fresh processes of each side, alternating: this checkout's
    ``sdk`` and ``against``'s (None: only this one)."""
    ours_sdk = Path(script).resolve().parent.parent / "sdk"
    sides: dict[str, list[dict[str, Any]]] = {"ours": []}
    if against is not None:
        sides["against"] = []
    for _ in range(repeat):
        sides["ours"].append(_child(script, ours_sdk, runs))
        if against is not None:
            sides["against"].append(_child(script, against / "sdk", runs))
    return {
        side: {case: statistics.median(r[case] for r in done) for case, _ in CASES}
        for side, done in sides.items()
    }
