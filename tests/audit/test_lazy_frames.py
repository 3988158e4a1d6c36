"""An audit runs its rules and builds its frames when first read: a notebook cell or a test
that reads one frame pays for that one, and every order of reading gives the same frames."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from cftokens.audit import Audit, core
from cftokens.audit.synth import synthetic_inventory

INVENTORY = synthetic_inventory(25, n_accounts=3, n_zones=12)
FRAMES = ("findings", "tokens", "grants", "gaps")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times the audit's facade called each step of the run."""
    counted: dict[str, int] = {}

    def counting(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            counted[name] = counted.get(name, 0) + 1
            return step(*args, **kwargs)

        return call

    for name in ("run_rules", "findings_frame", "tokens_frame", "grants_frame"):
        monkeypatch.setattr(core, name, counting(name, getattr(core, name)))
    return counted


def test_nothing_runs_before_a_frame_is_read(calls: dict[str, int]) -> None:
    audit = Audit.from_records(**INVENTORY)
    assert calls == {}
    assert len(audit.grants) > 0
    assert calls == {"grants_frame": 1}  # the grants need no rule
    assert len(audit.tokens) == 25
    assert calls == {"grants_frame": 1, "run_rules": 1, "findings_frame": 1, "tokens_frame": 1}


def test_each_step_runs_once_whatever_is_read(calls: dict[str, int]) -> None:
    audit = Audit.from_records(**INVENTORY)
    audit.gaps, audit.summary(), audit.tokens, audit.findings, audit.grants
    repr(audit), audit.gaps, audit.tokens, audit.findings, audit.incomplete
    assert calls == {"run_rules": 1, "findings_frame": 1, "tokens_frame": 1, "grants_frame": 1}
    assert audit._hits == []  # the rules' hits let go once the findings are built


@pytest.mark.parametrize(
    "order", [FRAMES, tuple(reversed(FRAMES)), ("tokens", "gaps", "grants", "findings")]
)
def test_every_order_of_reading_gives_the_same_frames(order: tuple[str, ...]) -> None:
    expected = Audit.from_records(**INVENTORY)
    wanted = {name: getattr(expected, name) for name in FRAMES}
    audit = Audit.from_records(**INVENTORY)
    for name in order:
        pd.testing.assert_frame_equal(getattr(audit, name), wanted[name], check_exact=True)
    assert audit._fixes == expected._fixes
    assert audit.summary() == expected.summary()


def test_tokens_read_the_findings_that_replaced_the_built_ones() -> None:
    """A frame set on the audit (as ``scan_secrets`` sets its new findings) is the one the
    tokens frame counts."""
    audit = Audit.from_records(**INVENTORY)
    findings = audit.findings
    audit.findings = findings.iloc[:0].reset_index(drop=True)
    assert audit.tokens["n_findings"].sum() == 0
    fresh = Audit.from_records(**INVENTORY)
    assert fresh.tokens["n_findings"].sum() == len(findings) - findings["suppressed"].sum()


def test_tokens_count_the_findings_as_built_not_as_changed_in_place() -> None:
    """A reader's change of the findings frame in place (before the tokens frame is first
    read) does not change the tokens frame: it counts the findings as the audit built them,
    as when both were built together."""
    expected = Audit.from_records(**INVENTORY).tokens
    audit = Audit.from_records(**INVENTORY)
    audit.findings.loc[:, "suppressed"] = True
    audit.findings.loc[:, "severity"] = "info"
    pd.testing.assert_frame_equal(audit.tokens, expected, check_exact=True)
