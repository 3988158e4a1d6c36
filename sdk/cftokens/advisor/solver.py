"""An exact minimum-cost hitting set solver (branch and bound), and a brute-force reference.

The advisor's question: each requirement (an intent on its resource) can be met by any one of
a few *elements* ((permission group, resource) pairs); choose the cheapest set of elements that
meets every requirement. This is weighted hitting set (equivalently set cover), NP-hard in
general but small and very structured here, so it is solved exactly:

1. **Reductions**, repeated until nothing changes: a requirement with one remaining option
   forces it; a requirement whose options include another requirement's options is dropped
   (meeting the smaller one meets it); an element is dropped when an element no more expensive
   (and earlier in the tie-break order) meets every remaining requirement it meets.
2. **Components**: requirements that share no element are solved independently. Components
   with the same *shape* (same labels, e.g. the same permission groups on two different zones)
   are solved once and the answer is mapped over (``label`` argument).
3. **Branching** on the element that meets the most remaining requirements: with it, then
   without it (or the reverse, whichever looks cheaper first), pruned by a lower bound (the
   cheapest options of a set of requirements that pairwise share no element: any answer pays
   at least that much).

Costs are non-negative integers; ties between equally cheap answers are broken by the
elements' order (``key``), so the same question always gets the same answer. ``max_nodes``
bounds the search on pathological inputs: past it the best answer found so far is returned
with ``optimal=False`` (never silently).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from attrs import frozen

from ..errors import InvalidInput

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["Solution", "brute_force", "greedy", "solve"]

E = TypeVar("E", bound=Hashable)

# "No answer": larger than any sum of costs (costs are integers of at most ~150 bits), and an
# int, so budgets and totals stay exact integers (floats would round large costs).
_INF = 1 << 512


@frozen(kw_only=True)
class Solution(Generic[E]):
    """The chosen elements (in tie-break order), their total cost, and whether it is proven
    minimal (``optimal``); ``nodes`` counts the search nodes visited."""

    chosen: tuple[E, ...]
    cost: int
    optimal: bool = True
    nodes: int = 0


def _bits(mask: int) -> Iterator[int]:
    """Indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class _Budget(Exception):
    """Raised inside the search when ``max_nodes`` is exhausted."""


class _Search:
    """The search state: requirement option masks, element hit masks, costs and labels."""

    def __init__(
        self,
        options: list[int],
        hits: list[int],
        costs: list[int],
        labels: list[Hashable] | None,
        max_nodes: int,
    ):
        self.options = options
        self.hits = hits
        self.costs = costs
        self.labels = labels
        self.max_nodes = max_nodes
        self.nodes = 0
        self.exhausted = False
        self.memo: dict[tuple[int, int], tuple[int, int]] = {}
        self.shape_memo: dict[Hashable, tuple[int, tuple[Hashable, ...]]] = {}

    # -- bookkeeping ---------------------------------------------------------------------
    def _tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Budget

    def _cost_of(self, chosen: int) -> int:
        return sum(self.costs[i] for i in _bits(chosen))

    # -- reductions ----------------------------------------------------------------------
    def reduce(self, uncovered: int, avail: int) -> tuple[int, int, int, int] | None:
        """Apply the reductions; return (uncovered, available, forced, forced cost) or None
        when some requirement cannot be met any more."""
        options, hits, costs = self.options, self.hits, self.costs
        forced = 0
        forced_cost = 0
        changed = True
        while changed:
            changed = False
            relevant = 0
            for s in _bits(uncovered):
                if not uncovered >> s & 1:  # met by an element forced in this pass
                    continue
                opts = options[s] & avail
                if not opts:
                    return None
                if not opts & (opts - 1):  # exactly one option: forced
                    i = opts.bit_length() - 1
                    forced |= opts
                    forced_cost += costs[i]
                    uncovered &= ~hits[i]
                    avail &= ~opts
                    changed = True
                else:
                    relevant |= opts
            if changed:
                continue
            avail &= relevant
            # Element dominance: e is dropped if an earlier (no more expensive) element f meets
            # every remaining requirement e meets.
            for e in sorted(_bits(avail), reverse=True):
                he = hits[e] & uncovered
                first = he & -he
                s = first.bit_length() - 1
                for f in _bits(options[s] & avail):
                    if f >= e:
                        break
                    if not he & ~hits[f]:
                        avail &= ~(1 << e)
                        changed = True
                        break
            if changed:
                continue
            # Requirement dominance: t is dropped if another requirement s's options are a
            # subset of t's (meeting s meets t). Equal option sets keep the lowest index.
            # (Transitive, so one pass may drop several.)
            for s in _bits(uncovered):
                if not uncovered >> s & 1:
                    continue
                os_ = options[s] & avail
                # the rarest element of s bounds the candidates t
                pivot = min(_bits(os_), key=lambda i: (hits[i] & uncovered).bit_count())
                for t in _bits(hits[pivot] & uncovered & ~(1 << s)):
                    ot = options[t] & avail
                    if not os_ & ~ot and (os_ != ot or t > s):
                        uncovered &= ~(1 << t)
                        changed = True
        return uncovered, avail, forced, forced_cost

    def components(self, uncovered: int, avail: int) -> list[tuple[int, int]]:
        """Split into groups of requirements connected through shared elements."""
        options, hits = self.options, self.hits
        parts: list[tuple[int, int]] = []
        rest = uncovered
        while rest:
            seed = rest & -rest
            sets = seed
            elems = 0
            frontier = seed
            while frontier:
                new_elems = 0
                for s in _bits(frontier):
                    new_elems |= options[s] & avail
                new_elems &= ~elems
                elems |= new_elems
                reached = 0
                for e in _bits(new_elems):
                    reached |= hits[e]
                reached &= rest & ~sets
                sets |= reached
                frontier = reached
            parts.append((sets, elems))
            rest &= ~sets
        return parts

    def lower_bound(self, uncovered: int, avail: int) -> int:
        """The larger of two bounds no answer can beat.

        *Packing*: the cheapest options of requirements that pairwise share no element (each
        needs its own element). *Sharing*: each requirement pays at least the cheapest
        ``cost(e) // met(e)`` over its options, where ``met(e)`` counts the remaining
        requirements ``e`` meets (an element's cost spread over what it meets).
        """
        options, costs, hits = self.options, self.costs, self.hits
        used = 0
        packing = 0
        sharing = 0
        share: dict[int, int] = {}
        # Requirements with the most expensive cheapest option first: a tighter packing.
        entries = []
        for s in _bits(uncovered):
            opts = options[s] & avail
            low = opts & -opts
            entries.append((costs[low.bit_length() - 1], s, opts))
            best = -1
            for e in _bits(opts):
                part = share.get(e)
                if part is None:
                    part = costs[e] // (hits[e] & uncovered).bit_count()
                    share[e] = part
                if best < 0 or part < best:
                    best = part
            sharing += best
        entries.sort(key=lambda x: (-x[0], x[1]))
        for cheapest, _s, opts in entries:
            if not opts & used:
                packing += cheapest
                used |= opts
        return max(packing, sharing)

    # -- shapes ----------------------------------------------------------------------------
    def _shape(self, uncovered: int, avail: int) -> tuple[Hashable, dict[Hashable, int]] | None:
        """A key for components of the same shape, and label -> element, when labels are
        distinct within the component."""
        labels = self.labels
        if labels is None:
            return None
        by_label: dict[Hashable, int] = {}
        for e in _bits(avail):
            label = labels[e]
            if label in by_label:
                return None
            by_label[label] = e
        shape = frozenset(
            frozenset(labels[e] for e in _bits(self.options[s] & avail)) for s in _bits(uncovered)
        )
        return shape, by_label

    # -- search ----------------------------------------------------------------------------
    def solve(self, uncovered: int, avail: int, budget: int = _INF) -> tuple[int, int]:
        """The cheapest (cost, chosen mask) meeting ``uncovered`` from ``avail``; a cost of
        infinity when none is cheaper than ``budget`` or none exists."""
        self._tick()
        reduced = self.reduce(uncovered, avail)
        if reduced is None:
            return _INF, 0
        uncovered, avail, forced, forced_cost = reduced
        if not uncovered:
            return forced_cost, forced
        if forced_cost >= budget:
            return _INF, 0
        total = forced_cost
        chosen = forced
        parts = self.components(uncovered, avail)
        if len(parts) > 1:
            bounds = [self.lower_bound(s, e) for s, e in parts]
            spent = sum(bounds)
            for (sets, elems), bound in zip(parts, bounds, strict=True):
                spent -= bound
                cost, picked = self.solve_component(sets, elems, budget - total - spent)
                if cost >= _INF:
                    return _INF, 0
                total += cost
                chosen |= picked
            return total, chosen
        cost, picked = self.solve_component(uncovered, avail, budget - total)
        if cost >= _INF:
            return _INF, 0
        return total + cost, chosen | picked

    def solve_component(self, uncovered: int, avail: int, budget: int) -> tuple[int, int]:
        """Solve one connected component exactly (memoised), within ``budget``."""
        key = (uncovered, avail)
        cached = self.memo.get(key)
        if cached is not None:
            cost, chosen = cached
            return (cost, chosen) if cost < budget else (_INF, 0)
        shaped = self._shape(uncovered, avail)
        if shaped is not None:
            shape, by_label = shaped
            hit = self.shape_memo.get(shape)
            if hit is not None:
                cost, picked_labels = hit
                chosen = 0
                for label in picked_labels:
                    chosen |= 1 << by_label[label]
                self.memo[key] = (cost, chosen)
                return (cost, chosen) if cost < budget else (_INF, 0)
        if self.lower_bound(uncovered, avail) >= budget:
            return _INF, 0
        cost, chosen = self._branch(uncovered, avail, budget)
        if cost < _INF:
            exact = cost
            self.memo[key] = (exact, chosen)
            if shaped is not None and self.labels is not None:
                labels = self.labels
                self.shape_memo[shaped[0]] = (exact, tuple(labels[e] for e in _bits(chosen)))
        return cost, chosen

    def _branch(self, uncovered: int, avail: int, budget: int) -> tuple[int, int]:
        """Include/exclude branching on the element meeting the most requirements."""
        options, hits, costs = self.options, self.hits, self.costs
        best_e = -1
        best_deg = -1
        for e in _bits(avail):
            deg = (hits[e] & uncovered).bit_count()
            if deg > best_deg:
                best_e, best_deg = e, deg
        e = best_e
        bit = 1 << e
        met = hits[e] & uncovered
        # Include first when e is no dearer than meeting its requirements one by one.
        alone = 0
        for s in _bits(met):
            others = options[s] & avail & ~bit
            low = others & -others
            alone += costs[low.bit_length() - 1] if others else costs[e] + 1
        include_first = costs[e] <= alone
        best: tuple[int, int] = (_INF, 0)
        for include in (include_first, not include_first):
            if include:
                if costs[e] >= min(budget, best[0]):
                    continue
                cost, chosen = self.solve(
                    uncovered & ~met, avail & ~bit, min(budget, best[0]) - costs[e]
                )
                if cost < _INF:
                    cost += costs[e]
                    chosen |= bit
            else:
                cost, chosen = self.solve(uncovered, avail & ~bit, min(budget, best[0]))
            if cost < best[0] or (cost == best[0] and cost < _INF and chosen < best[1]):
                best = (cost, chosen)
        return best


def solve(
    requirements: Sequence[Collection[E]],
    cost: Callable[[E], int],
    *,
    key: Callable[[E], SupportsRichComparison] | None = None,
    label: Callable[[E], Hashable] | None = None,
    max_nodes: int = 500_000,
) -> Solution[E]:
    """The cheapest set of elements containing at least one element of every requirement.

    ``cost(e)`` is a non-negative integer. Elements are ordered by (cost, ``key(e)``) (key
    default: the element itself), and that order breaks ties: the search tries earlier
    elements first and keeps the first cheapest answer it proves, so the same requirements,
    in any order, always give the same answer.
    ``label(e)``, if given, must determine ``cost(e)`` and say which elements play the same
    role in components of the same shape (e.g. a permission group, ignoring which zone).
    Raises :class:`~cftokens.InvalidInput` when a requirement is empty.
    """
    order_key: Callable[[E], Any] = key if key is not None else (lambda e: e)
    universe: dict[E, int] = {}
    for index, req in enumerate(requirements):
        if not req:
            raise InvalidInput(f"requirement {index} has no option, so nothing can meet it")
        for element in req:
            if element not in universe:
                c = cost(element)
                if not isinstance(c, int) or c < 0:
                    raise InvalidInput(f"cost of {element!r} must be a non-negative int")
                universe[element] = c
    elements = sorted(universe, key=lambda el: (universe[el], order_key(el)))
    position = {el: i for i, el in enumerate(elements)}
    costs = [universe[el] for el in elements]
    # Requirements deduplicated and sorted: the answer does not depend on their order.
    unique: set[int] = set()
    for req in requirements:
        mask = 0
        for element in req:
            mask |= 1 << position[element]
        unique.add(mask)
    option_masks = sorted(unique)
    hits = [0] * len(elements)
    for s, mask in enumerate(option_masks):
        for i in _bits(mask):
            hits[i] |= 1 << s
    labels = [label(el) for el in elements] if label is not None else None
    search = _Search(option_masks, hits, costs, labels, max_nodes)
    everything = (1 << len(option_masks)) - 1
    all_elements = (1 << len(elements)) - 1
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        found, chosen = search.solve(everything, all_elements)
        optimal = True
    except _Budget:
        found, chosen = _INF, 0
        optimal = False
    finally:
        sys.setrecursionlimit(limit)
    if found >= _INF:
        # Only reachable when the budget ran out: fall back to a greedy answer, flagged.
        chosen = _greedy(option_masks, hits, costs)
        optimal = False
    picked = tuple(elements[i] for i in _bits(chosen))
    return Solution(
        chosen=picked,
        cost=sum(costs[i] for i in _bits(chosen)),
        optimal=optimal,
        nodes=search.nodes,
    )


def _greedy(options: list[int], hits: list[int], costs: list[int]) -> int:
    """The classic greedy cover (cost per newly met requirement), for the budget fallback."""
    uncovered = (1 << len(options)) - 1
    chosen = 0
    while uncovered:
        best_i, best_ratio = -1, float("inf")
        candidates = 0
        for s in _bits(uncovered):
            candidates |= options[s]
        for i in _bits(candidates & ~chosen):
            gain = (hits[i] & uncovered).bit_count()
            ratio = (costs[i] + 1) / gain
            if ratio < best_ratio:
                best_i, best_ratio = i, ratio
        chosen |= 1 << best_i
        uncovered &= ~hits[best_i]
    return chosen


def greedy(requirements: Sequence[Collection[E]], cost: Callable[[E], int]) -> Solution[E]:
    """The classic greedy cover (cheapest cost per newly met requirement): fast, not minimal.

    The baseline the benchmark compares :func:`solve` with (how much greedy overpays).
    """
    universe = sorted({e for req in requirements for e in req}, key=lambda e: (cost(e), repr(e)))
    position = {e: i for i, e in enumerate(universe)}
    masks = sorted({sum(1 << position[e] for e in req) for req in requirements})
    hits = [0] * len(universe)
    for s, mask in enumerate(masks):
        for i in _bits(mask):
            hits[i] |= 1 << s
    costs = [cost(e) for e in universe]
    chosen = _greedy(masks, hits, costs)
    picked = tuple(universe[i] for i in _bits(chosen))
    return Solution(chosen=picked, cost=sum(costs[i] for i in _bits(chosen)), optimal=False)


def brute_force(
    requirements: Sequence[Collection[E]], cost: Callable[[E], int], *, max_elements: int = 22
) -> int:
    """The minimum total cost by trying every subset of elements (small inputs only).

    The reference the tests and the benchmark compare :func:`solve` against.
    """
    universe = sorted({e for req in requirements for e in req}, key=repr)
    if len(universe) > max_elements:
        raise InvalidInput(
            f"brute force over {len(universe)} elements is too slow; at most {max_elements}"
        )
    if any(not req for req in requirements):
        raise InvalidInput("a requirement has no option")
    index = {e: i for i, e in enumerate(universe)}
    masks = [sum(1 << index[e] for e in req) for req in requirements]
    costs = [cost(e) for e in universe]
    best: int | None = None
    n = len(universe)
    for size in range(n + 1):
        for combo in combinations(range(n), size):
            chosen = 0
            for i in combo:
                chosen |= 1 << i
            if all(m & chosen for m in masks):
                total = sum(costs[i] for i in combo)
                if best is None or total < best:
                    best = total
    assert best is not None  # the full universe always meets every requirement
    return best
