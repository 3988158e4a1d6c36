"""Misuse the client's types must reject, checked by ``mypy tests/typing`` (never executed).

Each wrong line carries ``# type: ignore[code]`` for the error mypy must report there. The
project's mypy configuration is strict, so ``warn_unused_ignores`` holds: when a signature
loosens and the error disappears, the ignore becomes unused and mypy fails (as it fails when
the error changes code).
"""

from __future__ import annotations

import cftokens as cft


def ids_are_strings(client: cft.Client) -> str:
    """A token id is a str; a Token is an object, not a dict."""
    token = client.tokens.get(123)  # type: ignore[arg-type]
    name: str = token["name"]  # type: ignore[index]
    return name
