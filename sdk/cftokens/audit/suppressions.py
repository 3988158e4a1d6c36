"""Suppressions: accepted findings, each with a reason, an owner and an expiry.

A YAML or JSON file holds a list of entries (or ``{"suppressions": [...]}``)::

    - rule: CFT-NW-01            # a rule id or a glob (CFT-LC-*)
      match:                     # keys AND together; a list value means any of them
        token_name: "ci-*"       # glob
        zone_id: [0123…, 4567…]
      reason: CI runners have no fixed egress IPs yet (INFRA-231)
      owner: platform-team
      expires: 2027-03-31        # at most 180 days ahead

Match keys: ``token_id``, ``token_name`` (glob), ``owner`` (the token owner's id or name),
``account_id`` (the account the finding is about, or the account owning the token, so that
findings about a whole token such as CFT-NW-01 match too), ``zone_id``, ``group`` (permission
group name or id). A list of entries given in code (dicts) is validated the same way.

A suppressed finding stays in ``audit.findings`` with ``suppressed=True``. A suppression past
its ``expires`` stops applying and is reported as an info finding (CFT-SUP-01). A bare date
means 00:00 UTC of that day: ``expires: 2027-03-31`` applies up to the end of 2027-03-30. The
180-day limit is checked against the audit's clock when the entries are read.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from .._doc import load_document
from .._shown import fields_shown
from ..errors import InvalidInput, describe, shown
from .rules import RULES

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    SuppressionSource: TypeAlias = "Sequence[Suppression | Mapping[str, Any]] | str | Path"
    """Suppressions given to an audit: :class:`Suppression` objects or dicts (validated like a
    suppressions file), or the path of a YAML/JSON suppressions file."""

__all__ = [
    "MAX_DAYS",
    "Suppression",
    "load_suppressions",
    "parse_suppressions",
    "suppression_list",
]

MAX_DAYS = 180
MATCH_KEYS = ("token_id", "token_name", "owner", "account_id", "zone_id", "group")


def _tuple_map(value: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(
        (k, tuple(str(x) for x in (v if isinstance(v, list | tuple) else [v])))
        for k, v in value.items()
    )


@frozen(kw_only=True, field_transformer=fields_shown)
class Suppression:
    """One accepted finding pattern (see the module docstring)."""

    rule: str
    match: tuple[tuple[str, tuple[str, ...]], ...] = field(converter=_tuple_map, factory=dict)
    reason: str
    owner: str
    expires: datetime
    index: int = 0  # 1-based position in the file, for messages

    def lapsed(self, now: datetime) -> bool:
        """True once ``expires`` has passed."""
        return self.expires <= now

    def label(self) -> str:
        """``suppression 2 (CFT-NW-01, owner platform-team, until 2027-03-31)``."""
        return (
            f"suppression {self.index} ({self.rule}, owner {self.owner}, "
            f"until {self.expires:%Y-%m-%d})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule,
            "match": {k: list(v) for k, v in self.match},
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.strftime("%Y-%m-%d"),
        }

    def mask(self, findings: pd.DataFrame) -> pd.Series[bool]:
        """The findings this suppression covers (a boolean Series)."""
        import pandas as pd

        mask = (
            findings["rule_id"]
            .astype(str)
            .map(lambda r: fnmatch.fnmatchcase(r, self.rule))
            .astype(bool)
        )
        for key, values in self.match:
            if key == "token_name":
                # fnmatch on each distinct name (a regex from fnmatch.translate may hold atomic
                # groups, which the Arrow-backed text column's engine refuses)
                col = findings["token_name"].fillna("").astype(object)
                matched = [
                    name
                    for name in col.unique().tolist()
                    if any(fnmatch.fnmatchcase(str(name), v) for v in values)
                ]
                part = col.isin(matched)
            elif key == "owner":
                part = findings["owner_id"].isin(values) | findings["owner_name"].isin(values)
            elif key == "account_id":
                # the account a finding is about, or the account owning the token (findings
                # on a token's whole (NW-01, LC-01 …) name no resource)
                owned = (findings["kind"].astype(str) == "account") & findings["owner_id"].isin(
                    values
                )
                part = findings["account_id"].isin(values) | owned
            elif key == "group":
                lowered = {v.lower() for v in values}
                part = findings["group"].fillna("").astype(str).str.lower().isin(
                    lowered
                ) | findings["group_id"].isin(values)
            else:
                part = findings[key].isin(values)
            mask &= pd.Series(part, index=findings.index).fillna(False).astype(bool)
        return mask


def _parse_date(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                parsed = datetime.fromisoformat(text).replace(tzinfo=UTC)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
            return parsed
        except ValueError:
            pass
    raise InvalidInput(f"{where}: expires must be a date like 2027-03-31, got {_got(value)}")


def _got(value: Any) -> str:
    """A value of the file, described: scalars shown (cut), containers only counted."""
    if isinstance(value, str | int | float | date) and not isinstance(value, bool):
        return shown(value if not isinstance(value, date) else str(value), limit=60)
    return describe(value)


def parse_suppressions(
    data: object, *, now: datetime, source: str = "suppressions"
) -> list[Suppression]:
    """Validate suppression entries; every error says which entry and what to change."""
    if isinstance(data, Mapping) and "suppressions" in data:
        data = data["suppressions"]
    if data is None:
        return []
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise InvalidInput(
            f"{source}: expected a list of suppression entries (or {{suppressions: [...]}}), "
            f"got {type(data).__name__}"
        )
    limit = now + timedelta(days=MAX_DAYS)
    return [
        _entry(entry, i, f"{source}: entry {i}", limit) for i, entry in enumerate(data, start=1)
    ]


def _entry(entry: object, i: int, where: str, limit: datetime) -> Suppression:
    """One entry, checked in order: its keys, its rule, reason and owner, expiry, match."""
    if not isinstance(entry, Mapping):
        raise InvalidInput(f"{where} must be a mapping with rule, reason, owner and expires")
    unknown = sorted(_shown_keys(set(entry) - {"rule", "match", "reason", "owner", "expires"}))
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: rule, match, reason, "
            "owner, expires"
        )
    rule = _rule(entry.get("rule"), where)
    for key in ("reason", "owner"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            got = "" if value is None else f", got {_got(value)}"
            raise InvalidInput(
                f"{where} ({rule}): {key!r} is required and must be non-empty text{got}"
            )
    expires = _expires(entry, f"{where} ({rule})", limit)
    match = _match(entry.get("match") or {}, f"{where} ({rule})")
    return Suppression(
        rule=rule,
        match=dict(match),
        reason=entry["reason"].strip(),
        owner=entry["owner"].strip(),
        expires=expires,
        index=i,
    )


def _rule(rule: object, where: str) -> str:
    """An entry's rule: one rule id of the catalogue, or a glob matching at least one."""
    if not isinstance(rule, str) or not rule.strip():
        what = "is required" if rule is None else "must be one rule id as text"
        got = "" if rule is None else f", got {_got(rule)}"
        raise InvalidInput(
            f"{where}: 'rule' {what} (a rule id such as CFT-NW-01 or a glob such as "
            f"CFT-NW-*; one entry per rule){got}"
        )
    rule = rule.strip().upper()
    if not any(ch in rule for ch in "*?[") and rule not in RULES:
        close = [r for r in RULES if r.startswith(rule[:6])][:5]
        hint = f"; rules starting alike: {', '.join(close)}" if close else ""
        raise InvalidInput(f"{where}: unknown rule {shown(rule, limit=60)}{hint}")
    if any(ch in rule for ch in "*?[") and not any(fnmatch.fnmatchcase(r, rule) for r in RULES):
        raise InvalidInput(f"{where}: the glob {shown(rule, limit=60)} matches no rule id")
    return rule


def _expires(entry: Mapping[Any, Any], where: str, limit: datetime) -> datetime:
    """An entry's expiry: required, at most ``limit`` (:data:`MAX_DAYS` ahead)."""
    if "expires" not in entry:
        raise InvalidInput(f"{where}: 'expires' is required (a date at most {MAX_DAYS} days ahead)")
    expires = _parse_date(entry["expires"], where)
    if expires > limit:
        raise InvalidInput(
            f"{where}: expires {expires:%Y-%m-%d} is more than {MAX_DAYS} days "
            f"ahead; choose {limit:%Y-%m-%d} or earlier and review it then"
        )
    return expires


def _match(match: object, where: str) -> Mapping[Any, Any]:
    """An entry's match: a mapping of :data:`MATCH_KEYS`, each text or a list of text."""
    if not isinstance(match, Mapping):
        raise InvalidInput(f"{where}: 'match' must be a mapping of {', '.join(MATCH_KEYS)}")
    bad = sorted(_shown_keys(set(match) - set(MATCH_KEYS)))
    if bad:
        raise InvalidInput(
            f"{where}: unknown match key(s) {', '.join(bad)}; use " + ", ".join(MATCH_KEYS)
        )
    for key, value in match.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(_match_value(v) for v in values):
            odd = next((v for v in values if not _match_value(v)), values)
            raise InvalidInput(
                f"{where}: match.{key} must be text or a non-empty list of text, got {_got(odd)}"
            )
    return match


def _shown_keys(keys: set[Any]) -> list[str]:
    return [k if isinstance(k, str) and len(k) <= 60 else _got(k) for k in keys]


def _match_value(value: Any) -> bool:
    """Text, or a whole number of ordinary size (an id written without quotes)."""
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 200


def load_suppressions(path: str | Path, *, now: datetime | None = None) -> list[Suppression]:
    """Read and validate a suppressions file (``.json``; YAML otherwise)."""
    file = Path(path)
    data = load_document(file, what="suppressions file", yaml=file.suffix.lower() != ".json")
    return parse_suppressions(data, now=now or datetime.now(UTC), source=str(file))


def suppression_list(
    value: Sequence[Suppression | Mapping[str, Any]] | None, now: datetime
) -> list[Suppression]:
    """Suppressions given in code: :class:`Suppression` objects, or dicts validated like a
    suppressions file (required fields, at most 180 days ahead of the audit's clock)."""
    items = list(value or [])
    if items and all(isinstance(item, Mapping) for item in items):
        return parse_suppressions(items, now=now, source="suppressions")
    out: list[Suppression] = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, Suppression):
            out.append(item)
        elif isinstance(item, Mapping):
            out.extend(parse_suppressions([item], now=now, source=f"suppression {i}"))
        else:
            raise InvalidInput(
                f"suppression {i} is a {type(item).__name__}; pass Suppression objects, dicts "
                "with rule, match, reason, owner and expires, or a YAML/JSON file path"
            )
    return out
