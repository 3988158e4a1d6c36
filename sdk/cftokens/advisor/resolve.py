"""Step 1 of an advice: the arguments checked and the intents resolved to concrete requests
(:mod:`cftokens.advisor.intents`), with the zones and accounts they touch and, for an
account-owned token, its account."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attrs import frozen

from ..errors import InvalidInput
from ..model._util import aware, is_id
from ..model.directory import Directory, DirectorySource
from .intents import Intent, IntentLike, Overrides, Unmapped, resolve_intents
from .requirements import _Context

__all__ = ["Resolution", "resolve"]


def _as_directory(value: DirectorySource | None) -> Directory | None:
    if value is None or isinstance(value, Directory):
        return value
    getter = getattr(value, "directory", None)
    if callable(getter):
        found = getter()
        if isinstance(found, Directory):
            return found
    raise InvalidInput(
        "directory= takes a cftokens.Directory (or a client or sandbox with .directory()), "
        f"got {type(value).__name__}"
    )


def _ids(values: str | Iterable[str] | None, what: str, directory: Directory | None) -> list[str]:
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(f"{what}= takes ids or names (strings), got {type(item).__name__}")
        if is_id(item):
            result.append(item)
            continue
        if directory is None:
            raise InvalidInput(
                f"{what} {item!r} is not a {what} id (32 hex characters); pass directory= to "
                "use names"
            )
        found = directory.find_zone(item) if what == "zone" else directory.find_account(item)
        if found is None:
            # Raises with the known names.
            directory.zone(item) if what == "zone" else directory.account(item)
        assert found is not None
        result.append(found.id)
    return list(dict.fromkeys(result))


@frozen(kw_only=True)
class Resolution:
    """What step 1 found: the checked arguments, the resolved intents (``unmapped`` those it
    could not resolve), the requirement builder's context and the first ``notes``."""

    directory: Directory | None
    zones: list[str]
    accounts: list[str]
    now: datetime
    resolved: list[Intent]
    unmapped: list[Unmapped]
    context: _Context
    notes: list[str]


def resolve(
    intents: str | Iterable[IntentLike],
    *,
    zone: str | Iterable[str] | None,
    account: str | Iterable[str] | None,
    directory: DirectorySource | None,
    owner: str,
    user: str | None,
    allow_broad_scope: bool,
    overrides: str | Path | Mapping[str, Any] | Overrides | None,
    now: datetime | None,
) -> Resolution:
    """Check the arguments of :func:`~cftokens.advisor.least_privilege` and resolve its
    intents; :class:`~cftokens.InvalidInput` names what to change."""
    if owner not in ("user", "account"):
        raise InvalidInput(f"owner must be 'user' or 'account', got {owner!r}")
    if user is not None and not is_id(user):
        raise InvalidInput(
            f"user must be your user tag (32 hex characters, client.user.get().id), got {user!r}"
        )
    directory = _as_directory(directory)
    zones = _ids(zone, "zone", directory)
    accounts = _ids(account, "account", directory)
    now = datetime.now(UTC) if now is None else aware(now, "now")
    rules = Overrides.load(overrides)

    resolved, unmapped = resolve_intents(
        intents, zones=zones, accounts=accounts, directory=directory, overrides=rules
    )
    if not resolved and not unmapped:
        raise InvalidInput(
            "no intents given: pass a list such as ['GET /zones/{zone_id}/dns_records']"
        )

    # Which zones and accounts the intents touch.
    touched_zones = list(zones)
    touched_accounts = list(accounts)
    for intent in resolved:
        if intent.zone_id is not None:
            touched_zones.append(intent.zone_id)
        if intent.account_id is not None:
            touched_accounts.append(intent.account_id)
    touched_zones = list(dict.fromkeys(touched_zones))
    touched_accounts = list(dict.fromkeys(touched_accounts))

    owner_account: str | None = None
    notes: list[str] = []
    if owner == "account":
        owner_account = _owner_account(accounts, touched_accounts, directory)
        touched_accounts = [owner_account]
        unknown = [i.zone_id for i in resolved if i.zone_id is not None and i.account_id is None]
        if unknown:
            notes.append(
                f"{len(set(unknown))} zone(s) are not in the directory, so whether they belong "
                "to the token's account was not checked"
            )

    ctx = _Context(
        owner=owner,
        owner_account=owner_account,
        user=user,
        zones=touched_zones,
        accounts=touched_accounts,
        directory=directory,
        allow_broad_scope=allow_broad_scope,
    )
    return Resolution(
        directory=directory,
        zones=zones,
        accounts=accounts,
        now=now,
        resolved=resolved,
        unmapped=unmapped,
        context=ctx,
        notes=notes,
    )


def _owner_account(
    accounts: Sequence[str], touched_accounts: Sequence[str], directory: Directory | None
) -> str:
    """The one account an account-owned token belongs to: ``account=``, else the one the
    intents touch."""
    if len(accounts) == 1:
        return accounts[0]
    if len(accounts) > 1:
        raise InvalidInput(
            "an account-owned token belongs to one account; account= names "
            f"{len(accounts)}: create one token per account or use owner='user'"
        )
    if len(set(touched_accounts)) == 1:
        return touched_accounts[0]
    if not touched_accounts:
        raise InvalidInput(
            "an account-owned token belongs to one account: pass account=<account id>"
            + ("" if directory is not None else " (and directory= to know zones' accounts)")
        )
    raise InvalidInput(
        "an account-owned token belongs to one account, but the intents touch "
        f"{len(set(touched_accounts))} accounts: pass account= to choose, create one "
        "token per account, or use owner='user'"
    )
