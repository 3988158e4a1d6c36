"""The messages of the client's errors: what went wrong, in plain words, and what to do.

Pure functions of a :class:`~._protocol.Call` and what the server answered (Cloudflare's error
codes, ``cf-ray``, an excerpt of the body): the protocol decides which error to raise, these
say it. Every text that can hold server-sent words is redacted of the client's credentials,
and quoted through :func:`server_text`: shown by the command line's rule (a hostile server's
escape sequences, bidi overrides, line separators, backspaces or floods of combining marks
as visible escapes, so a terminal or a notebook's traceback draws them as text) and cut to a
bound. The errors' fields keep what the server sent as data (codes, status, ``errors``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._shown import shown_text
from ..catalog import operations
from ..errors import APIError, CloudflareError, ErrorDetail, redact, redacted_once
from ..model import Secret

if TYPE_CHECKING:
    import httpx

    from ._protocol import Call

__all__ = [
    "auth_message",
    "body_excerpt",
    "cloudflare_said",
    "permission_message",
    "rate_limited_message",
    "ray_suffix",
    "scrub_detail",
    "server_text",
    "short_name",
    "suggest_group",
    "undecodable",
]

_LOCATION = re.compile(r"location:?\s*\[?([0-9A-Fa-f:.]+)\]?")


#: Characters of one server text (an error's message, a header) a message quotes at most.
SERVER_TEXT_LIMIT = 200
#: Entries of an error's ``error_chain`` a message quotes (the rest are counted).
CHAIN_SHOWN = 3


def server_text(text: object, limit: int = SERVER_TEXT_LIMIT) -> str:
    """Text a server sent, as an error message quotes it: redacted and shown by the command
    line's rule (:func:`~cftokens._shown.shown_text`: control characters, bidi overrides, line
    separators, invisible characters and floods of combining marks as escapes), cut to
    ``limit`` characters (``…``). Reads only the start of a huge text."""
    value = text if isinstance(text, str) else str(text)
    clean = shown_text(value[: limit * 8])
    if len(clean) <= limit and len(value) <= limit * 8:
        return clean
    return clean[: limit - 1] + "…"


def body_excerpt(text: str, secrets: Sequence[str], limit: int = 160) -> str:
    """The first ``limit`` characters of ``text`` (whitespace folded), redacted BEFORE the cut
    so a secret straddling it shows no prefix of itself; reads only the start of ``text``."""
    flat = " ".join(text[: limit * 8].split())
    clean = redact(flat, secrets=secrets)
    return clean[:limit] + ("…" if len(clean) > limit or len(text) > limit * 8 else "")


def undecodable(response: httpx.Response, body: bytes, exc: Exception) -> str:
    kind = response.headers.get("content-type", "")
    text = body[:512].decode("utf-8", "replace").lstrip().lower()
    if "html" in kind or text.startswith(("<!doctype", "<html", "<")):
        return (
            "the body is an HTML page, not Cloudflare's JSON: a proxy, firewall or load "
            "balancer between you and the API answered instead of the API"
        )
    stripped = body.strip()
    if isinstance(exc, json.JSONDecodeError) and (
        exc.pos >= len(stripped)
        or (stripped[:1] in (b"{", b"[") and stripped[-1:] not in (b"}", b"]"))
    ):
        return "the JSON body is cut off (truncated): the connection ended early"
    if isinstance(exc, json.JSONDecodeError):
        detail = exc.msg
    elif isinstance(exc, UnicodeDecodeError):
        detail = "not UTF-8"
    else:
        detail = str(exc)
    return f"the body is not valid JSON ({detail})"


def auth_message(
    call: Call[Any],
    codes: set[int],
    details: Sequence[ErrorDetail],
    token: Secret | None,
    api_key: Secret | None,
) -> str:
    """Why the credentials of ``call`` were refused, and what to do (by Cloudflare's codes)."""
    target = call.target()
    if 9109 in codes:
        text = " ".join(d.message for d in details if d.code == 9109)
        found = _LOCATION.search(text)
        if found or "location" in text.lower():
            ip = found.group(1) if found else "an address outside them"
            return (
                f"{target} was refused: the token's IP condition does not accept {ip} "
                "(requests must come from its allowed ranges and not from its denied ones). "
                f"Call from an allowed address, or add {ip} (or its range) to the token's "
                "allow_ips (and remove it from deny_ips) with "
                "tokens.update(token_id, allow_ips=[...], deny_ips=[...])."
            )
        return (
            f"{target} was refused: the token is not valid. It may be mistyped, deleted, "
            "expired or disabled, or it was rolled (rolling invalidates the old secret at "
            "once). Check the secret, or create or roll a token and use the new secret."
        )
    if 9106 in codes:
        return (
            f"{target} was refused: no credentials were sent. Pass token= to the client "
            "(or set CLOUDFLARE_API_TOKEN and use Client.from_env())."
        )
    if 9103 in codes:
        return (
            f"{target} was refused: the Global API Key or the e-mail was not accepted. "
            "Check api_key= and email= (CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL: the key "
            "of that user's profile and its login e-mail), or better, use a scoped API "
            "token (token=)."
        )
    if codes & {6003, 6111, 6100, 6101, 6102, 6103}:
        if token is None and api_key is not None:
            return (
                f"{target} was refused: the Global API Key or the e-mail is malformed. "
                "Check both for quotes, spaces or a trailing newline."
            )
        return (
            f"{target} was refused: the Authorization header is malformed. An API token is "
            "sent as 'Authorization: Bearer <token>'; check the secret for quotes, spaces or "
            "a trailing newline."
        )
    if 1000 in codes:
        kind = token.kind if token is not None else None
        on_account = call.path.startswith("/accounts/")
        if on_account and call.path.endswith("/tokens/verify") and kind == "user":
            return (
                f"{target} was refused: Invalid API Token. A user-owned token (cfut_…) "
                "is only valid at /user/tokens/verify: use client.tokens.verify() "
                "(not client.account(…).tokens.verify())."
            )
        if call.path.startswith("/user/tokens/verify") and kind != "user":
            return (
                f"{target} was refused: Invalid API Token. An account-owned token (cfat_…) "
                "is only valid at /accounts/{account_id}/tokens/verify: use "
                "client.account(account_id).tokens.verify() or pass account_id= to the "
                "client. Otherwise the token is deleted, rolled or mistyped."
            )
        return (
            f"{target} was refused: Invalid API Token. It is deleted, rolled or mistyped; "
            "check the secret or create a new token."
        )
    if 1001 in codes:
        return (
            f"{target} was refused: this credential cannot call this endpoint. An "
            "account-owned token works only on /accounts/{account_id}/… paths and the "
            "zones of its account: use client.account(account_id)… or a user-owned token."
        )
    return f"{target} was refused: the credentials were not accepted."


def permission_message(call: Call[Any]) -> tuple[str, tuple[str, ...]]:
    """Why ``call`` lacks permission, and the groups it needs (from the operations catalogue)."""
    target = call.target()
    found = operations.find(call.method, call.path)
    if found is None:
        return (
            f"{target} was refused: the token is valid but lacks the permission this call "
            "needs. The operations catalogue does not know this path, so check Cloudflare's "
            "API docs for the permission group it needs.",
            (),
        )
    names = found.operation.group_names
    if found.zone_id is not None:
        where = f"zone {found.zone_id}"
        example = f"zones=[{found.zone_id!r}]"
    elif found.account_id is not None:
        where = f"account {found.account_id}"
        example = f"accounts=[{found.account_id!r}]"
    elif found.target.value == "user":
        where = "your user"
        example = "user=<your user id>"
    else:
        where = "the resources it lists"
        example = "the zones or accounts it should reach"
    if not names:
        return (
            f"{target} was refused: the token is valid but lacks the permission this call "
            f"needs on {where}. The API spec does not say which permission group "
            f"{found.operation} needs; check Cloudflare's docs.",
            (),
        )
    needed = tuple(dict.fromkeys(names))
    if len(needed) == 1:
        choice = needed[0]
    elif len(needed) <= 6:
        choice = "one of " + ", ".join(needed)
    else:
        choice = (
            f"one of {len(needed)} groups ({', '.join(needed[:5])}, … see the error's `needed`)"
        )
    suggestion = suggest_group(needed, found.operation.path)
    return (
        f"{target} was refused: the token is valid but lacks permission. "
        f"{found.operation} needs {choice} on {where}, and this token holds none of them "
        f"there (or a deny policy removes it). Add an allow policy, e.g. "
        f"Policy.allow([{suggestion!r}], {example}), to this token or use a token that has "
        "it.",
        needed,
    )


def rate_limited_message(
    call: Call[Any], retry_after: float | None, details: Sequence[ErrorDetail]
) -> str:
    """What a 429 means and what to do about it."""
    wait = f"retry after {retry_after:g} s" if retry_after is not None else "wait a while"
    return (
        f"{call.target()} was rate limited (HTTP 429): the API limits requests per user "
        f"(Cloudflare: 1,200 per 5 minutes); {wait}. cftokens retries safe calls itself and "
        "spaces requests with rate_limit=; lower it if other tools share this user."
        + cloudflare_said(details)
    )


def suggest_group(needed: Sequence[str], template: str) -> str:
    """The group to show in an example: the least privilege that fits the path's object.

    Read groups before others; among them, the shortest whose name mentions the last literal
    segment of the path (``/zones/{zone_id}`` -> Zone Read, ``…/dns_records`` -> DNS Read).
    """
    reads = [n for n in needed if n.endswith("Read")] or list(needed)
    literals = [s for s in template.split("/") if s and not s.startswith("{")]
    words = [w.rstrip("s") for w in (literals[-1].split("_") if literals else []) if len(w) > 2]
    fitting = [n for n in reads if any(w in n.lower() for w in words)]
    return min(fitting, key=len) if fitting else reads[0]


def short_name(error: CloudflareError) -> str:
    if isinstance(error, APIError) and error.status is not None:
        return f"{type(error).__name__} (HTTP {error.status})"
    return type(error).__name__


def ray_suffix(context: Mapping[str, Any]) -> str:
    ray = context.get("request_id")
    return f" [cf-ray {server_text(ray, 80)}]" if ray else ""


def cloudflare_said(details: Sequence[ErrorDetail]) -> str:
    if not details:
        return ""
    parts = []
    for detail in details[:3]:
        code = f"{detail.code}: " if detail.code is not None else ""
        chain = "".join(
            f" ({c.code}: {server_text(c.message)})"
            if c.code is not None
            else f" ({server_text(c.message)})"
            for c in detail.error_chain[:CHAIN_SHOWN]
        )
        if len(detail.error_chain) > CHAIN_SHOWN:
            chain += f" (and {len(detail.error_chain) - CHAIN_SHOWN:,} more)"
        parts.append(f"{code}{server_text(detail.message)}{chain}")
    said = "; ".join(parts)
    return " Cloudflare said: " + said + ("" if said.endswith((".", "?", "!")) else ".")


def scrub_detail(
    detail: ErrorDetail, secrets: Sequence[str], done: dict[str, str] | None = None
) -> ErrorDetail:
    """``detail`` with ``secrets`` redacted from its message and its chain's, each distinct
    message once (``done``: the redactions made so far, for these ``secrets``)."""
    done = {} if done is None else done
    return ErrorDetail(
        detail.code,
        redacted_once(detail.message, done, secrets),
        [scrub_detail(c, secrets, done) for c in detail.error_chain],
    )
