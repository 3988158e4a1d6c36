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

Each step is a module of this package: :mod:`~cftokens.advisor.resolve` (1),
:mod:`~cftokens.advisor.requirements` (2), :mod:`~cftokens.advisor.choose` (3),
:mod:`~cftokens.advisor.assemble` (4 and 5); the answer is an
:class:`~cftokens.advisor.advice.Advice`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypedDict

from ..model.directory import DirectorySource
from ..model.token import MAX_NAME_LENGTH as MAX_NAME_LENGTH
from ..model.token import MINTING_GROUP_IDS as MINTING_GROUP_IDS
from ..model.token import TokenSpec
from . import costs
from .advice import ADVISED_TOKEN_ID as ADVISED_TOKEN_ID
from .advice import Advice, Grant
from .advice import audit_spec as audit_spec
from .assemble import DEFAULT_TTL, MINTING_TTL, _cidrs, _default_name, caution_notes, lifetime
from .assemble import assemble as assemble
from .choose import choose
from .choose import resource_key as resource_key
from .intents import IntentLike, Overrides
from .requirements import Element as Element
from .requirements import GroupOnResource as GroupOnResource
from .requirements import requirements_of
from .resolve import resolve

__all__ = [
    "DEFAULT_TTL",
    "MINTING_TTL",
    "Advice",
    "AdviceOptions",
    "Grant",
    "least_privilege",
]

Owner = Literal["user", "account"]


class AdviceOptions(TypedDict, total=False):
    """The keyword arguments of :func:`least_privilege` (for the functions that pass them on,
    such as :func:`~cftokens.least_privilege_from_usage`)."""

    zone: str | Iterable[str] | None
    account: str | Iterable[str] | None
    directory: DirectorySource | None
    owner: Owner
    user: str | None
    allow_ips: Iterable[str] | None
    deny_ips: Iterable[str]
    ttl: timedelta | None
    not_before: datetime | None
    name: str | None
    allow_broad_scope: bool
    overrides: str | Path | Mapping[str, Any] | Overrides | None
    now: datetime | None
    max_nodes: int


def least_privilege(
    intents: str | Iterable[IntentLike],
    *,
    zone: str | Iterable[str] | None = None,
    account: str | Iterable[str] | None = None,
    directory: DirectorySource | None = None,
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
    plan = resolve(
        intents,
        zone=zone,
        account=account,
        directory=directory,
        owner=owner,
        user=user,
        allow_broad_scope=allow_broad_scope,
        overrides=overrides,
        now=now,
    )
    notes = plan.notes
    requirements, needing, free = requirements_of(plan.resolved, plan.context, plan.unmapped)
    chosen, solution = choose(requirements, needing, max_nodes=max_nodes, notes=notes)
    policies, grants = assemble(
        chosen,
        needing,
        requirements,
        directory=plan.directory if allow_broad_scope else None,
        notes=notes,
    )
    held = [g.group for g in grants]
    not_before, start, expires_on = lifetime(
        held, ttl=ttl, not_before=not_before, now=plan.now, notes=notes
    )
    ips = _cidrs(allow_ips)
    caution_notes(grants, ips=ips, free=free, notes=notes)

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
        intents=plan.resolved,
        unmapped=plan.unmapped,
        notes=tuple(dict.fromkeys(notes)),
        owner=owner,
        account_id=plan.context.owner_account,
        user=user,
        directory=plan.directory,
        optimal=solution.optimal,
        cost=costs.decode(sum(costs.cost_of(gid) for gid, _ in chosen)),
        raw_requirements=tuple(zip(needing, requirements, strict=True)),
        issued_at=start,
    )
