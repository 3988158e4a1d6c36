"""Sandbox benchmark: requests per second over HTTP (one uvicorn worker) against a bare
Starlette JSON endpoint measured in the same run, in-process throughput, and seeding times.

    .venv/bin/python bench/bench_sandbox.py [--duration 5] [--connections 32] [--no-write]
    .venv/bin/python bench/bench_sandbox.py --seeding-only   # the seeding table alone

The load generator is ``wrk`` when installed (``apt-get install wrk``), else a threaded
``http.client`` generator (slower than the servers, so the ratio is then a lower bound of
little meaning; the table says which one ran). Each server runs in its own process.
Writes the ``sandbox`` section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import machine, table, update_section  # noqa: E402

BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def verify(request):
    return JSONResponse({
        "success": True, "errors": [],
        "messages": [
            {"code": 10000, "message": "This API Token is valid and active", "type": None}
        ],
        "result": {"id": "c605e658dd56b0fc8659405feaa4ad3e", "status": "active"},
    })

app = Starlette(routes=[Route("/client/v4/user/tokens/verify", verify)])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def process(
    args: list[str], port: int, cwd: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(port)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wrk(url: str, headers: dict[str, str], duration: float, connections: int) -> float:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    subprocess.run(args[:3] + ["-d1s", *args[4:], url], capture_output=True, check=True)  # warm
    out = subprocess.run([*args, url], capture_output=True, check=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m is None:
        raise RuntimeError(out)
    if non2xx:
        raise RuntimeError(f"wrk saw {non2xx.group(1)} failed responses for {url}")
    return float(m.group(1))


def python_load(url: str, headers: dict[str, str], duration: float, connections: int) -> float:
    """Fallback generator: keep-alive http.client connections in threads."""
    host, port_path = url.split("//", 1)[1].split(":", 1)
    port, path = port_path.split("/", 1)
    count = [0] * connections
    stop = time.monotonic() + duration

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port))
        while time.monotonic() < stop:
            conn.request("GET", "/" + path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{url}: {response.status}")
            count[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(count) / (time.monotonic() - start)


def in_process(call: Callable[[], object], seconds: float = 2.0) -> float:
    for _ in range(200):
        call()
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            call()
        n += 100
    return n / (time.perf_counter() - start)


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def seeding_table() -> str:
    """How long building sandboxes takes: empty, the demo company, a copy of it (what the test
    suite does per test), a workshop, and bulk tokens."""
    from cftokens.sandbox import Sandbox

    demo_s = timed(lambda: Sandbox.demo(), 5)
    company = Sandbox.demo()
    copy_s = timed(lambda: company.copy(), 5)
    empty_s = timed(lambda: Sandbox(), 5)
    workshop_s = timed(lambda: Sandbox(content="none").add_attendees(30), 1)
    bulk = Sandbox(rate_limit=None)
    account = bulk.directory().accounts[0].id
    bulk_s = timed(lambda: bulk.seed_tokens(account, 500), 1)
    rows = [
        ["Sandbox() (empty)", f"{empty_s * 1000:.1f} ms"],
        ["Sandbox.demo() (47 tokens, 2,268 journal rows)", f"{demo_s * 1000:.0f} ms"],
        ["a copy of the demo company (Sandbox.copy())", f"{copy_s * 1000:.1f} ms"],
        ["30-attendee workshop (30 demo companies)", f"{workshop_s:.2f} s"],
        ["seed_tokens(account, 500)", f"{bulk_s * 1000:.0f} ms"],
    ]
    return table(["seeding", "time"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median kept)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument(
        "--seeding-only", action="store_true", help="print the seeding table only (no write)"
    )
    args = parser.parse_args()
    if args.seeding_only:
        print(f"{machine()}\n\n{seeding_table()}")
        return

    import httpx

    from cftokens.sandbox import Sandbox
    from cftokens.sandbox.context import Request

    generator = "wrk" if shutil.which("wrk") else "python http.client threads"
    load = wrk if shutil.which("wrk") else python_load
    python = sys.executable
    rows: list[list[object]] = []

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        # Every server runs in its own process; all stay up, and the scenarios are measured
        # in interleaved rounds (the median is kept), so a noisy neighbour hits them alike.
        Path(tmp, "bare.py").write_text(BARE_APP)
        port = free_port()
        uvicorn_args = ["--log-level", "warning", "--no-access-log", "--port", str(port)]
        stack.enter_context(
            process([python, "-m", "uvicorn", "bare:app", *uvicorn_args], port, cwd=tmp)
        )
        targets: dict[str, tuple[str, dict[str, str]]] = {
            "bare": (f"http://127.0.0.1:{port}/client/v4/user/tokens/verify", {})
        }
        for label, extra in (("memory", []), ("file", ["--db", str(Path(tmp, "sb.db"))])):
            port = free_port()
            token_file = Path(tmp, f"token-{label}")
            serve = [python, "-m", "cftokens", "sandbox", "serve", "--port", str(port)]
            serve += ["--rate-limit", "off", "--token-file", str(token_file), *extra]
            stack.enter_context(process(serve, port))
            base = f"http://127.0.0.1:{port}/client/v4"
            bootstrap = token_file.read_text().strip()
            auth = {"Authorization": f"Bearer {bootstrap}"}
            zones = httpx.get(f"{base}/zones", headers=auth).json()["result"]
            zone = next(z["id"] for z in zones if z["name"] == "acme.example")
            body = {
                "name": "bench-dns-read",
                "policies": [
                    {
                        "effect": "allow",
                        "permission_groups": [{"id": "82e64a83756745bbbb1c9c2701bf816b"}],
                        "resources": {f"com.cloudflare.api.account.zone.{zone}": "*"},
                    }
                ],
            }
            dns_token = httpx.post(f"{base}/user/tokens", json=body, headers=auth).json()
            dns_auth = {"Authorization": f"Bearer {dns_token['result']['value']}"}
            targets[f"verify-{label}"] = (f"{base}/user/tokens/verify", auth)
            targets[f"dns-{label}"] = (f"{base}/zones/{zone}/dns_records", dns_auth)
        samples: dict[str, list[float]] = {key: [] for key in targets}
        for _ in range(args.rounds):
            for key, (url, headers) in targets.items():
                samples[key].append(load(url, headers, args.duration, args.connections))
        results = {key: statistics.median(values) for key, values in samples.items()}

    bare = results["bare"]
    rows.append(["bare Starlette JSON endpoint (HTTP)", bare, "1.00"])
    for key, label in (
        ("verify-memory", "sandbox GET /user/tokens/verify (HTTP)"),
        ("dns-memory", "sandbox GET /zones/{id}/dns_records, authorised (HTTP)"),
        ("verify-file", "sandbox verify, --db file (WAL) (HTTP)"),
        ("dns-file", "sandbox DNS list, --db file (WAL) (HTTP)"),
    ):
        rows.append([label, results[key], f"{results[key] / bare:.2f}"])

    # 3. in-process
    sb = Sandbox.demo(rate_limit=None)
    zone = sb.extras["zones"]["acme.example"]
    created = sb.create_token(
        {
            "name": "bench",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": "82e64a83756745bbbb1c9c2701bf816b"}],
                    "resources": {f"com.cloudflare.api.account.zone.{zone}": "*"},
                }
            ],
        }
    )
    verify = Request(
        "GET",
        "/client/v4/user/tokens/verify",
        headers={"authorization": f"Bearer {sb.bootstrap_token.reveal()}"},
    )
    dns = Request(
        "GET",
        f"/client/v4/zones/{zone}/dns_records",
        headers={"authorization": f"Bearer {created.secret.reveal()}"},
    )
    rows.append(["in-process engine: verify", in_process(lambda: sb.engine.handle(verify)), "-"])
    rows.append(["in-process engine: DNS list", in_process(lambda: sb.engine.handle(dns)), "-"])
    client = httpx.Client(
        transport=sb.transport(),
        base_url=sb.base_url,
        headers={"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"},
    )
    rows.append(
        [
            "in-process httpx.Client + MockTransport: verify",
            in_process(lambda: client.get("/user/tokens/verify")),
            "-",
        ]
    )

    throughput = table(["scenario", "requests/s", "ratio to bare"], rows)
    times = seeding_table()
    verdict = min(results["verify-memory"], results["dns-memory"]) / bare
    md = (
        f"### Sandbox\n\n{machine()}; load generator: {generator}, {args.connections} "
        f"connections, median of {args.rounds} interleaved {args.duration:g}-second runs per "
        "scenario; one uvicorn worker per server (asyncio + h11, as installed), each in its "
        "own process.\n\n"
        f"{throughput}\n\n"
        f"Target: the sandbox's HTTP path at >= 50% of the bare endpoint; measured "
        f"{verdict:.0%} (lowest of verify and DNS list, in memory).\n\n{times}\n\n"
        "Command: `.venv/bin/python bench/bench_sandbox.py`"
    )
    print(md)
    if not args.no_write:
        update_section("sandbox", md)
    print(json.dumps({k: round(v) for k, v in results.items()}))
    if os.environ.get("CI") and verdict < 0.5:  # pragma: no cover
        raise SystemExit("the sandbox is below 50% of the bare endpoint")


if __name__ == "__main__":
    main()
