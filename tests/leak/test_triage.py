"""Triage end to end on the demo's leak scenario: blast radius, activity, gaps, containment."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import cftokens as cft
from cftokens.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def leak(leak_company: Sandbox) -> Sandbox:
    """The demo company with the leak scenario, this test's own copy."""
    return leak_company.copy(rate_limit=None)


def leaked_secret(sb: Sandbox) -> cft.Secret:
    text = sb.extras["repository"][sb.extras["leak"]["file"]]
    return cft.Secret(re.search(r"cfut_\w+", text).group())  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def triaged(leak_company: Sandbox) -> cft.Triage:
    """The leaked plugin token triaged from the commit on, as the README does; read-only
    (tests that roll, disable or delete triage their own copy)."""
    leak = leak_company.copy(rate_limit=None)
    return cft.triage(leaked_secret(leak), admin=leak, since=leak.extras["leak"]["committed"])


def test_the_scenario_leaves_the_plain_demo_unchanged(
    demo_company: Sandbox, leak_company: Sandbox
) -> None:
    """Same tokens, ids and history as Sandbox.demo(); the leak only adds rows after them."""
    plain, leaky = demo_company, leak_company
    assert plain.extras["tokens"] == leaky.extras["tokens"]
    before, after = plain.journal, leaky.journal
    key = ["time", "path", "ray_id", "ip"]
    old = set(before[key].itertuples(index=False, name=None))
    new = set(after[key].itertuples(index=False, name=None))
    assert old <= new and len(new - old) == 13
    assert {row[3] for row in new - old} == {leaky.extras["leak"]["attacker_ip"]}
    assert "repository" not in plain.extras


def test_triage_of_the_leaked_plugin_token(leak_company: Sandbox, triaged: cft.Triage) -> None:
    """Live, Dana's wordpress-plugin token; Zone Settings Write and Cache Purge on the shop
    zone from any IP with no expiry; 13 requests from the attacker's IP flagged; the plugin
    is the dependent; the replacement is bound to the plugin's address."""
    facts = leak_company.extras["leak"]
    t = triaged
    assert (t.verification.status, t.token_id, t.owner_kind) == ("live", facts["token_id"], "user")
    radius = t.blast_radius
    writes = set(radius[radius["level"] == "write"]["permission"])
    assert writes == {"Zone Settings Write", "Cache Purge"}
    assert set(radius["from_ips"]) == {"any IP address"} and set(radius["until"]) == {"no expiry"}
    assert {"CFT-RK-01", "CFT-LC-01", "CFT-NW-01"} <= set(t.findings["rule_id"])
    flagged = t.activity[t.activity["flagged"]]
    assert set(flagged["ip"]) == {facts["attacker_ip"]} and len(flagged) == 13
    assert not t.activity[~t.activity["flagged"]]["ip"].eq(facts["attacker_ip"]).any()
    assert list(t.dependents["ip"]) == ["185.199.108.20"]
    assert t.replacement is not None
    assert t.replacement.spec.allow_ips == ("185.199.108.20/32",)
    text = str(t)
    assert "198.18.77.66" in text and "Zone Settings Write" in text
    assert [g.part for g in t.gaps] == ["similar"]  # Acme Web's tokens: named, not hidden
    assert "INCOMPLETE" not in text  # the token itself was fully read
    html = t.to_html()
    assert "cannot see may hold this power" in html and "lower bound" not in html


def test_reports_work_the_views_out_once_and_hand_out_copies(
    leak: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blast radius, similar tokens, activity and dependents are worked out once per
    triage, however many reports and sentences read them (who_can asked once per resource of
    the blast radius); a frame handed out is the caller's own: changing it changes no report."""
    t = cft.triage(leaked_secret(leak), admin=leak, since=leak.extras["leak"]["committed"])
    asked: list[Any] = []
    who_can = type(t.audit).who_can

    def counted(audit: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(args)
        return who_can(audit, *args, **kwargs)

    monkeypatch.setattr(type(t.audit), "who_can", counted)
    html, text = t.to_html(), t.to_json()
    once = len(asked)
    assert once == len(t.blast_radius) > 0
    for frame in (t.blast_radius, t.similar, t.activity, t.dependents, t.findings):
        assert not frame.empty
        frame.loc[:, frame.columns[0]] = None  # the caller's copy
    str(t)
    assert (t.to_html(), t.to_json()) == (html, text)
    assert len(asked) == once


def test_roll_writes_the_new_secret_once_to_a_0600_file(leak: Sandbox, tmp_path: Path) -> None:
    """Roll: the leaked secret dies, the new one (in a new 0600 file) works, neither is in
    the report; an existing file is refused before anything changes."""
    secret = leaked_secret(leak)
    t = cft.triage(secret, admin=leak, since=leak.extras["leak"]["committed"])
    with pytest.raises(cft.InvalidInput, match="confirm=True"):
        t.roll(tmp_path / "new.txt")
    existing = tmp_path / "exists.txt"
    existing.write_text("keep me\n")
    with pytest.raises(cft.InvalidInput, match="exists"):
        t.roll(existing, confirm=True)
    assert leak.client(token=secret).tokens.verify().active  # nothing rolled yet
    path = t.roll(tmp_path / "new.txt", confirm=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    new = cft.Secret(path.read_text().strip())
    assert cft.scan(tmp_path / "new.txt", verify=leak).hits[0].status == "live"
    with pytest.raises(cft.AuthenticationError):
        leak.client(token=secret).tokens.verify()
    report = t.to_html() + t.to_json()
    assert secret.reveal() not in report and new.reveal() not in report
    assert [a.action for a in t.actions] == ["roll"]
    assert json.loads(t.to_json())["actions"][0]["action"] == "roll"


def test_disable_keeps_the_policies(leak: Sandbox) -> None:
    """Disable is a PUT with status disabled: the policies are unchanged."""
    t = cft.triage(leaked_secret(leak), admin=leak)
    before = leak.token(t.token_id).policies  # type: ignore[arg-type]
    t.disable(confirm=True)
    after = leak.token(t.token_id)  # type: ignore[arg-type]
    assert after.status.value == "disabled" and after.policies == before
    assert cft.scan("-", stdin=__import__("io").BytesIO(leaked_secret(leak).reveal().encode()),
                    verify=leak).hits[0].status == "expired/disabled"  # fmt: skip


def test_delete_needs_confirmation(leak: Sandbox) -> None:
    """delete() without confirm=True changes nothing."""
    t = cft.triage(leaked_secret(leak), admin=leak)
    with pytest.raises(cft.InvalidInput):
        t.delete()
    t.delete(confirm=True)
    assert t.token_id not in {x.id for x in leak.tokens()}


def test_a_token_the_admin_cannot_list_is_a_named_gap_not_a_small_radius(leak: Sandbox) -> None:
    """An Acme Web account token (the bootstrap lacks Account API Tokens Read there): live,
    but its blast radius is reported as unknown with the missing permission named."""
    web = leak.extras["gap_account"]
    spec = cft.TokenSpec(
        name="agency-ci", policies=[cft.Policy.allow(["Account Settings Read"], accounts=[web])]
    )
    created = leak.create_token(spec, account=web)
    t = cft.triage(created.secret, admin=leak, account=web)
    assert t.verification.status == "live" and t.token_id == created.id
    assert not t.complete and t.blast_radius.empty
    parts = {g.part for g in t.gaps}
    assert "blast radius" in parts
    assert any("Account API Tokens Read" in g.needs for g in t.gaps)
    assert str(t).startswith("INCOMPLETE")
    assert "lower bound" in t.to_html() and t.to_dict()["complete"] is False


def test_missing_audit_log_permission_is_an_activity_gap(leak: Sandbox) -> None:
    """An admin that can list tokens but not read audit logs: the activity is a named gap."""
    user = leak.user_id
    production = leak.extras["accounts"]["production"]
    admin_spec = cft.TokenSpec(
        name="triage-admin",
        policies=[
            cft.Policy.allow(["API Tokens Read"], user=user),
            cft.Policy.allow(["Zone Read"], zones=[leak.extras["zones"]["acme-shop.example"]]),
        ],
    )
    admin = leak.create_token(admin_spec, user=user)
    with leak.client(token=admin.secret) as client:
        t = cft.triage(leaked_secret(leak), admin=client, now=leak.clock.now())
    assert t.token_id == leak.extras["leak"]["token_id"]
    activity_gaps = [g for g in t.gaps if g.part == "activity"]
    assert activity_gaps and all("Account Settings Read" in g.needs for g in activity_gaps)
    assert any(production in g.what for g in activity_gaps)
    assert str(t).startswith("INCOMPLETE")


def test_the_secret_alone_gives_the_verify_answer_and_a_gap(leak: Sandbox) -> None:
    """Without admin=, the triage is the verify answer, with the rest named as a gap."""
    t = cft.triage(leaked_secret(leak), verifier=cft.leak.Verifier(sandbox=leak))
    assert t.verification.status == "live" and t.blast_radius.empty and not t.complete
    assert "no admin credential" in str(t)


def test_default_window_starts_at_the_last_roll_of_an_account_token(leak: Sandbox) -> None:
    """An account token rolled 3 days ago (by another credential): since defaults to that
    roll, found in the account's Audit Logs v2 by resource; without a roll, 30 days."""
    from datetime import timedelta

    production = leak.extras["accounts"]["production"]
    zone = leak.extras["zones"]["acme-shop.example"]
    spec = cft.TokenSpec(name="shop-purge", policies=[cft.Policy.allow(["Cache Purge"],
                                                                       zones=[zone])])  # fmt: skip
    token = leak.create_token(spec, account=production)
    first = cft.triage(token.secret, admin=leak, account=production)
    assert first.since == leak.clock.now() - timedelta(days=30)
    assert "no roll" in first.since_reason
    minting = cft.TokenSpec(
        name="minter",
        policies=[cft.Policy.allow(["Account API Tokens Write"], accounts=[production])],
    )
    minter = leak.create_token(minting, user=leak.user_id)
    rolled_at = leak.clock.now()
    with leak.client(token=minter.secret) as admin:
        new = admin.account(production).tokens.roll(token.token.id)
    leak.clock.advance(timedelta(days=3))
    t = cft.triage(new, admin=leak, account=production)
    assert t.since is not None and abs((t.since - rolled_at).total_seconds()) < 1
    assert t.since_reason == "its last roll (Audit Logs v2)"


def test_without_usage_before_the_window_no_address_is_called_unexpected(leak: Sandbox) -> None:
    """The default window (30 days) of the demo has no usage before it: "never seen before"
    means nothing then. The plugin's own address is not flagged as the attacker, the plan says
    the plugin breaks on a roll (not "no caller"), the summary says why nothing is flagged, and
    no replacement is designed from usage that may be the attacker's."""
    facts = leak.extras["leak"]
    t = cft.triage(leaked_secret(leak), admin=leak)
    assert len(t.activity) > 13
    assert not t.activity["flagged"].any()
    assert {"185.199.108.20", facts["attacker_ip"]} <= set(t.dependents["ip"])
    assert "185.199.108.20" in t.plan[0].breaks
    text = str(t)
    assert "no usage before" in text and "since=" in text
    assert not any("unexpected use" in event for _, event in t.timeline())
    assert t.replacement is None and "before the window" in (t.replacement_error or "")


def test_what_a_weak_admin_cannot_name_is_not_printed_as_na(leak: Sandbox) -> None:
    """An admin that cannot read the owner's e-mail or account names: the owner's name is
    unknown (None), never the text '<NA>', and an account without a name is shown once by id."""
    user = leak.user_id
    admin_spec = cft.TokenSpec(
        name="triage-admin", policies=[cft.Policy.allow(["API Tokens Read"], user=user)]
    )
    admin = leak.create_token(admin_spec, user=user)
    with leak.client(token=admin.secret) as client:
        t = cft.triage(leaked_secret(leak), admin=client, now=leak.clock.now())
    assert t.token_id == leak.extras["leak"]["token_id"]
    assert t.owner_name is None and t.to_dict()["verification"]["owner_name"] is None
    production = leak.extras["accounts"]["production"]
    for text in (str(t), t.to_html(), t.to_json()):
        assert "<NA>" not in text and "&lt;NA&gt;" not in text
        assert f"{production} ({production})" not in text


class _Cells(HTMLParser):
    """Each table cell of a page: its class and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self._open: list[str] | None = None
        self._cls = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self._open, self._cls = [], dict(attrs).get("class") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._open is not None:
            self.cells.append((self._cls, "".join(self._open)))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)


def test_every_long_cell_of_the_incident_report_may_wrap(triaged: cft.Triage) -> None:
    """The in-process twin of the Chromium test below: each table cell holding a word longer
    than 20 characters (paths, user agents, ids in the requests table) is of class ``long``,
    which the stylesheet wraps anywhere, so no column is pushed past the window."""
    page = triaged.to_html()
    css = page[page.index("<style>") : page.index("</style>")]
    assert re.search(r"td\.long\{[^}]*overflow-wrap:anywhere", css)
    parser = _Cells()
    parser.feed(page)
    long_words = [
        (cls, text) for cls, text in parser.cells if max(map(len, text.split()), default=0) > 20
    ]
    assert len(long_words) >= 13  # at least the attacker's requests
    assert all(cls == "long" for cls, _ in long_words), [w for w in long_words if w[0] != "long"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow  # a browser start; its in-process twin: ..._of_the_incident_report_may_wrap
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)
def test_the_incident_report_does_not_scroll_sideways_in_chromium(
    triaged: cft.Triage, tmp_path: Path
) -> None:
    """Rendered in a 1280-pixel window, the requests table (long paths, user agents) stays in
    the page: the 'flagged' and 'why' columns were past the right edge, behind a sideways
    scroll."""
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts/screenshots.py")
    assert spec is not None and spec.loader is not None
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    t = triaged
    probe = (
        "<script>addEventListener('load', () => { const p = document.createElement('pre');"
        " p.textContent = 'PROBE' + JSON.stringify({width: innerWidth,"
        " scroll: document.documentElement.scrollWidth}) + 'PROBE';"
        " document.body.appendChild(p); });</script>"
    )
    page = tmp_path / "incident.html"
    page.write_text(t.to_html().replace("</body>", probe + "</body>"), encoding="utf-8")
    seen = screenshots.probe(CHROMIUM, page, (1280, 800), tmp_path / "profile")
    assert seen["scroll"] <= seen["width"], seen


def test_audit_findings_are_named_once_each_in_the_summary(leak: Sandbox) -> None:
    """A token with nine CFT-RK-01 findings: the summary names the rule once, with a count,
    not nine times."""
    tid = leak.extras["tokens"]["dana-full-access-2023"]
    secret = next(
        s
        for s in leak.issued_secrets()
        if (row := leak.store.token_by_hash(leak.store.hash(s.reveal()))) is not None
        and row.id == tid
    )
    t = cft.triage(secret, admin=leak)
    counts = t.findings["rule_id"].value_counts()
    assert counts["CFT-RK-01"] > 1
    (line,) = [s for s in t.sentences if s.startswith("Audit findings:")]
    assert line.count("CFT-RK-01") == 1
    assert f"CFT-RK-01 ×{counts['CFT-RK-01']} (critical)" in line
