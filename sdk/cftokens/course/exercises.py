"""The exercises of the course: one at the end of each lesson (01–06), six in the workshop (07).

Each is an :class:`Exercise`: ``check_N(answer)`` prints ``correct`` or, in sentences, what is
still wrong; ``hint_N()`` and ``solution_N()`` print help (the Kaggle Learn pattern). Checks
judge what an answer *does*, with the policy engine, against the whole intended access: nothing
missing, nothing extra (see :mod:`cftokens.course.access`). A wrong type of answer is named,
never a traceback; a check that depends on time says which clock it reads.
"""

from __future__ import annotations

import ipaddress
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from .._shown import shown_text
from ..advisor import least_privilege_from_usage
from ..audit import Audit, run_audit
from ..client import Client
from ..errors import CloudflareError, InvalidInput
from ..model import CreatedToken, Directory, Token, TokenSpec
from ..policy import check_token
from ..sandbox import Sandbox
from .access import access, compare, inside_window, intended

__all__ = ["Exercise", "lesson", "workshop"]

Problems = list[str]


class Exercise:
    """One exercise: unpack it as ``check_N, hint_N, solution_N = exercise``."""

    def __init__(
        self,
        number: int,
        problems: Callable[[object], Problems],
        hint: str,
        solution: str,
    ):
        self.number = number
        self.problems = problems
        self._hint = hint
        self._solution = solution

    def check(self, answer: object = None) -> None:
        """Print ``correct``, or "not yet:" and each thing still wrong."""
        try:
            problems = self.problems(answer)
        except CloudflareError as exc:  # an answer the API or the engine refuses to read
            problems = [f"Your answer could not be checked: {exc}"]
        if problems:
            print("not yet:")
            for problem in problems:
                shown = shown_text(problem)  # it may quote the attendee's answer
                print(
                    textwrap.fill(
                        shown,
                        96,
                        initial_indent="  - ",
                        subsequent_indent="    ",
                        break_long_words=False,  # an escape (\\u0301) is never cut in two
                    )
                )
        else:
            print("correct")

    def hint(self) -> None:
        """Print a hint."""
        print(textwrap.fill(f"Hint: {self._hint}", 96))

    @property
    def solution_code(self) -> str:
        """The solution's code, as :meth:`solution` prints it."""
        return textwrap.dedent(self._solution).strip()

    def solution(self) -> None:
        """Print one solution (any answer that behaves the same passes the check)."""
        print("Solution (one way; any answer that behaves the same passes the check):\n")
        print(self.solution_code)

    def __iter__(self) -> Iterator[Callable[..., None]]:
        return iter((self.check, self.hint, self.solution))

    def __repr__(self) -> str:
        n = self.number
        return f"<Exercise {n}: check_{n}, hint_{n}, solution_{n}>"


# -- the context: what a check reads ------------------------------------------------------------


class _Context:
    """The API, directory and clock the checks read (a Sandbox, a Client, or an Audit)."""

    def __init__(self, source: Any, now: datetime | None, clock: str):

        self.sandbox: Sandbox | None = source if isinstance(source, Sandbox) else None
        self.audit: Audit | None = source if isinstance(source, Audit) else None
        if self.sandbox is not None:
            self.client: Any = self.sandbox.client()
        elif self.audit is not None:
            self.client = None
        elif isinstance(source, Client):
            self.client = source
        else:
            raise InvalidInput(
                f"the exercises read a cft.Sandbox, a cft.Client or (lesson 4) an audit, "
                f"got {type(source).__name__}"
            )
        self._now = now
        self.clock = clock
        self._directory: Directory | None = None
        self.cache: dict[str, Any] = {}

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            if self.audit is not None:
                self._directory = self.audit.directory
            elif self.sandbox is not None:  # read from the sandbox itself: no token to expire
                self._directory = self.sandbox.directory()
            else:
                self._directory = self.client.directory()
        return self._directory

    def now(self) -> datetime:
        """The exercise's "now": the one given, else the sandbox's clock, else the wall clock."""
        if self._now is not None:
            return self._now
        if self.sandbox is not None:
            return self.sandbox.clock.now()
        return datetime.now(UTC).replace(microsecond=0)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


# -- answers of the wrong type ------------------------------------------------------------------


def _spec(answer: Any, variable: str) -> tuple[TokenSpec | None, Problems]:
    if answer is None:
        return None, [f"Assign your cft.TokenSpec to {variable} first (it is still None)."]
    if isinstance(answer, TokenSpec):
        return answer, []
    if isinstance(answer, CreatedToken | Token):
        return None, [
            f"{variable} holds a created token; this exercise wants the design only: a "
            "cft.TokenSpec, not passed to tokens.create."
        ]
    return None, [
        f"{variable} should be a cft.TokenSpec, not a {type(answer).__name__}: build one with "
        "cft.TokenSpec(name=..., policies=[...]) or a template's .build(...)."
    ]


def _created(answer: Any, variable: str) -> tuple[Token | None, Problems]:
    if answer is None:
        return None, [
            f"Create the token with client.tokens.create(...) and assign the result to "
            f"{variable} (it is still None)."
        ]
    if isinstance(answer, CreatedToken):
        return answer.token, []
    if isinstance(answer, Token):
        return answer, []
    if isinstance(answer, TokenSpec):
        return None, [
            f"{variable} holds a cft.TokenSpec, a design: this exercise wants the token created. "
            f"Pass it to client.tokens.create(...) and assign what that returns to {variable}."
        ]
    return None, [
        f"{variable} should be what client.tokens.create(...) returns (a cft.CreatedToken), "
        f"not a {type(answer).__name__}."
    ]


def _names(answer: Any, variable: str) -> tuple[set[str] | None, Problems]:
    if isinstance(answer, str):
        return None, [
            f"{variable} is one string ({answer!r}); put the token names in a set, e.g. "
            '{"name-1", "name-2"}.'
        ]
    if answer is None or not isinstance(answer, set | frozenset | list | tuple):
        return None, [
            f"{variable} should be a set of token names (strings), not "
            f"{type(answer).__name__ if answer is not None else 'None'}."
        ]
    odd = sorted({type(n).__name__ for n in answer if not isinstance(n, str)})
    if odd:
        return None, [
            f"{variable} should hold token names (strings); it also holds {', '.join(odd)} "
            "values (take the 'name' column, not whole rows or ids)."
        ]
    return set(answer), []


def _ip(answer: Any, variable: str) -> tuple[str | None, Problems]:
    if answer is None:
        return None, [f"Assign the address, a string such as '192.0.2.1', to {variable}."]
    if isinstance(answer, set | frozenset | list | tuple):
        return None, [
            f"{variable} holds {len(answer)} values in a {type(answer).__name__}; assign one "
            "address as a string."
        ]
    if not isinstance(answer, str):
        return None, [
            f"{variable} should be an address as a string, not a {type(answer).__name__}."
        ]
    try:
        ipaddress.ip_address(answer.strip())
    except ValueError:
        return None, [f"{answer!r} is not an IP address."]
    return answer.strip(), []


# -- facets of a token: access, addresses, time ---------------------------------------------------


def _access(
    ctx: _Context, subject: TokenSpec | Token, wanted: Any, what: str = "the job"
) -> Problems:
    actual = access(subject, ctx.directory, now=ctx.now())
    return compare(actual, wanted, ctx.directory, what=what)


def _addresses(
    subject: TokenSpec | Token, inside: list[str], outside: list[str], at: datetime, fence: str
) -> Problems:
    problems = []
    at = inside_window(subject, at)  # addresses are judged apart from the window
    refused = [ip for ip in inside if not check_token(subject, at=at, ip=ip).allowed]
    if refused:
        problems.append(
            f"It refuses {', '.join(refused)}, which {fence} includes: allow the whole range."
        )
    accepted = [ip for ip in outside if check_token(subject, at=at, ip=ip).allowed]
    if accepted:
        problems.append(
            f"It works from {', '.join(accepted)}: allow only {fence} (allow_ips, deny_ips)."
        )
    return problems


def _fmt(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _expiry_kept(spec: TokenSpec, token: Token, subject: str) -> Problems:
    """A right-sized spec keeps the token's expiry (``subject``: how the hint names it)."""
    if spec.expires_on == token.expires_on:
        return []
    kept = _fmt(token.expires_on) if token.expires_on else "none"
    return [
        f"Keep the token's expiry ({kept}): right-sizing changes what {subject} may do, not how "
        "long it lives."
    ]


def _expiry_within(
    ctx: _Context, subject: TokenSpec | Token, days: int, now_name: str = "`now`"
) -> Problems:
    now = ctx.now()
    limit = now + timedelta(days=days)
    if subject.expires_on is None:
        return [f"Set expires_on, at most {days} days after {now_name} ({ctx.clock})."]
    if subject.expires_on <= now:
        return [
            f"It has already expired: expires_on is {_fmt(subject.expires_on)}, and {now_name} "
            f"is {_fmt(now)}. Use {now_name}, {ctx.clock}, not datetime.now()."
        ]
    if subject.expires_on > limit + timedelta(minutes=1):
        return [
            f"It expires on {_fmt(subject.expires_on)}, more than {days} days after {now_name} "
            f"({_fmt(now)}, {ctx.clock}): at most {_fmt(limit)}."
        ]
    return []


def _usable(subject: TokenSpec | Token, at: datetime) -> bool:
    return check_token(subject, at=at).allowed


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
