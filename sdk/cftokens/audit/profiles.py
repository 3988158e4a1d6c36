"""Rule thresholds and profiles (``baseline``, ``strict``, ``ci``).

Every threshold of the rule catalogue is a field of :class:`Thresholds`; a :class:`Profile`
chooses which rules run, with which thresholds, and whether the RK rules flag every grant::

    Audit.from_records(..., profile="strict")
    Audit.from_records(..., profile=Profile.named("baseline").replace(stale_days=30))
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict, Unpack, cast

from attrs import evolve, field, fields, frozen

from .._doc import expect, optional_text
from ..errors import InvalidInput, shown

__all__ = ["PROFILES", "Profile", "ProfileChanges", "ThresholdChanges", "Thresholds"]


def _within(low: float, high: float, whole: bool = True) -> Any:
    """attrs validator: a number (a whole one when ``whole``) from ``low`` to ``high``."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        kind = int if whole else (int, float)
        if (
            isinstance(value, bool)
            or not isinstance(value, kind)
            or not low <= value <= high  # also refuses NaN
        ):
            what = "a whole number" if whole else "a number"
            raise InvalidInput(
                f"threshold {attribute.name} must be {what} from {low:g} to {high:g}, got "
                f"{shown(value, limit=40)}"
            )

    return check


_DAYS = _within(0, 36_500)  # up to a century: beyond it a date overflows
_COUNT = _within(0, 1_000_000)
_SHARE = _within(0, 1, whole=False)


@frozen(kw_only=True)
class Thresholds:
    """The numbers the rules compare against (defaults from the rule catalogue). Each is
    checked: days from 0 to 36,500, prefixes within their address family, shares from 0 to
    1, counts from 0 to 1,000,000."""

    # CFT-PE-03: a minting token should expire within this many days
    mint_max_days: int = field(default=30, validator=_DAYS)
    kitchen_write_groups: int = field(default=10, validator=_COUNT)  # CFT-SC-04
    kitchen_families: int = field(default=3, validator=_COUNT)  # CFT-SC-04
    kitchen_scope_share: float = field(default=0.5, validator=_SHARE)  # CFT-SC-04
    # CFT-SC-03: used zones / granted zones at or below this fires
    zone_use_share: float = field(default=0.5, validator=_SHARE)
    usage_window_days: int = field(default=30, validator=_DAYS)  # CFT-SC-03, SC-05, SC-06, ID-02
    lifetime_days: int = field(default=366, validator=_DAYS)  # CFT-LC-02
    # CFT-LC-02 for tokens with write groups
    lifetime_write_days: int = field(default=90, validator=_DAYS)
    rotation_days: int = field(default=90, validator=_DAYS)  # CFT-LC-03
    stale_days: int = field(default=45, validator=_DAYS)  # CFT-LC-04
    never_used_grace_days: int = field(default=7, validator=_DAYS)  # CFT-LC-05
    # CFT-LN-03: expired/disabled and still present this long
    lapsed_days: int = field(default=30, validator=_DAYS)
    # CFT-NW-02: an IPv4 allow range this wide or wider is open
    open_v4_prefix: int = field(default=16, validator=_within(0, 32))
    open_v6_prefix: int = field(default=32, validator=_within(0, 128))  # CFT-NW-02
    # severity modifier: every IPv4 allow range this narrow or narrower
    tight_v4_prefix: int = field(default=24, validator=_within(0, 32))
    tight_v6_prefix: int = field(default=48, validator=_within(0, 128))  # severity modifier
    # severity modifier: expires within this many days
    expiring_soon_days: int = field(default=7, validator=_DAYS)
    # CFT-ID-02: distinct source networks that suggest automation
    automation_networks: int = field(default=5, validator=_COUNT)
    # remediation: the expires_on proposed by fixes
    fix_expiry_days: int = field(default=90, validator=_DAYS)

    def replace(self, **changes: Unpack[ThresholdChanges]) -> Thresholds:
        """A copy with some thresholds changed; unknown names are refused with the list."""
        known = {f.name for f in fields(Thresholds)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InvalidInput(
                f"unknown threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return evolve(self, **changes)


class ThresholdChanges(TypedDict, total=False):
    """The thresholds :meth:`Thresholds.replace` (and :meth:`Profile.replace`) may change."""

    mint_max_days: int
    kitchen_write_groups: int
    kitchen_families: int
    kitchen_scope_share: float
    zone_use_share: float
    usage_window_days: int
    lifetime_days: int
    lifetime_write_days: int
    rotation_days: int
    stale_days: int
    never_used_grace_days: int
    lapsed_days: int
    open_v4_prefix: int
    open_v6_prefix: int
    tight_v4_prefix: int
    tight_v6_prefix: int
    expiring_soon_days: int
    automation_networks: int
    fix_expiry_days: int


class ProfileChanges(ThresholdChanges, total=False):
    """What :meth:`Profile.replace` may change: a profile field or a threshold."""

    name: str
    description: str
    include: Iterable[str] | None
    exclude: Iterable[str]
    thresholds: Thresholds
    flag_all_risky: bool
    fail_on: str


def _rules(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _excluded(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen(kw_only=True)
class Profile:
    """Which rules run and how.

    ``include``/``exclude`` are rule ids or globs (``CFT-LC-*``); ``flag_all_risky`` makes the
    RK rules flag every risky grant, not only wildcard or unrestricted ones; ``fail_on`` is the
    CI gate's default threshold.
    """

    name: str
    description: str = ""
    include: tuple[str, ...] | None = field(default=None, converter=_rules)
    exclude: tuple[str, ...] = field(default=(), converter=_excluded)
    thresholds: Thresholds = field(factory=Thresholds)
    flag_all_risky: bool = False
    fail_on: str = "high"

    @classmethod
    def named(cls, name: str | Profile) -> Profile:
        """The built-in profile ``baseline``, ``strict`` or ``ci``."""
        if isinstance(name, Profile):
            return name
        found = PROFILES.get(str(name).strip().lower())
        if found is None:
            raise InvalidInput(f"unknown profile {name!r}; use one of: {', '.join(PROFILES)}")
        return found

    def enabled(self, rule_id: str) -> bool:
        """True when this profile runs ``rule_id``."""
        if self.include is not None and not any(
            fnmatch.fnmatchcase(rule_id, p) for p in self.include
        ):
            return False
        return not any(fnmatch.fnmatchcase(rule_id, p) for p in self.exclude)

    def replace(self, **changes: Unpack[ProfileChanges]) -> Profile:
        """A copy with profile fields or thresholds changed (threshold names go to thresholds)."""
        own = {f.name for f in fields(Profile)}
        mine: dict[str, Any] = {k: v for k, v in changes.items() if k in own}
        rest = {k: v for k, v in changes.items() if k not in own}
        if rest:
            mine["thresholds"] = self.thresholds.replace(**cast(ThresholdChanges, rest))
        return evolve(self, **mine)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (stored in reports)."""
        return {
            "name": self.name,
            "include": list(self.include) if self.include is not None else None,
            "exclude": list(self.exclude),
            "flag_all_risky": self.flag_all_risky,
            "fail_on": self.fail_on,
            "thresholds": {f.name: getattr(self.thresholds, f.name) for f in fields(Thresholds)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "profile") -> Profile:
        """Read :meth:`to_dict` output (from a report someone may have edited: every field is
        checked, and an error names it, e.g. ``profile.thresholds``)."""
        expect(data, Mapping, where, "an object")
        thresholds = expect(
            data.get("thresholds") or {}, Mapping, f"{where}.thresholds", "an object"
        )
        if not all(isinstance(k, str) for k in thresholds):
            raise InvalidInput(f"{where}.thresholds: every key must be a threshold name")
        try:
            parsed = Thresholds().replace(**dict(thresholds))
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.thresholds: {exc}") from None
        rules: dict[str, Any] = {}
        for key in ("include", "exclude"):
            value = data.get(key)
            if value is not None:
                expect(value, list, f"{where}.{key}", "a list of rule ids or globs")
                for i, item in enumerate(value):
                    expect(item, str, f"{where}.{key}[{i}]", "a rule id or glob (text)")
            rules[key] = value
        flag = expect(
            data.get("flag_all_risky", False), bool, f"{where}.flag_all_risky", "true or false"
        )
        fail_on = optional_text(data.get("fail_on", "high"), f"{where}.fail_on") or "high"
        name = optional_text(data.get("name", "custom"), f"{where}.name") or "custom"
        return cls(
            name=name,
            include=rules["include"],
            exclude=rules["exclude"] or (),
            flag_all_risky=flag,
            fail_on=fail_on,
            thresholds=parsed,
        )


PROFILES: dict[str, Profile] = {
    "baseline": Profile(
        name="baseline",
        description="every rule with the catalogue's defaults; RK rules flag wildcard or "
        "unrestricted grants only",
    ),
    "strict": Profile(
        name="strict",
        description="every rule, tighter lifecycle thresholds, RK rules flag every risky grant",
        flag_all_risky=True,
        fail_on="medium",
        thresholds=Thresholds(
            rotation_days=60,
            stale_days=30,
            never_used_grace_days=3,
            lifetime_days=180,
            lifetime_write_days=30,
            kitchen_write_groups=6,
        ),
    ),
    "ci": Profile(
        name="ci",
        description="design rules only (what a token declares: scopes, risks, validity, IPs), "
        "for gating Terraform plans and exported inventories; leaves out rules about use, "
        "age and state",
        exclude=(
            "CFT-LC-03",
            "CFT-LC-04",
            "CFT-LC-05",
            "CFT-LN-03",
            "CFT-SC-03",
            "CFT-SC-05",
            "CFT-SC-06",
            "CFT-ID-*",
        ),
        fail_on="high",
    ),
}
