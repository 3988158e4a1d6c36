"""Scan benchmark: ``cft.scan`` against ``grep -E`` of the same patterns on a 100 MB tree.

    python bench/bench_scan.py [--mb 100] [--runs 3] [--tree DIR] [--no-write]

The tree is generated (seeded) in a temporary folder unless ``--tree`` names one: ~1,000 files
of mixed text (Python, JSON, HCL, YAML, env files, web-server logs, Markdown prose) of 2 KB to
400 KB, with 1 planted credential per ~50 KB in every format the scanner knows (prefixed
tokens and keys, legacy tokens and hex keys next to their names, bearer headers, notebook JSON).

Both tools read the same files from a warm page cache (one unmeasured pass first), interleaved,
median of ``--runs``, wall and CPU time (user + system: on a shared machine the CPU time is the
steadier measure); grep runs with ``LC_ALL=C`` (its fastest mode) and, for reference, a
UTF-8 locale, ``-rEin`` (recursive, extended, case-insensitive, line numbers: the information a
hit needs), with the detector's patterns written as POSIX ERE (no look-arounds: grep may report
slightly more lines). The check: both find every planted credential's line. Target:
cftokens >= 0.5x grep's throughput (the C locale figure).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sdk"))
from _report import machine, table, update_section

# The detector's patterns as POSIX ERE, for grep -E -i (see cftokens.detect).
Q = r"""\\?["']?"""
SEP = rf"""{Q}\]?[[:space:]]*(:=|=>|[:=,])[[:space:]]*{Q}"""
GREP_PATTERNS = [
    r"cf(ut|at|k)_[A-Za-z0-9]{40,60}",
    rf"(cloudflare|cf)[a-z0-9_]*_?(api_?)?token{SEP}(bearer[[:space:]]+)?[A-Za-z0-9_-]{{40}}",
    rf"((cloudflare|cf)[a-z0-9_]*_?(api|auth|global)_?key|x-auth-key){SEP}[0-9a-f]{{37,45}}",
    rf"api_?token{SEP}(bearer[[:space:]]+)?[A-Za-z0-9_-]{{40}}",
    rf"(global_?)?api_?key{SEP}[0-9a-f]{{37,45}}",
    rf"(authorization{SEP}[[:space:]]*)?bearer[[:space:]]+[A-Za-z0-9_-]{{40}}",
]

WORDS = (  # noqa: SIM905 - prose reads better than a list
    "the of and to in is for on with as by that this from are be at or an it was not we you "
    "can will if when then each every one all any some more most other such only also into "
    "zone record deploy build release service worker route origin cache request response "
    "server client config value user account team policy rule network address time day "
    "report error warning notice update change review token key secret access permission"
).split()
IDENTS = (  # noqa: SIM905
    "request response handler config settings cache session user account zone record item "
    "value result payload header client server route worker queue job task event index count "
    "access_token refresh_token cache_key api_url page_size retry_count primary_key"
).split()
ALPHA = string.ascii_letters + string.digits


class Corpus:
    """A seeded generator of mixed text with planted credentials (it knows where they are)."""

    def __init__(self, seed: int = 15):
        self.rng = random.Random(seed)
        self.planted = 0

    def rnd(self, n: int, alphabet: str = ALPHA) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def secret(self) -> str:
        self.planted += 1
        r = self.rng.randrange(8)
        if r == 0:
            return f"CLOUDFLARE_API_TOKEN={self.rnd(40)}"
        if r == 1:
            return f'  api_token = "cfut_{self.rnd(46)}"'
        if r == 2:
            return f"export CF_API_KEY={self.rnd(37, '0123456789abcdef')}"
        if r == 3:
            return f'curl -H "Authorization: Bearer {self.rnd(40)}" https://api.cloudflare.com/'
        if r == 4:
            return f'    "api_token": "cfat_{self.rnd(46)}",'
        if r == 5:
            return f"X-Auth-Key: {self.rnd(37, '0123456789abcdef')}"
        if r == 6:
            return f'   "os.environ[\\"CLOUDFLARE_API_TOKEN\\"] = \\"{self.rnd(40)}\\"\\n",'
        return f"token = 'cfk_{self.rnd(46)}'"

    def line(self, style: str) -> str:
        rng = self.rng
        if style == "py":
            ident = rng.choice(IDENTS)
            return rng.choice(
                [
                    f"    {ident} = {rng.choice(IDENTS)}.get({rng.choice(IDENTS)!r})",
                    f"def {ident}_{rng.choice(IDENTS)}(self, {rng.choice(IDENTS)}):",
                    f"        return {ident}[{rng.randrange(100)}]",
                    f"    # {' '.join(rng.choice(WORDS) for _ in range(rng.randint(4, 10)))}",
                    f"import {ident}",
                    "",
                ]
            )
        if style == "json":
            return f'    "{rng.choice(IDENTS)}": "{self.rnd(rng.randint(4, 32))}",'
        if style == "log":
            ip = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            path = "/" + "/".join(rng.choice(IDENTS) for _ in range(rng.randint(1, 4)))
            return (
                f'{ip} - - [02/Nov/2026:09:{rng.randrange(60):02d}:00 +0000] "GET {path} '
                f'HTTP/1.1" {rng.choice([200, 200, 304, 404, 500])} {rng.randrange(99999)} '
                f'"-" "Mozilla/5.0 (X11; Linux x86_64)"'
            )
        if style == "tf":
            return rng.choice(
                [
                    f'resource "cloudflare_dns_record" "{rng.choice(IDENTS)}" {{',
                    f"  zone_id = var.{rng.choice(IDENTS)}_zone",
                    f'  name    = "{rng.choice(IDENTS)}"',
                    f'  content = "192.0.2.{rng.randrange(255)}"',
                    "}",
                ]
            )
        if style == "yaml":
            return f"{'  ' * rng.randrange(3)}{rng.choice(IDENTS)}: {rng.choice(WORDS)}"
        if style == "env":
            return f"{rng.choice(IDENTS).upper()}={self.rnd(rng.randint(4, 24))}"
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))) + "."

    def file(self, size: int, style: str) -> str:
        lines: list[str] = []
        total = 0
        next_secret = self.rng.randint(20_000, 80_000)
        while total < size:
            text = self.line(style)
            if total >= next_secret:
                text = self.secret()
                next_secret += self.rng.randint(20_000, 80_000)
            lines.append(text)
            total += len(text) + 1
        return "\n".join(lines) + "\n"


STYLES = {"py": ".py", "json": ".json", "log": ".log", "tf": ".tf", "yaml": ".yaml",
          "env": ".env", "md": ".md"}  # fmt: skip


def generate(root: Path, megabytes: int, seed: int = 15) -> tuple[int, int, int]:
    """Write the tree; return (files, bytes, planted credentials)."""
    corpus = Corpus(seed)
    target = megabytes * 1_000_000
    written = files = 0
    while written < target:
        style = corpus.rng.choice(list(STYLES))
        size = min(int(corpus.rng.lognormvariate(11, 1.2)), 400_000, target - written)
        size = max(size, 2_000)
        folder = root / f"pkg{files % 40:02d}" / style
        folder.mkdir(parents=True, exist_ok=True)
        text = corpus.file(size, style)
        (folder / f"file{files:05d}{STYLES[style]}").write_text(text)
        written += len(text.encode())
        files += 1
    return files, written, corpus.planted


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_grep(root: Path, patterns: Path, locale: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, lines found) of one grep run."""
    cpu = _children_cpu()
    start = time.perf_counter()
    out = subprocess.run(
        ["grep", "-rEin", "-f", str(patterns), str(root)],
        capture_output=True,
        env={**os.environ, "LC_ALL": locale},
        check=False,
    )
    seconds = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"grep failed: {out.stderr.decode()}")
    return seconds, _children_cpu() - cpu, out.stdout.count(b"\n")


def run_scan(root: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, distinct hit lines) of one cft.scan run."""
    from cftokens.leak import scan

    cpu = time.process_time()
    start = time.perf_counter()
    result = scan(root)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return wall, used, len({(h.path, h.line) for h in result.hits})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if shutil.which("grep") is None:
        raise SystemExit("grep is needed for the comparison")
    temp = None
    if args.tree and args.tree.exists():
        root = args.tree
        files = sum(1 for p in root.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        planted = None
    else:
        temp = tempfile.TemporaryDirectory(prefix="cftokens-bench-scan-")
        root = args.tree or Path(temp.name)
        files, size, planted = generate(root, args.mb)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(GREP_PATTERNS) + "\n")
        patterns = Path(handle.name)
    try:
        run_grep(root, patterns, "C")  # warm the page cache
        walls: dict[str, list[float]] = {"cftokens": [], "grep C": [], "grep UTF-8": []}
        cpus: dict[str, list[float]] = {name: [] for name in walls}
        lines: dict[str, int] = {}
        for _ in range(args.runs):
            wall, cpu, found = run_scan(root)
            walls["cftokens"].append(wall)
            cpus["cftokens"].append(cpu)
            lines["cftokens"] = found
            for name, locale in (("grep C", "C"), ("grep UTF-8", "C.UTF-8")):
                wall, cpu, found = run_grep(root, patterns, locale)
                walls[name].append(wall)
                cpus[name].append(cpu)
                lines[name] = found
    finally:
        patterns.unlink()
        if temp is not None:
            temp.cleanup()
    mb = size / 1_000_000
    grep_wall = statistics.median(walls["grep C"])
    grep_cpu = statistics.median(cpus["grep C"])
    rows = []
    for name in walls:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        rows.append([name, wall, cpu, mb / cpu, grep_cpu / cpu, grep_wall / wall, lines[name]])
    load = os.getloadavg()[0]
    body = "\n".join(
        [
            "## scan",
            "",
            f"`python bench/bench_scan.py --mb {args.mb} --runs {args.runs}` ({machine()}; "
            f"load average {load:.1f} during the run).",
            f"A generated tree of {files:,} files, {mb:.1f} MB of mixed text"
            + (f", {planted:,} planted credentials" if planted is not None else "")
            + "; median of "
            f"{args.runs} interleaved runs, warm page cache. `grep -rEin` with the same "
            "patterns as POSIX ERE. Throughput is MB per CPU second (user + system: the "
            'machine is shared, so wall time mostly measures the neighbours); "x grep" '
            "compares with grep in the C locale, by CPU time and by wall time "
            "(target >= 0.5x).",
            "",
            table(
                [
                    "tool",
                    "wall s",
                    "CPU s",
                    "MB/CPU s",
                    "x grep (CPU)",
                    "x grep (wall)",
                    "lines found",
                ],
                rows,
            ),
        ]
    )
    print(body)
    if planted is not None and lines["cftokens"] != planted:
        raise SystemExit(f"cftokens found {lines['cftokens']} lines, {planted} were planted")
    if not args.no_write:
        update_section("scan", body)


if __name__ == "__main__":
    main()
