"""Rule thresholds and profiles (``baseline``, ``strict``, ``ci``).

Every threshold of the rule catalogue is a field of :class:`Thresholds`; a :class:`Profile`
chooses which rules run, with which thresholds, and whether the RK rules flag every grant::

    Audit.from_records(..., profile="strict")
    Audit.from_records(..., profile=Profile.named("baseline").replace(stale_days=30))
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import evolve, field, fields, frozen

from ..errors import InvalidInput

__all__ = ["PROFILES", "Profile", "Thresholds"]


@frozen(kw_only=True)
class Thresholds:
    """The numbers the rules compare against (defaults from the rule catalogue)."""

    mint_max_days: int = 30  # CFT-PE-03: a minting token should expire within this many days
    kitchen_write_groups: int = 10  # CFT-SC-04
    kitchen_families: int = 3  # CFT-SC-04
    kitchen_scope_share: float = 0.5  # CFT-SC-04
    zone_use_share: float = 0.5  # CFT-SC-03: used zones / granted zones at or below this fires
    usage_window_days: int = 30  # CFT-SC-03, SC-05, SC-06, ID-02
    lifetime_days: int = 366  # CFT-LC-02
    lifetime_write_days: int = 90  # CFT-LC-02 for tokens with write groups
    rotation_days: int = 90  # CFT-LC-03
    stale_days: int = 45  # CFT-LC-04
    never_used_grace_days: int = 7  # CFT-LC-05
    lapsed_days: int = 30  # CFT-LN-03: expired/disabled and still present this long
    open_v4_prefix: int = 16  # CFT-NW-02: an IPv4 allow range this wide or wider is open
    open_v6_prefix: int = 32  # CFT-NW-02
    tight_v4_prefix: int = 24  # severity modifier: every IPv4 allow range this narrow or narrower
    tight_v6_prefix: int = 48  # severity modifier
    expiring_soon_days: int = 7  # severity modifier: expires within this many days
    automation_networks: int = 5  # CFT-ID-02: distinct source networks that suggest automation
    fix_expiry_days: int = 90  # remediation: the expires_on proposed by fixes

    def replace(self, **changes: Any) -> Thresholds:
        """A copy with some thresholds changed; unknown names are refused with the list."""
        known = {f.name for f in fields(Thresholds)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InvalidInput(
                f"unknown threshold(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return evolve(self, **changes)


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

    def replace(self, **changes: Any) -> Profile:
        """A copy with profile fields or thresholds changed (threshold names go to thresholds)."""
        own = {f.name for f in fields(Profile)}
        mine = {k: v for k, v in changes.items() if k in own}
        rest = {k: v for k, v in changes.items() if k not in own}
        if rest:
            mine["thresholds"] = self.thresholds.replace(**rest)
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
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Read :meth:`to_dict` output."""
        thresholds = Thresholds().replace(**dict(data.get("thresholds") or {}))
        return cls(
            name=str(data.get("name", "custom")),
            include=data.get("include"),
            exclude=data.get("exclude") or (),
            flag_all_risky=bool(data.get("flag_all_risky", False)),
            fail_on=str(data.get("fail_on", "high")),
            thresholds=thresholds,
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
