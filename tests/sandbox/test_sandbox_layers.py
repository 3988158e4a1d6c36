"""The sandbox's modules import one another without a cycle, counting every import (top-level,
function-level and ``TYPE_CHECKING``): handlers sit below the engine that routes to them, the
demo company and its leak scenario below the ``Sandbox`` that seeds them."""

from __future__ import annotations

import grimp
import pytest

SANDBOX = "cftokens.sandbox"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("cftokens", cache_dir=None)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(edges[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


def test_no_import_cycle_among_the_sandbox_modules(graph: grimp.ImportGraph) -> None:
    """Before: context -> engine -> routes -> handlers/dns/audit_logs -> context, and core <->
    demo, core <-> leak."""
    modules = graph.find_descendants(SANDBOX)
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    assert _cycles(edges) == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("cftokens.sandbox.context", "cftokens.sandbox.engine"),
        ("cftokens.sandbox.handlers", "cftokens.sandbox.engine"),
        ("cftokens.sandbox.demo", "cftokens.sandbox.core"),
        ("cftokens.sandbox.leak", "cftokens.sandbox.core"),
    ],
)
def test_lower_sandbox_modules_do_not_reach_up(
    graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    assert graph.find_shortest_chain(importer=importer, imported=imported) is None
