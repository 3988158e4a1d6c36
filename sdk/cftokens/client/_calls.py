"""Endpoint knowledge shared by the sync and async resources: paths, parameters, bodies,
result parsing, safety. Each function returns a :class:`~._protocol.Call` or a pagination walker;
the resources in ``_sync`` and ``_async`` only execute them."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import datetime
from typing import Any, Literal, TypeAlias, TypedDict
from urllib.parse import parse_qsl

from ..catalog import Level, PermissionGroup, permission_groups
from ..errors import CloudflareError, InvalidInput, MaybeCreated, MaybeRolled
from ..model import (
    CreatedToken,
    Policy,
    Scope,
    Secret,
    Token,
    TokenSpec,
    TokenStatus,
    VerifyResult,
)
from ..model._util import check_id, require_mapping
from ._paging import PageWalker
from ._protocol import Call, Core, Envelope, Safety, logger

__all__ = [
    "TOKEN_CHANGES",
    "JSONBody",
    "JSONValue",
    "QueryValue",
    "TokenCalls",
    "TokenChanges",
    "generic_call",
    "merge_token",
    "token_changes",
    "whole_token",
]


class TokenChanges(TypedDict, total=False):
    """What ``tokens.update(token_id, **changes)`` may change (fields of
    :class:`~cftokens.TokenSpec`); the token keeps the rest as it is."""

    name: str
    policies: Iterable[Policy]
    allow_ips: Iterable[str]
    deny_ips: Iterable[str]
    not_before: datetime | None
    expires_on: datetime | None
    status: TokenStatus | Literal["active", "disabled", "expired"] | None


#: The fields ``tokens.update(id, **changes)`` accepts (those of :class:`~cftokens.TokenSpec`).
TOKEN_CHANGES = frozenset(TokenChanges.__annotations__)

#: A value of ``request(params=...)``: a list (or set) is sent as the key repeated, a bool as
#: ``true``/``false``; None leaves the key out.
QueryValue = str | int | float | bool | Sequence[str | int | float] | Set[str | int] | None

#: The body ``request(json=...)`` sends: an object, an array or a scalar, as ``json.dumps`` takes
#: them (what is inside is checked when the request is built).
JSONBody = Mapping[str, object] | Sequence[object] | str | int | float | bool | None

#: A decoded JSON value: what ``request()`` returns (the envelope's ``result``, as the server
#: sent it: narrow it with ``isinstance`` before use, it is someone else's data).
JSONValue: TypeAlias = "dict[str, JSONValue] | list[JSONValue] | str | int | float | bool | None"


def _per_page(value: int, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"per_page for {what} must be a whole number from {low} to {high}, got {value!r}"
        )
    return value


def _direction(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in ("asc", "desc"):
        raise InvalidInput(f"direction must be 'asc' or 'desc', got {value!r}")
    return value


def _expect_mapping(envelope: Envelope, what: str) -> Mapping[str, Any]:
    return require_mapping(envelope.result, what)


def _token_key(token: Token) -> str:
    return token.id


class TokenCalls:
    """Calls on user-owned tokens (``account_id=None``) or one account's tokens."""

    def __init__(self, core: Core, account_id: str | None):
        self.core = core
        self.account_id = account_id
        if account_id is None:
            self.prefix = "/user/tokens"
            self.owner = "your user"
            self.where = "client.tokens"
        else:
            self.prefix = f"/accounts/{account_id}/tokens"
            self.owner = f"account {account_id}"
            self.where = f"client.account({account_id!r}).tokens"

    def verify(self) -> Call[VerifyResult]:
        """``GET …/tokens/verify`` on the right path for the client's token."""
        core = self.core
        if core.token is None:
            raise InvalidInput(
                "verify() checks an API token, and this client has none"
                + (" (it uses a Global API Key)" if core.api_key is not None else "")
                + "; create the client with token=..."
            )
        path = f"{self.prefix}/verify"
        if self.account_id is None:
            kind = core.token.kind
            if kind == "account" and core.account_id is None:
                raise InvalidInput(
                    "this is an account-owned token (cfat_…): it verifies at "
                    "/accounts/{account_id}/tokens/verify. Pass account_id= to the client "
                    "(or set CLOUDFLARE_ACCOUNT_ID), or call "
                    "client.account(account_id).tokens.verify()."
                )
            if kind == "account" or (kind == "legacy" and core.account_id is not None):
                path = f"/accounts/{core.account_id}/tokens/verify"

        def parse(envelope: Envelope) -> VerifyResult:
            result = VerifyResult.from_api(
                _expect_mapping(envelope, "a verify result"), envelope.messages
            )
            if core.recorder is not None:
                core.recorder.learn_token(result.id)
            return result

        return Call(method="GET", path=path, parse=parse, what="the verify result")

    def list(
        self, *, per_page: int = 50, direction: str | None = None, include_expired: bool = False
    ) -> PageWalker[Token]:
        """Every token, page by page."""
        params: dict[str, str | int] = {}
        if direction := _direction(direction):
            params["direction"] = direction
        if include_expired:
            params["include_expired"] = "true"
        return PageWalker(
            self.core,
            path=self.prefix,
            per_page=_per_page(per_page, 5, 50, "tokens"),
            item=Token.from_api,
            key=_token_key,
            params=params,
            what=f"tokens of {self.owner}",
        )

    def get(self, token_id: str) -> Call[Token]:
        """``GET …/tokens/{id}``."""
        token_id = check_id(token_id, "token id")
        return Call(
            method="GET",
            path=f"{self.prefix}/{token_id}",
            parse=lambda e: Token.from_api(_expect_mapping(e, "a token")),
            what=f"token {token_id} of {self.owner}",
        )

    def create(self, spec: TokenSpec) -> Call[CreatedToken]:
        """``POST …/tokens``: never repeated after an unclear failure."""
        if not isinstance(spec, TokenSpec):
            raise InvalidInput(
                f"create() takes a TokenSpec, got {type(spec).__name__}; build one with "
                "TokenSpec(name=..., policies=[Policy.allow(...)]) or a template's build()"
            )
        name = spec.name
        where = self.where

        def ambiguous(error: CloudflareError) -> CloudflareError:
            return MaybeCreated(
                f"creating token {name!r} failed without a clear answer ({_cause(error)}), so "
                "the token may or may not exist now. cftokens does not retry a create (that "
                f"makes duplicates). Look for it: [t for t in {where}.list() if t.name == "
                f"{name!r}]; if it exists its secret is lost, so roll it (or delete it and "
                "create again).",
                name=name,
            )

        return Call(
            method="POST",
            path=self.prefix,
            json=self._body(spec),
            parse=lambda e: CreatedToken.from_api(_expect_mapping(e, "a created token")),
            safety=Safety.CREATE,
            on_ambiguous=ambiguous,
            what="the created token",
        )

    def update(self, token_id: str, spec: TokenSpec) -> Call[Token]:
        """``PUT …/tokens/{id}`` with the whole token (idempotent)."""
        token_id = check_id(token_id, "token id")
        return Call(
            method="PUT",
            path=f"{self.prefix}/{token_id}",
            json=self._body(spec),
            parse=lambda e: Token.from_api(_expect_mapping(e, "a token")),
            what=f"token {token_id} of {self.owner}",
        )

    def _body(self, spec: TokenSpec) -> dict[str, Any]:
        """The wire body; for an account-owned token, zones named flat are nested under the
        owning account, the only form Cloudflare accepts for account-owned tokens (such a
        token can reach only its own account's zones, so nothing is widened)."""
        body = spec.to_api()
        account = self.account_id
        if account is None:
            return body
        outer = f"com.cloudflare.api.account.{account}"
        extra: list[dict[str, Any]] = []
        for policy in body.get("policies") or []:
            resources = policy.get("resources")
            if not isinstance(resources, dict):
                continue
            nested = {
                key: resources.pop(key)
                for key, value in list(resources.items())
                if key.startswith("com.cloudflare.api.account.zone.") and value == "*"
            }
            if not nested:
                continue
            inner = resources.get(outer)
            if inner is None:
                resources[outer] = nested
            elif isinstance(inner, dict):
                inner.update(nested)
            else:  # the bare account key is named too: the zones go in a policy of their own
                extra.append({**policy, "resources": {outer: nested}})
        body["policies"] = [*(body.get("policies") or []), *extra]
        return body

    def delete(self, token_id: str) -> Call[None]:
        """``DELETE …/tokens/{id}``; a 404 on a retry after an unclear attempt is success."""
        token_id = check_id(token_id, "token id")
        return Call(
            method="DELETE",
            path=f"{self.prefix}/{token_id}",
            parse=lambda e: None,
            gone_is_done=True,
            what=f"token {token_id} of {self.owner}",
        )

    def roll(self, token_id: str) -> Call[Secret]:
        """``PUT …/tokens/{id}/value``: never repeated after an unclear failure."""
        token_id = check_id(token_id, "token id")
        where = self.where

        def ambiguous(error: CloudflareError) -> CloudflareError:
            return MaybeRolled(
                f"rolling token {token_id} failed without a clear answer ({_cause(error)}): a "
                "new secret may have been issued and lost, and the old secret may no longer "
                f"work. Roll it again with {where}.roll({token_id!r}) to get a secret you hold.",
                token_id=token_id,
            )

        def parse(envelope: Envelope) -> Secret:
            value = envelope.result
            if not isinstance(value, str) or not value:
                raise InvalidInput("the roll response carries no token value")
            return Secret(value)

        return Call(
            method="PUT",
            path=f"{self.prefix}/{token_id}/value",
            json={},
            parse=parse,
            safety=Safety.ROLL,
            on_ambiguous=ambiguous,
            what="the new secret",
        )

    def permission_groups(
        self, *, name: str | None = None, scope: str | Scope | None = None
    ) -> Call[builtins.list[PermissionGroup]]:
        """``GET …/tokens/permission_groups`` (one response holds them all)."""
        params: dict[str, str | int] = {}
        if name is not None:
            params["name"] = name
        if scope is not None:
            params["scope"] = Scope.parse(scope).value
        return Call(
            method="GET",
            path=f"{self.prefix}/permission_groups",
            params=params or None,
            parse=_permission_groups,
            what="permission groups",
        )


def _cause(error: CloudflareError) -> str:
    status = getattr(error, "status", None)
    return f"{type(error).__name__}, HTTP {status}" if status else type(error).__name__


def whole_token(
    spec_or_changes: TokenSpec | Mapping[str, Any] | None,
) -> TokenSpec | Mapping[str, Any] | None:
    """A whole token body as the API writes it (``name`` and wire ``policies``, as in a GET
    result or an audit fix's ``put_body``) as a :class:`TokenSpec`; anything else unchanged."""
    if not isinstance(spec_or_changes, Mapping):
        return spec_or_changes
    policies = spec_or_changes.get("policies")
    if (
        "name" in spec_or_changes
        and isinstance(policies, list)
        and policies
        and all(isinstance(p, Mapping) and "permission_groups" in p for p in policies)
    ):
        return TokenSpec.from_api(spec_or_changes)
    return spec_or_changes


def token_changes(
    spec_or_changes: TokenSpec | Mapping[str, Any] | None, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Check the changes given to ``tokens.update`` before any request is made."""
    merged: dict[str, Any] = {}
    if isinstance(spec_or_changes, Mapping):
        merged.update(spec_or_changes)
    elif spec_or_changes is not None and not isinstance(spec_or_changes, TokenSpec):
        raise InvalidInput(
            f"update() takes a TokenSpec or changes such as name='x', got "
            f"{type(spec_or_changes).__name__}"
        )
    merged.update(changes)
    unknown = sorted(set(merged) - TOKEN_CHANGES)
    if unknown:
        raise InvalidInput(
            f"update() cannot change {', '.join(unknown)}; changeable fields: "
            + ", ".join(sorted(TOKEN_CHANGES))
        )
    if not merged and not isinstance(spec_or_changes, TokenSpec):
        raise InvalidInput("update() needs changes, e.g. update(token_id, name='new-name')")
    return merged


def merge_token(
    current: Token | None,
    spec_or_changes: TokenSpec | Mapping[str, Any] | None,
    merged: Mapping[str, Any],
) -> TokenSpec:
    """The whole token to PUT: a given spec, or the current token with the changes applied.

    PUT replaces the whole token, so ``update(id, name="x")`` must carry the current policies,
    condition and dates: this is where they are kept.
    """
    if isinstance(spec_or_changes, TokenSpec):
        return spec_or_changes.replace(**merged) if merged else spec_or_changes
    if current is None:
        raise InvalidInput("update() needs the current token to apply changes to")
    spec = current.to_spec()
    if spec.status is TokenStatus.EXPIRED and "status" not in merged:
        # "expired" is computed from expires_on and cannot be set: send no status, so the
        # token keeps its stored one (and a new expires_on brings it back to life).
        spec = spec.replace(status=None)
    return spec.replace(**merged)


def _level(name: str) -> Level:
    lowered = name.lower()
    if lowered.endswith(("write", "edit")) or "purge" in lowered or "revoke" in lowered:
        return Level.WRITE
    if lowered.endswith("read"):
        return Level.READ
    return Level.OTHER


def _permission_groups(envelope: Envelope) -> list[PermissionGroup]:
    if not isinstance(envelope.result, list):
        raise InvalidInput("a list of permission groups was expected")
    groups: list[PermissionGroup] = []
    for entry in envelope.result:
        entry = require_mapping(entry, "a permission group")
        group_id = check_id(entry.get("id"), "permission group id")
        name = entry.get("name")
        if not isinstance(name, str):
            raise InvalidInput(f"permission group {group_id} has no name")
        known = permission_groups.by_id(group_id)
        scopes = entry.get("scopes") or ([known.scope.value] if known else [])
        if not isinstance(scopes, list):
            raise InvalidInput(f"permission group {name!r}: scopes must be a list")
        description = entry.get("description")
        for scope_text in scopes:
            try:
                scope = Scope(scope_text)
            except ValueError:
                logger.warning(
                    "permission group %r has an unknown scope %r: skipped", name, scope_text
                )
                continue
            groups.append(
                PermissionGroup(
                    id=group_id,
                    name=name,
                    scope=scope,
                    description=description
                    if isinstance(description, str)
                    else (known.description if known else ""),
                    level=known.level if known else _level(name),
                )
            )
    return groups


_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE", "PUT", "OPTIONS"})


def _as_tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def generic_call(
    core: Core,
    method: str,
    path: str,
    *,
    params: Mapping[str, QueryValue] | None,
    json: JSONBody,
    idempotent: bool | None,
) -> Call[JSONValue]:
    """Any endpoint with Cloudflare's envelope; returns the envelope's ``result``.

    A query written in ``path`` (``/zones?name=x``) is kept, merged with ``params`` (which
    win). GET, HEAD, DELETE and PUT are retried (except ``PUT …/value``, a roll); POST and
    PATCH are retried only when the server surely did not act, unless ``idempotent=True``.
    """
    if not isinstance(method, str) or not method.isalpha():
        raise InvalidInput(f"method must be an HTTP method such as 'GET', got {method!r}")
    method = method.upper()
    if not isinstance(path, str) or not path.startswith("/") or "://" in path:
        raise InvalidInput(
            f"path must be relative to the base URL and start with '/', e.g. '/zones', "
            f"got {core.scrub(repr(path))}"
        )
    path, _, written = path.partition("?")
    combined: dict[str, Any] = {}
    for key, text in parse_qsl(written, keep_blank_values=True):
        before = combined.get(key)
        combined[key] = text if before is None else (*_as_tuple(before), text)
    combined.update(params or {})
    if core.holds_secret(path) or any(core.holds_secret(str(v)) for v in combined.values()):
        raise InvalidInput(
            f"{method} request(): the path or params hold this client's own secret; never put a "
            "secret in a URL (URLs end up in logs, proxies and browser history). The client "
            "sends its token in the Authorization header by itself."
        )
    if idempotent is None:
        idempotent = method in _IDEMPOTENT_METHODS and not (
            method == "PUT" and path.rstrip("/").endswith("/value")
        )
    query: dict[str, str | int | tuple[str, ...]] = {}
    for key, value in combined.items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[key] = "true" if value else "false"
        elif isinstance(value, int | str):
            query[key] = value
        elif isinstance(value, list | tuple | set | frozenset):
            query[key] = tuple(str(v) for v in value)  # sent repeated: key=a&key=b
        else:
            query[key] = str(value)
    return Call(
        method=method,
        path=path,
        params=query or None,
        json=json,
        parse=lambda e: e.result,
        safety=Safety.IDEMPOTENT if idempotent else Safety.UNSAFE,
        what="the result",
    )
