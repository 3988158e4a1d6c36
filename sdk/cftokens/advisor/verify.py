"""Proof in a sandbox: create the advised token, replay its intents and some near misses.

``advice.verify(sandbox)``:

1. creates the token through the sandbox's API with its bootstrap token (user-owned, or
   account-owned under ``advice.account_id``);
2. replays every covered intent with the new token, from an address its allowlist accepts:
   each is expected to be **allowed**;
3. replays a deterministic sample of *near misses*, each expected to be **denied**: the same
   operation on a zone or account the token does not name, a write operation where only
   reading was asked (on the same path, with none of the token's groups), and, when the token
   has an IP allowlist, an intent sent from an address outside it;
4. deletes the token again (``keep=True`` keeps it), and returns a DataFrame of outcomes.

An outcome is *allowed* when the request got past authorisation: a success, or an error the
handler raised afterwards (an object id that does not exist, a body the sandbox refuses, or
501 "not emulated": the sandbox authorised the call but does not emulate the endpoint). It is
*denied* on 403 (missing permission) and on authentication refusals. Intents mapped only by an
overrides file cannot be decided by the sandbox (the schema names no group): ``undecidable``.

Replaying sends real requests to the sandbox: write intents with concrete ids change its
state (write requests carry an empty JSON body, which emulated endpoints refuse after
authorisation, so templates with placeholders change nothing). The secret never leaves this
function: it is not in the DataFrame, its repr or any exception.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..catalog import operations
from ..catalog.operations import Operation, Target
from ..errors import APIError, AuthenticationError, CloudflareError, InvalidInput, PermissionDenied
from ..model.condition import parse_network
from ..model.resources import ResourceKind
from ..model.secret import Secret
from ..model.token import TokenSpec
from ..policy import evaluate_request
from .intents import Intent

if TYPE_CHECKING:
    import pandas as pd

    from ..sandbox import Sandbox
    from .advice import Advice

__all__ = ["verify"]

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_FAKE_ID = "0123456789abcdef0123456789abcdef"
_WRITES = ("POST", "PUT", "PATCH", "DELETE")
COLUMNS = [
    "kind",
    "intent",
    "method",
    "path",
    "expected",
    "outcome",
    "ok",
    "status",
    "reason",
]


def _concrete(path: str) -> str:
    """Fill the remaining placeholders with a well-formed id that names nothing."""
    return _PLACEHOLDER.sub(_FAKE_ID, path)


def _client_ip(advice: Advice) -> str | None:
    spec = advice.spec
    if not spec.allow_ips:
        return None
    denied = [parse_network(d) for d in spec.deny_ips]
    for text in spec.allow_ips:
        network = parse_network(text)
        hosts: list[Any] = []
        if network.num_addresses == 1:
            hosts = [network.network_address]
        else:
            for count, host in enumerate(network.hosts(), start=1):
                hosts.append(host)
                if count >= 64:
                    break
        for host in hosts:
            if not any(host in d for d in denied):
                return str(host)
    raise InvalidInput(
        "no address of the token's allowlist is outside its deny list, so no request could "
        "pass the IP condition"
    )


def _outside_ip(advice: Advice) -> str | None:
    """An address the token's allowlist refuses (None without an allowlist)."""
    spec = advice.spec
    if not spec.allow_ips:
        return None
    allowed = [parse_network(a) for a in spec.allow_ips]
    for candidate in ("198.51.100.77", "192.0.2.77", "203.0.113.77", "2001:db8::77", "10.9.8.7"):
        address = ipaddress.ip_address(candidate)
        if not any(address in network for network in allowed):
            return candidate
    return None


def _replay(client: Any, row: dict[str, Any]) -> None:
    """Send one request and record its status and error (never the secret)."""
    body: dict[str, Any] | None = {} if row["method"] in ("POST", "PUT", "PATCH") else None
    try:
        client.request(row["method"], row["path"], json=body)
        row["error"] = None
        row["status"] = 200
    except APIError as exc:
        row["error"] = exc
        row["status"] = exc.status or 0
    except CloudflareError as exc:  # transport trouble
        row["error"] = exc
        row["status"] = 0


def _named(spec: TokenSpec) -> tuple[set[str | None], set[str | None]]:
    """The zones and accounts the spec's policies name (an account for "all zones of A")."""
    named_zones: set[str | None] = set()
    named_accounts: set[str | None] = set()
    for policy in spec.policies:
        for atom in policy.resources:
            if atom.kind is ResourceKind.ZONE:
                named_zones.add(atom.id)
            elif atom.kind is ResourceKind.ACCOUNT:
                named_accounts.add(atom.id)
            elif atom.kind is ResourceKind.ALL_ZONES_IN:
                named_accounts.add(atom.account_id)
    return named_zones, named_accounts


def _elsewhere(
    intent: Intent, others: Sequence[str], named: set[str | None], own: str | None
) -> str | None:
    """The intent's path on the first zone or account of ``others`` the token does not name."""
    segments = intent.path.split("/")
    for other in others:
        if other not in named and other != own:
            segments[2] = other
            return _concrete("/".join(segments))
    return None


def _unheld_write(op: Operation, held: set[str]) -> str | None:
    """A write method on the read operation's path whose groups the token holds none of."""
    for method in _WRITES:
        write = operations.template(method, op.path)
        if write is None or not write.mapped:
            continue
        if any(g.id in held for g in write.accepted_groups):
            continue
        return method
    return None


def _near_misses(advice: Advice, directory: Any, limit: int, seed: int) -> list[dict[str, Any]]:
    """Requests the advised token must refuse: other zones/accounts, writes instead of reads."""
    spec = advice.spec
    named_zones, named_accounts = _named(spec)
    held = {ref.id for p in spec.policies for ref in p.permission_groups}
    zones = sorted(z.id for z in directory.zones) if directory is not None else []
    accounts = sorted(a.id for a in directory.accounts) if directory is not None else []
    candidates: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, intent: Intent, method: str, path: str | None) -> None:
        if path is None or (method, path) in seen:
            return
        decision = evaluate_request(spec, method, path, directory=directory)
        if decision.allowed:
            return  # the token legitimately allows it: not a near miss
        seen.add((method, path))
        candidates.append({"kind": kind, "intent": intent.text, "method": method, "path": path})

    for intent in advice.covered:
        op = intent.operation
        if op is None:
            continue
        if op.target is Target.ZONE:
            path = _elsewhere(intent, zones, named_zones, intent.zone_id)
            add("other zone", intent, intent.method, path)
        elif op.target is Target.ACCOUNT:
            path = _elsewhere(intent, accounts, named_accounts, intent.account_id)
            add("other account", intent, intent.method, path)
        if op.is_read:
            method = _unheld_write(op, held)
            if method is not None:
                add("write instead of read", intent, method, _concrete(intent.path))
    rng = random.Random(seed)
    if len(candidates) > limit:
        candidates = rng.sample(candidates, limit)
    return candidates


def _classify(error: BaseException | None, status: int, reason: str | None) -> str:
    if error is None:
        return "allowed"
    if isinstance(error, PermissionDenied | AuthenticationError):
        return "denied"
    if reason and "names no permission group" in reason:
        return "undecidable"
    if reason and reason.startswith("allowed"):
        return "allowed"
    if isinstance(error, APIError) and status in (400, 404, 405, 409, 413, 415, 422, 501):
        # Refused after authorisation (a missing object, a refused body, not emulated).
        return "allowed"
    return "error"


def verify(
    advice: Advice,
    sandbox: Sandbox,
    *,
    near_misses: int = 20,
    seed: int = 0,
    keep: bool = False,
    token: Secret | str | None = None,
) -> pd.DataFrame:
    """Create ``advice.spec`` in ``sandbox`` and replay intents and near misses.

    ``token``: the credential (a :class:`~cftokens.Secret`) that creates and deletes the trial
    token; default the sandbox's bootstrap token. An account-owned advice needs one holding
    Account API Tokens Write on its account (the bootstrap tokens of ``Sandbox()`` and
    ``Sandbox.demo()`` can create user tokens only).

    Returns a DataFrame: kind (``intent``, ``other zone``, ``other account``, ``write instead
    of read``, ``outside allowlist``), intent, method, path, expected, outcome (``allowed``,
    ``denied``, ``undecidable`` or ``error``), ok (outcome == expected; missing when
    undecidable), status (HTTP), reason (the sandbox's policy-engine sentence).
    ``frame.attrs["token_id"]`` is the token's id and ``frame.attrs["all_ok"]`` whether every
    decidable row matched.
    """
    import pandas as pd

    for name in ("client", "journal", "directory", "clock"):
        if not hasattr(sandbox, name):
            raise InvalidInput(
                f"verify() needs a cftokens.Sandbox (it has no {name!r}); e.g. "
                "advice.verify(cftokens.Sandbox.demo())"
            )
    spec = advice.spec
    now = sandbox.clock.now()
    if (spec.not_before is not None and now < spec.not_before) or (
        spec.expires_on is not None and now >= spec.expires_on
    ):
        raise InvalidInput(
            f"the token's validity window does not include the sandbox's clock ({now:%Y-%m-%d}); "
            "advise it with now=sandbox.clock.now()"
        )
    directory = advice.directory or sandbox.directory()
    rows: list[dict[str, Any]] = [
        {
            "kind": "intent",
            "intent": intent.text,
            "method": intent.method,
            "path": _concrete(intent.path),
            "source": intent.source,
        }
        for intent in advice.covered
    ]
    rows += _near_misses(advice, directory, near_misses, seed)
    ip = _client_ip(advice)
    outside = _outside_ip(advice)
    if outside is not None and advice.covered:
        first = advice.covered[0]
        rows.append(
            {
                "kind": "outside allowlist",
                "intent": first.text,
                "method": first.method,
                "path": _concrete(first.path),
            }
        )

    with sandbox.client(token=token, max_retries=0, rate_limit=None) as admin:
        tokens = admin.account(advice.account_id).tokens if advice.account_id else admin.tokens
        try:
            created = tokens.create(spec)
        except CloudflareError as exc:
            raise InvalidInput(
                f"the sandbox refused to create the advised token ({type(exc).__name__}: "
                f"{exc}); its zones and accounts must exist in this sandbox (advise with "
                "directory=sandbox)"
            ) from None
        token_id = created.id
        try:
            with sandbox.client(
                token=created.secret, ip=ip, max_retries=0, rate_limit=None
            ) as client:
                for row in rows:
                    if row["kind"] != "outside allowlist":
                        _replay(client, row)
            if outside is not None:
                with sandbox.client(
                    token=created.secret, ip=outside, max_retries=0, rate_limit=None
                ) as stranger:
                    _replay(stranger, rows[-1])
        finally:
            if not keep:
                tokens.delete(token_id)

    journal = sandbox.journal
    mine = journal[journal["token_id"] == token_id]
    reasons = [None if pd.isna(r) else str(r) for r in mine["reason"].tolist()]
    # One journal row per replayed request, in order (no retries: max_retries=0).
    offset = len(reasons) - len(rows)
    records = []
    for index, row in enumerate(rows):
        reason = reasons[offset + index] if 0 <= offset + index < len(reasons) else None
        outcome = _classify(row["error"], row["status"], reason)
        expected = "allowed" if row["kind"] == "intent" else "denied"
        ok: bool | None = None if outcome == "undecidable" else outcome == expected
        records.append(
            {
                "kind": row["kind"],
                "intent": row["intent"],
                "method": row["method"],
                "path": row["path"],
                "expected": expected,
                "outcome": outcome,
                "ok": ok,
                "status": row["status"],
                "reason": reason,
            }
        )
    frame = pd.DataFrame(records, columns=COLUMNS)
    frame["kind"] = frame["kind"].astype(
        pd.CategoricalDtype(
            ["intent", "other zone", "other account", "write instead of read", "outside allowlist"]
        )
    )
    frame["ok"] = frame["ok"].astype("boolean")
    frame["status"] = frame["status"].astype("int64")
    frame["reason"] = frame["reason"].astype("string")
    frame.attrs["token_id"] = token_id
    frame.attrs["all_ok"] = bool(frame["ok"].dropna().all())
    return frame
