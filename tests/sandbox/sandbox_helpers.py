"""Helpers for the sandbox tests: raw httpx access with a token, and small specs."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import httpx

from cftokens.sandbox import Sandbox

DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"
DNS_READ = "82e64a83756745bbbb1c9c2701bf816b"
ZONE_READ = "c8fed203ed3043cba015a93ad1616f1f"
API_TOKENS_WRITE = "686d18d5ac6c441c867cbf6771e58a0a"
API_TOKENS_READ = "0cc3a61731504c89b99ec1be78b77aa0"
ACCOUNT_TOKENS_WRITE = "5bc3f8b21c554832afc660159ab75fa4"
ACCOUNT_SETTINGS_READ = "c1fde68c7bcc44588cbb6ddbc16d6480"
ACCOUNT_SETTINGS_WRITE = "1af1fa2adc104452b74a9a3364202f20"


class Api:
    """A raw httpx client into a sandbox, authenticated with one secret (or none)."""

    def __init__(self, sb: Sandbox, token: Any = None, *, ip: str | None = None):
        self.sb = sb
        headers = {}
        if token is not None:
            value = token.reveal() if hasattr(token, "reveal") else str(token)
            headers["Authorization"] = f"Bearer {value}"
        self.http = httpx.Client(
            transport=sb.transport(ip=ip), base_url=sb.base_url, headers=headers
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)


@cache
def loopback_tls() -> ssl.SSLContext:
    """One TLS context for every httpx client the tests open on a loopback ``http://`` server.
    httpx builds a new one for each client and each top-level ``httpx.get`` (loading the CA
    bundle: about 40 ms of CPU each); plain http never uses it, so one shared copy serves."""
    return httpx.create_ssl_context()


def loopback_get(url: str, **options: Any) -> httpx.Response:
    """``httpx.get`` on a loopback ``http://`` URL (the shared TLS context)."""
    return httpx.get(url, verify=loopback_tls(), **options)


def loopback_put(url: str, **options: Any) -> httpx.Response:
    """``httpx.put`` on a loopback ``http://`` URL (the shared TLS context)."""
    return httpx.put(url, verify=loopback_tls(), **options)


def loopback_client(**options: Any) -> httpx.Client:
    """An ``httpx.Client`` for a loopback ``http://`` server (the shared TLS context)."""
    return httpx.Client(verify=loopback_tls(), **options)


def official_sdk(base_url: str, **credentials: Any) -> Any:
    """The official ``cloudflare`` SDK's client on a served sandbox, as the docs configure it
    (its own ``DefaultHttpxClient``), without retries; imported here, not at collection (it
    takes about 0.2 s of CPU and only the few official-SDK tests need it)."""
    import cloudflare

    http = cloudflare.DefaultHttpxClient(verify=loopback_tls())
    return cloudflare.Cloudflare(base_url=base_url, max_retries=0, http_client=http, **credentials)


def zone_policy(zone_id: str, *groups: str, effect: str = "allow") -> dict[str, Any]:
    """A wire policy granting ``groups`` (ids) on one zone."""
    return {
        "effect": effect,
        "permission_groups": [{"id": g} for g in groups or (DNS_WRITE,)],
        "resources": {f"com.cloudflare.api.account.zone.{zone_id}": "*"},
    }


def token_body(zone_id: str, name: str = "ci-dns", **extra: Any) -> dict[str, Any]:
    """A valid create body: DNS Write on one zone."""
    body: dict[str, Any] = {"name": name, "policies": [zone_policy(zone_id)]}
    body.update(extra)
    return body


def account_token_body(account_id: str, zone_id: str, name: str = "ci-dns") -> dict[str, Any]:
    """A valid account-owned create body: DNS Write on one zone, nested under the account (the
    only form Cloudflare accepts for account-owned tokens)."""
    body = token_body(zone_id, name)
    body["policies"][0]["resources"] = {
        f"com.cloudflare.api.account.{account_id}": {
            f"com.cloudflare.api.account.zone.{zone_id}": "*"
        }
    }
    return body


def error_codes(response: httpx.Response) -> list[int]:
    """The envelope's error codes (chains included)."""
    codes = []
    for error in response.json()["errors"]:
        codes.append(error["code"])
        codes.extend(e["code"] for e in error.get("error_chain", []))
    return codes


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_process(
    *args: str, timeout: float = 30
) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """Run ``cftokens sandbox serve ARGS`` on a free port until it answers; yield (process,
    base URL, the output lines up to "serving"); stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cftokens", "sandbox", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "serving" in line:
                break
        url = f"http://127.0.0.1:{port}/client/v4"
        for _ in range(200):
            try:
                loopback_get(url + "/user/tokens/verify", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield process, url, lines
    finally:
        process.terminate()
        process.wait(timeout=10)
