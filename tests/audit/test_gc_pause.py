"""The audit builds with the garbage collector paused, from the first input it reads.

With a 100,000-token inventory alive, each automatic collection walks the whole heap; one full
collection during the directory and record assembly cost about a second of a 100,000-token
audit. Every way in (``from_records``, ``from_json``, ``from_terraform``, ``rerun``, the
constructor) pauses the collector for every step of the build and restores it afterwards.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import NOW

from cftokens.audit import Audit, _compat, core
from cftokens.audit._compat import gc_paused
from cftokens.audit.synth import synthetic_inventory
from cftokens.model.directory import Account, Zone

TF = """
resource "cloudflare_api_token" "ci" {
  name = "ci"
  policy {
    effect            = "allow"
    permission_groups = ["c8fed203ed3043cba015a93ad1616f1f"]
    resources         = { "com.cloudflare.api.account.*" = "*" }
  }
}
"""


STEPS = (
    "read_json",
    "read_terraform",
    "utf8_encodable",
    "plain_copy",
    "token_records",
    "unicode_input",
    "Directory",
    "DirectoryIndex",
    "build_inventory",
    "Ctx",
    "run_rules",
    "findings_frame",
    "tokens_frame",
)


@pytest.fixture
def collector_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[bool]]]:
    """Per step of an audit's build (by the name the audit's facade calls it): whether the
    garbage collector was on each time the step started."""
    seen: dict[str, list[bool]] = {}

    def spy(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.setdefault(name, []).append(gc.isenabled())
            return step(*args, **kwargs)

        return call

    for name in STEPS:
        monkeypatch.setattr(core, name, spy(name, getattr(core, name)))
    for model in (Account, Zone):
        monkeypatch.setattr(model, "from_api", spy(f"{model.__name__}.from_api", model.from_api))
    assert gc.isenabled()
    yield seen
    assert gc.isenabled()


INVENTORY = synthetic_inventory(40, n_zones=30, n_accounts=3)


def _records() -> Audit:
    return Audit.from_records(**INVENTORY)


@pytest.mark.parametrize(
    "build",
    [
        _records,
        lambda: Audit.from_json(_records().to_json()),
        lambda: _records().rerun(profile="strict"),
    ],
    ids=["from_records", "from_json", "rerun"],
)
def test_every_step_runs_paused(
    build: Callable[[], Audit], collector_on: dict[str, list[bool]]
) -> None:
    audit = build()
    assert len(audit.tokens) == 40
    assert {"build_inventory", "run_rules", "Zone.from_api"} <= set(collector_on)
    assert {name: on for name, on in collector_on.items() if any(on)} == {}


def test_from_terraform_paused(tmp_path: Path, collector_on: dict[str, list[bool]]) -> None:
    (tmp_path / "main.tf").write_text(TF)
    audit = Audit.from_terraform(
        tmp_path, now=NOW, zones=[{"id": "a" * 32, "name": "x.com", "account": {"id": "b" * 32}}]
    )
    assert len(audit.tokens) == 1
    assert {"read_terraform", "unicode_input", "Zone.from_api"} <= set(collector_on)
    assert {name: on for name, on in collector_on.items() if any(on)} == {}


def test_collector_state_restored_after_bad_input() -> None:
    """A build that fails leaves the collector as it found it (on, or off)."""
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with pytest.raises(Exception, match="timezone-aware"):
                Audit.from_records(**{**INVENTORY, "now": NOW.replace(tzinfo=None)})
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


class _Node:
    """A tracked object that can be part of a reference cycle, found by ``weakref``."""

    other: Any = None


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of each collection the collector runs while the test runs."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


def assert_in_the_oldest_generation(objects: list[Any]) -> None:
    """Each object is tracked, in neither young generation and not frozen: in the oldest one.
    (Listing the young generations reads a few objects; listing the oldest walked the whole
    heap of the test process, a quarter of a second with the suite's modules loaded.)"""
    assert gc.get_freeze_count() == 0
    young = {id(o) for generation in (0, 1) for o in gc.get_objects(generation=generation)}
    assert all(gc.is_tracked(o) and id(o) not in young for o in objects)


def test_pause_ends_without_a_collection(collections: list[int]) -> None:
    """The block's objects are aged to the oldest generation unscanned (no young collection
    walks the millions of objects an audit made), and the collector is on again."""
    made = []
    with gc_paused():
        made = [_Node() for _ in range(1000)]
    assert collections == []
    assert gc.isenabled()
    assert_in_the_oldest_generation(made)
    assert gc.get_count()[0] < 1000  # the next allocations do not pay for the block's


def test_nested_pause_ages_once(collections: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    aged: list[bool] = []
    real = _compat._age_young
    monkeypatch.setattr(_compat, "_age_young", lambda: (aged.append(gc.isenabled()), real()))
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled() and aged == []
    assert aged == [False] and gc.isenabled() and collections == []


def test_cycles_made_in_the_pause_are_collected_by_a_full_collection() -> None:
    with gc_paused():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
    assert ref() is not None  # no young collection ran; the cycle is in the oldest generation
    gc.collect()
    assert ref() is None


def test_program_frozen_objects_stay_frozen(collections: list[int]) -> None:
    """A program that froze its own objects (gc.freeze, e.g. before forking workers) keeps
    them frozen: the pause then ages its objects with a young collection."""
    # No collection first: garbage frozen with the program's objects may be freed while the
    # test runs (the freeze count then drops), so the program's objects are these sentinels.
    kept = [_Node() for _ in range(50)]
    gc.freeze()
    try:
        assert gc.get_freeze_count() >= len(kept)
        collections.clear()
        with gc_paused():
            made = [_Node() for _ in range(100)]
        assert collections == [1]
        # after the freeze every generation holds only what was made since: a few objects
        tracked = {g: {id(o) for o in gc.get_objects(generation=g)} for g in (0, 1, 2)}
        assert all(id(node) in tracked[2] for node in made)  # aged by the young collection
        # still frozen: tracked, yet in no generation the collector scans
        assert all(
            gc.is_tracked(o) and all(id(o) not in ids for ids in tracked.values()) for o in kept
        )
    finally:
        gc.unfreeze()


def test_collector_left_off_stays_off(collections: list[int]) -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled() and collections == []
    finally:
        gc.enable()
