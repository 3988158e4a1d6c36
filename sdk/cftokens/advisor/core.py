"""``least_privilege``: the smallest token that does what a service needs, each grant explained.

How an advice is made:

1. Intents are resolved to concrete requests (:mod:`cftokens.advisor.intents`).
2. Each request becomes a *requirement*: the (permission group, resource) grants any one of
   which lets the policy engine allow it (:mod:`cftokens.policy` semantics): a zone path is
   met by a zone group on that zone or by an account group on the zone's account (known only
   with a directory); an account path only by an account group on that account (zone groups
   never apply to account paths); user groups on the user; a path naming no resource
   (``GET /zones``) by the group on any zone or account the intents touch.
3. The exact minimum-cost set of grants meeting every requirement is found
   (:mod:`cftokens.advisor.solver`, costs in :mod:`cftokens.advisor.costs`).
4. Grants become policies: one per set of resources, each listing the groups granted on
   exactly those resources (never wildcards unless ``allow_broad_scope=True``).
5. The token gets an expiry (``ttl``) and the caller's IP allowlist; the advice notes every
   audit rule (PE, LC-01, NW-01 …) the token would still trip and why.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from attrs import evolve, field, frozen

from ..catalog import permission_groups
from ..catalog.groups import Level, PermissionGroup
from ..catalog.operations import Target
from ..errors import InvalidInput
from ..model._util import aware, is_id
from ..model.directory import Directory
from ..model.policy import Effect, PermissionGroupRef, Policy
from ..model.resources import Resource, ResourceKind, Scope
from ..model.terraform import to_terraform
from ..model.token import MAX_NAME_LENGTH, TokenSpec
from . import costs
from .intents import Intent, Overrides, Unmapped, resolve_intents
from .solver import solve

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_TTL",
    "MINTING_TTL",
    "Advice",
    "Grant",
    "least_privilege",
]

DEFAULT_TTL = timedelta(days=90)
# The id the advised token carries in its own audit (it does not exist yet).
ADVISED_TOKEN_ID = "0000000000000000000000000000ad71"
MINTING_TTL = timedelta(days=30)
Owner = Literal["user", "account"]

# Token-minting groups (API Tokens Write, Account API Tokens Write): the PE-03 rule wants them
# alone in their token, IP-restricted and short-lived.
MINTING_GROUP_IDS = frozenset(
    {"686d18d5ac6c441c867cbf6771e58a0a", "5bc3f8b21c554832afc660159ab75fa4"}
)
_SCOPE_ORDER = {Scope.ZONE: 0, Scope.ACCOUNT: 1, Scope.USER: 2, Scope.R2_BUCKET: 3}
_KIND_ORDER = {
    ResourceKind.ZONE: 0,
    ResourceKind.ALL_ZONES_IN: 1,
    ResourceKind.ALL_ZONES: 2,
    ResourceKind.ACCOUNT: 3,
    ResourceKind.ALL_ACCOUNTS: 4,
    ResourceKind.USER: 5,
    ResourceKind.UNPARSED: 6,
}

Element = tuple[str, Resource]  # (permission group id, resource atom)
GroupOnResource = tuple[PermissionGroup, Resource]


def resource_key(resource: Resource) -> tuple[int, str, str]:
    """A deterministic sort key for resource atoms."""
    return (_KIND_ORDER[resource.kind], resource.account_id or "", resource.id or "")


@functools.cache
def _group_key(group_id: str) -> tuple[str, str]:
    group = permission_groups.by_id(group_id)
    assert group is not None
    return (group.name, group.id)


_STOPWORDS = frozenset({"and", "for", "the", "with"})


def _words(text: str) -> list[str]:
    """Lower-case words of three letters or more, plural "s" dropped, stopwords left out."""
    return [
        w.rstrip("s")
        for w in re.split(r"[^a-z0-9]+", text.lower())
        if len(w) > 2 and w not in _STOPWORDS
    ]


def _subject_text(path: str) -> str:
    """The literal segments of a path template that say what it is about: placeholders and
    the resource prefix (``/zones/{zone_id}``, ``/accounts/{account_id}``) left out, since
    every zone or account path has them."""
    segments = [s for s in path.split("/") if s]
    if len(segments) > 1 and segments[0] in ("zones", "accounts") and "{" in segments[1]:
        segments = segments[2:]
    return " ".join(s for s in segments if "{" not in s)


def _relevance(group_id: str, intent: Intent) -> int:
    """How naturally a group names what an operation is about, 0 to 100: 100 when the group's
    subject ("Zone" of "Zone Read") is the operation's tag, else the share of the subject's
    words found in the tag or the path's literal segments after the zone or account prefix
    (so "Zone WAF Read" does not look natural on every ``/zones/{zone_id}/…`` path)."""
    group = permission_groups.by_id(group_id)
    op = intent.operation
    if group is None or op is None:
        return 0
    subject = re.sub(r"\s+(read|write|edit)$", "", group.name.lower())
    tag = op.tag.lower()
    if subject == tag:
        return 100
    seen = set(_words(_subject_text(op.path) + " " + tag))
    words = _words(subject)
    if not words:
        return 0
    return 99 * sum(1 for w in words if w in seen) // len(words)


def _prefer_natural(
    chosen: set[Element], requirements: Sequence[frozenset[Element]], needing: Sequence[Intent]
) -> set[Element]:
    """Among grants of equal cost on every tier but *reach*, prefer the group that names what
    the operation is about: ``GET /zones/{zone_id}`` gets "Zone Read", not one of the ~40
    other groups the schema also accepts there. A swap keeps the number of grants, the
    resources and every cost tier above reach, and still covers every intent."""
    result = set(chosen)
    for element in sorted(chosen, key=_element_key):
        if element not in result:
            continue
        others = result - {element}
        relied = [
            i
            for i, options in enumerate(requirements)
            if element in options and not (options & others)
        ]
        if not relied:
            continue
        current = min(_relevance(element[0], needing[i]) for i in relied)
        upper = costs.tiers_of(element[0])[:4]
        candidates = set.intersection(*(set(requirements[i]) for i in relied)) - result
        best: tuple[Any, ...] | None = None
        for candidate in candidates:
            if candidate[1] != element[1] or costs.tiers_of(candidate[0])[:4] != upper:
                continue
            score = min(_relevance(candidate[0], needing[i]) for i in relied)
            if score <= current:
                continue
            key = (-score, costs.tiers_of(candidate[0])[5], _element_key(candidate))
            if best is None or key < best[0]:
                best = (key, candidate)
        if best is not None:
            result.discard(element)
            result.add(best[1])
    return result


def _element_key(element: Element) -> tuple[Any, ...]:
    return (*_group_key(element[0]), resource_key(element[1]))


def _element_label(element: Element) -> tuple[str, ResourceKind]:
    return element[0], element[1].kind


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


def _tuple(values: Iterable[Any]) -> tuple[Any, ...]:
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
    grants: tuple[Grant, ...] = field(converter=_tuple)
    intents: tuple[Intent, ...] = field(converter=_tuple)
    unmapped: tuple[Unmapped, ...] = field(converter=_tuple)
    notes: tuple[str, ...] = field(converter=_tuple)
    owner: str = "user"
    account_id: str | None = None
    user: str | None = None
    directory: Directory | None = field(default=None, repr=False, eq=False)
    optimal: bool = True
    cost: Mapping[str, int] = field(factory=dict, eq=False)
    raw_requirements: tuple[tuple[Intent, frozenset[Element]], ...] = field(
        default=(), converter=_tuple, repr=False, eq=False
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
        lines = [str(self.spec.summary(self.directory))]
        if self.notes:
            lines.append("Advice notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        if self.unmapped:
            lines.append("Not covered:")
            lines.extend(f"  - {u}" for u in self.unmapped)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())

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
    def audit(self, **kwargs: Any) -> Any:
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
            **kwargs,
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
    def verify(self, sandbox: Any, **kwargs: Any) -> pd.DataFrame:
        """Create the token in a sandbox, replay every intent (expected allowed) and a sample
        of near misses (expected denied); a DataFrame of outcomes.
        See :func:`cftokens.advisor.verify.verify`."""
        from .verify import verify

        return verify(self, sandbox, **kwargs)

    def to_terraform(self, resource_name: str | None = None, **kwargs: Any) -> str:
        """The token as Terraform HCL (``cloudflare_api_token``, or
        ``cloudflare_account_token`` for account-owned advice)."""
        return to_terraform(
            self.spec,
            resource_name=resource_name,
            account_id=self.account_id if self.owner == "account" else None,
            **kwargs,
        )


def audit_spec(
    spec: TokenSpec,
    *,
    owner: str = "user",
    account_id: str | None = None,
    user: str | None = None,
    directory: Directory | None = None,
    at: datetime | None = None,
    **kwargs: Any,
) -> Any:
    """Run the audit's rules on a token that does not exist yet: ``spec`` as if created at
    ``at`` (default now), user-owned or owned by ``account_id``. Returns an
    :class:`~cftokens.Audit`; the token's id there is :data:`ADVISED_TOKEN_ID`."""
    from ..audit import Audit

    payload = spec.to_api()
    payload.update(id=ADVISED_TOKEN_ID, status="active")
    when = at or datetime.now(UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    payload.update(issued_on=stamp, modified_on=stamp)
    kwargs.setdefault("now", when)
    kwargs.setdefault("accounts", list(directory.accounts) if directory else [])
    kwargs.setdefault("zones", list(directory.zones) if directory else [])
    if owner == "account" and account_id is not None:
        return Audit.from_records(account_tokens={account_id: [payload]}, **kwargs)
    return Audit.from_records(tokens=[payload], user={"id": user} if user else None, **kwargs)


def _resource_wire(resource: Resource) -> str:
    wire = Resource.to_api([resource])
    key = next(iter(wire))
    inner = wire[key]
    if isinstance(inner, Mapping):
        return f"{key} > {next(iter(inner))}"
    return key


# ---------------------------------------------------------------------------------------------
# Building the requirements
# ---------------------------------------------------------------------------------------------


class _Context:
    """What the requirement builder needs to know about the token being designed."""

    def __init__(
        self,
        *,
        owner: str,
        owner_account: str | None,
        user: str | None,
        zones: Sequence[str],
        accounts: Sequence[str],
        directory: Directory | None,
        allow_broad_scope: bool,
    ):
        self.owner = owner
        self.owner_account = owner_account
        self.user = user
        self.zones = list(dict.fromkeys(zones))
        self.accounts = list(dict.fromkeys(accounts))
        self.directory = directory
        self.allow_broad_scope = allow_broad_scope


@functools.lru_cache(maxsize=65536)
def _zone_atom(zone_id: str) -> Resource:
    return Resource.zone(zone_id)


@functools.lru_cache(maxsize=65536)
def _account_atom(account_id: str) -> Resource:
    return Resource.account(account_id)


def _names(groups: Iterable[PermissionGroup]) -> str:
    return ", ".join(dict.fromkeys(g.name for g in groups))


def _options(intent: Intent, ctx: _Context) -> tuple[frozenset[Element], str]:
    """The grants any one of which allows the intent; when none, the reason why."""
    options: set[Element] = set()
    skipped_user: list[PermissionGroup] = []
    missing_user: list[PermissionGroup] = []
    needs_account: list[PermissionGroup] = []
    anywhere: list[PermissionGroup] = []
    zone_on_account: list[PermissionGroup] = []
    wrong_account = False
    target = intent.target
    account_token = ctx.owner == "account"
    for group in intent.groups:
        scope = group.scope
        if scope is Scope.R2_BUCKET:
            continue
        if scope is Scope.USER:
            if account_token:
                skipped_user.append(group)
            elif ctx.user is None:
                missing_user.append(group)
            else:
                options.add((group.id, Resource.user(ctx.user)))
            continue
        if target is Target.ZONE:
            zone = intent.zone_id
            assert zone is not None
            account = intent.account_id
            if account_token and account is not None and account != ctx.owner_account:
                wrong_account = True
                continue
            if scope is Scope.ZONE:
                options.add((group.id, _zone_atom(zone)))
            elif account is not None:
                options.add((group.id, _account_atom(account)))
            else:
                needs_account.append(group)
            continue
        if target is Target.ACCOUNT:
            account = intent.account_id
            assert account is not None
            if scope is not Scope.ACCOUNT:
                zone_on_account.append(group)  # zone groups never apply to account paths
                continue
            if account_token and account != ctx.owner_account:
                wrong_account = True
                continue
            options.add((group.id, _account_atom(account)))
            continue
        # A path naming no zone or account: the group on any resource of its scope.
        if scope is Scope.ZONE:
            if ctx.zones:
                options.update((group.id, _zone_atom(z)) for z in ctx.zones)
            elif ctx.allow_broad_scope:
                if account_token and ctx.owner_account is not None:
                    options.add((group.id, Resource.all_zones_of(ctx.owner_account)))
                else:
                    options.add((group.id, Resource.all_zones()))
            else:
                anywhere.append(group)
        elif scope is Scope.ACCOUNT:
            if ctx.accounts:
                options.update((group.id, _account_atom(a)) for a in ctx.accounts)
            elif ctx.allow_broad_scope and not account_token:
                options.add((group.id, Resource.all_accounts()))
            else:
                anywhere.append(group)
    if options:
        return frozenset(options), ""
    reasons: list[str] = []
    if wrong_account:
        reasons.append(
            f"it acts on another account than {_label(ctx, 'account', ctx.owner_account)}, the "
            "only account an account-owned token can reach; use owner='user' or a token per account"
        )
    if skipped_user:
        reasons.append(
            f"it needs a user-scoped group ({_names(skipped_user)}), which account-owned tokens "
            "cannot hold; use owner='user'"
        )
    if missing_user:
        reasons.append(
            f"it needs {_names(missing_user)} on your user: pass user=<your user tag> "
            "(client.user.get().id)"
        )
    if needs_account:
        reasons.append(
            f"it accepts only account-scoped groups ({_names(needs_account)}) granted on the "
            "zone's account, which is unknown: pass directory= so the zone's account is known"
        )
    if zone_on_account:
        reasons.append(
            f"it lists only zone-scoped groups ({_names(zone_on_account)}), and a zone group "
            "never applies to an account path; map it in an overrides file if Cloudflare "
            "documents an account group for it"
        )
    if anywhere:
        kinds = sorted({g.scope.label for g in anywhere})
        reasons.append(
            f"it needs {_names(anywhere)} on at least one {' or '.join(kinds)} and no intent "
            f"names one: pass {'zone' if 'zone' in kinds else 'account'}= (or "
            "allow_broad_scope=True to grant it on all of them)"
        )
    if not reasons:
        reasons.append(
            f"none of the groups it accepts ({_names(intent.groups) or 'none'}) can be granted "
            "for this path"
        )
    return frozenset(), "; ".join(reasons)


def _with_request(intent: Intent, why: str) -> str:
    """``why``, led by the concrete request when the intent was written otherwise (a
    template, an operationId, a client method)."""
    return why if intent.text == intent.request else f"{intent.request}: {why}"


def _needed_by(group: PermissionGroup, grants: Sequence[Grant]) -> str:
    """``"POST /user/tokens accepts"`` / ``"A, B, C … accept"``: the requests a granted
    group serves, for the notes."""
    needers = sorted({i.request for g in grants if g.group == group for i in g.intents})
    more = " …" if len(needers) > 3 else ""
    verb = "accepts" if len(needers) == 1 else "accept"
    return f"{', '.join(needers[:3])}{more} {verb}"


def _cidrs(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """IP ranges as given: one string is one range (not its characters)."""
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)


def _label(ctx: _Context, kind: str, ident: str | None) -> str:
    if ident is None:
        return "its account"
    if ctx.directory is not None:
        name = ctx.directory.label(kind, ident)
        if name:
            return f"{name} ({ident})"
    return ident


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------


def _as_directory(value: Any) -> Directory | None:
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


def _default_name(grants: Sequence[tuple[PermissionGroup, Resource]]) -> str:
    groups = list(dict.fromkeys(g.name for g, _ in grants))
    kinds = {r.kind for _, r in grants}
    zones = {r.id for _, r in grants if r.kind is ResourceKind.ZONE}
    wide = {r.account_id for _, r in grants if r.kind is ResourceKind.ALL_ZONES_IN}
    accounts = {r.id for _, r in grants if r.kind is ResourceKind.ACCOUNT}
    where = []
    if zones:
        where.append(f"{len(zones)} zone{'s' if len(zones) > 1 else ''}")
    if wide:
        where.append(f"all zones of {len(wide)} account{'s' if len(wide) > 1 else ''}")
    if ResourceKind.ALL_ZONES in kinds:
        where.append("all zones")
    if accounts:
        where.append(f"{len(accounts)} account{'s' if len(accounts) > 1 else ''}")
    if ResourceKind.ALL_ACCOUNTS in kinds:
        where.append("all accounts")
    head = ", ".join(groups[:3]) + (f" +{len(groups) - 3}" if len(groups) > 3 else "")
    name = f"least-privilege: {head}" + (f" on {' and '.join(where)}" if where else "")
    return name[:MAX_NAME_LENGTH]


# ---------------------------------------------------------------------------------------------
# The advisor
# ---------------------------------------------------------------------------------------------


def least_privilege(
    intents: Any,
    *,
    zone: str | Iterable[str] | None = None,
    account: str | Iterable[str] | None = None,
    directory: Any = None,
    owner: Owner = "user",
    user: str | None = None,
    allow_ips: Iterable[str] | None = None,
    deny_ips: Iterable[str] = (),
    ttl: timedelta | None = DEFAULT_TTL,
    not_before: datetime | None = None,
    name: str | None = None,
    allow_broad_scope: bool = False,
    overrides: str | Path | Mapping[str, Any] | Overrides | None = None,
    now: datetime | None = None,
    max_nodes: int = 500_000,
) -> Advice:
    """The smallest token that allows every intent, with each grant explained.

    ``intents``: ``"METHOD /path/template"`` strings, concrete paths, operationIds or client
    methods (see :mod:`cftokens.advisor.intents`). ``zone``/``account``: ids (or, with a
    ``directory``, names; a list binds a template once per item) for the ``{zone_id}`` and
    ``{account_id}`` placeholders. ``directory`` (a Directory, client or sandbox) turns names
    into ids and knows each zone's account, which lets account-scoped groups that a zone path
    accepts count.

    ``owner``: ``"user"`` (default) or ``"account"`` (an account-owned token: one account, no
    user-scoped groups). ``user``: your user tag, needed only for user-scoped groups.
    ``allow_ips``/``deny_ips``: the client-IP condition, CIDR ranges (one range may be a plain
    string); none by default, which the notes flag. ``ttl``: lifetime from ``not_before`` (or
    ``now``), 90 days by default (30 for tokens that can mint tokens); ``None`` for no
    expiry. ``allow_broad_scope=True`` allows "all zones of account A" where the grant would
    name every zone of A, and wildcards where an intent names no resource.
    ``overrides``: a JSON/YAML file or mapping giving permission groups for unmapped intents.

    Raises :class:`~cftokens.InvalidInput` for bad arguments or when no intent can be
    covered (the message lists why for each).
    """
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
        if len(accounts) == 1:
            owner_account = accounts[0]
        elif len(accounts) > 1:
            raise InvalidInput(
                "an account-owned token belongs to one account; account= names "
                f"{len(accounts)}: create one token per account or use owner='user'"
            )
        elif len(set(touched_accounts)) == 1:
            owner_account = touched_accounts[0]
        elif not touched_accounts:
            raise InvalidInput(
                "an account-owned token belongs to one account: pass account=<account id>"
                + ("" if directory is not None else " (and directory= to know zones' accounts)")
            )
        else:
            raise InvalidInput(
                "an account-owned token belongs to one account, but the intents touch "
                f"{len(set(touched_accounts))} accounts: pass account= to choose, create one "
                "token per account, or use owner='user'"
            )
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
    requirements: list[frozenset[Element]] = []
    needing: list[Intent] = []
    free: list[Intent] = []
    for intent in resolved:
        if intent.source == "free":
            free.append(intent)
            continue
        opts, why = _options(intent, ctx)
        if not opts:
            unmapped.append(Unmapped(intent=intent.text, reason=_with_request(intent, why)))
            continue
        requirements.append(opts)
        needing.append(intent)
    if not requirements:
        reasons = "; ".join(str(u) for u in unmapped) or "every intent is callable by any token"
        raise InvalidInput(f"no intent needs or could get a permission group: {reasons}")

    solution = solve(
        requirements,
        lambda e: costs.cost_of(e[0]),
        key=_element_key,
        label=_element_label,
        max_nodes=max_nodes,
    )
    chosen = _prefer_natural(set(solution.chosen), requirements, needing)
    if not solution.optimal:
        notes.append(
            f"the search for the provably cheapest grants stopped after {solution.nodes:,} steps; "
            "these grants are valid but may not be minimal (raise max_nodes=)"
        )

    policies, grants = assemble(
        chosen,
        needing,
        requirements,
        directory=directory if allow_broad_scope else None,
        notes=notes,
    )

    # Lifetime, IPs and the audit rules the token would still trip.
    held = [g.group for g in grants]
    minting = [g for g in dict.fromkeys(held) if g.id in MINTING_GROUP_IDS]
    escalating = [g for g in dict.fromkeys(held) if "PE" in g.families]
    writes = any(g.level is not Level.READ for g in held)
    if not_before is not None:
        not_before = aware(not_before, "not_before")
    start = not_before if not_before is not None else now
    expires_on: datetime | None = None
    if ttl is not None:
        if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
            raise InvalidInput("ttl must be a positive timedelta (or None for no expiry)")
        lifetime = ttl
        if minting and ttl is DEFAULT_TTL:
            lifetime = MINTING_TTL
            notes.append(
                "the token can mint tokens, so its lifetime is cut to 30 days, as CFT-PE-03 asks "
                "(pass ttl= to choose another)"
            )
        elif minting and ttl > MINTING_TTL:
            notes.append(
                f"CFT-PE-03: the token can mint tokens and lives {ttl.days} days (ttl=); "
                "keep minting tokens to 30 days or less"
            )
        expires_on = start + lifetime
        if writes and lifetime > timedelta(days=90):
            notes.append(
                f"CFT-LC-02: a token with write access living {lifetime.days} days exceeds the "
                "90-day policy (ttl=)"
            )
        elif lifetime > timedelta(days=366):
            notes.append(f"CFT-LC-02: a lifetime of {lifetime.days} days exceeds 366 days (ttl=)")
    else:
        notes.append(
            "CFT-LC-01: no expiry because ttl=None; the token works until revoked (pass ttl= "
            "to bound it)"
        )
    ips = _cidrs(allow_ips)
    if not ips:
        rule = "CFT-PE-03" if minting else "CFT-NW-01"
        notes.append(
            f"{rule}: no IP allowlist because allow_ips was not given; the token works from any "
            "address if it leaks (pass allow_ips=['203.0.113.0/24', …])"
        )
        risky = [g for g in dict.fromkeys(held) if g.families & {"HIJACK", "EXFIL"}]
        if risky:
            notes.append(
                f"CFT-RK: without an IP allowlist the risky group(s) {_names(risky)} count as "
                "exposed (the RK rules exempt named zones behind an allowlist); pass allow_ips="
            )
    for group in dict.fromkeys(held):
        if group.families & {"CRED", "EVASION"} and "PE" not in group.families:
            family = "returns secrets" if "CRED" in group.families else "can weaken defences"
            notes.append(
                f"CFT-RK: {group.name} {family}; it is granted because "
                f"{_needed_by(group, grants)} no less-risky group"
            )
    for group in escalating:
        returns = " and returns secrets (CFT-RK-03)" if "CRED" in group.families else ""
        notes.append(
            f"CFT-PE: {group.name} lets the token escalate privilege{returns}; it is granted "
            f"because {_needed_by(group, grants)} no less-privileged group"
        )
    if minting and len(set(held)) > len(minting):
        notes.append(
            "CFT-PE-03: the token mints tokens and holds other groups; put "
            f"{_names(minting)} in a token of its own (advise the two intent lists separately)"
        )
    if free:
        notes.append(
            f"{len(free)} intent(s) need no permission group (any valid token may call them): "
            + ", ".join(dict.fromkeys(i.request for i in free))
        )

    if name is None:
        name = _default_name([(g.group, g.resource) for g in grants])
    spec = TokenSpec(
        name=name,
        policies=policies,
        allow_ips=ips,
        deny_ips=_cidrs(deny_ips),
        not_before=not_before,
        expires_on=expires_on,
    )
    return Advice(
        spec=spec,
        grants=grants,
        intents=resolved,
        unmapped=unmapped,
        notes=tuple(dict.fromkeys(notes)),
        owner=owner,
        account_id=owner_account,
        user=user,
        directory=directory,
        optimal=solution.optimal,
        cost=costs.decode(sum(costs.cost_of(gid) for gid, _ in chosen)),
        raw_requirements=tuple(zip(needing, requirements, strict=True)),
        issued_at=start,
    )


def assemble(
    chosen: set[Element],
    needing: Sequence[Intent],
    requirements: Sequence[frozenset[Element]],
    *,
    directory: Directory | None = None,
    notes: list[str] | None = None,
) -> tuple[list[Policy], list[Grant]]:
    """Policies and grants from the chosen (group, resource) elements.

    Groups with identical resource sets share a policy. With a ``directory`` (broad scope
    allowed), a group granted on every zone of an account gets "all zones of the account"
    instead, and ``notes`` says so.
    """
    if notes is None:
        notes = []
    served: dict[Element, list[tuple[int, Intent]]] = {e: [] for e in chosen}
    for intent, opts in sorted(
        zip(needing, requirements, strict=True), key=lambda pair: len(pair[1])
    ):
        for element in opts & chosen:
            served[element].append((len(opts), intent))
    by_group: dict[str, list[Resource]] = {}
    for gid, resource in sorted(chosen, key=_element_key):
        by_group.setdefault(gid, []).append(resource)
    merged_from: dict[tuple[str, Resource], list[Element]] = {
        (gid, r): [(gid, r)] for gid, r in chosen
    }
    if directory is not None:
        for gid, resources in by_group.items():
            zone_ids = {r.id for r in resources if r.kind is ResourceKind.ZONE}
            for acct in directory.accounts:
                own = {z.id for z in directory.zones_of(acct.id)}
                if own and own <= zone_ids:
                    atoms = [r for r in resources if r.kind is ResourceKind.ZONE and r.id in own]
                    wide = Resource.all_zones_of(acct.id)
                    merged_from[(gid, wide)] = [e for a in atoms for e in merged_from.pop((gid, a))]
                    resources[:] = [r for r in resources if r not in atoms] + [wide]
                    group = permission_groups.by_id(gid)
                    notes.append(
                        f"allow_broad_scope: {group.name if group else gid} is granted on all "
                        f"zones of account {acct.name}, since the intents touch every one of "
                        "them; this includes zones added later"
                    )
    by_resources: dict[tuple[Resource, ...], list[str]] = {}
    for gid, resources in by_group.items():
        key = tuple(sorted(set(resources), key=resource_key))
        by_resources.setdefault(key, []).append(gid)

    def _policy_order(item: tuple[tuple[Resource, ...], list[str]]) -> tuple[Any, ...]:
        resources, gids = item
        groups = [permission_groups.by_id(g) for g in gids]
        scope = min(_SCOPE_ORDER[g.scope] for g in groups if g is not None)
        return (scope, [resource_key(r) for r in resources])

    policies: list[Policy] = []
    grants: list[Grant] = []
    for index, (policy_atoms, gids) in enumerate(
        sorted(by_resources.items(), key=_policy_order), start=1
    ):
        groups = sorted(
            (g for g in (permission_groups.by_id(x) for x in gids) if g is not None),
            key=lambda g: (g.name, g.id),
        )
        policies.append(
            Policy(
                effect=Effect.ALLOW,
                permission_groups=[PermissionGroupRef.of(g) for g in groups],
                resources=policy_atoms,
            )
        )
        for group in groups:
            for resource in policy_atoms:
                origins = merged_from.get((group.id, resource), [(group.id, resource)])
                pairs = sorted((p for e in origins for p in served.get(e, [])), key=lambda p: p[0])
                grants.append(
                    Grant(
                        group=group,
                        resource=resource,
                        intents=tuple(dict.fromkeys(i for _, i in pairs)),
                        policy_index=index,
                        only_for=tuple(dict.fromkeys(i for n, i in pairs if n == 1)),
                        options=max((n for n, _ in pairs), default=1),
                    )
                )

    return policies, grants


def _group(group_id: str) -> PermissionGroup:
    group = permission_groups.by_id(group_id)
    assert group is not None
    return group
