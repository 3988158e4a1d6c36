"""Step 3 of an advice: the exact minimum-cost set of grants meeting every requirement
(:mod:`cftokens.advisor.solver`, costs in :mod:`cftokens.advisor.costs`); among grants of equal
cost, the group that names what the operation is about."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from ..catalog.groups import permission_groups
from ..model.resources import Resource, ResourceKind
from . import costs
from .intents import Intent
from .requirements import Element
from .solver import Solution, solve

__all__ = ["choose", "resource_key"]

_KIND_ORDER = {
    ResourceKind.ZONE: 0,
    ResourceKind.ALL_ZONES_IN: 1,
    ResourceKind.ALL_ZONES: 2,
    ResourceKind.ACCOUNT: 3,
    ResourceKind.ALL_ACCOUNTS: 4,
    ResourceKind.USER: 5,
    ResourceKind.UNPARSED: 6,
}


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


def choose(
    requirements: Sequence[frozenset[Element]],
    needing: Sequence[Intent],
    *,
    max_nodes: int,
    notes: list[str],
) -> tuple[set[Element], Solution[Element]]:
    """The chosen grants (cheapest, then most natural) and the solver's solution; ``notes``
    says when the search budget ran out before the optimum was proven."""
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
    return chosen, solution
