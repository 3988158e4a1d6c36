"""The usage table's text check: a usage DataFrame's texts are proven UTF-8 by one encode of
them all, and a lone surrogate anywhere (a str, a str subclass, an object holding text) still
reads as U+FFFD, the rest of the table unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from cftokens.audit.usage import normalise_usage


class Text(str):
    """A str subclass, as a reader of someone else's file may hand over."""


def _rows(agent: object) -> pd.DataFrame:
    rows = [
        {
            "time": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "method": "GET",
            "path": "/zones",
            "status": np.int64(200),
            "ip": "192.0.2.1",
            "user_agent": "curl/8",
            "token_id": "a" * 32,
        },
        {
            "time": "2026-01-02T03:04:06Z",
            "method": "GET",
            "path": "/user/tokens/verify",
            "status": 200,
            "ip": pd.NA,
            "user_agent": agent,
            "token_id": "a" * 32,
        },
    ]
    return pd.DataFrame(rows, dtype=object)


@pytest.mark.parametrize(
    "agent",
    ["bad\ud800agent", Text("bad\ud800agent"), np.str_("bad\udc00agent")],
    ids=["str", "str-subclass", "numpy-str"],
)
def test_a_lone_surrogate_in_any_kind_of_text_reads_as_u_fffd(agent: object) -> None:
    table = normalise_usage(_rows(agent))
    assert table["user_agent"].tolist() == ["curl/8", "bad\ufffdagent"]
    assert table["path"].tolist() == ["/zones", "/user/tokens/verify"]
    assert table["status"].tolist() == [200, 200] and table["ip"].isna().tolist() == [False, True]


def test_clean_texts_are_kept_as_they_are() -> None:
    table = normalise_usage(_rows(Text("ok agent")))
    assert table["user_agent"].tolist() == ["curl/8", "ok agent"]
    assert str(table["time"].dt.tz) == "UTC" and len(table) == 2
