"""Parse-side steps benchmark: CPU seconds of each step of reading an inventory into an audit.

``bench/bench_audit_steps.py`` times the parse as one step; this splits it, for the
synthetic (``synthetic_inventory``) and MSP (``msp_inventory``) inventories, one subprocess
each: the directory (its Unicode check, ``Account.from_api``/``Zone.from_api``, the directory
and its index), the compact copy of the tokens, proven the same data and Unicode
(``plain_copy``: marshal both ways, orjson), the records (``token_records``), the
bulk read of the tokens (``_read_bulk``), the rest of ``build_inventory`` (the token reader
for tokens the bulk path leaves, E(T) of tokens with deny policies, the arrays) and the date
columns (``parse_dates``, run by the rules' context). Each step runs three times on the same input
with the garbage collector paused, as the audit pauses it; the minimum is kept. CPU time
(``time.process_time``): the machine is shared.

Prints a table (it does not rewrite BENCHMARKS.md). Run:
``.venv/bin/python bench/bench_parse_steps.py`` (``--sizes 10000`` for a quick run).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import best_cpu, steps_main

STEPS = (
    "directory",
    "compact copy",
    "records",
    "bulk read",
    "rest of build_inventory",
    "dates",
)


def run(kind: str, n: int) -> dict[str, Any]:
    import pandas  # noqa: F401  (imported before timing)

    from cftokens._text import plain_copy, utf8_encodable
    from cftokens.audit import synth
    from cftokens.audit._context import DirectoryIndex
    from cftokens.audit._dates import parse_dates
    from cftokens.audit._inventory import GroupTable, _read_bulk, build_inventory
    from cftokens.audit.records import token_records
    from cftokens.model.directory import Account, Directory, Zone

    inventory = synth.msp_inventory(n) if kind == "msp" else synth.synthetic_inventory(n)
    gc.disable()

    def directory() -> tuple[list[Account], DirectoryIndex]:
        utf8_encodable(inventory["accounts"] + inventory["zones"])  # as from_records checks
        accounts = [Account.from_api(a) for a in inventory["accounts"]]
        zones = [Zone.from_api(z) for z in inventory["zones"]]
        return accounts, DirectoryIndex(Directory(accounts=accounts, zones=zones), user=None)

    accounts, index = directory()
    owned = list(inventory["account_tokens"].items())
    given = (inventory["tokens"], owned, inventory["user"], [])
    (tokens, account_tokens, user, _), _ = plain_copy(given)  # the audit reads the copy
    records = token_records(tokens, account_tokens, user, accounts)
    inv = build_inventory(records, index.zone_account)
    seconds = {
        "directory": best_cpu(directory),
        "compact copy": best_cpu(lambda: plain_copy(given)),
        "records": best_cpu(lambda: token_records(tokens, account_tokens, user, accounts)),
        "bulk read": best_cpu(lambda: _read_bulk(records, GroupTable())),
        "build_inventory": best_cpu(lambda: build_inventory(records, index.zone_account)),
        "dates": best_cpu(lambda: [parse_dates(values) for values in inv.dates.values()]),
    }
    seconds["rest of build_inventory"] = max(
        seconds.pop("build_inventory") - seconds["bulk read"], 0
    )
    return {"seconds": seconds, "zones": len(inventory["zones"])}


def main() -> None:
    steps_main(__doc__ or "", __file__, run, STEPS, "zones", "Parse-side steps", 3)


if __name__ == "__main__":
    main()
