"""Files someone else wrote (suppressions, overrides, exported audit reports, usage rows): only
InvalidInput comes out, naming the place in the document, quickly, and without formatting a
value that is not a scalar (a YAML alias bomb of a few hundred bytes holds billions of items)."""

from __future__ import annotations

import functools
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import NOW, ZONE, allow, good, run, token, zone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cftokens.advisor.intents import Overrides
from cftokens.advisor.usage import usage_requests
from cftokens.audit import Audit
from cftokens.audit.profiles import Profile, Thresholds
from cftokens.audit.suppressions import load_suppressions
from cftokens.audit.usage import normalise_usage
from cftokens.errors import InvalidInput


def alias_bomb(levels: int = 9) -> str:
    """The billion-laughs YAML: each anchor holds nine copies of the previous one."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


BOMB = f"*l{8}"  # 9**9 leaves (387 million) behind 9 levels of sharing


def _entry(**fields: str) -> str:
    base = {
        "rule": "CFT-NW-01",
        "reason": "accepted",
        "owner": "platform",
        "expires": "2026-12-20",
        "match": "{token_name: ci-*}",
    }
    base.update(fields)
    body = "\n".join(f"    {k}: {v}" for k, v in base.items())
    return "suppressions:\n  -\n" + body + "\n"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rule", BOMB, "'rule' must be one rule id as text"),
        ("reason", BOMB, "'reason' is required"),
        ("owner", BOMB, "'owner' is required"),
        ("expires", BOMB, "expires must be a date"),
        ("match", f"{{token_name: {BOMB}}}", "match.token_name must be text"),
        ("match", f"{{token_name: [{BOMB}]}}", "match.token_name must be text"),
        ("match", f"{{{BOMB}: x}}", "not valid YAML"),  # a list cannot be a key
    ],
)
def test_an_alias_bomb_in_a_suppressions_file_is_refused_at_once(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    """A non-scalar where a scalar belongs is refused before anything formats it: in well
    under a second, with a message that describes it instead of printing it."""
    path = tmp_path / "suppressions.yaml"
    path.write_text(alias_bomb() + _entry(**{field: value}), encoding="utf-8")
    assert len(alias_bomb()) < 520
    start = time.process_time()  # this process's CPU: other processes' load does not count
    with pytest.raises(InvalidInput, match=message) as info:
        load_suppressions(path, now=NOW)
    assert time.process_time() - start < 2
    assert len(str(info.value)) < 400 and "lol" not in str(info.value)


@pytest.mark.parametrize("value", [BOMB, f"[{BOMB}]", f"[DNS Read, {BOMB}]"])
def test_an_alias_bomb_in_an_overrides_file_is_refused_at_once(tmp_path: Path, value: str) -> None:
    """An overrides file naming a non-text permission group is refused, describing it."""
    path = tmp_path / "overrides.yaml"
    path.write_text(alias_bomb() + f"overrides:\n  'GET /zones': {value}\n", encoding="utf-8")
    start = time.process_time()
    with pytest.raises(InvalidInput, match="'GET /zones'") as info:
        Overrides.load(path)
    assert time.process_time() - start < 2
    assert "list of 9 items" in str(info.value) and "lol" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("s.yaml", lambda p: load_suppressions(p, now=NOW)),
        ("s.json", lambda p: load_suppressions(p, now=NOW)),
        ("o.yaml", Overrides.load),
        ("o.json", Overrides.load),
        ("r.json", Audit.from_json),
    ],
)
def test_documents_nested_without_end_are_invalid_input(
    tmp_path: Path, name: str, read: Callable[[Path], Any]
) -> None:
    """Brackets nested deeper than Python can recurse are InvalidInput (not RecursionError)
    in every reader."""
    path = tmp_path / name
    default = sys.getrecursionlimit()
    limit = default
    if name.endswith(".yaml"):
        # PyYAML (Python code) reads under a recursion limit 400 frames above this test's own
        # depth (a program may set any limit): the same failure, at a depth its scanner reads
        # quickly (quadratic in the depth: 600 levels, at the default limit, took 0.15 s of
        # CPU). JSON's C parser is left at the default limit (newer Pythons bound it apart).
        frame, here = sys._getframe(), 0
        while frame is not None:
            frame, here = frame.f_back, here + 1
        limit = here + 400
    # JSON: three times the recursion limit (the C parser spends one unit of it per level);
    # YAML: 0.6 times, already 1.2 times the limit in PyYAML's composer, which recurses twice
    # per level
    depth = 3 * limit if name.endswith(".json") else 6 * limit // 10
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")
    sys.setrecursionlimit(limit)
    try:
        with pytest.raises(InvalidInput, match="nested too deeply"):
            read(path)
    finally:
        sys.setrecursionlimit(default)


def test_thresholds_are_checked() -> None:
    """A threshold must be a number in its range: a century of days, a prefix in its family,
    a share from 0 to 1 (10,000,000 days used to overflow deep inside a rule)."""
    for name, value in (
        ("stale_days", 10_000_000),
        ("stale_days", "45"),
        ("stale_days", True),
        ("open_v4_prefix", 33),
        ("kitchen_scope_share", 1.5),
        ("kitchen_scope_share", float("nan")),
        ("rotation_days", [90]),
    ):
        with pytest.raises(InvalidInput, match=f"threshold {name} must be"):
            Thresholds().replace(**{name: value})
    with pytest.raises(InvalidInput, match=r"profile\.thresholds: threshold stale_days"):
        Profile.from_dict({"thresholds": {"stale_days": {"a": 1}}})
    with pytest.raises(InvalidInput, match=r"profile\.include\[1\]"):
        Profile.from_dict({"include": ["CFT-*", 3]})


# -- fuzzing the readers ---------------------------------------------------------------------

REPLACEMENTS = [None, 1, -1, 1.5, 10**30, True, "x", "", [], [1], {}, {"a": 1}, [[[[]]]]]


@functools.cache
def _report() -> dict[str, Any]:
    """An exported report to mutate (made on first use, not when the module is collected:
    each test process collects every module, few run these tests). Read-only: mutate copies
    (``_mutated``)."""
    usage = [
        {
            "time": "2026-11-20T00:00:00Z",
            "token_id": "0" * 31 + "1",
            "method": "GET",
            "path": f"/zones/{ZONE}/dns_records",
            "status": 200,
            "ip": "34.120.1.5",
            "user_agent": "curl/8",
            "auth": "api_token",
        }
    ]
    suppression = {
        "rule": "CFT-NW-01",
        "reason": "accepted",
        "owner": "platform",
        "expires": "2026-12-20",
        "match": {"token_name": ["a*"]},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = run(
            good("a"),
            good("b", ip_in=[]),
            token("c", allow(["DNS Write"], zone(ZONE)), expires=None),
            usage=usage,
            suppressions=[suppression],
        )
    data: dict[str, Any] = json.loads(audit.to_json(None))
    return data


READ_BACK = (
    "inventory",
    "now",
    "profile",
    "suppressions",
    "usage",
    "collection_gaps",
    "source",
    "schema",
)  # fmt: skip  (a report's results are not read back)


def _paths(
    value: Any, at: tuple[Any, ...] = (), top: tuple[str, ...] | None = None
) -> Iterator[tuple[Any, ...]]:
    if at:
        yield at
    if isinstance(value, dict):
        for key, item in value.items():
            if not at and top is not None and key not in top:
                continue
            yield from _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:2]):
            yield from _paths(item, (*at, i))


@functools.cache
def _report_paths() -> list[tuple[Any, ...]]:
    """Every field of the report that is read back (made on first use)."""
    return list(_paths(_report(), top=READ_BACK))


def _mutated(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    copied = json.loads(json.dumps(document))  # a JSON document: 5x faster than deepcopy
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


def _only_invalid_input(read: Callable[[Any], Any], document: Any) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read(document)
    except InvalidInput:
        pass


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.deferred(lambda: st.sampled_from(_report_paths())),
    value=st.sampled_from(REPLACEMENTS),
)
def test_a_fuzzed_audit_report_raises_only_invalid_input(path: tuple[Any, ...], value: Any) -> None:
    """Any single field of an exported report replaced by any JSON value: the report is read
    or refused with InvalidInput; never AttributeError, TypeError, OverflowError…"""
    _only_invalid_input(Audit.from_json, _mutated(_report(), path, value))


@pytest.mark.slow
def test_every_field_of_an_audit_report_is_checked() -> None:
    """The exhaustive version over the report's fields that once escaped (deterministic)."""
    risky = [
        p for p in _report_paths()
        if p[0] in ("now", "collection_gaps", "usage")
        or p[:2] in (("inventory", "user"), ("inventory", "tokens"), ("inventory", "zones"))
        or p[:2] == ("profile", "thresholds")
        or (len(p) == 5 and p[-1] in ("issued_on", "expires_on", "last_used_on"))
    ]  # fmt: skip
    assert len(risky) > 20
    for path in risky:
        for value in (None, "x", 10**30, [1], {"a": 1}):
            _only_invalid_input(Audit.from_json, _mutated(_report(), path, value))


def test_report_errors_name_the_place() -> None:
    """The message points at the field: a person can find and fix it."""
    cases: list[tuple[tuple[Any, ...], Any, str]] = [
        (("inventory", "tokens"), 7, "inventory.tokens must be a list"),
        (("inventory", "user"), [1], "inventory.user must be an object"),
        (("inventory", "zones", 0), "x", r"inventory.zones\[1\] must be an object"),
        (("inventory", "tokens", 0, "owner_id"), {}, r"inventory.tokens\[1\].owner_id must be"),
        (("now",), {"a": 1}, "now must be an RFC 3339 timestamp"),
        (("usage", 0, "status"), "x", r"usage\[1\]\.status must be an HTTP status"),
        (("usage", 0, "time"), [], r"usage\[1\]\.time must be an RFC 3339 timestamp"),
        (("usage", 0, "path"), {}, r"usage\[1\]\.path must be text"),
        (("collection_gaps",), {"a": 1}, "collection_gaps must be a list"),
        (("profile", "thresholds", "stale_days"), "x", "profile.thresholds: threshold stale_days"),
    ]
    for path, value, message in cases:
        with pytest.raises(InvalidInput, match=message):
            Audit.from_json(_mutated(_report(), path, value))


JOURNAL_ROW = {
    "time": "2026-11-20T00:00:00Z",
    "token_id": "0" * 31 + "1",
    "method": "GET",
    "path": f"/zones/{ZONE}/dns_records",
    "status": 200,
}
AUDIT_LOG_ROW = {
    "action": {"time": "2026-11-20T00:00:00Z", "type": "create"},
    "actor": {"token_id": "0" * 31 + "1", "context": "api_token", "ip_address": "34.120.1.5"},
    "raw": {"method": "POST", "uri": f"/client/v4/zones/{ZONE}/dns_records", "status_code": 200},
    "zone": {"id": ZONE},
}
ROW_PATHS = [("journal", p) for p in _paths(JOURNAL_ROW)] + [
    ("audit_logs", p) for p in _paths(AUDIT_LOG_ROW)
]


@pytest.mark.parametrize(("kind", "path"), ROW_PATHS)
def test_fuzzed_usage_rows_raise_only_invalid_input(kind: str, path: tuple[Any, ...]) -> None:
    """Journal rows and Audit Logs v2 records, any field replaced by any JSON value, through
    both usage readers (the audit's and least privilege's)."""
    row = JOURNAL_ROW if kind == "journal" else AUDIT_LOG_ROW
    for value in REPLACEMENTS:
        rows = [_mutated(row, path, value)]
        _only_invalid_input(normalise_usage, rows)
        _only_invalid_input(usage_requests, rows)


def test_a_token_date_that_is_not_text_is_reported_not_raised() -> None:
    """A token whose issued_on is a list is audited (the date counts as unparsed)."""
    bad = token("odd", allow(["DNS Write"], zone(ZONE)))
    bad["issued_on"] = ["2026-01-01"]
    audit = run(bad)
    assert "odd" in set(audit.tokens["name"])


def test_a_lone_surrogate_escape_in_a_suppressions_file_reads_as_u_fffd(tmp_path: Path) -> None:
    """YAML's ``"\\ud800"`` and ``"\\U0000dc00"`` escapes (and JSON's) decode to lone
    surrogates: read as U+FFFD, also behind an alias bomb (each shared list walked once)."""
    path = tmp_path / "suppressions.yaml"
    path.write_text(
        alias_bomb() + _entry(reason='"accepted \\ud800 \\U0000dc00"', owner=f"[{BOMB}]"),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="'owner' is required"):
        load_suppressions(path, now=NOW)
    path.write_text(_entry(reason='"accepted \\ud800 \\U0000dc00"'), encoding="utf-8")
    (loaded,) = load_suppressions(path, now=NOW)
    assert loaded.reason == "accepted \ufffd \ufffd"
    as_json = tmp_path / "suppressions.json"
    as_json.write_text(
        '{"suppressions": [{"rule": "CFT-NW-01", "reason": "ok \\udfff", "owner": "p", '
        '"expires": "2026-12-20", "match": {"token_name": "ci-*"}}]}',
        encoding="utf-8",
    )
    (loaded,) = load_suppressions(as_json, now=NOW)
    assert loaded.reason == "ok \ufffd"
