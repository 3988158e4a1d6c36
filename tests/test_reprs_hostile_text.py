"""What a notebook (``_repr_html_``) and a terminal (``repr``/``str``) show of cftokens' objects
follows the HTML report's rule for text from input: a bidi override, a flood of combining marks
("Zalgo"), line and paragraph separators, zero-width and tag characters and lone surrogates are
shown as escapes, a credential-shaped text as ``[redacted]``; ordinary text (accents, CJK, emoji
sequences, flags) is left as it is. Each object is built with the hostile text in every field
that comes from input (token, account, zone and group names, resource keys, the user's e-mail,
file names, a scan's context) and checked in both forms.

Every secret here is assembled at run time: no committed file holds a token-shaped string."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

import cftokens as cft
from cftokens._shown import INVISIBLES
from cftokens.advisor import least_privilege
from cftokens.advisor.intents import Unmapped
from cftokens.advisor.rightsizing import rightsize
from cftokens.catalog.groups import PermissionGroup
from cftokens.leak.responder import Gap
from cftokens.model import AccountRef
from cftokens.model.resources import Scope

_RNG = random.Random(13)
SECRET = "cf" + "ut_" + "".join(_RNG.choices(string.ascii_letters + string.digits, k=40))
ZALGO = "z" + "\u0301" * 20
#: (raw, as it must be shown) of each hostile piece
PIECES: list[tuple[str, str | tuple[str, ...]]] = [
    ("prod\u202edeploy", "prod\\u202edeploy"),  # right-to-left override
    ("a\u2028b", "a\\u2028b"),  # line separator
    ("c\u2029d", "c\\u2029d"),  # paragraph separator
    ("e\u200bf", "e\\u200bf"),  # zero-width space
    # tags: hidden "AB" (JSON's escapes; Python's in a repr of a text: \U000e0041)
    ("g\U000e0041\U000e0042h", ("g\\udb40\\udc41\\udb40\\udc42h", "g\\U000e0041\\U000e0042h")),
    ("i\u3164j", "i\\u3164j"),  # Hangul filler
]
#: What a hostile name holds: every piece, a flood of marks and a credential.
HOSTILE = " ".join(raw for raw, _ in PIECES) + f" {ZALGO} key {SECRET}"
SURROGATE = ("k\ud800l", "k\\ud800l")  # a lone surrogate (refused where text is decoded)
#: Ordinary text kept byte for byte.
ORDINARY = "Café 東京 👩\u200d💻 ☁\ufe0f 🇫🇷 Tiếng Việt"

RAW = re.compile(f"[{INVISIBLES}\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
MARK_FLOOD = re.compile("[\u0300-\u036f]{5,}")

ACCOUNT = "eb78d65290b24279ba6f44721b3ea3c4"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "ed17574386854bf78a67040be0a770b0"


def seen(shown: str | tuple[str, ...], text: str) -> bool:
    return any(form in text for form in ((shown,) if isinstance(shown, str) else shown))


def assert_shown(text: str, *, pieces: bool = True, surrogate: bool = False) -> None:
    """``text`` shows every hostile piece as its escape and none raw; the secret redacted."""
    assert not RAW.search(text), ascii(text)
    assert not MARK_FLOOD.search(text), ascii(text)
    assert SECRET not in text
    if pieces:
        for _, shown in PIECES:
            assert seen(shown, text), (shown, ascii(text))
        assert "\\u0301" in text
        assert "[redacted]" in text
    if surrogate:
        assert SURROGATE[1] in text


def directory(name: str = HOSTILE) -> cft.Directory:
    return cft.Directory(
        accounts=[cft.Account(id=ACCOUNT, name=f"acct {name}")],
        zones=[cft.Zone(id=ZONE, name=f"zone {name}", account=AccountRef(id=ACCOUNT))],
    )


def spec(name: str = HOSTILE) -> cft.TokenSpec:
    return cft.TokenSpec(
        name=name,
        policies=[cft.Policy.allow(["DNS Write"], zones=[ZONE])],
        allow_ips=["203.0.113.0/24"],
    )


# -- the model ---------------------------------------------------------------------------------
def test_a_tokens_and_a_specs_repr_and_html() -> None:
    token = cft.Token(id=TOKEN, name=HOSTILE, policies=spec().policies)
    assert_shown(repr(token))
    made = spec()
    assert_shown(repr(made))
    assert_shown(made._repr_html_())
    summary = made.summary(directory())
    for text in (str(summary), repr(summary), summary._repr_html_()):
        assert_shown(text)
    # the zone's name reaches the summary through the directory
    assert "zone prod\\u202edeploy" in summary._repr_html_()


def test_a_lone_surrogate_in_a_name_is_an_escape() -> None:
    token = cft.Token(id=TOKEN, name=SURROGATE[0])
    assert_shown(repr(token), pieces=False, surrogate=True)


def test_the_directorys_groups_and_resources_reprs() -> None:
    made = directory()
    user = cft.User(id="7c5dae5552338874e5053f2534d2767a", email=f"ops {HOSTILE}@example.com")
    for value in (*made.accounts, *made.zones, user):
        assert_shown(repr(value))
    group = PermissionGroup(id="a" * 32, name=HOSTILE, scope=Scope.ZONE)
    assert_shown(repr(group))
    resource = cft.Resource.unparsed(f"com.cloudflare.api.{HOSTILE}", HOSTILE)
    assert_shown(repr(resource))
    policy = cft.Policy.from_api(
        {
            "id": HOSTILE,
            "effect": "allow",
            "permission_groups": [{"id": "4755a26eedb94da69e1066d98aa820be", "name": HOSTILE}],
            "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
        }
    )
    assert_shown(repr(policy))
    assert policy.permission_groups[0].name == HOSTILE  # kept as read


def test_the_reprs_of_server_answers_and_files() -> None:
    """Records a server sends (DNS records, Audit Logs), a verify answer, a suppression read
    from a file and a triage's gaps and steps: every text field shown by the rule."""
    from datetime import UTC, datetime

    from cftokens.audit.suppressions import Suppression
    from cftokens.client.models import AuditLogRecord, DnsRecord
    from cftokens.leak.responder import Action, Step
    from cftokens.leak.verify import Verification

    values = [
        DnsRecord(id=TOKEN, type="TXT", name=HOSTILE, content=HOSTILE, comment=HOSTILE),
        AuditLogRecord(id=TOKEN, actor_email=HOSTILE, zone_name=HOSTILE, raw_uri=HOSTILE),
        Verification(status="live", note=HOSTILE),
        Suppression(
            rule="CFT-LC-01",
            match={"token_name": [HOSTILE]},
            reason=HOSTILE,
            owner=HOSTILE,
            expires=datetime(2027, 1, 1, tzinfo=UTC),
        ),
        Gap(what=HOSTILE, reason=HOSTILE),
        Step(action=HOSTILE, does=HOSTILE, breaks=HOSTILE),
        Action(time=datetime(2027, 1, 1, tzinfo=UTC), action=HOSTILE, outcome=HOSTILE),
    ]
    for value in values:
        assert_shown(repr(value))
    # the values themselves are kept as they were read
    assert values[0].name == HOSTILE  # type: ignore[attr-defined]


def test_a_secret_shows_its_prefix_only() -> None:
    secret = cft.Secret(SECRET + "\u202e" + ZALGO)
    for text in (repr(secret), str(secret), secret._repr_html_(), f"{secret}"):
        assert text.endswith(("Secret('cfut_…')", "Secret('cfut_…')</code>"))
        assert_shown(text, pieces=False)


def unshown(method: object, value: object) -> str:
    """What a decorated renderer returned before the rule was applied."""
    inner = method.__wrapped__  # type: ignore[attr-defined]
    result: str = inner(value)
    return result


def test_ordinary_text_is_kept_byte_for_byte() -> None:
    summary = spec(ORDINARY).summary(directory(ORDINARY))
    assert f"Token {ORDINARY}" in summary._repr_html_()
    assert f"zone {ORDINARY}" in summary._repr_html_()
    assert type(summary)._repr_html_(summary) == unshown(type(summary)._repr_html_, summary)
    assert f"Token {ORDINARY!r}" in str(summary) and f"zone {ORDINARY}" in str(summary)
    assert f"name={ORDINARY!r}" in repr(cft.Token(id=TOKEN, name=ORDINARY))
    assert f"name={ORDINARY!r}" in repr(cft.Account(id=ACCOUNT, name=ORDINARY))


def test_a_newline_from_input_cannot_start_a_line_of_its_own() -> None:
    """A zone named 'a\nWarnings:\n  ! none' does not forge lines of the review: the text
    shows it as ``\\n`` (each of the review's lines is a line cftokens wrote)."""
    forged = "x.example\nWarnings:\n  ! none"
    plain = spec("ci").summary(directory("x.example"))
    summary = spec("ci").summary(directory(forged))
    assert str(summary).count("\n") == str(plain).count("\n")
    assert "x.example\\nWarnings:\\n  ! none" in str(summary)
    advice = least_privilege(
        ["POST /zones/{zone_id}/dns_records"], zone=ZONE, directory=directory(forged), name="ci"
    )
    assert "\n  ! none" not in advice.summary() and "\\n  ! none" in advice.summary()
    gap = Gap(what="a\nb", reason="c")
    assert str(gap) == "a\\nb: c"


# -- the audit -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def audit() -> cft.Audit:
    from cftokens.audit.synth import synthetic_inventory

    inventory = synthetic_inventory(6)
    inventory["tokens"][0]["name"] = HOSTILE
    inventory["tokens"][1]["name"] = ORDINARY
    return cft.Audit.from_records(**inventory)


def test_the_audits_summary_and_explanations(audit: cft.Audit) -> None:
    worst = audit.worst_tokens(6)
    assert (worst["name"] != HOSTILE).all(), "the audit redacts the credential first"
    page = audit._repr_html_()
    assert_shown(page, pieces=False)
    tid = str(audit.tokens["token_id"].iloc[0])
    explanation = audit.explain(tid)
    for text in (str(explanation), repr(explanation), explanation._repr_html_()):
        assert_shown(text)
    ordinary = audit.explain(str(audit.tokens["token_id"].iloc[1]))
    html = type(ordinary)._repr_html_
    assert html(ordinary) == unshown(html, ordinary)
    assert "Café 東京" in ordinary._repr_html_() and "Café 東京" in str(ordinary)


def test_a_finding_and_a_fix_on_a_hostile_name(audit: cft.Audit) -> None:
    tid = str(audit.tokens["token_id"].iloc[0])
    findings = audit.findings[audit.findings["token_id"] == tid]
    finding = audit.finding(str(findings["finding_id"].iloc[0]))
    for text in (str(finding), repr(finding), str(audit.fix(tid))):
        assert_shown(text)


def test_the_audits_summary_shows_a_hostile_name_as_escapes() -> None:
    from cftokens.audit.synth import synthetic_inventory

    inventory = synthetic_inventory(3)
    name = " ".join(raw for raw, _ in PIECES) + f" {ZALGO}"
    for token in inventory["tokens"]:
        token["name"] = name
    page = cft.Audit.from_records(**inventory)._repr_html_()
    assert_shown(page, pieces=False)
    for _, shown in PIECES:
        assert seen(shown, page)


# -- the advisor ---------------------------------------------------------------------------------
def test_advice_and_right_sizing() -> None:
    made = directory()
    advice = least_privilege(
        ["POST /zones/{zone_id}/dns_records"], zone=ZONE, directory=made, name=HOSTILE
    )
    for text in (str(advice), advice.summary(), advice._repr_html_()):
        assert_shown(text)
    unmapped = Unmapped(intent=HOSTILE, reason="a\nb")
    assert_shown(str(unmapped))
    assert str(unmapped).endswith(": a\\nb")
    wide = cft.Token(
        id=TOKEN,
        name=HOSTILE,
        policies=[cft.Policy.allow(["DNS Write", "Cache Purge"], all_zones_of=ACCOUNT)],
    )
    result = rightsize(wide, ["POST /zones/{zone_id}/dns_records"], zone=ZONE, directory=made)
    for text in (str(result), result.summary(), result._repr_html_()):
        assert_shown(text)


# -- leaks ---------------------------------------------------------------------------------------
def test_a_scan_of_a_file_with_a_hostile_name(tmp_path: Path) -> None:
    name = "leak " + " ".join(raw for raw, _ in PIECES) + f" {ZALGO}.env"
    (tmp_path / name).write_text(f"CLOUDFLARE_API_TOKEN={SECRET}\n")
    result = cft.scan(tmp_path)
    (hit,) = result.hits
    for text in (repr(hit), result._repr_html_(), repr(result)):
        assert_shown(text, pieces=False)
    for text in (repr(hit), result._repr_html_()):
        for _, shown in PIECES:
            assert seen(shown, text)


@pytest.fixture
def sandbox(demo_company: cft.Sandbox) -> Iterator[cft.Sandbox]:
    with demo_company.copy(rate_limit=None) as copy:
        yield copy


def test_a_triage_of_a_token_on_hostile_names(sandbox: cft.Sandbox) -> None:
    """The triage's sentences name the token's zone (from the server)."""
    account = sandbox.directory().zones[0].account.id
    zone = sandbox.add_zone(f"zone {HOSTILE}.example", account=account)
    created = sandbox.create_token(
        cft.TokenSpec(name=HOSTILE, policies=[cft.Policy.allow(["DNS Read"], zones=[zone.id])])
    )
    triaged = cft.triage(created.secret, admin=sandbox)
    for text in (str(triaged), triaged._repr_html_()):
        assert_shown(text)
    assert_shown(repr(triaged), pieces=False)
    gap = Gap(what=HOSTILE, reason=HOSTILE, needs=HOSTILE)
    assert_shown(str(gap))


# -- the course -------------------------------------------------------------------------------
def test_an_exercises_check_quotes_the_answer_by_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cftokens.course.exercises import Exercise

    exercise = Exercise(1, lambda answer: [f"the token {answer} is not named"], "hint", "pass")
    exercise.check(HOSTILE + "\nnot yet: nothing")
    out = capsys.readouterr().out
    assert_shown(out)
    assert "\\nnot yet: nothing" in out
    assert [line for line in out.split("\n") if line.startswith("not yet")] == ["not yet:"]
    assert re.search(r"\\(u[0-9a-f]{0,3}|x[0-9a-f]?)\n", out) is None, "an escape was cut"


# -- widgets -------------------------------------------------------------------------------------
def test_the_token_builder(sandbox: cft.Sandbox) -> None:
    from cftokens.widgets import TokenBuilder

    builder = TokenBuilder(directory())
    try:
        builder.name.value = HOSTILE
        labels = [label for label, _ in builder.policies[0].zones.options]
        labels += [label for label, _ in builder.owner_account.options]
        for label in labels:
            assert_shown(label, pieces=False)
            assert "prod\\u202edeploy" in label
        builder.policies[0].groups.value = ["DNS Write (zone)"]
        builder.policies[0].zones.value = (ZONE,)
        builder._refresh()
        assert_shown(repr(builder))
        assert_shown(builder.summary.value)
        builder.status.value = f"<b>{HOSTILE}</b>"
        assert_shown(builder.status.value)
    finally:
        builder.close()


def test_the_audit_explorers_filters(audit: cft.Audit) -> None:
    from cftokens.widgets import AuditExplorer

    explorer = AuditExplorer(audit)
    labels = [label for label, _ in (*explorer.owner.options, *explorer.zone.options)]
    for label in labels:
        assert_shown(label, pieces=False)
    explorer.detail.value = f"<i>{HOSTILE}</i>"
    assert_shown(explorer.detail.value)
