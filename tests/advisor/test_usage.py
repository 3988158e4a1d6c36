"""least_privilege_from_usage(): the sandbox journal and Audit Logs v2 rows as intents."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cftokens as cft
from cftokens.advisor.usage import _rows, least_privilege_from_usage, usage_requests


@pytest.fixture(scope="module")
def used(demo_company: cft.Sandbox) -> Iterator[tuple[cft.Sandbox, cft.Directory, str, str, str]]:
    """A demo sandbox where a wide DNS token listed, read and created records in one zone,
    listed zones, and was refused a Workers call."""
    sb = demo_company.copy()
    directory = sb.directory()
    account = directory.accounts[0]
    zone = directory.zones_of(account.id)[0]
    admin = sb.client()
    spec = cft.TokenSpec(
        name="wide-dns",
        policies=[cft.Policy.allow(["DNS Write", "Zone Read"], all_zones_of=account.id)],
    )
    created = admin.tokens.create(spec)
    client = sb.client(token=created.secret)
    records = client.dns_records.list(zone.id).collect()
    for record in records[:3]:
        client.dns_records.get(zone.id, record.id)
    client.dns_records.create(zone.id, type="A", name="usage", content="203.0.113.9")
    client.zones.list().collect()
    with pytest.raises(cft.PermissionDenied):
        client.request("GET", f"/accounts/{account.id}/workers/scripts")
    client.close()
    admin.close()
    yield sb, directory, created.id, zone.id, account.id
    sb.close()


def test_journal_usage_gives_exact_grants(used: tuple[Any, ...]) -> None:
    """The journal of a wide token yields DNS Write and Zone Read on the one zone it used,
    not on all zones of the account, and the refused Workers call is left out."""
    sb, directory, token_id, zone_id, _account_id = used
    advice = least_privilege_from_usage(sb.journal, token_id=token_id, directory=directory)
    grants = {(g.group.name, g.resource) for g in advice.grants}
    assert grants == {
        ("DNS Write", cft.Resource.zone(zone_id)),
        ("Zone Read", cft.Resource.zone(zone_id)),
    }
    assert advice.notes[0].startswith("from usage:")
    assert "1 refused request(s) left out" in advice.notes[0]
    # Three GETs of different records are one intent.
    usage = usage_requests(sb.journal, token_id=token_id)
    assert sum("/dns_records/" in i for i in usage.intents) == 1
    assert usage.denied == 1


def test_refused_requests_count_when_asked(used: tuple[Any, ...]) -> None:
    """include_denied=True adds the refused Workers call, so a Workers group is advised."""
    sb, directory, token_id, _zone_id, account_id = used
    advice = least_privilege_from_usage(
        sb.journal, token_id=token_id, directory=directory, include_denied=True
    )
    assert ("Workers Scripts Read", cft.Resource.account(account_id)) in {
        (g.group.name, g.resource) for g in advice.grants
    }


def test_audit_log_records_give_the_same_dns_grants(used: tuple[Any, ...]) -> None:
    """Audit Logs v2 records read through the client (and the same rows as raw v2 objects or
    a flattened DataFrame) give the DNS grant on the zone used."""
    sb, directory, token_id, zone_id, account_id = used
    with sb.client() as admin:
        since = sb.clock.now() - timedelta(days=30)  # all Audit Logs v2 keeps
        records = admin.account(account_id).audit_logs.list(since=since).collect()
    expected = ("DNS Write", cft.Resource.zone(zone_id))
    for rows in (
        records,
        [r.to_api() for r in records],
        pd.DataFrame([{"time": r.time, **_flat(r)} for r in records]),
    ):
        advice = least_privilege_from_usage(rows, token_id=token_id, directory=directory)
        assert expected in {(g.group.name, g.resource) for g in advice.grants}


def _flat(record: cft.AuditLogRecord) -> dict[str, object]:
    return {
        "actor_token_id": record.actor_token_id,
        "raw_method": record.raw_method,
        "raw_uri": record.raw_uri,
        "raw_status_code": record.raw_status_code,
    }


def test_rows_of_several_tokens_need_a_token_id(used: tuple[Any, ...]) -> None:
    """Without token_id, rows of several tokens raise and say to pass token_id=; an unknown
    token raises that nothing usable was found."""
    sb, _directory, _token_id, _zone_id, _account_id = used
    with pytest.raises(cft.InvalidInput, match="pass token_id="):
        least_privilege_from_usage(sb.journal)
    with pytest.raises(cft.InvalidInput, match="no usable requests"):
        least_privilege_from_usage(sb.journal, token_id="0" * 32)


def test_time_window_and_plain_rows() -> None:
    """Plain mappings work; since/until keep only the rows in the window."""
    zone = "023e105f4ecef8ad9ca31a8372d0c353"
    start = datetime(2026, 5, 1, tzinfo=UTC)
    rows = [
        {"method": "GET", "path": f"/zones/{zone}/dns_records", "time": start},
        {
            "method": "POST",
            "path": f"/client/v4/zones/{zone}/dns_records?x=1",
            "time": start + timedelta(days=10),
        },
    ]
    early = least_privilege_from_usage(rows, until=start + timedelta(days=1))
    assert {g.group.name for g in early.grants} == {"DNS Read"}
    both = least_privilege_from_usage(rows)
    assert {g.group.name for g in both.grants} == {"DNS Write"}
    with pytest.raises(cft.InvalidInput, match="no method or path"):
        least_privilege_from_usage([{"status": 200}])
    with pytest.raises(cft.InvalidInput, match="not one mapping"):
        least_privilege_from_usage({"method": "GET"})


def _frames(journal: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    """Usage frames of every shape the rows come in, to read column by column."""
    yield "journal", journal
    yield "empty journal", journal.iloc[:0]
    flat = pd.DataFrame(
        {
            "actor_token_id": ["a" * 32, None, "b" * 32],
            "raw_method": ["get", "POST", None],
            "raw_uri": ["/client/v4/zones", "/user/tokens", "/zones/x"],
            "raw_status_code": [np.int64(200), np.int64(403), np.int64(200)],
            "time": [np.datetime64("2026-01-02T03:04:05"), None, "2026-01-03T00:00:00Z"],
            "extra": [{"raw": 1}, [1, 2], object()],
        },
        dtype=object,
    )
    yield "flattened audit logs (object columns)", flat
    yield "flattened, typed", flat.drop(columns="extra").infer_objects()
    nested = pd.DataFrame(
        {
            "actor": [{"token_id": "a" * 32}, {}, None],
            "raw": [{"method": "GET", "uri": "/zones"}, {"method": "PUT"}, "not a mapping"],
            "uri": ["/user", "/accounts", "/zones"],
            "action": [{"time": "2026-01-02T00:00:00Z"}, None, {"time": None}],
        }
    )
    yield "nested audit logs (read row by row)", nested
    yield "no usable column", pd.DataFrame({"x": [1, 2], 3: ["a", "b"]})
    yield (
        "duplicate columns",
        pd.DataFrame([[1, "GET", "/a"]], columns=["method", "method", "path"]),
    )


def test_a_frame_reads_as_its_rows_do(demo_company: cft.Sandbox) -> None:
    """A frame's usage rows, read column by column, are what its ``to_dict("records")`` rows
    give, value for value and type for type (numpy scalars of object columns boxed as pandas
    boxes them, missing values as they are), whatever columns the frame has."""
    for label, frame in _frames(demo_company.journal):
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            got = list(_rows(frame))
            expected = list(_rows(frame.to_dict("records")))
        # pandas's warning that to_dict drops a repeated column, given as before (what the
        # garbage collector reports of earlier tests meanwhile, e.g. an unclosed socket, aside)
        assert [str(w.message) for w in warned if issubclass(w.category, UserWarning)] == (
            ["DataFrame columns are not unique, some columns will be omitted."] * 2
            if frame.columns.has_duplicates
            else []
        ), label
        assert len(got) == len(frame), label
        assert repr(got) == repr(expected), label
        assert [{k: type(v) for k, v in r.items()} for r in got] == [
            {k: type(v) for k, v in r.items()} for r in expected
        ], label
