"""The frames built on first read are built once per audit even when threads read them at once.

``functools.cached_property`` has no lock from Python 3.12 on: two threads reading a fresh
audit's first frame each ran the build, and the second found the rules' hits already let go
(an empty findings frame, cached over the right one). The build is guarded per audit."""

from __future__ import annotations

import inspect
import pickle
import threading
from typing import Any

import cftokens as cft
from cftokens.audit.synth import synthetic_inventory

INVENTORY = synthetic_inventory(40, n_accounts=4, n_zones=30)


def _body(name: str) -> Any:
    """The function behind a lazily built attribute, as a thread without a lock reaches it."""
    attribute = inspect.getattr_static(cft.Audit, name)
    return getattr(attribute, "func", None) or attribute.fget


def test_the_build_reached_twice_gives_the_same_findings() -> None:
    audit = cft.Audit.from_records(**INVENTORY)
    first = _body("_built")(audit)
    again = _body("_built")(audit)  # a second thread, after the first let the hits go
    assert len(first[0]) > 0
    assert again[0] is first[0]


def _read_at_once(audit: cft.Audit, names: tuple[str, ...]) -> list[tuple[str, int]]:
    """Each name read by its own thread, all released at once: (name, rows seen)."""
    start = threading.Barrier(len(names))
    seen: list[tuple[str, int]] = []

    def read(name: str) -> None:
        start.wait()
        seen.append((name, len(getattr(audit, name))))

    threads = [threading.Thread(target=read, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


def test_threads_reading_a_fresh_audit_at_once_see_the_same_frames() -> None:
    expected = cft.Audit.from_records(**INVENTORY)
    n_findings, n_tokens = len(expected.findings), len(expected.tokens)
    for _ in range(3):
        audit = cft.Audit.from_records(**INVENTORY)
        seen = _read_at_once(audit, ("findings", "tokens", "gaps") * 2)
        assert sorted(n for name, n in seen if name == "findings") == [n_findings] * 2
        assert sorted(n for name, n in seen if name == "tokens") == [n_tokens] * 2
        assert len(audit.findings) == n_findings


def test_an_audit_pickles_before_and_after_its_frames_are_built() -> None:
    """The lock is not pickled: a copy gets its own, and builds its frames once too."""
    audit = cft.Audit.from_records(**INVENTORY)
    fresh = pickle.loads(pickle.dumps(audit))
    n = len(audit.findings)
    built = pickle.loads(pickle.dumps(audit))
    assert len(fresh.findings) == n == len(built.findings)
    assert _body("_built")(fresh)[0] is fresh.findings
