"""What a token may do, everywhere, compared with what a job needs: the course's checks.

:func:`access` asks the policy engine about every permission group the token grants
(:func:`~cftokens.effective_grants`) on every place of the directory (each zone, each account,
the user) and on the places that do not exist yet (a zone added later to each account, a zone
and an account added later elsewhere), so "all zones" and "all zones of Acme Production" are
told apart. :func:`compare` says, in sentences, what is extra and what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from attrs import frozen

from ..catalog import permission_groups
from ..model import Directory, Scope
from ..policy import Subject, effective_grants, evaluate

__all__ = ["Place", "access", "compare", "describe", "inside_window", "intended", "places"]

# Ids no real zone or account has: the places that do not exist yet.
_LATER_ZONE = "0" * 31 + "f"
_LATER_ACCOUNT = "0" * 31 + "e"


@frozen(order=True)
class Place:
    """Where a permission group applies: a zone, an account, the user, or one added later."""

    kind: str  # "zone", "account", "user" or "other"
    id: str | None
    account_id: str | None
    label: str
    later: bool = False


def places(directory: Directory) -> tuple[Place, ...]:
    """Every zone and account of ``directory``, the user, and the places added later."""
    found = [Place(kind="user", id=None, account_id=None, label="your user")]
    for account in sorted(directory.accounts, key=lambda a: a.name):
        found.append(Place(kind="account", id=account.id, account_id=None, label=account.name))
        for zone in sorted(directory.zones_of(account.id), key=lambda z: z.name):
            found.append(Place(kind="zone", id=zone.id, account_id=account.id, label=zone.name))
        found.append(
            Place(
                kind="zone",
                id=_LATER_ZONE,
                account_id=account.id,
                label=f"zones added later to {account.name}",
                later=True,
            )
        )
    found.append(
        Place(
            kind="account",
            id=_LATER_ACCOUNT,
            account_id=None,
            label="accounts added later",
            later=True,
        )
    )
    found.append(
        Place(
            kind="zone",
            id=_LATER_ZONE,
            account_id=_LATER_ACCOUNT,
            label="zones of accounts added later",
            later=True,
        )
    )
    return tuple(found)


def inside_window(subject: Subject, now: datetime) -> datetime:
    """A moment the token is valid at (its permissions are judged apart from its window)."""
    if subject.not_before is not None and subject.not_before > now:
        return subject.not_before
    if subject.expires_on is not None and subject.expires_on <= now:
        return subject.expires_on - timedelta(seconds=1)
    return now


def access(
    subject: Subject, directory: Directory, *, now: datetime
) -> frozenset[tuple[str, Place]]:
    """Every (permission group name, place) ``subject`` may use, by the policy engine.

    The token's window and IP condition are not considered (checks judge them apart).
    """
    at = inside_window(subject, now)
    everywhere = places(directory)
    granted: set[tuple[str, Place]] = set()
    for group_id in dict.fromkeys(
        g.group_id for g in effective_grants(subject, directory=directory)
    ):
        group = permission_groups.by_id(group_id)
        if group is None:  # pragma: no cover - effective_grants keeps catalogued groups only
            continue
        kind = {Scope.ZONE: "zone", Scope.ACCOUNT: "account", Scope.USER: "user"}.get(group.scope)
        if kind is None:  # R2 buckets: granted, but not a place of the directory
            granted.add((group.name, Place(kind="other", id=None, account_id=None, label="R2")))
            continue
        for place in everywhere:
            if place.kind != kind:
                continue
            decision = evaluate(
                subject,
                group,
                zone=place.id if kind == "zone" else None,
                account=place.account_id if kind == "zone" else place.id,
                at=at,
                directory=directory,
            )
            if decision.allowed:
                granted.add((group.name, place))
    return frozenset(granted)


def intended(
    directory: Directory,
    group: str,
    *,
    zones: Iterable[str] = (),
    all_zones_of: Iterable[str] = (),
    except_zones: Iterable[str] = (),
    accounts: Iterable[str] = (),
    user: bool = False,
) -> frozenset[tuple[str, Place]]:
    """The access a job needs: ``group`` (its catalogue name) on zones (names or ids), on
    every zone of accounts, present and later (minus ``except_zones``), on accounts, the user."""
    name = permission_groups.get(group).name
    zone_ids = {directory.zone(z).id for z in zones}
    of = {directory.account(a).id for a in all_zones_of}
    skip = {directory.zone(z).id for z in except_zones}
    account_ids = {directory.account(a).id for a in accounts}
    wanted = set()
    for place in places(directory):
        if (
            (place.kind == "zone" and place.id in zone_ids)
            or (place.kind == "zone" and place.account_id in of and place.id not in skip)
            or (place.kind == "account" and place.id in account_ids)
            or (place.kind == "user" and user)
        ):
            wanted.add((name, place))
    return frozenset(wanted)


def describe(pairs: Iterable[tuple[str, Place]], directory: Directory) -> str:
    """``pairs`` in words: "DNS Write on acme.example and every zone of Acme Staging (including
    zones added later); Zone Settings Write on zones of accounts added later"."""
    by_group: dict[str, set[Place]] = {}
    for group, place in pairs:
        by_group.setdefault(group, set()).add(place)
    everywhere = places(directory)
    parts = []
    for group in sorted(by_group):
        have = by_group[group]
        words: list[str] = []
        covered: set[Place] = set()
        all_zones = {p for p in everywhere if p.kind == "zone"}
        all_accounts = {p for p in everywhere if p.kind == "account"}
        if all_zones <= have:
            words.append("every zone of every account, including ones added later")
            covered |= all_zones
        if all_accounts <= have:
            words.append("every account, including ones added later")
            covered |= all_accounts
        for account in sorted(directory.accounts, key=lambda a: a.name):
            zones_here = {p for p in everywhere if p.kind == "zone" and p.account_id == account.id}
            if zones_here <= have and not zones_here <= covered:
                words.append(f"every zone of {account.name}, including zones added later")
                covered |= zones_here
        for place in sorted(have - covered, key=lambda p: (p.later, p.kind, p.label)):
            if place.kind == "account":
                words.append(place.label if place.later else f"the account {place.label}")
            else:
                words.append(place.label)
        parts.append(f"{group} on {_join(words)}")
    return "; ".join(parts)


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def compare(
    actual: frozenset[tuple[str, Place]],
    wanted: frozenset[tuple[str, Place]],
    directory: Directory,
    *,
    what: str = "the job",
) -> list[str]:
    """Sentences naming what ``actual`` has beyond ``wanted`` and what it lacks."""
    problems = []
    extra = actual - wanted
    missing = wanted - actual
    if extra:
        problems.append(
            f"It allows more than {what} needs: {describe(extra, directory)}. Remove that."
        )
    if missing:
        problems.append(f"It lacks what {what} needs: {describe(missing, directory)}. Add that.")
    return problems
