"""Reading definitions as people write them: what Cloudflare rejects or ignores (CFT-LN-04).

Token definitions come from scripts, docs, Terraform and old exports. The inventory reads them
leniently, so one slip does not hide a whole token from the audit, and records each slip as a
:class:`DefinitionIssue` that CFT-LN-04 reports:

- a group given as a string (``"DNS Write"``) or with an id that is not 32 lower-case hex
  characters: read by name or id from the catalogue (Cloudflare refuses the body);
- AWS IAM-style fields (``action``, ``resource``, ``Statement`` …) in a policy;
- a ``condition`` inside a policy: Cloudflare reads conditions on the token only, so the IP
  restriction the author wrote has no effect (high: a restriction silently dropped);
- a policy whose groups fit none of its resources (it grants nothing);
- a placeholder left in a resource key (``<ACCOUNT_ID>``, ``${ZONE_ID}``, ``@CF_ACCOUNT_ID@``)
  or an id that is not 32 lower-case hex characters;
- an account-owned token naming zones not nested under its own account
  (``com.cloudflare.api.account.zone.*``, a flat zone key, another account): Cloudflare refuses
  these; the audit reads them as at most the owner's own zones, never "all zones of all
  accounts".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from operator import add
from typing import TYPE_CHECKING, Any

from .severity import Severity

if TYPE_CHECKING:
    from .steps import Step

__all__ = [
    "AWS_FIELDS",
    "HIGH",
    "MEDIUM",
    "DefinitionIssue",
    "DefinitionIssues",
    "aws_fields",
    "bad_id_key",
    "placeholder",
]

MEDIUM, HIGH = Severity.MEDIUM, Severity.HIGH

# Fields of AWS IAM policy statements people paste into Cloudflare policies (compared lower-case).
AWS_FIELDS = frozenset(
    {"action", "actions", "notaction", "resource", "notresource", "principal", "sid", "statement"}
)
_PLACEHOLDER = re.compile(
    r"<[^<>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|@[A-Za-z_][A-Za-z0-9_]*@|\{\{[^}]*\}\}|%[A-Z_]+%"
)
_RESOURCE_PREFIXES = (
    "com.cloudflare.api.account.zone.",
    "com.cloudflare.api.account.",
    "com.cloudflare.api.user.",
)
_HEX32 = re.compile(r"[0-9a-f]{32}")


class DefinitionIssue:
    """One part of a token definition Cloudflare rejects or ignores.

    ``tok``: the token's index in the inventory; ``pol``: the policy (1-based, 0 for the token);
    ``severity``: the finding's :class:`Severity`; ``evidence``/``detail``/``remediation``: the
    finding's texts; ``fix``: the :mod:`step <cftokens.audit.steps>` that fixes it, or None;
    ``key``: the resource key concerned.
    """

    __slots__ = ("detail", "evidence", "fix", "key", "pol", "remediation", "severity", "tok")

    def __init__(
        self,
        tok: int,
        pol: int,
        severity: Severity,
        evidence: str,
        detail: str,
        remediation: str,
        fix: Step | None = None,
        key: str | None = None,
    ):
        self.tok = tok
        self.pol = pol
        self.severity = severity
        self.evidence = evidence
        self.detail = detail
        self.remediation = remediation
        self.fix = fix
        self.key = key


class DefinitionIssues:
    """An inventory's :class:`DefinitionIssue` s as columns, one list per field (``tok``,
    ``pol``, ``severity``, ``evidence``, ``detail``, ``remediation``, ``fix``, ``key``), in
    order: tens of thousands of account-owned tokens of one account give an issue each, made
    from a few distinct texts, and CFT-LN-04 reads them column by column. Iterating (or
    indexing) gives each issue as a new :class:`DefinitionIssue` (changing it changes
    nothing here)."""

    __slots__ = ("detail", "evidence", "fix", "key", "pol", "remediation", "severity", "tok")

    #: The columns in the order of :class:`DefinitionIssue`'s arguments.
    FIELDS = ("tok", "pol", "severity", "evidence", "detail", "remediation", "fix", "key")

    def __init__(self, issues: Iterable[DefinitionIssue] = ()) -> None:
        self.tok: list[int] = []
        self.pol: list[int] = []
        self.severity: list[Severity] = []
        self.evidence: list[str] = []
        self.detail: list[str] = []
        self.remediation: list[str] = []
        self.fix: list[Step | None] = []
        self.key: list[str | None] = []
        self.extend(issues)

    def columns(self) -> tuple[list[Any], ...]:
        """The columns, in :attr:`FIELDS` order."""
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __len__(self) -> int:
        return len(self.tok)

    def __bool__(self) -> bool:
        return bool(self.tok)

    def __iter__(self) -> Iterator[DefinitionIssue]:
        return map(DefinitionIssue, *self.columns())

    def __getitem__(self, i: int) -> DefinitionIssue:
        return DefinitionIssue(*(column[i] for column in self.columns()))

    def __repr__(self) -> str:
        return f"<DefinitionIssues: {len(self)}>"

    def append(self, issue: DefinitionIssue) -> None:
        """Add one issue at the end."""
        for name in self.FIELDS:
            getattr(self, name).append(getattr(issue, name))

    def extend(self, issues: Iterable[DefinitionIssue]) -> None:
        """Add issues at the end, in order."""
        for issue in issues:
            self.append(issue)

    def add_columns(self, *columns: Sequence[Any]) -> None:
        """Add issues given as columns (in :attr:`FIELDS` order, of one length) at the end."""
        if len(columns) != len(self.FIELDS) or len({len(c) for c in columns}) > 1:
            raise ValueError("DefinitionIssues.add_columns: one column per field, one length")
        for mine, column in zip(self.columns(), columns, strict=True):
            mine.extend(column)

    def taken(self, order: Sequence[int], tok: Sequence[int]) -> DefinitionIssues:
        """The issues at positions ``order``, in that order, their tokens given anew
        (``tok``: one per position of ``order``)."""
        out = DefinitionIssues()
        out.tok = list(tok)
        for name in self.FIELDS[1:]:
            column = getattr(self, name)
            setattr(out, name, list(map(column.__getitem__, order)))
        return out

    @classmethod
    def joined(cls, parts: Sequence[DefinitionIssues], shifts: Sequence[int]) -> DefinitionIssues:
        """The parts one after another, each part's tokens moved by its shift."""
        out = cls()
        for part, shift in zip(parts, shifts, strict=True):
            out.tok += map(add, part.tok, repeat(shift)) if shift else part.tok
            for name in cls.FIELDS[1:]:
                getattr(out, name).extend(getattr(part, name))
        return out


def placeholder(key: str) -> str | None:
    """The template placeholder left in a resource key (``<ACCOUNT_ID>``, ``${ZONE_ID}`` …)."""
    found = _PLACEHOLDER.search(key)
    return found.group(0) if found else None


def bad_id_key(key: str) -> str | None:
    """The id part of a zone/account/user key when it is not 32 lower-case hex characters
    (``com.cloudflare.api.account.zone.example.com`` → ``example.com``); None otherwise."""
    for prefix in _RESOURCE_PREFIXES:
        if key.startswith(prefix):
            tail = key[len(prefix) :]
            if tail == "*" or _HEX32.fullmatch(tail):
                return None
            return tail
    return None


def aws_fields(policy: Mapping[str, Any]) -> list[str]:
    """The AWS IAM-style fields of a policy object, as written."""
    return [k for k in policy if isinstance(k, str) and k.lower() in AWS_FIELDS]
