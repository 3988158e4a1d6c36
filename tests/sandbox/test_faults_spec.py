"""A fault plan's SPEC (``Faults.parse``): every key, the separators and blanks it ignores, and
each error it gives, pinned before the reading of each key moved into a table."""

from __future__ import annotations

import pytest

from cftokens.errors import InvalidInput
from cftokens.sandbox.faults import Faults


@pytest.mark.parametrize(
    ("spec", "plan"),
    [
        (
            "rate=0.3,kinds=500+503+drop,latency=50ms,seed=1",
            Faults(rate=0.3, kinds=("500", "503", "drop"), latency=(0.05, 0.05), seed=1),
        ),
        (" , RATE = 0.5 ,, every=3", Faults(rate=0.5, every=3)),
        ("schedule=3:503+5:drop", Faults(schedule={3: "503", 5: "drop"})),
        ("latency=10ms-20ms", Faults(latency=(0.01, 0.02))),
        ("match=/zones,retry_after=7", Faults(match="/zones", retry_after=7)),
        ("", Faults()),
    ],
)
def test_a_spec_reads_as_the_plan_it_writes(spec: str, plan: Faults) -> None:
    assert Faults.parse(spec) == plan


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rate", "faults: 'rate' is not key=value (e.g. rate=0.3)"),
        ("rate=x", "faults: bad value for rate: 'x'"),
        ("every=1.5", "faults: bad value for every: '1.5'"),
        ("schedule=3-503", "faults: schedule entry '3-503' is not NUMBER:KIND (e.g. 3:503)"),
        ("schedule=x:503", "faults: bad value for schedule: 'x:503'"),
        ("latency=fast", "latency: 'fast' is not a duration; write it like 50ms, 0.2s or 5m"),
        (
            "colour=red",
            "faults: unknown key 'colour'; use rate, kinds, every, schedule, latency, match, "
            "retry_after or seed",
        ),
        ("retry_after=soon", "faults: bad value for retry_after: 'soon'"),
        ("rate=2", "rate must be between 0 and 1, got 2.0"),
        ("kinds=teapot", "unknown fault kind 'teapot'; choose from 500, 502, 503, 429, drop, lost"),
    ],
)
def test_a_bad_spec_says_what_to_write(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Faults.parse(spec)
    assert str(caught.value) == message
