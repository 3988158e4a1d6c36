"""Misuse the client's types must reject, checked by ``mypy tests/typing`` (never executed).

Each wrong line carries ``# type: ignore[code]`` for the error mypy must report there. The
project's mypy configuration is strict, so ``warn_unused_ignores`` holds: when a signature
loosens and the error disappears, the ignore becomes unused and mypy fails (as it fails when
the error changes code).
"""

from __future__ import annotations

import httpx

import cftokens as cft


def ids_are_strings(client: cft.Client) -> str:
    """A token id is a str; a Token is an object, not a dict."""
    token = client.tokens.get(123)  # type: ignore[arg-type]
    name: str = token["name"]  # type: ignore[index]
    return name


def changes_are_typed(client: cft.Client, spec: cft.TokenSpec) -> None:
    """tokens.update, dns_records.update, request and from_env take typed keyword arguments
    (TypedDicts and unions, not Any): a misspelt or mistyped one is an error."""
    client.tokens.update("t", nmae="typo")  # type: ignore[call-arg]
    client.tokens.update("t", status="disable")  # type: ignore[arg-type]
    client.dns_records.update("z", "r", ttl="300")  # type: ignore[arg-type]
    client.request("POST", "/x", json=spec)  # type: ignore[arg-type]
    client.request("GET", "/x", params={"since": object()})  # type: ignore[dict-item]
    cft.Client.from_env(transport=httpx.AsyncHTTPTransport())  # type: ignore[arg-type]
