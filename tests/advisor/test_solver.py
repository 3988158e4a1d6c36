"""The exact minimum-cost hitting set solver against brute force, and its guarantees."""

from __future__ import annotations

import random

import pytest
from hypothesis import strategies as st

import cftokens as cft
from batched_cases import cases
from cftokens.advisor.solver import brute_force, solve

# Small random instances: up to 10 elements with costs 0-9, up to 8 requirements.
instances = st.integers(min_value=1, max_value=10).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=0, max_value=9), min_size=n, max_size=n),
        st.lists(
            st.sets(st.integers(min_value=0, max_value=n - 1), min_size=1, max_size=min(n, 4)),
            min_size=1,
            max_size=8,
        ),
    )
)


@pytest.mark.slow
def test_solver_matches_brute_force() -> None:
    """On random small instances the solver's answer meets every requirement and costs exactly
    the brute-force minimum, and it says it is optimal (300 instances, drawn 8 to a Hypothesis
    example: tests/batched_cases.py)."""

    @cases(instances, 300)
    def matches(instance: tuple[list[int], list[set[int]]]) -> None:
        costs, requirements = instance
        solution = solve(requirements, costs.__getitem__)
        chosen = set(solution.chosen)
        assert all(chosen & req for req in requirements)
        assert solution.cost == sum(costs[e] for e in chosen)
        assert solution.cost == brute_force(requirements, costs.__getitem__)
        assert solution.optimal

    matches()


def test_solver_is_deterministic_and_breaks_ties_by_key() -> None:
    """The answer does not depend on the requirements' order, and between equally cheap
    elements the one earlier by key wins."""
    rng = random.Random(3)
    requirements = [set(rng.sample(range(12), 3)) for _ in range(15)]
    cost = [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]
    first = solve(requirements, cost.__getitem__)
    for _ in range(5):
        rng.shuffle(requirements)
        assert solve(requirements, cost.__getitem__).chosen == first.chosen
    assert solve([{"b", "a"}], lambda e: 1).chosen == ("a",)
    assert solve([{"b", "a"}], lambda e: 1, key=lambda e: -ord(e)).chosen == ("b",)


def test_solver_keeps_large_integer_costs_exact() -> None:
    """Costs far beyond float precision are compared exactly (no rounding to a wrong answer)."""
    big = 1 << 140
    requirements = [{"x", "y"}, {"y", "z"}]
    costs = {"x": big + 1, "y": 2 * big + 1, "z": big + 1}
    # x+z = 2*big + 2 > y = 2*big + 1: only exact integer arithmetic sees y is cheaper.
    assert set(solve(requirements, costs.__getitem__).chosen) == {"y"}


def test_solver_refuses_an_empty_requirement() -> None:
    """A requirement with no option raises a clear InvalidInput."""
    with pytest.raises(cft.InvalidInput, match="no option"):
        solve([{1}, set()], lambda e: 1)


def test_solver_reuses_components_of_the_same_shape() -> None:
    """Identical sub-problems on different resources (same labels) are solved once and mapped
    over, and the answer is still the brute-force minimum."""
    requirements = []
    for zone in range(30):
        requirements.append({("read", zone), ("write", zone)})
        requirements.append({("write", zone), ("admin", zone)})
        requirements.append({("read", zone), ("audit", zone)})
    cost = {"read": 1, "write": 3, "admin": 2, "audit": 1}
    solution = solve(requirements, lambda e: cost[e[0]], label=lambda e: e[0])
    one_zone = brute_force(requirements[:3], lambda e: cost[e[0]])
    assert one_zone == 3  # read + admin
    assert solution.cost == 30 * one_zone
    assert solution.nodes < 100


def test_solver_budget_exhaustion_is_flagged_not_hidden() -> None:
    """When max_nodes runs out the answer is still valid but marked optimal=False."""
    rng = random.Random(7)
    requirements = [set(rng.sample(range(60), 3)) for _ in range(90)]
    solution = solve(requirements, lambda e: 1 + e % 5, max_nodes=5)
    assert not solution.optimal
    assert all(set(solution.chosen) & r for r in requirements)


def test_brute_force_refuses_large_inputs() -> None:
    """The reference brute force refuses instances too big to enumerate."""
    with pytest.raises(cft.InvalidInput, match="too slow"):
        brute_force([set(range(30))], lambda e: 1)
