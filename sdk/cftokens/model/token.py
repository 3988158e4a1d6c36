"""Tokens as the API returns them (:class:`Token`), what create/update send (:class:`TokenSpec`),
and the results of create (:class:`CreatedToken`) and verify (:class:`VerifyResult`)."""

from __future__ import annotations

import enum
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

from attrs import evolve, field, frozen

from .._shown import field_repr, html_repr, shown_lines
from .._text import require_unicode
from ..errors import InvalidInput, shown
from ._terraform import write as write_terraform
from ._util import (
    FrozenDict,
    assembler,
    check_id,
    format_datetime,
    frozen_extra,
    optional_aware,
    parse_datetime,
    require_mapping,
    split_known,
    token_id,
)
from .condition import Condition, IPNetwork, parse_network
from .directory import Directory
from .policy import Effect, Policy
from .resources import ResourceKind
from .secret import Secret

__all__ = [
    "CreatedToken",
    "SpecChanges",
    "SpecSummary",
    "Token",
    "TokenSpec",
    "TokenStatus",
    "VerifyResult",
]

MAX_NAME_LENGTH = 120

# Permission groups that can mint or change tokens: the summary warns about them.
MINTING_GROUP_IDS = frozenset(
    {
        "686d18d5ac6c441c867cbf6771e58a0a",  # API Tokens Write (user)
        "5bc3f8b21c554832afc660159ab75fa4",  # Account API Tokens Write (account)
    }
)


class TokenStatus(enum.StrEnum):
    """A token's status as the API reports it."""

    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"


def _policies(values: Iterable[Policy]) -> tuple[Policy, ...]:
    return tuple(values)


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("a token needs a non-empty name, e.g. name='ci-dns-example.com'")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"a token name has at most {MAX_NAME_LENGTH} characters; this one has {len(value)}"
        )
    return value


@frozen(kw_only=True)
class Token:
    """An API token as ``GET /user/tokens`` (or ``/accounts/{id}/tokens``) returns it.

    Never holds a secret: the value only exists in :class:`CreatedToken` and roll results.
    Keys the API adds that cftokens does not know are kept in ``extra`` and written back.
    """

    id: str = field(converter=token_id, repr=field_repr)
    name: str = field(repr=field_repr)
    status: TokenStatus = field(default=TokenStatus.ACTIVE, converter=TokenStatus)
    policies: tuple[Policy, ...] = field(default=(), converter=_policies)
    condition: Condition = field(factory=Condition)
    not_before: datetime | None = field(default=None, converter=optional_aware)
    expires_on: datetime | None = field(default=None, converter=optional_aware)
    issued_on: datetime | None = field(default=None, converter=optional_aware)
    modified_on: datetime | None = field(default=None, converter=optional_aware)
    last_used_on: datetime | None = field(default=None, converter=optional_aware)
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset(
        {
            "id",
            "name",
            "status",
            "policies",
            "condition",
            "not_before",
            "expires_on",
            "issued_on",
            "modified_on",
            "last_used_on",
            "value",
        }
    )

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Token:
        """Read a token object. A ``value`` key (a secret) is never kept."""
        payload = require_mapping(payload, "a token")
        status = payload.get("status", "active")
        if not isinstance(status, str) or status not in TokenStatus._value2member_map_:
            raise InvalidInput(
                f"token status must be one of active, disabled, expired; got {shown(status)}"
            )
        policies = payload.get("policies") or []
        if not isinstance(policies, list):
            raise InvalidInput("a token's policies must be a list")
        name = payload.get("name")
        get = payload.get
        # Every value is checked and converted here (the id last, as __init__ would), so the
        # token is assembled without running the converters a second time: listings read
        # thousands of tokens.
        parsed_policies = tuple([Policy.from_api(p) for p in policies])
        condition = Condition.from_api(get("condition"))
        times = [
            None if (value := get(key)) is None else parse_datetime(value, key)
            for key in _TIME_KEYS
        ]
        not_before, expires_on, issued_on, modified_on, last_used_on = times
        extra = split_known(payload, cls._KNOWN)
        return _assemble_token(
            id=token_id(get("id")),
            name=name if isinstance(name, str) else "",
            status=TokenStatus._value2member_map_[status],
            policies=parsed_policies,
            condition=condition,
            not_before=not_before,
            expires_on=expires_on,
            issued_on=issued_on,
            modified_on=modified_on,
            last_used_on=last_used_on,
            extra=extra,
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form, keys in the API's order, unknown keys kept."""
        result: dict[str, Any] = {"id": self.id, "name": self.name, "status": self.status.value}
        for key in ("issued_on", "modified_on", "last_used_on", "not_before", "expires_on"):
            value = getattr(self, key)
            if value is not None:
                result[key] = format_datetime(value)
        result["policies"] = [p.to_api() for p in self.policies]
        condition = self.condition.to_api()
        if condition:
            result["condition"] = condition
        result.update(self.extra.thaw())
        return result

    def to_spec(self) -> TokenSpec:
        """The spec that recreates this token (status kept, for a faithful PUT)."""
        return TokenSpec(
            name=self.name,
            policies=self.policies,
            allow_ips=self.condition.allow_text or self.condition.allow,
            deny_ips=self.condition.deny_text or self.condition.deny,
            not_before=self.not_before,
            expires_on=self.expires_on,
            status=self.status,
        )

    def is_live(self, at: datetime | None = None) -> bool:
        """Active and inside its not_before/expires_on window at ``at`` (default: now)."""
        now = datetime.now(UTC) if at is None else at
        return (
            self.status is TokenStatus.ACTIVE
            and (self.not_before is None or self.not_before <= now)
            and (self.expires_on is None or now < self.expires_on)
        )


_assemble_token = assembler(Token)
_TIME_KEYS = ("not_before", "expires_on", "issued_on", "modified_on", "last_used_on")


@frozen(kw_only=True)
class VerifyResult:
    """The result of ``GET …/tokens/verify``: the calling token's id and status."""

    id: str
    status: TokenStatus = field(converter=TokenStatus)
    not_before: datetime | None = field(default=None, converter=optional_aware)
    expires_on: datetime | None = field(default=None, converter=optional_aware)
    message: str | None = None

    @classmethod
    def from_api(cls, result: Mapping[str, Any], messages: Sequence[object] = ()) -> VerifyResult:
        """Read the envelope's ``result`` (and its first message)."""
        result = require_mapping(result, "a verify result")
        message = None
        if messages and isinstance(messages[0], Mapping):
            message = messages[0].get("message")
        return cls(
            id=check_id(result.get("id"), "token id"),
            status=result.get("status", "active"),
            not_before=parse_datetime(result.get("not_before"), "not_before"),
            expires_on=parse_datetime(result.get("expires_on"), "expires_on"),
            message=message,
        )

    @property
    def active(self) -> bool:
        """True when the token is active."""
        return self.status is TokenStatus.ACTIVE


@frozen(kw_only=True)
class CreatedToken:
    """What create returns: the :class:`Token` and its :class:`Secret`, shown only this once.

    Attribute access falls through to the token (``created.id``, ``created.name``).
    """

    token: Token
    secret: Secret = field(repr=lambda s: repr(s))

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> CreatedToken:
        """Read a create response's ``result`` (the token plus ``value``)."""
        payload = require_mapping(payload, "a created token")
        value = payload.get("value")
        if not isinstance(value, str) or not value:
            raise InvalidInput("the create response carries no token value")
        return cls(token=Token.from_api(payload), secret=Secret(value))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.token, name)

    def __reduce__(self) -> Any:
        raise TypeError("a CreatedToken holds a Secret and cannot be pickled; pickle .token")


def _ips(values: str | Iterable[str | IPNetwork]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    items = tuple(str(v) for v in values)
    for item in items:
        parse_network(item, "an IP range")
    return items


def _opt_status(value: TokenStatus | str | None) -> TokenStatus | None:
    if value is None or isinstance(value, TokenStatus):
        return value
    if not isinstance(value, str) or value not in TokenStatus._value2member_map_:
        raise InvalidInput(f"status must be one of active, disabled, expired; got {shown(value)}")
    return TokenStatus(value)


class SpecChanges(TypedDict, total=False):
    """The fields :meth:`TokenSpec.replace` may change, as the constructor takes them."""

    name: str
    policies: Iterable[Policy]
    allow_ips: str | Iterable[str | IPNetwork]
    deny_ips: str | Iterable[str | IPNetwork]
    not_before: datetime | None
    expires_on: datetime | None
    status: TokenStatus | str | None


@frozen(kw_only=True)
class TokenSpec:
    """What create and update send: a token before it exists.

    ``TokenSpec(name="ci-dns", policies=[Policy.allow(["DNS Write"], zones=[zid])],
    allow_ips=["203.0.113.0/24"], expires_on=datetime(2027, 1, 1, tzinfo=timezone.utc))``

    The IP condition is derived from ``allow_ips``/``deny_ips``. Call :meth:`summary` to review
    it in plain English before creating it (notebooks show the same as a table).
    """

    name: str = field(converter=_name, repr=field_repr)
    policies: tuple[Policy, ...] = field(converter=_policies)
    allow_ips: tuple[str, ...] = field(default=(), converter=_ips)
    deny_ips: tuple[str, ...] = field(default=(), converter=_ips)
    not_before: datetime | None = field(default=None, converter=optional_aware)
    expires_on: datetime | None = field(default=None, converter=optional_aware)
    status: TokenStatus | None = field(default=None, converter=_opt_status)

    def __attrs_post_init__(self) -> None:
        if not self.policies:
            raise InvalidInput(
                "a token needs at least one policy, e.g. Policy.allow(['DNS Read'], zones=[zid])"
            )
        for policy in self.policies:
            if not isinstance(policy, Policy):
                raise InvalidInput(
                    f"policies must be Policy objects (Policy.allow/Policy.deny), "
                    f"got {type(policy).__name__}"
                )
        if self.not_before and self.expires_on and self.not_before >= self.expires_on:
            raise InvalidInput(
                f"not_before ({format_datetime(self.not_before)}) must be earlier than "
                f"expires_on ({format_datetime(self.expires_on)}); the token would never be valid"
            )
        require_unicode(self.to_api(), "the token spec")

    @property
    def condition(self) -> Condition:
        """The IP condition derived from the allow/deny lists."""
        return Condition.of(self.allow_ips, self.deny_ips)

    def replace(self, **changes: Unpack[SpecChanges]) -> TokenSpec:
        """A copy with some fields changed (``spec.replace(name="x")``)."""
        return evolve(self, **changes)

    def to_api(self) -> dict[str, Any]:
        """The create/update body."""
        result: dict[str, Any] = {
            "name": self.name,
            "policies": [p.to_api() for p in self.policies],
        }
        condition = self.condition.to_api()
        if condition:
            result["condition"] = condition
        if self.not_before is not None:
            result["not_before"] = format_datetime(self.not_before)
        if self.expires_on is not None:
            result["expires_on"] = format_datetime(self.expires_on)
        if self.status is not None:
            result["status"] = self.status.value
        return result

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> TokenSpec:
        """Read a create/update body (or a token object: its server-side fields are ignored)."""
        payload = require_mapping(payload, "a token spec")
        policies = payload.get("policies")
        if not isinstance(policies, list):
            raise InvalidInput("a token spec needs policies: a list of policy objects")
        condition = Condition.from_api(payload.get("condition"))
        status = payload.get("status")
        return cls(
            name=payload.get("name"),
            policies=[Policy.from_api(p) for p in policies],
            allow_ips=condition.allow_text or condition.allow,
            deny_ips=condition.deny_text or condition.deny,
            not_before=parse_datetime(payload.get("not_before"), "not_before"),
            expires_on=parse_datetime(payload.get("expires_on"), "expires_on"),
            status=status if status in TokenStatus._value2member_map_ else None,
        )

    def to_json(self, *, indent: int | None = 2) -> str:
        """The create body as JSON text (for review, version control or curl)."""
        return json.dumps(self.to_api(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> TokenSpec:
        """Read a spec written by :meth:`to_json`."""
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
        return cls.from_api(payload)

    def to_terraform(
        self,
        resource_name: str | None = None,
        *,
        account_id: str | None = None,
        comments: bool = True,
    ) -> str:
        """Terraform HCL for the Cloudflare provider v5: ``cloudflare_api_token``, or
        ``cloudflare_account_token`` when ``account_id`` is given (an account-owned token).
        See :func:`cftokens.model.terraform.to_terraform`."""
        return write_terraform(
            self, resource_name=resource_name, account_id=account_id, comments=comments
        )

    # -- review ---------------------------------------------------------------------------
    def summary(self, directory: Directory | None = None) -> SpecSummary:
        """The review shown before creating: what each policy allows or denies, where, from
        which IPs, when; and warnings. ``directory`` turns ids into names."""
        return SpecSummary.of(self, directory)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


@frozen(kw_only=True)
class SpecSummary:
    """The review of a :class:`TokenSpec`: ``rows`` (one per policy) and ``warnings``.

    ``str()`` gives the text; notebooks render ``_repr_html_`` as a table.
    """

    name: str = field(repr=field_repr)
    rows: tuple[tuple[str, str, str], ...] = field(repr=field_repr)  # (effect, groups, resources)
    ips: str
    validity: str
    warnings: tuple[str, ...] = field(repr=field_repr)

    @classmethod
    def of(cls, spec: TokenSpec, directory: Directory | None) -> SpecSummary:
        """Build the review of ``spec``."""
        rows: list[tuple[str, str, str]] = []
        warnings: list[str] = []
        for policy in spec.policies:
            groups = ", ".join(g.label for g in policy.permission_groups)
            where = "; ".join(r.describe(directory) for r in policy.resources)
            rows.append((policy.effect.value, groups, where))
            if policy.effect is Effect.ALLOW:
                for resource in policy.resources:
                    if resource.kind in (ResourceKind.ALL_ACCOUNTS, ResourceKind.ALL_ZONES):
                        warnings.append(
                            f"wildcard scope: {groups} on {resource.describe()}, including "
                            "accounts and zones added later; name the ones it needs"
                        )
                minting = [g.label for g in policy.permission_groups if g.id in MINTING_GROUP_IDS]
                if minting:
                    warnings.append(
                        f"{', '.join(minting)} lets this token create tokens with any of your "
                        "rights: keep it alone in its token, IP-restricted and short-lived"
                    )
        condition = spec.condition
        ips = _describe_ips(condition.allow, condition.deny)
        if not condition.allow:
            warnings.append("no IP allowlist: the token works from any address if it leaks")
        if spec.expires_on is None:
            warnings.append("no expiry: set expires_on so a forgotten token stops working")
        validity = f"from {_when(spec.not_before, 'now')} until {_when(spec.expires_on, 'revoked')}"
        return cls(
            name=spec.name,
            rows=tuple(rows),
            ips=ips,
            validity=validity,
            warnings=tuple(dict.fromkeys(warnings)),
        )

    def __str__(self) -> str:
        lines = [f"Token {self.name!r}"]
        for index, (effect, groups, where) in enumerate(self.rows, start=1):
            verb = "allows" if effect == "allow" else "denies"
            lines.append(f"  policy {index} {verb} {groups}")
            lines.append(f"           on {where}")
        lines.append(f"  client IPs: {self.ips}")
        lines.append(f"  valid {self.validity}")
        if self.warnings:
            lines.append("Warnings:")
            lines.extend(f"  ! {w}" for w in self.warnings)
        return shown_lines(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    @html_repr
    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            f"<tr><td>{i}</td><td>{esc(e)}</td><td>{esc(g)}</td><td>{esc(w)}</td></tr>"
            for i, (e, g, w) in enumerate(self.rows, start=1)
        )
        warn = "".join(f"<li>{esc(w)}</li>" for w in self.warnings)
        return (
            f"<div class='cftokens-summary'><strong>Token {esc(self.name)}</strong>"
            "<table><thead><tr><th>#</th><th>effect</th><th>permission groups</th>"
            f"<th>resources</th></tr></thead><tbody>{body}</tbody></table>"
            f"<p>Client IPs: {esc(self.ips)}<br>Valid {esc(self.validity)}</p>"
            + (f"<p><strong>Warnings</strong></p><ul>{warn}</ul>" if warn else "")
            + "</div>"
        )


def _describe_ips(allow: Sequence[IPNetwork], deny: Sequence[IPNetwork]) -> str:
    parts = []
    parts.append("only " + ", ".join(map(str, allow)) if allow else "any address")
    if deny:
        parts.append("except " + ", ".join(map(str, deny)))
    return " ".join(parts)


def _when(value: datetime | None, default: str) -> str:
    return default if value is None else value.strftime("%Y-%m-%d %H:%M UTC")
