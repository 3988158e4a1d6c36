"""The JSON report re-exports each token's API object as ``from_records`` took it: a value JSON
cannot write (a cycle, nesting past the recursion limit, a set or bytes) gets a clear error
naming the token and field and saying what to do, and no file is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from audit_helpers import cycle_of_list, deep, tuple_cycle

from cftokens.audit import Audit
from cftokens.errors import InvalidInput


def token(tid: str, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "name": "ci", "status": "active", "policies": [], **extra}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (cycle_of_list(), "contains itself (a cycle)"),
        (tuple_cycle(), "contains itself (a cycle)"),
        (deep(5000), "nested deeper than Python's recursion limit"),
        ({"a", "b"}, "no form for (Object of type set is not JSON serializable)"),
        (b"raw", "no form for (Object of type bytes is not JSON serializable)"),
        ({("a", "b"): 1}, "no form for (keys must be str, int, float, bool or None"),
    ],
    ids=["cycle", "tuple-cycle", "deep", "set", "bytes", "tuple-key"],
)
def test_an_unwritable_value_names_its_token_and_field(
    tmp_path: Path, value: Any, why: str
) -> None:
    tid = "c" * 32
    audit = Audit.from_records(tokens=[token("a" * 32), token(tid, extra=value)])
    assert len(audit.tokens) == 2  # the audit itself runs
    target = tmp_path / "audit.json"
    with pytest.raises(InvalidInput) as info:
        audit.to_json(target)
    message = str(info.value)
    assert f"the field 'extra' of token '{tid}' holds" in message
    assert why in message
    assert "remove that field, or make it plain JSON" in message
    assert "HTML, CSV and SARIF" in message
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either


def test_a_key_json_cannot_write_is_named_at_the_token() -> None:
    audit = Audit.from_records(tokens=[{**token("d" * 32), 7.5j: "x"}])  # type: ignore[dict-item]
    with pytest.raises(
        InvalidInput, match=r"the field a complex of token 'd{32}' holds a value JSON has no form"
    ):
        audit.to_json()


def test_writable_tokens_still_round_trip(tmp_path: Path) -> None:
    audit = Audit.from_records(tokens=[token("a" * 32, extra={"nested": [1, 2.5, None, True]})])
    again = Audit.from_json(audit.to_json(tmp_path / "audit.json"))
    assert again.tokens["token_id"].tolist() == ["a" * 32]
