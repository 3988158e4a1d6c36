"""What a grant costs: the advisor's notion of "less privilege".

A grant is one permission group on one resource. Its cost is a tuple compared
lexicographically (encoded as one integer so the solver can add costs up):

1. **escalation**: 1 for a group of the PE (privilege escalation) risk family. Most expensive:
   no number of other grants outweighs one escalation grant.
2. **breadth of scope**: 1 for an account (or user) grant, 0 for a zone grant. An account grant
   reaches every zone of the account for the groups a zone path accepts, so zone grants win
   unless an account grant is unavoidable.
3. **write**: 1 for write-level groups (Write/Edit, purge, revoke, "Run"…), 0 for read.
4. **risk**: how many of the other risk families (HIJACK, EXFIL, CRED, EVASION) the group is in.
5. **count**: 1 per grant (fewer grants, fewer policies to review).
6. **reach**: how many API operations accept the group: among otherwise equal groups, the one
   that unlocks the fewest other operations.

Remaining ties are broken by group name, then id, then resource: deterministic. After the
exact search, one pass trades reach for meaning: a chosen grant is replaced by one of equal
cost on tiers 1–5, on the same resource, covering the same intents, whose group names what the
operation is about (``GET /zones/{zone_id}`` gets "Zone Read", not "Load Balancers Read",
which the schema also accepts there). So the advice is minimal on tiers 1–5 and on reach only
among groups equally natural for the intents.
"""

from __future__ import annotations

import functools

from ..catalog import operations, permission_groups
from ..catalog.groups import Level, PermissionGroup
from ..model.resources import Scope

__all__ = ["TIERS", "GrantCost", "cost_of", "decode", "reach"]

# Each tier gets 24 bits: sums of up to ~16 million grants cannot carry into the next tier.
_WIDTH = 24
TIERS = ("escalation", "scope", "write", "risk", "count", "reach")
_OTHER_FAMILIES = ("HIJACK", "EXFIL", "CRED", "EVASION")


@functools.cache
def _reach_table() -> dict[str, int]:
    counts: dict[str, int] = {}
    for op in operations:
        for name in dict.fromkeys(op.group_names or ()):
            counts[name] = counts.get(name, 0) + 1
    return counts


def reach(group: PermissionGroup) -> int:
    """How many API operations accept ``group`` (by name, as the schema lists them)."""
    return _reach_table().get(group.name, 0)


GrantCost = tuple[int, int, int, int, int, int]


@functools.cache
def tiers_of(group_id: str) -> GrantCost:
    """The cost tuple of granting the group with this id on one resource."""
    group = permission_groups.by_id(group_id)
    if group is None:  # pragma: no cover - ids come from the catalogue
        raise KeyError(group_id)
    families = group.families
    return (
        int("PE" in families),
        int(group.scope is not Scope.ZONE),
        int(group.level is not Level.READ),
        sum(1 for f in _OTHER_FAMILIES if f in families),
        1,
        reach(group),
    )


@functools.cache
def cost_of(group_id: str) -> int:
    """The cost tuple encoded as one integer (lexicographic order is kept under addition)."""
    value = 0
    for part in tiers_of(group_id):
        value = (value << _WIDTH) | part
    return value


def decode(cost: int) -> dict[str, int]:
    """A total cost split back into its tiers (``{"escalation": 0, "scope": 1, …}``)."""
    mask = (1 << _WIDTH) - 1
    parts = []
    for _ in TIERS:
        parts.append(cost & mask)
        cost >>= _WIDTH
    return dict(zip(TIERS, reversed(parts), strict=True))
