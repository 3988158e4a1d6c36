"""The sandbox's admin API for seeding: users, accounts, members, zones, DNS records, tokens
and journal entries written directly (no HTTP, no authorisation; input validated).
:class:`~cftokens.sandbox.Sandbox` is a :class:`SandboxSeeding`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from .._text import require_unicode
from ..catalog import permission_groups
from ..errors import InvalidInput
from ..model._util import is_id, parse_datetime
from ..model.directory import Account, AccountRef, User, Zone
from ..model.policy import Policy
from ..model.secret import Secret
from ..model.token import CreatedToken, Token, TokenSpec
from .clock import Clock
from .engine import Engine
from .errors import SandboxError
from .store import JournalRow, Role, Store, ts
from .validate import parse_token_body

__all__ = ["SandboxSeeding"]


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        aliases = {
            "super administrator": Role.SUPER_ADMIN,
            "super_admin": Role.SUPER_ADMIN,
            "administrator": Role.ADMIN,
            "admin": Role.ADMIN,
            "read-only": Role.READ_ONLY,
            "read_only": Role.READ_ONLY,
            "readonly": Role.READ_ONLY,
        }
        role = aliases.get(str(value).lower())
        if role is None:
            raise InvalidInput(
                f"unknown role {value!r}; use {', '.join(r.value for r in Role)}"
            ) from None
        return role


class SandboxSeeding:
    """The admin API of :class:`~cftokens.sandbox.Sandbox` (seeding; bypasses authorisation,
    validates input) and its main user's id; the sandbox's state declared below is the
    sandbox's own."""

    store: Store
    engine: Engine
    clock: Clock
    _api_key: Secret | None

    @property
    def user_id(self) -> str:
        """The id (tag) of the sandbox's main user (the bootstrap token's owner)."""
        value = self.store.get_meta("main_user_id")
        if value is None:
            raise InvalidInput("this sandbox has no main user yet")
        return value

    # -- admin API (seeding; bypasses authorisation, validates input) ----------------------
    def add_user(
        self,
        email: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        created: datetime | None = None,
    ) -> User:
        """Add a user; returns it (its ``id`` is the user tag used in resource keys)."""
        if not isinstance(email, str) or "@" not in email:
            raise InvalidInput(f"a user needs an email address, got {email!r}")
        require_unicode([email, first_name, last_name], "the user")
        with self.store.transaction():
            if self.store.user_by_email(email) is not None:
                raise InvalidInput(f"a user with email {email!r} already exists")
            user_id = self.engine.new_id()
            self.store.insert_user(
                id=user_id,
                email=email,
                first_name=first_name,
                last_name=last_name,
                created_on=created or self.clock.now(),
            )
        return User(id=user_id, email=email, first_name=first_name, last_name=last_name)

    def issue_api_key(self, user_id: str) -> Secret:
        """Give a user a (new) Global API Key and return it; the old one stops working."""
        with self.store.transaction():
            if self.store.user(user_id) is None:
                raise InvalidInput(f"no user {user_id}")
            key = self.engine.generator.api_key(self.store.next_counter())
            self.store.set_api_key(user_id, self.store.hash(key))
        self.engine.remember(key)
        secret = Secret(key)
        if self.store.get_meta("main_user_id") == user_id:
            self._api_key = secret
        return secret

    def add_account(
        self,
        name: str,
        *,
        owner: str | None = None,
        role: Role | str = Role.SUPER_ADMIN,
        type: str = "standard",
        created: datetime | None = None,
    ) -> Account:
        """Add an account; ``owner`` (a user id) becomes a member with ``role``."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("an account needs a name")
        require_unicode([name, type], "the account")
        when = created or self.clock.now()
        with self.store.transaction():
            account_id = self.engine.new_id()
            self.store.insert_account(id=account_id, name=name, type=type, created_on=when)
            if owner is not None:
                self.add_member(owner, account_id, role)
        return Account(id=account_id, name=name, type=type, created_on=when)

    def add_member(self, user_id: str, account_id: str, role: Role | str) -> None:
        """Make a user a member of an account with a role (or change their role)."""
        with self.store.transaction():
            if self.store.user(user_id) is None:
                raise InvalidInput(f"no user {user_id}")
            if self.store.account(account_id) is None:
                raise InvalidInput(f"no account {account_id}")
            self.store.insert_membership(user_id, account_id, _role(role))
        self.engine.invalidate_roles()

    def add_zone(
        self,
        name: str,
        *,
        account: str,
        status: str = "active",
        plan: str = "free",
        created: datetime | None = None,
    ) -> Zone:
        """Add a zone (a domain) to an account."""
        if not isinstance(name, str) or "." not in name:
            raise InvalidInput(f"a zone needs a domain name such as example.com, got {name!r}")
        require_unicode([name, status, plan], "the zone")
        with self.store.transaction():
            row = self.store.account(account)
            if row is None:
                raise InvalidInput(f"no account {account}")
            zone_id = self.engine.new_id()
            self.store.insert_zone(
                id=zone_id,
                name=name.lower(),
                account_id=account,
                status=status,
                plan=plan,
                created_on=created or self.clock.now(),
            )
        return Zone(
            id=zone_id,
            name=name.lower(),
            status=status,
            account=AccountRef(id=account, name=row.name),
        )

    def add_dns_record(
        self,
        zone: str,
        *,
        type: str,
        name: str,
        content: str,
        ttl: int = 1,
        proxied: bool = False,
        priority: int | None = None,
        comment: str | None = None,
        tags: Sequence[str] = (),
        created: datetime | None = None,
    ) -> str:
        """Add a DNS record to a zone; returns its id."""
        require_unicode([zone, type, name, content, comment, list(tags)], "the DNS record")
        with self.store.transaction():
            zone_row = self.store.zone(zone)
            if zone_row is None:
                raise InvalidInput(f"no zone {zone}")
            record_id = self.engine.new_id()
            full = (
                name
                if name == zone_row.name or name.endswith("." + zone_row.name)
                else (zone_row.name if name == "@" else f"{name}.{zone_row.name}")
            )
            self.store.insert_dns(
                id=record_id,
                zone_id=zone,
                type=type,
                name=full,
                content=content,
                ttl=ttl,
                proxied=proxied,
                priority=priority,
                comment=comment,
                tags=tags,
                when=created or self.clock.now(),
            )
        return record_id

    def create_token(
        self,
        spec: TokenSpec | Mapping[str, Any],
        *,
        user: str | None = None,
        account: str | None = None,
        status: str = "active",
        issued: datetime | None = None,
        modified: datetime | None = None,
        last_used: datetime | None = None,
        legacy_secret: bool = False,
        check: bool = True,
    ) -> CreatedToken:
        """Create a token directly (no HTTP, no authorisation): for seeding and tests.

        Owned by ``user`` (a user id; default the main user) or by ``account``. The body is
        validated like the API's (``check=False`` stores it as given, to plant malformed
        tokens: unknown groups, unparsed keys, never-valid windows). ``legacy_secret`` issues
        a pre-2025 40-character secret.
        """
        payload = spec.to_api() if isinstance(spec, TokenSpec) else dict(spec)
        require_unicode(payload, "the token spec")
        if account is not None and user is not None:
            raise InvalidInput("a token is owned by a user or by an account, not both")
        owner_kind = "account" if account is not None else "user"
        owner_id = account if account is not None else (user or self.user_id)
        when = issued or self.clock.now()
        with self.store.transaction():
            if owner_kind == "user" and self.store.user(owner_id) is None:
                raise InvalidInput(f"no user {owner_id}")
            if owner_kind == "account" and self.store.account(owner_id) is None:
                raise InvalidInput(f"no account {owner_id}")
            if check:
                try:
                    parsed = parse_token_body(payload, update=False)
                except SandboxError as exc:
                    raise InvalidInput(exc.message) from None
                policies = [{"id": self.engine.new_id(), **p.wire} for p in parsed.policies]
                condition = parsed.condition
                not_before, expires_on = parsed.not_before, parsed.expires_on
                name = parsed.name
            else:
                policies = [
                    {
                        "id": p.get("id") or self.engine.new_id(),
                        **{k: v for k, v in p.items() if k != "id"},
                    }
                    for p in payload.get("policies", [])
                ]
                condition = payload.get("condition") or None
                not_before = _opt_time(payload.get("not_before"))
                expires_on = _opt_time(payload.get("expires_on"))
                name = str(payload.get("name", ""))
            secret = None
            if legacy_secret:
                secret = self.engine.generator.legacy_secret(self.store.next_counter())
            row, value = self.engine.issue_token(
                owner_kind=owner_kind,
                owner_id=owner_id,
                name=name,
                policies=policies,
                condition=condition,
                not_before=not_before,
                expires_on=expires_on,
                when=when,
                status=status,
                secret=secret,
                issued_on=when,
                modified_on=modified,
                last_used_on=last_used,
                created_by="sandbox-admin",
            )
            token = Token.from_api(row.to_api(ts(self.clock.now())))
        return CreatedToken(token=token, secret=Secret(value))

    def seed_tokens(
        self,
        account: str,
        n: int,
        *,
        name: str = "bulk-{i:04d}",
        groups: Iterable[str] = ("DNS Read",),
        owner: str = "account",
    ) -> list[str]:
        """Bulk-create ``n`` tokens fast (for benchmarks): account-owned by ``account`` (or,
        with ``owner="user"``, owned by the main user and scoped to ``account``), each with
        ``groups`` on all zones of the account (account groups on the account). Returns their
        ids; the secrets are not kept (roll one to use it). Quotas are not enforced here.
        """
        if not is_id(account):
            raise InvalidInput(f"account must be an account id, got {account!r}")
        if owner not in ("account", "user"):
            raise InvalidInput("owner must be 'account' or 'user'")
        resolved = [
            permission_groups.get(g) if not is_id(g) else permission_groups.by_id(g) for g in groups
        ]
        zone_groups = [g for g in resolved if g is not None and g.scope.label == "zone"]
        account_groups = [g for g in resolved if g is not None and g.scope.label == "account"]
        policies: list[Policy] = []
        if zone_groups:
            policies.append(Policy.allow(zone_groups, all_zones_of=account))
        if account_groups:
            policies.append(Policy.allow(account_groups, accounts=[account]))
        if not policies:
            raise InvalidInput("seed_tokens needs zone or account permission groups")
        wire = [p.to_api() for p in policies]
        now = self.clock.now()
        stamp = ts(now)
        owner_kind = owner
        owner_id = account if owner == "account" else self.user_id
        prefix = "cfat_" if owner == "account" else "cfut_"
        rows = []
        ids = []
        engine = self.engine
        with self.store.transaction():
            if self.store.account(account) is None:
                raise InvalidInput(f"no account {account}")
            for i in range(n):
                token_id = engine.new_id()
                secret = engine.generator.token_secret(prefix, self.store.next_counter())
                ids.append(token_id)
                rows.append(
                    {
                        "id": token_id,
                        "owner_kind": owner_kind,
                        "owner_id": owner_id,
                        "name": name.format(i=i, n=n),
                        "status": "active",
                        "policies": json.dumps([{"id": engine.new_id(), **p} for p in wire]),
                        "condition": None,
                        "not_before": None,
                        "expires_on": None,
                        "issued_on": stamp,
                        "modified_on": stamp,
                        "secret_hash": self.store.hash(secret),
                        "secret_changed_on": stamp,
                        "created_by": "sandbox-admin",
                    }
                )
            self.store.insert_tokens(rows)
        return ids

    def add_journal(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Append historical journal entries (usage history) directly; returns how many.

        Each entry is a mapping of journal columns (see :attr:`journal`): ``time`` (a
        timezone-aware datetime), ``method`` and ``path`` are required, ``status`` is an int.
        A bad entry raises :class:`~cftokens.InvalidInput` and none of the batch is written.
        """
        rows = []
        for i, entry in enumerate(entries):
            values = dict(entry)
            require_unicode(values, f"journal entry {i}")
            unknown = sorted(set(values) - set(JournalRow.COLUMNS))
            if unknown:
                raise InvalidInput(
                    f"journal entry {i}: unknown column {', '.join(unknown)}; the columns are "
                    + ", ".join(JournalRow.COLUMNS)
                )
            when = values.get("time")
            if not isinstance(when, datetime) or when.utcoffset() is None:
                raise InvalidInput(
                    f"journal entry {i}: time must be a timezone-aware datetime, got {when!r}"
                )
            values["time"] = ts(when)
            for key in ("method", "path"):
                if not isinstance(values.get(key), str) or not values[key]:
                    raise InvalidInput(f"journal entry {i}: {key} must be a non-empty string")
            status = values.get("status", 0)
            if isinstance(status, bool) or not isinstance(status, int):
                raise InvalidInput(f"journal entry {i}: status must be an int, got {status!r}")
            rows.append(JournalRow(**values))
        with self.store.transaction():
            for row in rows:
                if row.ray_id is None:
                    row.ray_id = self.engine.generator.ray(self.store.next_counter())
            self.store.insert_journal(rows)
        return len(rows)


def _opt_time(value: Any) -> datetime | None:
    return parse_datetime(value, "time") if value else None
