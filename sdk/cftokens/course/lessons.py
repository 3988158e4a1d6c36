"""The exercise at the end of each lesson (notebooks 01–06): :func:`lesson`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..advisor import least_privilege_from_usage
from ..audit import Audit
from ..client import Client
from ..errors import InvalidInput
from ..model import Token
from ..sandbox import Sandbox
from .access import access, intended
from .checking import (
    Exercise,
    Problems,
    _access,
    _addresses,
    _Context,
    _expiry_kept,
    _expiry_within,
    _fmt,
    _names,
    _spec,
)

__all__ = ["lesson"]


# -- lessons 01–06 -------------------------------------------------------------------------------


def _lesson_1(ctx: _Context, zone: str) -> Exercise:
    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec1")
        if spec is None:
            return found
        wanted = intended(ctx.directory, "DNS Write", zones=[zone])
        found += _access(ctx, spec, wanted, "editing the DNS of " + zone)
        if spec.name != "shop-dns":
            found.append(f"Name it shop-dns (it is named {spec.name!r}).")
        found += _expiry_within(ctx, spec, 7)
        now = ctx.now()
        early = now + timedelta(days=7, minutes=-1)
        if spec.expires_on is not None and now < spec.expires_on < early:
            found.append(
                f"It expires on {_fmt(spec.expires_on)}, sooner than 7 days after `now` "
                f"({_fmt(now + timedelta(days=7))}, {ctx.clock})."
            )
        return found

    return Exercise(
        1,
        problems,
        'Build it like `spec` above, from cft.templates["Edit zone DNS"].build(zones=[...], '
        "name=...), with other_zone.id, then spec.replace(expires_on=...). `now` is the "
        "sandbox's clock.",
        """
        spec1 = cft.templates["Edit zone DNS"].build(zones=[other_zone.id], name="shop-dns")
        spec1 = spec1.replace(expires_on=now + timedelta(days=7))
        print(spec1.summary(directory))
        """,
    )


def _lesson_2(ctx: _Context) -> Exercise:
    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec2")
        if spec is None:
            return found
        d = ctx.directory
        wanted = intended(d, "Zone Settings Read", all_zones_of=["Acme Production"]) | intended(
            d, "DNS Read", zones=["acme-shop.example"]
        )
        return found + _access(ctx, spec, wanted, "the crawler")

    return Exercise(
        2,
        problems,
        "Two allow policies, one per resource set: Zone Settings Read with "
        "all_zones_of=production.id (zones added later come with it), and DNS Read with "
        'zones=[zone["acme-shop.example"]]. decisions(...) above shows what a spec may do.',
        """
        spec2 = cft.TokenSpec(
            name="seo-crawler",
            policies=[
                cft.Policy.allow(["Zone Settings Read"], all_zones_of=production.id),
                cft.Policy.allow(["DNS Read"], zones=[zone["acme-shop.example"]]),
            ],
        )
        print(spec2.summary(directory))
        """,
    )


def _lesson_3(ctx: _Context, zone: str) -> Exercise:
    clock = "sb.clock.now()"

    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec3")
        if spec is None:
            return found
        now = ctx.now()
        end = now + timedelta(hours=2)
        found += _access(ctx, spec, intended(ctx.directory, "DNS Write", zones=[zone]))
        found += _addresses(
            spec,
            ["192.0.2.1", "192.0.2.254"],
            ["192.0.2.13", "198.51.100.4", "203.0.113.10"],
            now,
            "192.0.2.0/24 without 192.0.2.13",
        )
        if spec.not_before is not None and spec.not_before > now:
            found.append(
                f"It is not valid yet: not_before is {_fmt(spec.not_before)}, and {clock} (the "
                f"sandbox's clock, which this notebook moved) reads {_fmt(now)}. Start it now."
            )
        if spec.expires_on is None:
            found.append(f"Set expires_on two hours after {clock} (the sandbox's clock).")
        elif spec.expires_on <= now:
            found.append(
                f"It has already expired: expires_on is {_fmt(spec.expires_on)}, but {clock} "
                f"(the sandbox's clock, which this notebook moved) reads {_fmt(now)}. Use "
                f"{clock}, not an earlier `now` or datetime.now()."
            )
        elif abs(spec.expires_on - end) > timedelta(minutes=1):
            found.append(
                f"It expires on {_fmt(spec.expires_on)}; two hours after {clock} (the sandbox's "
                f"clock) is {_fmt(end)}."
            )
        return found

    return Exercise(
        3,
        problems,
        'allow_ips=["192.0.2.0/24"] with deny_ips=["192.0.2.13/32"]; the window ends at '
        "sb.clock.now() + timedelta(hours=2) (read the clock when you build it: this notebook "
        "moved it, so the `now` of an earlier cell is stale).",
        """
        start = sb.clock.now()
        spec3 = cft.templates["Edit zone DNS"].build(zones=[zone.id], name="dns-contractor")
        spec3 = spec3.replace(
            allow_ips=["192.0.2.0/24"],
            deny_ips=["192.0.2.13/32"],
            expires_on=start + timedelta(hours=2),
        )
        print(spec3.summary(directory))
        """,
    )


def _lesson_4(ctx: _Context) -> Exercise:
    def truth() -> tuple[set[str], dict[str, str]]:
        assert ctx.audit is not None
        tokens = ctx.audit.tokens
        idle = tokens["days_since_used"].isna() | (tokens["days_since_used"] >= 30)
        names = set(tokens.loc[tokens["live"] & idle, "name"].astype(str))
        why = {}
        columns = (tokens[c] for c in ("name", "live", "status", "days_since_used"))
        for name, live, status, days in zip(*columns, strict=True):
            if not live:
                why[str(name)] = f"{name} is not live (its status is {status!s})"
            else:
                why[str(name)] = f"{name} was used {days!s} day(s) ago"
        return names, why

    def problems(answer: Any) -> Problems:
        names, found = _names(answer, "names4")
        if names is None:
            return found
        right, why = ctx.memo("idle", truth)
        missing = right - names
        if missing:
            found.append(
                f"{len(missing)} token name(s) are missing. Tokens never used have no "
                "days_since_used (it is missing, <NA>): count them too."
            )
        for name in sorted(names - right):
            found.append(
                f"{name} should not be in the answer: "
                + why.get(name, "there is no such token")
                + "."
            )
        return found

    return Exercise(
        4,
        problems,
        "Filter `tokens`: live, and days_since_used at least 30 or missing "
        '(tokens["days_since_used"].isna()); combine masks with & and |, in parentheses.',
        """
        idle = tokens["days_since_used"].isna() | (tokens["days_since_used"] >= 30)
        names4 = set(tokens.loc[tokens["live"] & idle, "name"])
        sorted(names4)
        """,
    )


def _lesson_5(ctx: _Context) -> Exercise:
    def truth() -> tuple[Token, Any]:

        assert ctx.sandbox is not None
        production = ctx.directory.account("Acme Production")
        token = next(
            t for t in ctx.client.account(production.id).tokens.list() if t.name == "ci-deploy-shop"
        )
        advice = least_privilege_from_usage(
            ctx.sandbox.journal, token_id=token.id, directory=ctx.directory, now=ctx.now()
        )
        return token, access(advice.spec, ctx.directory, now=ctx.now())

    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec5")
        if spec is None:
            return found
        token, wanted = ctx.memo("ci-deploy-shop", truth)
        found += _access(ctx, spec, wanted, "ci-deploy-shop's job (by its requests)")
        kept = token.to_spec()
        if (spec.allow_ips, spec.deny_ips) != (kept.allow_ips, kept.deny_ips):
            found.append(
                f"Keep the token's IP condition: allow_ips {list(kept.allow_ips)}, deny_ips "
                f"{list(kept.deny_ips)} (yours: {list(spec.allow_ips)}, {list(spec.deny_ips)})."
            )
        return found + _expiry_kept(spec, token, "a token")

    return Exercise(
        5,
        problems,
        "cft.rightsize(token, usage, directory=directory, account_id=account.id) takes the "
        "token and its usage (sb.journal) and keeps its name, IP condition and expiry; its "
        ".spec is the answer.",
        """
        shop = next(t for t in account_tokens.list() if t.name == "ci-deploy-shop")
        spec5 = cft.rightsize(shop, sb.journal, directory=directory, account_id=account.id).spec
        print(spec5.summary(directory))
        """,
    )


def _lesson_6(ctx: _Context) -> Exercise:
    def problems(answer: Any) -> Problems:
        spec, found = _spec(answer, "spec6")
        if spec is None:
            return found
        wanted = intended(ctx.directory, "Cache Purge", zones=["acme-shop.example"])
        found += _access(
            ctx, spec, wanted, "POST /zones/{zone_id}/purge_cache on acme-shop.example"
        )
        found += _addresses(
            spec, ["203.0.113.40"], ["203.0.113.41", "198.51.100.23"], ctx.now(), "203.0.113.40"
        )
        found += _expiry_within(ctx, spec, 30, "`start`")
        return found

    return Exercise(
        6,
        problems,
        'Ask the advisor: cft.least_privilege(["POST /zones/{zone_id}/purge_cache"], '
        'zone="acme-shop.example", directory=directory, allow_ips=[...], ttl=..., now=start); '
        "its .spec is the answer.",
        """
        purge = cft.least_privilege(
            ["POST /zones/{zone_id}/purge_cache"],
            zone="acme-shop.example",
            directory=directory,
            allow_ips=["203.0.113.40/32"],
            ttl=timedelta(days=30),
            name="shop-purge",
            now=start,
        )
        spec6 = purge.spec
        print(spec6.summary(directory))
        """,
    )


def lesson(
    number: int,
    source: Sandbox | Client | Audit,
    *,
    now: datetime | None = None,
    zone: str | None = None,
) -> Exercise:
    """The exercise at the end of lesson ``number`` (1–6), reading ``source``.

    ``source``: the lesson's Sandbox (or a Client for lesson 1), or, for lesson 4, its audit.
    ``now``: the exercise's clock (default: the sandbox's). ``zone``: the zone lessons 1 and 3
    work on (their ``OTHER_ZONE`` and ``ZONE`` parameters).
    """

    if not isinstance(number, int) or not 1 <= number <= 6:
        raise InvalidInput(f"lessons 1 to 6 have an exercise; got {number!r}")
    wants = {4: (Audit,), 5: (Sandbox,), 6: (Sandbox,), 2: (Sandbox,), 3: (Sandbox,)}

    allowed: tuple[type, ...] = wants.get(number, (Sandbox, Client))
    if not isinstance(source, allowed):
        names = " or ".join(f"a cft.{t.__name__}" for t in allowed)
        raise InvalidInput(
            f"lesson {number}'s exercise reads {names}, not a {type(source).__name__}"
        )
    clock = "the sandbox's clock" if isinstance(source, Sandbox | Audit) else "the wall clock"
    ctx = _Context(source, now, clock)
    if number == 1:
        return _lesson_1(ctx, zone or "acme-shop.example")
    if number == 2:
        return _lesson_2(ctx)
    if number == 3:
        return _lesson_3(ctx, zone or "acme-status.example")
    if number == 4:
        return _lesson_4(ctx)
    if number == 5:
        return _lesson_5(ctx)
    return _lesson_6(ctx)
