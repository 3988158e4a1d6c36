"""The seeding builder: turns the demo company's declarations (:mod:`.company`) into sandbox
state through the admin API (:class:`~cftokens.sandbox.admin.SandboxAdmin`): users, accounts,
memberships, zones and records, tokens, then the journal history of their usage."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ...catalog import operations, permission_groups
from ...catalog.groups import PermissionGroup
from ...catalog.operations import OperationMatch
from ...model.resources import Resource
from ...model.secret import Secret
from ...model.token import Token
from ..admin import SandboxAdmin
from ..context import Principal, PrincipalKind
from ..store import JournalRow, ts
from .company import ACCOUNTS, API_KEY_USAGE, MISSING_ZONE_ID, TOKENS, USERS, ZONES
from .defs import TokenDef, Usage
from .org import ACME, S, W

__all__ = ["seed_demo"]

_UNSEEN: Any = object()


def _group(spec: str) -> tuple[str, str]:
    """``(id, name)`` of a symbolic group reference."""
    if spec.startswith("id:"):
        ident, _, name = spec[3:].partition("=")
        return ident, name
    name, _, scope = spec.partition("@")
    group: PermissionGroup = permission_groups.get(name, scope=scope or None)
    return group.id, group.name


class _Builder:
    """Seeds one copy of the demo company into a sandbox."""

    def __init__(self, sb: SandboxAdmin, tag: str, validate: bool):
        self.sb = sb
        self.tag = tag
        self.validate = validate
        self.now = sb.clock.now()
        self.rng = random.Random(f"cftokens-demo/{sb.seed}/{tag}")
        self.accounts: dict[str, str] = {}
        self.zones: dict[str, str] = {}
        self.zone_account: dict[str, str] = {}
        self.records: dict[str, list[str]] = {}
        self.users: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.secrets: dict[str, Secret] = {}
        self.found: dict[tuple[str, str], OperationMatch | None] = {}

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def email(self, email: str) -> str:
        if not self.tag:
            return email
        local, _, domain = email.partition("@")
        return f"{local}+{self.tag}@{domain}"

    def build(self) -> None:
        """Seed the company: its directory, its tokens, the Global API Key, the usage history."""
        self.directory()
        for definition in TOKENS:
            self.token(definition)
        main = self.users[USERS[0].key]
        api_key = self.sb.issue_api_key(main)
        self.secrets["api_key"] = api_key
        self.history()

    def directory(self) -> None:
        """The users, accounts, memberships, zones and DNS records, in declaration order."""
        sb = self.sb
        for user in USERS:
            row = sb.add_user(
                self.email(user.email),
                first_name=user.first_name,
                last_name=user.last_name,
                created=self.ago(user.created_days_ago),
            )
            self.users[user.key] = row.id
        for account in ACCOUNTS:
            self.accounts[account.key] = sb.add_account(
                account.name, created=self.ago(account.created_days_ago)
            ).id
        for user in USERS:
            for key, role in user.roles.items():
                sb.add_member(self.users[user.key], self.accounts[key], role)
        for zone in ZONES:
            account_id = self.accounts[zone.account]
            zone_id = sb.add_zone(
                zone.name,
                account=account_id,
                plan=zone.plan,
                created=self.ago(zone.created_days_ago),
            ).id
            self.zones[zone.name] = zone_id
            self.zone_account[zone_id] = account_id
            self.records[zone.name] = [
                sb.add_dns_record(
                    zone_id,
                    type=kind,
                    name=name,
                    content=zone.name if content == "@" else content,
                    priority=10 if kind == "MX" else None,
                    proxied=kind in ("A", "CNAME"),
                    created=self.ago(zone.created_days_ago),
                )
                for kind, name, content in zone.records
            ]

    def history(self) -> None:
        """The journal of the tokens' and the API key's usage (a ray id each, in time order),
        and each token's last use and last roll as that history says."""
        sb = self.sb
        history: list[JournalRow] = []
        for definition in TOKENS:
            for usage in definition.usage:
                history.extend(self.usage(definition, usage))
        for usage in API_KEY_USAGE:
            history.extend(self.usage(None, usage))
        history.sort(key=lambda r: r.time)
        last_used: dict[str, str] = {}
        for entry in history:
            if entry.token_id and entry.status < 400:
                last_used[entry.token_id] = entry.time
        store = sb.store
        with store.transaction():
            for entry in history:
                entry.ray_id = sb.engine.generator.ray(store.next_counter())
            store.insert_journal(history)
            for definition in TOKENS:
                token_id = self.tokens[definition.name]
                when = (
                    ts(self.ago(definition.last_used))
                    if definition.last_used is not None
                    else last_used.get(token_id)
                )
                if when is not None:
                    store.touch(token_id, when)
                if definition.rolled is not None:
                    store.conn.execute(
                        "UPDATE tokens SET secret_changed_on = ? WHERE id = ?",
                        (ts(self.ago(definition.rolled)), token_id),
                    )

    def resources(
        self, specs: Sequence[str], owner_user: str | None, owner_account: str | None = None
    ) -> dict[str, Any]:
        """The wire resources of a demo policy; an account-owned token's zones are nested
        under its account, the only form Cloudflare accepts for account-owned tokens."""
        atoms: list[Resource] = []
        raw: dict[str, Any] = {}
        for spec in specs:
            kind, _, arg = spec.partition(":")
            if kind == "user":
                atoms.append(Resource.user(self.users[arg] if arg else str(owner_user)))
            elif kind == "account":
                atoms.append(Resource.account(self.accounts[arg]))
            elif kind == "zones_of":
                atoms.append(Resource.all_zones_of(self.accounts[arg]))
            elif kind == "zone":
                atoms.append(Resource.zone(self.zones[arg], account_id=owner_account))
            elif kind == "all_accounts":
                atoms.append(Resource.all_accounts())
            elif kind == "all_zones":
                atoms.append(Resource.all_zones())
            elif kind == "missing_zone":
                atoms.append(Resource.zone(MISSING_ZONE_ID))
            elif kind == "raw":
                raw[arg] = "*"
            else:
                raise ValueError(f"demo: unknown resource spec {spec!r}")
        result = Resource.to_api(atoms)
        result.update(raw)
        return result

    def token(self, definition: TokenDef) -> None:
        sb = self.sb
        kind, _, key = definition.owner.partition(":")
        owner_user = self.users[key] if kind == "user" else None
        policies = []
        for policy in definition.policies:
            groups = [_group(g) for g in policy.groups]
            policies.append(
                {
                    "effect": policy.effect,
                    "resources": self.resources(
                        policy.resources,
                        owner_user,
                        self.accounts[key] if kind == "account" else None,
                    ),
                    "permission_groups": [{"id": i, "name": n} for i, n in groups],
                }
            )
        body: dict[str, Any] = {"name": definition.name, "policies": policies}
        if definition.allow_ips or definition.deny_ips:
            ip: dict[str, Any] = {}
            if definition.allow_ips:
                ip["in"] = list(definition.allow_ips)
            if definition.deny_ips:
                ip["not_in"] = list(definition.deny_ips)
            body["condition"] = {"request.ip": ip}
        issued = self.ago(definition.issued)
        if definition.expires is not None:
            body["expires_on"] = ts(self.now + timedelta(days=definition.expires)).replace(
                ".000000Z", "Z"
            )
        if definition.not_before is not None:
            body["not_before"] = ts(self.now + timedelta(days=definition.not_before)).replace(
                ".000000Z", "Z"
            )
        created = sb.create_token(
            body,
            user=owner_user,
            account=self.accounts[key] if kind == "account" else None,
            status=definition.status,
            issued=issued,
            modified=self.ago(definition.modified) if definition.modified is not None else None,
            legacy_secret=definition.legacy_secret,
            check=definition.check,
        )
        self.tokens[definition.name] = created.id
        self.secrets[definition.name] = created.secret
        if definition.bootstrap and not self.tag:
            sb.set_bootstrap(created)

    def _principal(self, definition: TokenDef | None) -> Principal:
        engine = self.sb.engine
        store = self.sb.store
        if definition is None:
            user = self.users[USERS[0].key]
            return Principal(
                PrincipalKind.API_KEY, model=engine.user_ceiling(user), ceiling=None, user_id=user
            )
        row = store.token(self.tokens[definition.name])
        assert row is not None
        model: Token = store.model(row)
        if row.owner_kind == "user":
            return Principal(
                PrincipalKind.USER_TOKEN,
                model=model,
                ceiling=engine.user_ceiling(row.owner_id),
                token=row,
                user_id=row.owner_id,
            )
        return Principal(
            PrincipalKind.ACCOUNT_TOKEN,
            model=model,
            ceiling=engine.account_ceiling(row.owner_id),
            token=row,
            account_id=row.owner_id,
        )

    def usage(self, definition: TokenDef | None, usage: Usage) -> list[JournalRow]:
        rng = self.rng
        days: list[int] = list(usage.on_days)
        if not days:
            first = min(usage.days, definition.issued if definition is not None else usage.days)
            for day in range(first, 0, -1):
                count = int(usage.per_day)
                if rng.random() < usage.per_day - count:
                    count += 1
                days.extend([day] * count)
        principal = self._principal(definition) if self.validate else None
        rows = []
        for day in days:
            when = self.ago(day) + timedelta(seconds=rng.randrange(6 * 3600, 18 * 3600))
            when = min(when, self.now - timedelta(minutes=5))
            op = rng.choice(usage.ops)
            method, _, template = op.partition(" ")
            zone_name = rng.choice(usage.zones) if usage.zones else None
            account_key = rng.choice(usage.accounts) if usage.accounts else None
            path = self.fill(template, zone_name, account_key, rng)
            match = self.found.get((method, path), _UNSEEN)
            if match is _UNSEEN:  # the history repeats its requests: each looked up once
                match = self.found[method, path] = operations.find(method, path)
            if match is None:
                raise ValueError(f"demo: no operation for {method} {path}")
            zone_id = match.zone_id
            account_id = self.zone_account.get(zone_id) if zone_id else match.account_id
            if principal is not None and usage.status < 400:
                allowed, reason = self.sb.engine.allowed(
                    principal,
                    method,
                    path,
                    ip=usage.ips[0],
                    at=when,
                    zone_account=account_id if zone_id else None,
                )
                if not allowed:
                    name = definition.name if definition else "the Global API Key"
                    raise AssertionError(f"demo usage of {name} would be refused: {reason}")
            user: str | None
            if definition is None:
                user = self.users[USERS[0].key]
                token_id = token_name = None
                owner_type, owner_id, auth = "user", user, "api_key"
            else:
                kind, _, key = definition.owner.partition(":")
                token_id = self.tokens[definition.name]
                token_name = definition.name
                owner_type = kind
                owner_id = self.users[key] if kind == "user" else self.accounts[key]
                user = owner_id if kind == "user" else None
                auth = "api_token"
            rows.append(
                JournalRow(
                    time=ts(when),
                    token_id=token_id,
                    token_name=token_name,
                    owner_type=owner_type,
                    owner_id=owner_id,
                    user_id=user,
                    auth=auth,
                    method=method,
                    path=path,
                    operation_id=match.operation.operation_id,
                    account_id=account_id,
                    zone_id=zone_id,
                    status=usage.status,
                    ip=rng.choice(usage.ips),
                    user_agent=rng.choice(usage.agents),
                )
            )
        return rows

    def fill(self, template: str, zone: str | None, account: str | None, rng: random.Random) -> str:
        path = template
        if "{zone}" in path:
            assert zone is not None, template
            path = path.replace("{zone}", self.zones[zone])
        if "{account}" in path:
            assert account is not None, template
            path = path.replace("{account}", self.accounts[account])
        if "{record}" in path:
            assert zone is not None
            path = path.replace("{record}", rng.choice(self.records[zone]))
        while "{token:" in path:
            start = path.index("{token:")
            end = path.index("}", start)
            path = path[:start] + self.tokens[path[start + 7 : end]] + path[end + 1 :]
        path = path.replace("{script}", rng.choice(["storefront", "image-resizer", "geo-router"]))
        path = path.replace("{tunnel}", "6ff42ae2765b4b7d8b4f1a25c3e6e0d1")
        return path


def seed_demo(sb: SandboxAdmin, *, tag: str = "", validate: bool = False) -> dict[str, Any]:
    """Seed one copy of the demo company into ``sb``.

    ``tag`` makes a separate copy for a workshop attendee (emails get ``+tag``); the untagged
    copy becomes the sandbox's main user, bootstrap token and Global API Key. ``validate``
    checks that every usage row would be allowed by the policy engine (used by the tests).
    Returns ``{"user_id", "bootstrap", "accounts", "zones", "tokens", "files"}``.
    """
    builder = _Builder(sb, tag, validate)
    builder.build()
    main_user = builder.users[USERS[0].key]
    bootstrap = builder.secrets[next(t.name for t in TOKENS if t.bootstrap)]
    files = {
        "deploy/.env": (
            "# deploy/.env: committed to the website repository in 2022\n"
            f"CLOUDFLARE_API_TOKEN={builder.secrets['wp-legacy-deploy'].reveal()}\n"
            f"CLOUDFLARE_ZONE_ID={builder.zones[ACME]}\n"
            "SITE_URL=https://acme.example\n"
        ),
        "ci/staging.env": (
            "# ci/staging.env: preview deployments\n"
            f"CLOUDFLARE_API_TOKEN={builder.secrets['staging-preview-dns'].reveal()}\n"
            f"CLOUDFLARE_ACCOUNT_ID={builder.accounts[S]}\n"
        ),
    }
    info = {
        "user_id": main_user,
        "email": builder.email(USERS[0].email),
        "bootstrap": bootstrap,
        "api_key": builder.secrets["api_key"],
        "accounts": dict(builder.accounts),
        "zones": dict(builder.zones),
        "tokens": dict(builder.tokens),
        "files": files,
    }
    if not tag:
        sb.extras.update(
            {
                "files": files,
                "accounts": dict(builder.accounts),
                "zones": dict(builder.zones),
                "tokens": dict(builder.tokens),
                "users": dict(builder.users),
                "colleague_token": builder.secrets["sam-token-reader"],
                "gap_account": builder.accounts[W],
            }
        )
    return info
