"""The physical limit of a real audit: Cloudflare's rate limit, and how close ``run_audit`` comes.

1. **The MSP inventory** (``cftokens.audit.synth.msp_inventory``: 300 accounts, 30,000 zones,
   100,000 tokens): the requests an audit needs at 50 items per page (user tokens, each
   account's tokens, the account list, the zone list) against Cloudflare's 1,200 requests per
   5 minutes per user. Fixed windows: the first 1,200 go at once, each further 1,200 a window
   later, so the collection cannot take less than ``(⌈pages / 1,200⌉ − 1) × 5`` minutes.
2. **Measured on the sandbox with its rate limit on**, scaled 1:10 in count and period (120
   requests per 30 s: the same 4 requests per second sustained, so it runs in about a minute):
   26 accounts × 500 account-owned tokens (260 pages) plus the user's tokens, the account list
   and the zone list; ``cft.run_audit`` through an ``AsyncClient`` with the matching client-side
   limit (``rate_limit=(120, 30)``), started on a window boundary. Reported: requests, 429s,
   wall time and the floor the windows allow.

Run: ``.venv/bin/python bench/bench_limit.py`` (about 70 s; ``--no-write`` leaves
BENCHMARKS.md alone).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, table, update_section

PER_PAGE = 50
CLOUDFLARE_LIMIT, CLOUDFLARE_WINDOW = 1200, 300.0
SCALED_LIMIT, SCALED_WINDOW = 120, 30.0
SCALED_ACCOUNTS, SCALED_TOKENS = 26, 500


def pages(n: int) -> int:
    """Pages for ``n`` items (an empty listing still costs one request)."""
    return max(1, math.ceil(n / PER_PAGE))


def floor_seconds(requests: int, limit: int, window: float) -> float:
    """The least wall time fixed windows allow for ``requests`` started on a boundary."""
    return (math.ceil(requests / limit) - 1) * window


def msp_pages() -> dict[str, int]:
    from cftokens.audit.synth import msp_inventory

    inv = msp_inventory()
    account = sum(pages(len(items)) for items in inv["account_tokens"].values())
    account += len(inv["accounts"]) - len(inv["account_tokens"])  # accounts with no token
    return {
        "user tokens": pages(len(inv["tokens"])),
        "account tokens": account,
        "accounts": pages(len(inv["accounts"])),
        "zones": pages(len(inv["zones"])),
    }


def measured() -> dict[str, float]:
    import cftokens as cft
    from cftokens.sandbox import RateLimit

    sb = cft.Sandbox(rate_limit=RateLimit(limit=SCALED_LIMIT, period=SCALED_WINDOW))
    user = sb.user.id
    accounts = []
    for i in range(SCALED_ACCOUNTS):
        account = sb.add_account(f"Client {i:02d}", owner=user)
        sb.add_zone(f"client{i:02d}.example", account=account.id)
        sb.seed_tokens(account.id, SCALED_TOKENS)
        accounts.append(account.id)
    auditor = sb.create_token(
        cft.TokenSpec(
            name="auditor",
            policies=[
                cft.Policy.allow(["Account API Tokens Read"], accounts=accounts),
                cft.Policy.allow(["API Tokens Read"], user=user),
                cft.Policy.allow(["Zone Read"], all_zones=True),
            ],
        ),
        user=user,
    ).secret
    before = len(sb.journal)
    # start on a window boundary, as the floor assumes
    time.sleep(SCALED_WINDOW - time.time() % SCALED_WINDOW + 0.05)
    start = time.perf_counter()
    client = sb.async_client(auditor, rate_limit=(SCALED_LIMIT, SCALED_WINDOW))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = cft.run_audit(client, progress=False, now=sb.clock.now())
    elapsed = time.perf_counter() - start
    journal = sb.journal.iloc[before:]
    requests = len(journal)
    limited = int((journal["status"] == 429).sum())
    return {
        "tokens": len(audit.tokens),
        "requests": requests,
        "limited": limited,
        "seconds": elapsed,
        "floor": floor_seconds(requests - limited, SCALED_LIMIT, SCALED_WINDOW),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    need = msp_pages()
    total = sum(need.values())
    floor = floor_seconds(total, CLOUDFLARE_LIMIT, CLOUDFLARE_WINDOW)
    rows = [[what, n] for what, n in need.items()] + [["total requests", total]]
    m = measured()
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            "## The physical limit of a real audit (bench/bench_limit.py)",
            "",
            f"`python bench/bench_limit.py` on {machine()}; load average {load:.1f}.",
            "",
            "Requests the MSP inventory (300 accounts, 30,000 zones, 100,000 tokens) needs at "
            f"{PER_PAGE} per page:",
            "",
            table(["listing", "requests"], rows),
            "",
            f"At Cloudflare's {CLOUDFLARE_LIMIT:,} requests per 5 minutes those {total:,} "
            f"requests take at least {floor / 60:.0f} minutes ({math.ceil(total / 1200)} "
            "windows): collection, not computation, bounds a real audit of this size (the "
            "audit's own computation is far shorter: see the MSP section). An "
            "account's own tokens could be listed by several users (each has its own "
            "budget; Cloudflare counts the limit per user), which is the only way to go faster.",
            "",
            "Measured on the sandbox with its rate limit on, scaled 1:10 (120 requests per "
            f"30 s, the same 4 requests/s sustained): {m['tokens']:,.0f} tokens in "
            f"{SCALED_ACCOUNTS} accounts, `cft.run_audit` through an AsyncClient with "
            "`rate_limit=(120, 30)`, started on a window boundary.",
            "",
            table(
                ["requests", "429s", "wall s", "floor s (windows)", "wall / floor"],
                [
                    [
                        int(m["requests"]),
                        int(m["limited"]),
                        m["seconds"],
                        m["floor"],
                        m["seconds"] / m["floor"] if m["floor"] else float("nan"),
                    ]
                ],
            ),
            "",
            f"`cft.run_audit` finished {m['seconds'] - m['floor']:.1f} s after the last window "
            "opened: it sends each window's budget at once and waits for the next, without "
            "a 429 and without requests beyond one per page.",
        ]
    )
    print(body)
    if not args.no_write:
        update_section("limit", body)


if __name__ == "__main__":
    main()
