"""Right-sizing: shrink an existing token to what it needs, never adding anything.

``rightsize(token, needed)`` keeps, from the grants the token already has, the cheapest set
that still allows every needed intent (the same exact search as :func:`least_privilege`, but
only over (group, resource) pairs the token's policies already allow, plus the read twin of a
write group it holds: a downgrade), narrows wildcards to the zones and accounts actually
needed, and drops the rest. It returns the grants to keep and
to remove, the new :class:`~cftokens.TokenSpec` and the PUT body.

**PUT replaces the whole token.** The body holds every policy, the IP condition, the validity
window and the status; anything not in it is gone after the update. Review it, keep
``result.before`` (the current token) to roll back, then ``result.apply(client)``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from .._shown import html_repr, shown_lines
from ..catalog import permission_groups
from ..catalog.groups import Level, PermissionGroup
from ..errors import InvalidInput
from ..model._util import is_id
from ..model.directory import Directory, DirectorySource
from ..model.policy import Effect
from ..model.resources import Resource, ResourceKind, Scope
from ..model.token import CreatedToken, Token, TokenSpec
from ..policy import EffectiveGrant, effective_grants, evaluate, evaluate_request
from .advice import Advice, Grant, _grants, _group, _resource_wire, _unmapped
from .assemble import assemble
from .choose import _element_key, _element_label
from .costs import cost_of
from .intents import Intent, IntentLike, Overrides, Unmapped, resolve_intents
from .requirements import Element, _Context, _options, _with_request
from .resolve import _as_directory, _ids
from .solver import solve
from .usage import usage_requests

if TYPE_CHECKING:
    import pandas as pd

    from ..audit.usage import UsageSource
    from ..client import Client

__all__ = ["PUT_WARNING", "RightSize", "rightsize"]

PUT_WARNING = (
    "PUT replaces the whole token: its policies, IP condition, validity window and status "
    "become exactly this body, and anything left out is removed. Review the body, keep a copy "
    "of the current token (result.before) to roll back, then apply it with "
    "result.apply(client) or client.tokens.update(token_id, result.spec)."
)


#: One grant removed or narrowed: policy index, effect, action, group, resource, reason.
Removal = tuple[int, str, str, PermissionGroup | None, Resource, str]


def _removals(values: Iterable[Removal]) -> tuple[Removal, ...]:
    return tuple(values)


@frozen(kw_only=True)
class RightSize:
    """The result of :func:`rightsize`.

    - ``spec``: the new :class:`~cftokens.TokenSpec` (name, IPs, window and status kept);
      ``put_body`` its PUT body and ``put_path`` where it goes (None without a token id).
    - ``keep``/``remove``/``changes``: DataFrames of the grants kept, removed or narrowed.
    - ``grants``: the kept grants with the intents each serves.
    - ``missing``: needed intents the token cannot do today (right-sizing never adds grants;
      use :func:`~cftokens.least_privilege` for those); ``unmapped``: intents not understood.
    - ``warning``: PUT replaces the whole token.
    - ``before``: the token as it was.
    """

    before: Token | TokenSpec
    spec: TokenSpec
    grants: tuple[Grant, ...] = field(converter=_grants)
    removed: tuple[Removal, ...] = field(converter=_removals)
    missing: tuple[Unmapped, ...] = field(converter=_unmapped)
    unmapped: tuple[Unmapped, ...] = field(converter=_unmapped)
    account_id: str | None = None
    directory: Directory | None = field(default=None, repr=False, eq=False)
    warning: str = PUT_WARNING

    @property
    def token_id(self) -> str | None:
        """The token's id (None when right-sizing a spec)."""
        return self.before.id if isinstance(self.before, Token) else None

    @property
    def put_body(self) -> dict[str, Any]:
        """The body of ``PUT …/tokens/{id}``: the whole new token."""
        return self.spec.to_api()

    @property
    def put_path(self) -> str | None:
        """``/user/tokens/<id>`` or ``/accounts/<account>/tokens/<id>``."""
        if self.token_id is None:
            return None
        if self.account_id is not None:
            return f"/accounts/{self.account_id}/tokens/{self.token_id}"
        return f"/user/tokens/{self.token_id}"

    @property
    def changed(self) -> bool:
        """False when the token already is as small as it can be."""
        return bool(self.removed)

    @property
    def keep(self) -> pd.DataFrame:
        """The grants kept: policy (new), group, scope, resource, resource_key, intents."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "policy": g.policy_index,
                    "group": g.group.name,
                    "scope": g.group.scope.label,
                    "resource": g.resource.describe(self.directory),
                    "resource_key": _resource_wire(g.resource),
                    "intents": tuple(dict.fromkeys(i.request for i in g.intents)),
                }
                for g in self.grants
            ],
            columns=["policy", "group", "scope", "resource", "resource_key", "intents"],
        )

    @property
    def changes(self) -> pd.DataFrame:
        """Every grant of the old token: policy (old, 1-based), effect, group, resource,
        action (``keep``, ``narrow``, ``downgrade`` or ``remove``) and the reason."""
        import pandas as pd

        rows = []
        kept = {(g.group.id, g.resource) for g in self.grants}
        for grant in effective_grants(_probe(self.before)):
            group = permission_groups.by_id(grant.group_id)
            if (grant.group_id, grant.resource) in kept:
                rows.append(
                    {
                        "policy": grant.policy_index,
                        "effect": "allow",
                        "group": group.name if group else grant.group_id,
                        "resource": grant.resource.describe(self.directory),
                        "action": "keep",
                        "reason": "needed as it is",
                    }
                )
        for index, effect, action, group, resource, reason in self.removed:
            rows.append(
                {
                    "policy": index,
                    "effect": effect,
                    "group": group.name if group is not None else "(unknown group)",
                    "resource": resource.describe(self.directory),
                    "action": action,
                    "reason": reason,
                }
            )
        frame = pd.DataFrame(
            rows, columns=["policy", "effect", "group", "resource", "action", "reason"]
        )
        frame = frame.sort_values(["policy", "group", "resource"], kind="stable")
        frame["action"] = frame["action"].astype(
            pd.CategoricalDtype(["keep", "narrow", "downgrade", "remove"])
        )
        return frame.reset_index(drop=True)

    @property
    def remove(self) -> pd.DataFrame:
        """The grants removed or narrowed (a view of :attr:`changes`)."""
        frame = self.changes
        return frame[frame["action"] != "keep"].reset_index(drop=True)

    def apply(self, client: Client) -> Token:
        """Send the PUT with ``client`` (a :class:`~cftokens.Client`); returns the updated
        token. Read :attr:`warning` first."""
        if self.token_id is None:
            raise InvalidInput("right-sizing a TokenSpec has no token to update; pass a Token")
        tokens = client.account(self.account_id).tokens if self.account_id else client.tokens
        updated: Token = tokens.update(self.token_id, self.spec)
        return updated

    def summary(self) -> str:
        """What changes, the new token's review, and the PUT warning."""
        lines = [f"Right-sizing {self.before.name!r}:"]
        if not self.removed:
            lines.append("  nothing to remove: every grant is needed")
        for index, effect, action, group, resource, reason in self.removed:
            name = group.name if group is not None else "(unknown group)"
            lines.append(
                f"  - policy {index} ({effect}) {action}: {name} on "
                f"{resource.describe(self.directory)}: {reason}"
            )
        if self.missing:
            lines.append("Needed but not allowed today (not added):")
            lines.extend(f"  - {m}" for m in self.missing)
        lines.extend(str(self.spec.summary(self.directory)).split("\n"))  # shown already
        lines.append("Warning: " + self.warning)
        return shown_lines(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())

    @html_repr
    def _repr_html_(self) -> str:
        esc = html.escape
        items = "".join(
            f"<li>policy {i} ({esc(e)}) <strong>{esc(a)}</strong>: "
            f"{esc(g.name if g else '(unknown group)')} on "
            f"{esc(r.describe(self.directory))}: {esc(why)}</li>"
            for i, e, a, g, r, why in self.removed
        )
        return (
            f"<div class='cftokens-rightsize'><strong>Right-sizing {esc(self.before.name)}"
            f"</strong><ul>{items or '<li>nothing to remove</li>'}</ul>"
            + self.spec.summary(self.directory)._repr_html_()
            + f"<p><strong>Warning:</strong> {esc(self.warning)}</p></div>"
        )


def _probe(token: Token | TokenSpec) -> TokenSpec:
    """The token's policies alone: always active, no window, no IP condition."""
    return TokenSpec(name=token.name or "token", policies=token.policies)


def _allows(
    probe: TokenSpec, group: PermissionGroup, resource: Resource, directory: Directory | None
) -> bool:
    kind = resource.kind
    if kind is ResourceKind.ZONE:
        account = directory.zone_account(str(resource.id)) if directory else None
        return evaluate(
            probe, group, zone=str(resource.id), account=account, directory=directory
        ).allowed
    if kind is ResourceKind.ACCOUNT:
        return evaluate(probe, group, account=str(resource.id)).allowed
    if kind is ResourceKind.USER:
        return evaluate(probe, group, user=str(resource.id)).allowed
    return False


def _held(
    probe: TokenSpec, group: PermissionGroup, resource: Resource, directory: Directory | None
) -> bool:
    """The token allows ``group`` on ``resource``, or its write twin there (a read group is
    then a downgrade, never an addition of power)."""
    if _allows(probe, group, resource, directory):
        return True
    if group.level is not Level.READ:
        return False
    write = permission_groups.twin(group, Level.WRITE)
    return write is not None and _allows(probe, write, resource, directory)


def _narrower(atom: Resource, resource: Resource, directory: Directory | None) -> bool:
    """True when ``resource`` is part of what the wildcard ``atom`` names."""
    kind = atom.kind
    if kind is ResourceKind.ALL_ZONES:
        return resource.kind in (ResourceKind.ZONE, ResourceKind.ALL_ZONES_IN)
    if kind is ResourceKind.ALL_ZONES_IN:
        return resource.kind is ResourceKind.ZONE and (
            directory is not None and directory.zone_account(str(resource.id)) == atom.account_id
        )
    if kind is ResourceKind.ALL_ACCOUNTS:
        return resource.kind is ResourceKind.ACCOUNT
    if kind is ResourceKind.ZONE and atom.account_id is not None:
        return resource.kind is ResourceKind.ZONE and resource.id == atom.id
    return False


def _needed_intents(
    needed: Any,  # rightsize's needed: told apart at run time
    token: Token | TokenSpec,
    *,
    zones: list[str],
    accounts: list[str],
    directory: Directory | None,
    overrides: Overrides,
) -> tuple[list[Intent], list[Unmapped]]:
    if isinstance(needed, Advice):
        return list(needed.intents), list(needed.unmapped)
    if (
        not isinstance(needed, str | list | tuple | Mapping)
        and not hasattr(needed, "columns")
        and isinstance(needed, Iterable)
    ):
        needed = list(needed)  # a paginator of audit-log records, a generator, a set
    rows_like = hasattr(needed, "columns") or (
        isinstance(needed, list | tuple)
        and needed
        and not isinstance(needed[0], str | tuple)
        and (isinstance(needed[0], Mapping) or hasattr(needed[0], "raw_method"))
    )
    if rows_like:
        token_id = token.id if isinstance(token, Token) else None
        usage = usage_requests(needed, token_id=token_id)
        needed = list(usage.intents)
    return resolve_intents(
        needed, zones=zones, accounts=accounts, directory=directory, overrides=overrides
    )


def _as_token(token: Token | TokenSpec | CreatedToken | Mapping[str, Any]) -> Token | TokenSpec:
    """The token to right-size, from any of the forms :func:`rightsize` accepts."""
    if isinstance(token, CreatedToken):
        token = token.token
    if isinstance(token, Mapping):
        token = Token.from_api(token) if "id" in token else TokenSpec.from_api(token)
    if not isinstance(token, Token | TokenSpec):
        raise InvalidInput(
            f"rightsize() takes a Token, a TokenSpec or a token's API dict, got "
            f"{type(token).__name__}; read the token first with client.tokens.get(token_id)"
        )
    return token


def _not_held_reason(
    intent: Intent,
    opts: frozenset[Element],
    why: str,
    probe: TokenSpec,
    grants_now: Sequence[EffectiveGrant],
    directory: Directory | None,
    user: str | None,
) -> str:
    """Why the token cannot keep a grant for ``intent``: right-sizing never adds one."""
    reason = why or "the token holds none of the groups it accepts there"
    if opts:
        today = evaluate_request(
            probe, intent.method, intent.path, directory=directory, user=user
        ).reason
        reason = (
            f"the token does not allow it today ({today}); right-sizing never adds a "
            "grant: use least_privilege for a new token"
        )
        nested = any(g.resource.kind is ResourceKind.ALL_ZONES_IN for g in grants_now)
        if intent.zone_id and intent.account_id is None and nested:
            reason += (
                "; the token grants on all zones of an account, and the zone's account "
                "is unknown: pass directory="
            )
    return reason


def _held_requirements(
    resolved: Sequence[Intent],
    ctx: _Context,
    probe: TokenSpec,
    grants_now: Sequence[EffectiveGrant],
    *,
    directory: Directory | None,
    user: str | None,
) -> tuple[list[frozenset[Element]], list[Intent], list[Unmapped]]:
    """``(requirements, needing, missing)``: for each intent, the grants the token already
    holds that allow it; the intents it does not allow today go to ``missing``."""
    held_atoms: dict[str, list[Resource]] = {}
    for grant in grants_now:
        held_atoms.setdefault(grant.group_id, []).append(grant.resource)

    requirements: list[frozenset[Element]] = []
    needing: list[Intent] = []
    missing: list[Unmapped] = []
    for intent in resolved:
        if intent.source == "free":
            continue
        opts, why = _options(intent, ctx)
        usable = {e for e in opts if _held(probe, _group(e[0]), e[1], directory)}
        if not usable and intent.target.value in ("none", "user"):
            # A path naming no resource: any resource the token holds the group on will do.
            for wanted in intent.groups:
                if wanted.scope in (Scope.ZONE, Scope.ACCOUNT):
                    usable.update((wanted.id, atom) for atom in held_atoms.get(wanted.id, ()))
        if not usable:
            reason = _not_held_reason(intent, opts, why, probe, grants_now, directory, user)
            missing.append(Unmapped(intent=intent.text, reason=_with_request(intent, reason)))
            continue
        requirements.append(frozenset(usable))
        needing.append(intent)
    return requirements, needing, missing


def _removed(
    token: Token | TokenSpec,
    grants_now: Sequence[EffectiveGrant],
    grants: Sequence[Grant],
    directory: Directory | None,
) -> list[Removal]:
    """What goes away: (policy, effect, action, group, resource, why) for each grant the
    right-sized token no longer has, and each deny and dead allow of the old policies."""
    removed: list[Removal] = []
    kept = {(g.group.id, g.resource) for g in grants}
    for grant in grants_now:
        if (grant.group_id, grant.resource) not in kept:
            removed.append(_removal(grant, grants, directory))
    effective = {(g.group_id, g.resource) for g in grants_now}
    for index, policy in enumerate(token.policies, start=1):
        for ref in policy.permission_groups:
            named = permission_groups.by_id(ref.id)
            for atom in policy.resources:
                if policy.effect is Effect.DENY:
                    removed.append(
                        (
                            index,
                            "deny",
                            "remove",
                            named,
                            atom,
                            "no longer needed: the new grants name exact resources",
                        )
                    )
                elif (ref.id, atom) not in effective:
                    removed.append(
                        (index, "allow", "remove", named, atom, "grants nothing effective today")
                    )
    return removed


def _removal(
    grant: EffectiveGrant, grants: Sequence[Grant], directory: Directory | None
) -> Removal:
    """How one grant the token no longer holds goes: downgraded, narrowed or removed."""
    group = permission_groups.by_id(grant.group_id)
    narrowed = [
        g.resource
        for g in grants
        if g.group.id == grant.group_id and _narrower(grant.resource, g.resource, directory)
    ]
    read = permission_groups.twin(group, Level.READ) if group is not None else None
    downgraded = [
        g.resource
        for g in grants
        if read is not None
        and read != group
        and g.group.id == read.id
        and (g.resource == grant.resource or _narrower(grant.resource, g.resource, directory))
    ]
    if downgraded and read is not None and group is not None:
        where = ", ".join(r.describe(directory) for r in downgraded)
        return (
            grant.policy_index,
            "allow",
            "downgrade",
            group,
            grant.resource,
            f"replaced by {read.name} on {where}: the needed intents only read",
        )
    if narrowed:
        where = ", ".join(r.describe(directory) for r in narrowed)
        return (
            grant.policy_index,
            "allow",
            "narrow",
            group,
            grant.resource,
            f"narrowed to {where}: the only ones the needed intents touch",
        )
    return (
        grant.policy_index,
        "allow",
        "remove",
        group,
        grant.resource,
        "no needed intent requires it",
    )


def rightsize(
    token: Token | TokenSpec | CreatedToken | Mapping[str, Any],
    needed: str | Iterable[IntentLike] | Advice | UsageSource,
    *,
    zone: str | Iterable[str] | None = None,
    account: str | Iterable[str] | None = None,
    directory: DirectorySource | None = None,
    user: str | None = None,
    account_id: str | None = None,
    overrides: str | Path | Mapping[str, Any] | Overrides | None = None,
    max_nodes: int = 500_000,
) -> RightSize:
    """Shrink ``token`` to what ``needed`` requires, from grants it already has.

    ``token``: a :class:`~cftokens.Token`, a :class:`~cftokens.TokenSpec`, a created token,
    or the API's dict for one (``GET /user/tokens/{id}``'s ``result``, or a creation body
    without an id).

    ``needed``: intents (as for :func:`~cftokens.least_privilege`), an
    :class:`~cftokens.Advice`, or usage rows (the sandbox journal, or Audit Logs v2 records in
    a list or straight from ``client.account(a).audit_logs.list(…)``; for a
    :class:`~cftokens.Token` only its own rows count). ``zone``/``account`` bind
    placeholders; ``directory`` knows zones' accounts (needed to narrow "all zones of account
    A" and to let account groups serve zone paths). ``account_id``: the owning account of an
    account-owned token (for the PUT path and the scope rules). ``user``: your user tag (read
    from the token's user resources when it has one).

    The IP condition, validity window, status and name are kept as they are.
    """
    token = _as_token(token)
    if account_id is not None and not is_id(account_id):
        raise InvalidInput(
            f"account_id must be an account id (32 hex characters), got {account_id!r}"
        )
    directory = _as_directory(directory)
    zones = _ids(zone, "zone", directory)
    accounts = _ids(account, "account", directory)
    rules = Overrides.load(overrides)
    probe = _probe(token)
    grants_now = effective_grants(probe)
    if user is None:
        user = next(
            (str(g.resource.id) for g in grants_now if g.resource.kind is ResourceKind.USER),
            None,
        )
    resolved, unmapped = _needed_intents(
        needed, token, zones=zones, accounts=accounts, directory=directory, overrides=rules
    )
    touched_zones = list(zones) + [i.zone_id for i in resolved if i.zone_id]
    touched_accounts = list(accounts) + [i.account_id for i in resolved if i.account_id]
    ctx = _Context(
        owner="account" if account_id else "user",
        owner_account=account_id,
        user=user,
        zones=touched_zones,
        accounts=touched_accounts,
        directory=directory,
        allow_broad_scope=False,
    )
    requirements, needing, missing = _held_requirements(
        resolved, ctx, probe, grants_now, directory=directory, user=user
    )
    if not requirements:
        raise InvalidInput(
            f"token {token.name!r} allows none of the needed intents, so nothing would be "
            "kept; delete it, or create a new token with cftokens.least_privilege(...)"
            + (
                "; " + "; ".join(str(m) for m in (missing + unmapped)[:5])
                if missing or unmapped
                else ""
            )
        )
    solution = solve(
        requirements,
        lambda e: cost_of(e[0]),
        key=_element_key,
        label=_element_label,
        max_nodes=max_nodes,
    )
    chosen = set(solution.chosen)
    policies, grants = assemble(chosen, needing, requirements)

    removed = _removed(token, grants_now, grants, directory)
    status = token.status
    spec = TokenSpec(
        name=token.name or "token",
        policies=policies,
        allow_ips=token.condition.allow_text or token.condition.allow,
        deny_ips=token.condition.deny_text or token.condition.deny,
        not_before=token.not_before,
        expires_on=token.expires_on,
        status=status,
    )
    return RightSize(
        before=token,
        spec=spec,
        grants=grants,
        removed=sorted(
            removed,
            key=lambda r: (r[0], r[3].name if r[3] else "", _resource_wire(r[4])),
        ),
        missing=missing,
        unmapped=unmapped,
        account_id=account_id,
        directory=directory,
    )
