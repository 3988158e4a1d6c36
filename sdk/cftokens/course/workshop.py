"""The workshop's six exercises (notebook 07): :func:`workshop`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..advisor import least_privilege_from_usage
from ..audit import run_audit
from ..client import Client
from ..errors import CloudflareError, InvalidInput
from ..model import Token
from ..sandbox import Sandbox
from .access import access, intended
from .checking import (
    Exercise,
    Problems,
    _access,
    _addresses,
    _Context,
    _created,
    _expiry_kept,
    _expiry_within,
    _fmt,
    _ip,
    _names,
    _spec,
    _usable,
)

__all__ = ["workshop"]


# -- the workshop (07) ---------------------------------------------------------------------------


def _workshop_1(ctx: _Context) -> Exercise:
    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec1")
        if spec is None:
            return found
        found += _access(
            ctx,
            spec,
            intended(ctx.directory, "DNS Write", zones=["acme-shop.example"]),
            "the shop's CI",
        )
        found += _addresses(
            spec,
            ["45.83.12.0", "45.83.12.5", "45.83.12.15"],
            ["45.83.12.16", "45.83.11.255", "198.51.100.4", "2001:db8::1"],
            ctx.now() if spec.not_before is None else max(ctx.now(), spec.not_before),
            "45.83.12.0/28",
        )
        return found + _expiry_within(ctx, spec, 30)

    return Exercise(
        1,
        problems,
        'One allow policy (DNS Write, zones=[zone["acme-shop.example"]]), '
        'allow_ips=["45.83.12.0/28"] and expires_on=now + timedelta(days=30): `now` is the '
        "sandbox's clock (notebooks 01 and 03).",
        """
        spec1 = cft.TokenSpec(
            name="shop-ci-dns",
            policies=[cft.Policy.allow(["DNS Write"], zones=[zone["acme-shop.example"]])],
            allow_ips=["45.83.12.0/28"],
            expires_on=now + timedelta(days=30),
        )
        """,
    )


def _workshop_2(ctx: _Context) -> Exercise:
    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec2")
        if spec is None:
            return found
        wanted = intended(
            ctx.directory,
            "DNS Write",
            all_zones_of=["Acme Production"],
            except_zones=["acme.example"],
        )
        return found + _access(ctx, spec, wanted, "the web team")

    return Exercise(
        2,
        problems,
        "Allow DNS Write with all_zones_of=production.id (zones added later included), and "
        'deny DNS Write on zone["acme.example"]: a deny always wins (notebook 02).',
        """
        spec2 = cft.TokenSpec(
            name="web-team-dns",
            policies=[
                cft.Policy.allow(["DNS Write"], all_zones_of=production.id),
                cft.Policy.deny(["DNS Write"], zones=[zone["acme.example"]]),
            ],
        )
        """,
    )


def _workshop_3(ctx: _Context) -> Exercise:
    def problems(answer: Any) -> Problems:
        created, found = _created(answer, "created3")
        if created is None:
            return found
        try:
            token = ctx.client.tokens.get(created.id)
        except CloudflareError:
            return [
                f"No user token {created.id} exists: create it with client.tokens.create(...) "
                "(not deleted, not account-owned)."
            ]
        now = ctx.now()
        start = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
        if token.name != "dns-maintenance":
            found.append(f"Name it dns-maintenance (it is named {token.name!r}).")
        found += _access(
            ctx,
            token,
            intended(ctx.directory, "DNS Read", zones=["acme-status.example"]),
            "the contractor",
        )
        clock = f"`now`, {ctx.clock}, reads {_fmt(now)}"
        for label, when, usable in [
            ("tomorrow at 08:00", start, True),
            ("tomorrow at 09:59", start + timedelta(hours=1, minutes=59), True),
            ("now", now, False),
            ("tomorrow at 07:59", start - timedelta(minutes=1), False),
            ("tomorrow at 10:00", start + timedelta(hours=2), False),
        ]:
            if _usable(token, when) != usable:
                verb = "refused" if usable else "usable"
                found.append(
                    f"It is {verb} {label} ({_fmt(when)}); it must work only from 08:00 to "
                    f"10:00 tomorrow ({clock}: build the window from it)."
                )
        return found

    return Exercise(
        3,
        problems,
        "not_before = tomorrow at 08:00 and expires_on two hours later, both from `now` (the "
        "sandbox's clock): (now + timedelta(days=1)).replace(hour=8, minute=0, second=0).",
        """
        start = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0)
        created3 = client.tokens.create(
            cft.TokenSpec(
                name="dns-maintenance",
                policies=[cft.Policy.allow(["DNS Read"], zones=[zone["acme-status.example"]])],
                not_before=start,
                expires_on=start + timedelta(hours=2),
            )
        )
        """,
    )


def _workshop_4(ctx: _Context) -> Exercise:
    def truth() -> tuple[set[str], dict[str, str]]:
        found = run_audit(ctx.client, now=ctx.now(), progress=False)
        who = found.who_can("DNS Write", zone="acme.example")
        why = {}
        for name, live, ips in zip(who["name"], who["live"], who["ip_allow"], strict=True):
            if not live:
                why[str(name)] = f"{name} is not live"
            elif ips:
                why[str(name)] = f"{name} works only from {ips!s}"
        right = set(who.loc[who["live"] & (who["ip_allow"] == ""), "name"].astype(str))
        return right, why

    def problems(answer: Any) -> Problems:
        names, found = _names(answer, "names4")
        if names is None:
            return found
        right, why = ctx.memo("hijack", truth)
        if right - names:
            found.append(f"{len(right - names)} token name(s) are missing.")
        for name in sorted(names - right):
            found.append(
                f"{name} should not be in the answer: "
                + why.get(name, "it cannot change the DNS of acme.example")
                + "."
            )
        return found

    return Exercise(
        4,
        problems,
        'audit.who_can("DNS Write", zone="acme.example", live_only=True) lists who can; keep '
        "the rows whose ip_allow is empty (notebook 04).",
        """
        who = audit.who_can("DNS Write", zone="acme.example", live_only=True)
        names4 = set(who.loc[who["ip_allow"] == "", "name"])
        """,
    )


def _workshop_5(ctx: _Context) -> Exercise:
    def truth() -> tuple[Token, Any]:

        production = ctx.directory.account("Acme Production")
        tokens = ctx.client.account(production.id).tokens
        grafana = next(t for t in tokens.list() if t.name == "grafana-dns-dashboard")
        records = (
            ctx.client.account(production.id)
            .audit_logs.list(since=ctx.now() - timedelta(days=30), actor_token_id=grafana.id)
            .collect()
        )
        advice = least_privilege_from_usage(
            records, token_id=grafana.id, directory=ctx.directory, now=ctx.now()
        )
        return grafana, access(advice.spec, ctx.directory, now=ctx.now())

    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec5")
        if spec is None:
            return found
        grafana, wanted = ctx.memo("grafana", truth)
        found += _access(ctx, spec, wanted, "the dashboard (by its requests)")
        kept = grafana.to_spec().allow_ips
        if spec.allow_ips != kept:
            found.append(
                f"Keep the token's IP allowlist ({', '.join(kept)}); yours is "
                f"{', '.join(spec.allow_ips) or 'empty (any address)'}."
            )
        return found + _expiry_kept(spec, grafana, "it")

    return Exercise(
        5,
        problems,
        "cft.rightsize(grafana, records, directory=directory, account_id=production.id) "
        "compares the token with its usage and keeps its allowlist and expiry; take its .spec "
        "(notebook 05).",
        """
        resize = cft.rightsize(grafana, records, directory=directory, account_id=production.id)
        spec5 = resize.spec
        print(spec5.summary(directory))
        """,
    )


def _workshop_6(ctx: _Context) -> Exercise:
    def truth() -> set[str]:
        since = ctx.now() - timedelta(days=30)
        found = set()
        for account in ctx.directory.accounts:
            for record in ctx.client.account(account.id).audit_logs.list(
                since=since, actor_context="api_key"
            ):
                found.add(record.actor_ip)
        return found

    def problems(answer: Any) -> Problems:
        ip, found = _ip(answer, "ip6")
        if ip is None:
            return found
        right = ctx.memo("key-callers", truth)
        if ip not in right:
            found.append(
                f"{ip} did not use the Global API Key in the last 30 days (Audit Logs v2 "
                "records with actor_context 'api_key', in every account)."
            )
        return found

    return Exercise(
        6,
        problems,
        "For each account of directory.accounts, client.account(account.id).audit_logs.list("
        'since=now - timedelta(days=30), actor_context="api_key"); each record\'s actor_ip '
        "is the caller's address (notebook 06).",
        """
        addresses = set()
        for account in directory.accounts:
            for record in client.account(account.id).audit_logs.list(
                since=now - timedelta(days=30), actor_context="api_key"
            ):
                addresses.add(record.actor_ip)
        print(addresses)
        ip6 = addresses.pop()
        """,
    )


_WORKSHOP = {
    1: _workshop_1,
    2: _workshop_2,
    3: _workshop_3,
    4: _workshop_4,
    5: _workshop_5,
    6: _workshop_6,
}


def workshop(number: int, client: Client | Sandbox, *, now: datetime | None = None) -> Exercise:
    """Exercise ``number`` (1–6) of the workshop notebook (07), reading ``client``.

    ``client``: the notebook's Client (its own sandbox's or the trainer's server's), or a
    Sandbox. ``now``: the notebook's clock (the sandbox's; on a trainer's server, the wall
    clock when the notebook started).
    """

    if number not in _WORKSHOP:
        raise InvalidInput(f"the workshop has exercises 1 to 6; got {number!r}")
    if not isinstance(client, Client | Sandbox):
        raise InvalidInput(
            f"the workshop's exercises read a cft.Client or cft.Sandbox, not a "
            f"{type(client).__name__}"
        )
    clock = (
        "the sandbox's clock"
        if now is not None or isinstance(client, Sandbox)
        else "the wall clock"
    )
    return _WORKSHOP[number](_Context(client, now, clock))
