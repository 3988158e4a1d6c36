"""A frame column of Python objects (a column a notebook added to ``audit.tokens``, nested
lists and objects) is written in the JSON report as the standard library writes it: floats
with its exponents, NaN as NaN, a list holding itself refused with a clear error, never a
crashed process (orjson recursed into a cycle of tuples until the stack overflowed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import ACCOUNTS, ALL_ZONES, NOW, ZONES, allow, token

from cftokens.audit import Audit

HERE = Path(__file__).resolve().parent


def _audit() -> Audit:
    return Audit.from_records(
        tokens=[token("wide", allow(["DNS Write"], ALL_ZONES), ip_in=None)],
        accounts=ACCOUNTS,
        zones=ZONES,
        now=NOW,
    )


def test_nested_values_of_an_object_column_are_written_as_the_standard_library_writes_them() -> (
    None
):
    audit = _audit()
    tokens = audit.tokens
    tokens["scores"] = [[1e16, 0.1, 1e-07, float("nan")]] * len(tokens)
    tokens["meta"] = [{"ratio": 2.5e-10, "n": 3}] * len(tokens)
    text = audit.to_json()
    assert '"scores": [\n        1e+16,\n        0.1,\n        1e-07,\n        NaN\n      ]' in text
    assert '"meta": {\n        "ratio": 2.5e-10,\n        "n": 3\n      }' in text


CYCLE = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from test_export_object_columns import _audit
from cftokens.errors import InvalidInput
audit = _audit()
loop = ["x"]
loop.append((loop,))
audit.tokens["loop"] = [loop] * len(audit.tokens)
try:
    audit.to_json()
except InvalidInput as exc:
    print("refused:", exc)
"""


@pytest.mark.slow  # a child interpreter: a crash there fails this test alone
def test_a_cycle_in_an_object_column_is_refused_not_a_crash() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CYCLE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.startswith("refused:") and "contains itself" in done.stdout, done.stdout
