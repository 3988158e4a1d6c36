"""The steps of a token's fix: typed, each with ``describe()`` (one line for people) and
``apply(body)`` (edits a PUT body in place and returns it; the steps that are requests of their
own, a roll, a delete, a replacement, return it unchanged). One module per kind of change:
``grants``, ``edits`` (of one policy), ``token`` (token-wide), ``replace`` (new tokens);
``base`` holds what they share.

The rules propose these same classes, one finding at a time (``RemoveGroups`` of one group,
``SetExpiry``, ``RemovePair`` …). Each knows how it joins a token's other proposals:
``merge(plan)`` adds it to a :class:`~cftokens.audit.remediation.FixPlan`, which keeps each
group, resource and edit once, one expiry and one allowlist. A :class:`BodyStep` that defines
no ``merge`` joins as one more edit of the token's grants, so a new kind of fix is one class
with ``describe`` and ``apply``.

A fix (:class:`~cftokens.audit.Remediation`) is an ordered tuple of these steps. Steps name
permission groups and resources by name; the ids only appear in the body. Values only you know
(your callers' IP ranges, the zone a job needs) are ``REPLACE-WITH-…`` placeholders, and the
step says which one.
"""

from __future__ import annotations

import warnings

from ._deprecated import DEPRECATED
from .base import (
    PLACEHOLDER_PREFIX,
    BodyStep,
    GroupRef,
    NamedAccounts,
    NamedZones,
    Step,
    Target,
    ZonesOfAccounts,
    drop_empty,
    join,
    placeholders_in,
    token_body,
)
from .edits import (
    MoveCondition,
    RemovePair,
    RemovePolicy,
    RemoveResource,
    RenameGroup,
    ReplacePair,
    RestrictZones,
)
from .grants import (
    Downgrade,
    DowngradeGroups,
    KeepOnlyGroups,
    LimitMinting,
    NarrowGroups,
    Narrowing,
    NarrowResources,
    RemoveGroups,
    ResourceNarrowing,
)
from .replace import (
    CreateScopedToken,
    MoveToAccount,
    Recreate,
    Replacement,
    Replacing,
    RequestBody,
    SplitToken,
)
from .token import (
    DeleteToken,
    Disable,
    ReplaceFirst,
    RollSecret,
    SetAllowlist,
    SetExpiry,
)


def __getattr__(name: str) -> type[BodyStep]:
    """A step's old name (``EditPolicy``), kept one release with a :class:`DeprecationWarning`."""
    if name not in DEPRECATED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    step, instead = DEPRECATED[name]
    warnings.warn(
        f"{__name__}.{name} is deprecated and goes in the next release: use {instead}",
        DeprecationWarning,
        stacklevel=2,
    )
    return step


__all__ = [
    "PLACEHOLDER_PREFIX",
    "BodyStep",
    "CreateScopedToken",
    "DeleteToken",
    "Disable",
    "Downgrade",
    "DowngradeGroups",
    "GroupRef",
    "KeepOnlyGroups",
    "LimitMinting",
    "MoveCondition",
    "MoveToAccount",
    "NamedAccounts",
    "NamedZones",
    "NarrowGroups",
    "NarrowResources",
    "Narrowing",
    "Recreate",
    "RemoveGroups",
    "RemovePair",
    "RemovePolicy",
    "RemoveResource",
    "RenameGroup",
    "ReplaceFirst",
    "ReplacePair",
    "Replacement",
    "Replacing",
    "RequestBody",
    "ResourceNarrowing",
    "RestrictZones",
    "RollSecret",
    "SetAllowlist",
    "SetExpiry",
    "SplitToken",
    "Step",
    "Target",
    "ZonesOfAccounts",
    "drop_empty",
    "join",
    "placeholders_in",
    "token_body",
]
