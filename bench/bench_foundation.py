"""Foundation benchmarks: import cost, operation matching, policy decisions.

    python bench/bench_foundation.py [--paths 100000] [--baseline-paths 10000] [--no-write]

1. ``import cftokens`` plus first use of the three catalogues, against ``import cloudflare``
   plus constructing its client and token resources: wall time and peak RSS added by the import,
   each in fresh interpreters, interleaved, median of several runs. Target: <= 0.45x.
2. ``operations.match`` over real-looking paths against a linear scan of compiled regexes over
   all operations (the obvious implementation), same paths, same answers checked. Target: >= 50x.
3. ``evaluate`` decisions per second on one core for tokens of 1, 5 and 20 policies.
   Target: >= 100,000/s at 5 policies.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, table, update_section

CFT_IMPORT = """
import resource, time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
import cftokens
cftokens.permission_groups.get("DNS Write")
cftokens.operations.match("GET", "/zones")
cftokens.templates["Edit zone DNS"]
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""
CF_IMPORT = """
import resource, time
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
import cloudflare
client = cloudflare.Cloudflare(api_token="x" * 40)
client.user.tokens, client.accounts.tokens, client.user.tokens.permission_groups
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def bench_import(runs: int) -> tuple[str, list[list[object]]]:
    results: dict[str, list[tuple[float, float]]] = {"cftokens": [], "cloudflare": []}
    for _ in range(runs):
        for name, code in (("cftokens", CFT_IMPORT), ("cloudflare", CF_IMPORT)):
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout.split()
            results[name].append((float(out[0]), int(out[1]) / 1024))
    rows = []
    med = {
        k: (statistics.median(t for t, _ in v), statistics.median(m for _, m in v))
        for k, v in results.items()
    }
    for name in ("cftokens", "cloudflare"):
        seconds, mb = med[name]
        rows.append([name, seconds * 1000, mb])
    ratio_t = med["cftokens"][0] / med["cloudflare"][0]
    ratio_m = med["cftokens"][1] / med["cloudflare"][1]
    rows.append(["ratio cftokens/cloudflare", ratio_t, ratio_m])
    text = table(["import + catalogues / token resource", "wall ms (median)", "peak RSS MB"], rows)
    verdict = "met" if max(ratio_t, ratio_m) <= 0.45 else "NOT met"
    return text + f"\n\nTarget <= 0.45x on both: {verdict} ({runs} runs each, interleaved).", rows


def real_looking_paths(count: int, seed: int = 7) -> list[tuple[str, str]]:
    import cftokens

    rng = random.Random(seed)
    ops = list(cftokens.operations)
    hot = ("/zones/{zone_id}/dns", "/user/tokens", "/accounts/{account_id}/tokens")
    warm = ("/zones", "/accounts/{account_id}/workers")
    weights = [
        8.0 if op.path.startswith(hot) else 2.0 if op.path.startswith(warm) else 1.0 for op in ops
    ]

    def fill(name: str) -> str:
        if "name" in name:
            return rng.choice(["my-worker", "api", "assets-prod", "queue-1"])
        return "".join(rng.choice("0123456789abcdef") for _ in range(32))

    paths = []
    for op in rng.choices(ops, weights, k=count):
        path = re.sub(r"\{([^}]+)\}", lambda m: fill(m.group(1)), op.path)
        if rng.random() < 0.3:
            path = "/client/v4" + path
        if rng.random() < 0.2:
            path += "?page=2&per_page=50"
        paths.append((op.method, path))
    return paths


def bench_match(n_paths: int, n_baseline: int) -> tuple[str, list[list[object]]]:
    import cftokens
    from cftokens.catalog.operations import normalise_path

    paths = real_looking_paths(n_paths)
    ops = list(cftokens.operations)

    # The obvious implementation: one compiled regex per operation, scanned in full, the most
    # literal match (fewest parameters) wins.
    compiled = []
    for op in ops:
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+?", re.escape(op.path)) + "$"
        compiled.append((op.method, re.compile(regex), op.path.count("{"), op))

    def linear(method: str, path: str) -> object:
        clean = normalise_path(path)
        best = None
        for op_method, regex, params, op in compiled:
            if op_method == method and regex.match(clean) and (best is None or params < best[0]):
                best = (params, op)
        return best[1] if best else None

    t = time.perf_counter()
    found = [cftokens.operations.match(m, p).operation for m, p in paths]
    trie_s = time.perf_counter() - t

    sample = paths[:n_baseline]
    t = time.perf_counter()
    base = [linear(m, p) for m, p in sample]
    linear_s = time.perf_counter() - t

    disagree = sum(
        1
        for a, b in zip(found[:n_baseline], base, strict=True)
        if a.path.count("{") != b.path.count("{")  # type: ignore[attr-defined]
    )
    trie_rate = n_paths / trie_s
    linear_rate = n_baseline / linear_s
    rows: list[list[object]] = [
        ["segment trie (operations.match)", n_paths, trie_s, trie_rate],
        ["linear regex scan", n_baseline, linear_s, linear_rate],
        ["speed-up", "", "", trie_rate / linear_rate],
    ]
    text = table(["matcher", "paths", "seconds", "paths/s"], rows)
    verdict = "met" if trie_rate / linear_rate >= 50 else "NOT met"
    text += (
        f"\n\nTarget >= 50x: {verdict}. The linear scan ran on the first {n_baseline:,} of the "
        f"same paths (rates compared); its answers differ in literalness on {disagree} of them."
    )
    return text, rows


def bench_evaluate(seconds_per_case: float = 1.5) -> tuple[str, list[list[object]]]:
    import cftokens as cft

    rng = random.Random(11)
    accounts = ["".join(rng.choice("0123456789abcdef") for _ in range(32)) for _ in range(3)]
    zones = {
        "".join(rng.choice("0123456789abcdef") for _ in range(32)): rng.choice(accounts)
        for _ in range(30)
    }
    zone_groups = ["DNS Write", "DNS Read", "Zone Read", "Cache Purge", "Zone Settings Write",
                   "Page Rules Write", "SSL and Certificates Write", "Analytics Read"]  # fmt: skip

    def make_token(n: int) -> cft.Token:
        policies = []
        for i in range(n):
            groups = rng.sample(zone_groups, 2)
            if i % 5 == 4:
                policies.append(cft.Policy.deny(groups, zones=rng.sample(list(zones), 2)))
            elif i % 3 == 2:
                policies.append(cft.Policy.allow(groups, all_zones_of=rng.choice(accounts)))
            else:
                policies.append(cft.Policy.allow(groups, zones=rng.sample(list(zones), 3)))
        return cft.Token(
            id="f" * 32,
            name=f"bench-{n}",
            policies=policies,
            condition=cft.Condition.of(["203.0.113.0/24", "2001:db8::/48"]),
        )

    queries = [
        (rng.choice(zone_groups), zone, zones[zone], f"203.0.113.{rng.randint(1, 254)}")
        for zone in rng.choices(list(zones), k=2000)
    ]
    rows: list[list[object]] = []
    at = cft.model._util.parse_datetime("2026-11-02T09:00:00Z", "at")
    for n in (1, 5, 20):
        subject = make_token(n)
        for with_ip in (True, False):
            count, allowed = 0, 0
            start = time.perf_counter()
            deadline = start + seconds_per_case
            while time.perf_counter() < deadline:
                for group, zone, account, ip in queries:
                    decision = cft.evaluate(
                        subject, group, zone=zone, account=account, ip=ip if with_ip else None,
                        at=at,
                    )  # fmt: skip
                    allowed += decision.allowed
                count += len(queries)
            elapsed = time.perf_counter() - start
            rows.append([n, "yes" if with_ip else "no", count / elapsed, f"{allowed / count:.0%}"])
    text = table(["policies", "client IP checked", "decisions/s (1 core)", "allowed"], rows)
    five = next(r for r in rows if r[0] == 5 and r[1] == "yes")
    verdict = "met" if float(five[2]) >= 100_000 else "NOT met"  # type: ignore[arg-type]
    return text + f"\n\nTarget >= 100,000/s at 5 policies (with IP check): {verdict}.", rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--baseline-paths", type=int, default=10_000)
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()

    sections = []
    for title, (text, _rows) in (
        ("Import and catalogues vs the official SDK", bench_import(args.import_runs)),
        ("operations.match vs a linear regex scan", bench_match(args.paths, args.baseline_paths)),
        ("evaluate() throughput", bench_evaluate()),
    ):
        print(f"\n## {title}\n\n{text}")
        sections.append(f"### {title}\n\n{text}")
    body = (
        "## Foundation (issue 2)\n\n"
        f"`python bench/bench_foundation.py` on {machine()}.\n\n" + "\n\n".join(sections)
    )
    if not args.no_write:
        update_section("foundation", body)


if __name__ == "__main__":
    main()
