"""The advisor's answer and its presentation: :class:`Advice` (the token, a justification per
grant, the notes and what stayed uncovered) and :class:`Grant`; :func:`audit_spec` runs the
audit's rules on a token not created yet."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Unpack

from attrs import evolve, field, frozen

from .._shown import html_repr, shown_lines
from ..catalog.groups import PermissionGroup, permission_groups
from ..model.directory import Directory
from ..model.resources import Resource
from ..model.secret import Secret
from ..model.terraform import to_terraform
from ..model.token import TokenSpec
from .intents import Intent, Unmapped
from .requirements import Element
from .verify import verify

if TYPE_CHECKING:
    import pandas as pd

    from ..audit.core import Audit
    from ..audit.options import RecordOptions
    from ..sandbox import Sandbox

__all__ = ["ADVISED_TOKEN_ID", "Advice", "Grant", "audit_spec"]

# The id the advised token carries in its own audit (it does not exist yet).
ADVISED_TOKEN_ID = "0000000000000000000000000000ad71"


@frozen(kw_only=True)
class Grant:
    """One (permission group, resource) pair of the advice and the intents it serves.

    ``intents`` come most constrained first; ``only_for`` are the intents that accept nothing
    else there (so the grant is unavoidable); ``options`` is the largest number of grants any
    served intent could have used instead.
    """

    group: PermissionGroup
    resource: Resource
    intents: tuple[Intent, ...]
    policy_index: int
    only_for: tuple[Intent, ...] = ()
    options: int = 1

    @property
    def only_option(self) -> bool:
        """True when some served intent accepts no other grant."""
        return bool(self.only_for)

    def reason(self, directory: Directory | None = None) -> str:
        """Why this grant is there, in one sentence."""
        where = self.resource.describe(directory)
        head = self.only_for[0] if self.only_for else (self.intents[0] if self.intents else None)
        if head is None:
            return f"{self.group.name} on {where}"
        more = len(self.intents) - 1
        also = f"; it also serves {more} more intent{'s' if more > 1 else ''}" if more else ""
        if self.only_for:
            return f"{self.group.name} on {where}: the only grant that allows {head.request}{also}"
        return (
            f"{self.group.name} on {where}: the least-privileged of {self.options} grants that "
            f"allow {head.request}{also}"
        )


# The converters of the frozen fields: typed, so the constructor's signature says what it takes.
def _grants(values: Iterable[Grant]) -> tuple[Grant, ...]:
    return tuple(values)


def _intents(values: Iterable[Intent]) -> tuple[Intent, ...]:
    return tuple(values)


def _unmapped(values: Iterable[Unmapped]) -> tuple[Unmapped, ...]:
    return tuple(values)


def _notes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _requirements(
    values: Iterable[tuple[Intent, frozenset[Element]]],
) -> tuple[tuple[Intent, frozenset[Element]], ...]:
    return tuple(values)


@frozen(kw_only=True)
class Advice:
    """The advisor's answer: the token to create and why each part of it is there.

    - ``spec``: the :class:`~cftokens.TokenSpec` (review it with ``spec.summary()``).
    - ``justification``: a DataFrame, one row per (group, resource), with the intents needing it.
    - ``unmapped``: the intents the advice does not cover, each with what to do about it.
    - ``intents``: every resolved intent; ``free`` those any valid token may call.
    - ``notes``: the audit rules the token would still trip and why (caller choices).
    - ``owner`` (``"user"``/``"account"``) and, for account-owned tokens, ``account_id``.
    - ``optimal``: True when the grants are proven minimal (always, unless the search budget
      ran out on a pathological input); ``cost``: the total cost per tier
      (:mod:`cftokens.advisor.costs`).
    - ``requirements``: for each intent needing a grant, the (group, resource) grants any one
      of which would allow it: the problem the advice solves, for review or re-checking.
    - ``issued_at``: the time the lifetime counts from (``not_before`` or ``now``).
    - ``findings``: the audit rules run on the advised token itself (:meth:`audit`), each with
      the note that explains it (``why``).
    """

    spec: TokenSpec
    grants: tuple[Grant, ...] = field(converter=_grants)
    intents: tuple[Intent, ...] = field(converter=_intents)
    unmapped: tuple[Unmapped, ...] = field(converter=_unmapped)
    notes: tuple[str, ...] = field(converter=_notes)
    owner: str = "user"
    account_id: str | None = None
    user: str | None = None
    directory: Directory | None = field(default=None, repr=False, eq=False)
    optimal: bool = True
    cost: Mapping[str, int] = field(factory=dict, eq=False)
    raw_requirements: tuple[tuple[Intent, frozenset[Element]], ...] = field(
        default=(), converter=_requirements, repr=False, eq=False
    )
    issued_at: datetime | None = field(default=None, eq=False)

    @property
    def requirements(
        self,
    ) -> tuple[tuple[Intent, frozenset[tuple[PermissionGroup, Resource]]], ...]:
        """For each intent needing a grant, the (group, resource) pairs any one of which
        allows it (``raw_requirements`` holds group ids instead of catalogue entries)."""
        return tuple(
            (intent, frozenset((_group(gid), r) for gid, r in opts))
            for intent, opts in self.raw_requirements
        )

    def with_note(self, note: str, *, first: bool = False) -> Advice:
        """A copy with one more note (at the front with ``first=True``)."""
        notes = (note, *self.notes) if first else (*self.notes, note)
        return evolve(self, notes=notes)

    @property
    def covered(self) -> tuple[Intent, ...]:
        """The intents a grant of the advice allows (not the free or unmapped ones)."""
        return tuple(intent for intent, _ in self.raw_requirements)

    @property
    def free(self) -> tuple[Intent, ...]:
        """Intents any valid token may call (no grant needed), e.g. verifying itself."""
        return tuple(i for i in self.intents if i.source == "free")

    @property
    def justification(self) -> pd.DataFrame:
        """One row per (group, resource): policy, group, scope, level, families, resource,
        resource_key, intents (tuple of requests), operations, n_intents, reason."""
        import pandas as pd

        rows = []
        for grant in self.grants:
            rows.append(
                {
                    "policy": grant.policy_index,
                    "group": grant.group.name,
                    "group_id": grant.group.id,
                    "scope": grant.group.scope.label,
                    "level": grant.group.level.value,
                    "families": ",".join(sorted(grant.group.families)),
                    "resource": grant.resource.describe(self.directory),
                    "resource_key": _resource_wire(grant.resource),
                    "intents": tuple(dict.fromkeys(i.request for i in grant.intents)),
                    "operations": tuple(
                        dict.fromkeys(i.operation_id or i.request for i in grant.intents)
                    ),
                    "n_intents": len(grant.intents),
                    "reason": grant.reason(self.directory),
                }
            )
        columns = [
            "policy",
            "group",
            "group_id",
            "scope",
            "level",
            "families",
            "resource",
            "resource_key",
            "intents",
            "operations",
            "n_intents",
            "reason",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        frame["policy"] = frame["policy"].astype("int64")
        frame["n_intents"] = frame["n_intents"].astype("int64")
        for name in ("scope", "level"):
            frame[name] = frame[name].astype("category")
        return frame

    @property
    def unmapped_frame(self) -> pd.DataFrame:
        """The unmapped intents as a DataFrame (intent, reason)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "intent": [u.intent for u in self.unmapped],
                "reason": [u.reason for u in self.unmapped],
            }
        )

    def summary(self) -> str:
        """The token's review text, then the notes and unmapped intents."""
        lines = str(self.spec.summary(self.directory)).split("\n")  # shown already
        if self.notes:
            lines.append("Advice notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        if self.unmapped:
            lines.append("Not covered:")
            lines.extend(f"  - {u}" for u in self.unmapped)
        return shown_lines(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())

    @html_repr
    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{g.policy_index}</td><td>{esc(g.group.name)}</td>"
            f"<td>{esc(g.resource.describe(self.directory))}</td>"
            f"<td>{esc(', '.join(dict.fromkeys(i.request for i in g.intents)))}</td></tr>"
            for g in self.grants
        )
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        missing = "".join(f"<li>{esc(str(u))}</li>" for u in self.unmapped)
        return (
            "<div class='cftokens-advice'>"
            + self.spec.summary(self.directory)._repr_html_()
            + "<p><strong>Why each grant</strong></p><table><thead><tr><th>policy</th>"
            "<th>group</th><th>resource</th><th>intents</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            + (f"<p><strong>Notes</strong></p><ul>{notes}</ul>" if notes else "")
            + (f"<p><strong>Not covered</strong></p><ul>{missing}</ul>" if missing else "")
            + "</div>"
        )

    # -- the audit rules on the advice ---------------------------------------------------------
    def audit(self, **options: Unpack[RecordOptions]) -> Audit:
        """An :class:`~cftokens.Audit` of the advised token as if created at ``issued_at``
        (the directory's accounts and zones give it names). Keyword arguments go to
        :meth:`cftokens.Audit.from_records` (``profile="strict"``…)."""
        return audit_spec(
            self.spec,
            owner=self.owner,
            account_id=self.account_id,
            user=self.user,
            directory=self.directory,
            at=self.issued_at,
            **options,
        )

    @property
    def findings(self) -> pd.DataFrame:
        """The audit's findings on the advised token, with ``why``: the advice note that
        explains a finding the caller's choices (or intents) make unavoidable; missing when no
        note does. The advisor itself never trips PE, LC-01 or NW-01 unless told to."""
        import pandas as pd

        findings: pd.DataFrame = self.audit().findings.copy()
        findings["why"] = pd.array(
            [self._why(str(rule)) for rule in findings["rule_id"]], dtype="string"
        )
        return findings

    def _why(self, rule_id: str) -> str | None:
        family = rule_id.rsplit("-", 1)[0]  # CFT-PE-03 -> CFT-PE
        exact = [n for n in self.notes if n.startswith(rule_id) or f"({rule_id})" in n]
        if exact:  # a rule may trip for several reasons (PE-03: no allowlist, other groups)
            return "; ".join(exact)
        if family == "CFT-NW" and (self.spec.allow_ips or self.spec.deny_ips):
            given = ", ".join(
                f"{name}={list(value)}"
                for name, value in (
                    ("allow_ips", self.spec.allow_ips),
                    ("deny_ips", self.spec.deny_ips),
                )
                if value
            )
            return f"CFT-NW: the IP condition is the caller's choice ({given}), kept as given"
        heads = [(note.split(":", 1)[0], note) for note in self.notes]
        for head, note in heads:
            if head == family:
                return note
        for head, note in heads:
            if head.startswith(family + "-") and family != "CFT-LC":
                return note
        return None

    # -- exports and proofs ------------------------------------------------------------------
    def verify(
        self,
        sandbox: Sandbox,
        *,
        near_misses: int = 20,
        seed: int = 0,
        keep: bool = False,
        token: Secret | str | None = None,
    ) -> pd.DataFrame:
        """Create the token in a sandbox, replay every intent (expected allowed) and a sample
        of near misses (expected denied); a DataFrame of outcomes.
        See :func:`cftokens.advisor.verify.verify`."""

        return verify(self, sandbox, near_misses=near_misses, seed=seed, keep=keep, token=token)

    def to_terraform(self, resource_name: str | None = None, *, comments: bool = True) -> str:
        """The token as Terraform HCL (``cloudflare_api_token``, or
        ``cloudflare_account_token`` for account-owned advice)."""
        return to_terraform(
            self.spec,
            resource_name=resource_name,
            account_id=self.account_id if self.owner == "account" else None,
            comments=comments,
        )


def audit_spec(
    spec: TokenSpec,
    *,
    owner: str = "user",
    account_id: str | None = None,
    user: str | None = None,
    directory: Directory | None = None,
    at: datetime | None = None,
    **options: Unpack[RecordOptions],
) -> Audit:
    """Run the audit's rules on a token that does not exist yet: ``spec`` as if created at
    ``at`` (default now), user-owned or owned by ``account_id``. Returns an
    :class:`~cftokens.Audit`; the token's id there is :data:`ADVISED_TOKEN_ID`."""
    # the audit uses the advisor (right-sizing) and the advisor the audit (one layer: a real
    # cycle), and `import cftokens.advisor` must not load the audit (numpy, pandas)
    from ..audit import Audit

    payload = spec.to_api()
    payload.update(id=ADVISED_TOKEN_ID, status="active")
    when = at or datetime.now(UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    payload.update(issued_on=stamp, modified_on=stamp)
    options.setdefault("now", when)
    options.setdefault("accounts", list(directory.accounts) if directory else [])
    options.setdefault("zones", list(directory.zones) if directory else [])
    if owner == "account" and account_id is not None:
        return Audit.from_records(account_tokens={account_id: [payload]}, **options)
    return Audit.from_records(tokens=[payload], user={"id": user} if user else None, **options)


def _resource_wire(resource: Resource) -> str:
    wire = Resource.to_api([resource])
    key = next(iter(wire))
    inner = wire[key]
    if isinstance(inner, Mapping):
        return f"{key} > {next(iter(inner))}"
    return key


def _group(group_id: str) -> PermissionGroup:
    group = permission_groups.by_id(group_id)
    assert group is not None
    return group
