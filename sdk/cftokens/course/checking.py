"""What every exercise of the course shares: :class:`Exercise` (a check, a hint and a solution),
the context a check reads (the API, the directory and the clock) and the checks' helpers (answers
of the wrong type named, tokens created and read back, addresses and expiries compared)."""

from __future__ import annotations

import ipaddress
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from .._shown import shown_text
from ..audit import Audit
from ..client import Client
from ..errors import CloudflareError, InvalidInput
from ..model import CreatedToken, Directory, Token, TokenSpec
from ..policy import check_token
from ..sandbox import Sandbox
from .access import access, compare, inside_window

__all__ = ["Exercise", "Problems"]

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
