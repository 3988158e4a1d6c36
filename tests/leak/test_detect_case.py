"""A prefixed credential is found whatever the case of its prefix (``CFUT_``, ``Cfat_``): the
scanner and the redaction share one definition of a credential's shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cftokens import _redaction
from cftokens.detect import KINDS, detect, fingerprint_of
from cftokens.errors import redact
from cftokens.leak import ScanResult, scan

BODY = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"  # 40 characters, random-looking
SPELLINGS = {
    "user_token": ("CFUT_", "Cfut_", "cFuT_", "cfUT_"),
    "account_token": ("CFAT_", "Cfat_", "cfAt_"),
    "global_api_key": ("CFK_", "Cfk_", "cfK_"),
}
CASES = [(kind, prefix) for kind, prefixes in SPELLINGS.items() for prefix in prefixes]


def renderings(result: ScanResult) -> list[str]:
    return [
        repr(result),
        result.table(),
        result.to_json(),
        result.to_sarif(),
        result._repr_html_(),
        result.frame.to_csv(),
    ]


@pytest.mark.parametrize(("kind", "prefix"), CASES)
def test_a_prefix_in_any_case_is_the_credential_it_spells(kind: str, prefix: str) -> None:
    """``CFUT_``/``Cfat_``… + 40 characters + a checksum is that kind's credential, reported as
    Cloudflare writes it (the prefix lower-cased, the rest as found), with the usual
    confidence; its fingerprint shows the prefix as Cloudflare writes it."""
    text = f"token: {prefix}{BODY}Xy12Ab\n"
    (hit,) = detect(text.encode())
    assert (hit.kind, hit.confidence, hit.start) == (kind, "high", text.index(prefix))
    assert hit.value == prefix.lower() + BODY + "Xy12Ab"
    assert fingerprint_of(hit.value) == f"{prefix.lower()}…12Ab"
    (cut,) = detect(f"{prefix}{BODY} (cut short)".encode())
    assert (cut.kind, cut.confidence) == (kind, "medium")


@pytest.mark.parametrize(
    "text",
    [
        "CFUT_" + "X" * 46 + "\n",  # a placeholder, upper case
        "Cfat_" + "x" * 46 + "\n",
        f"MYCFUT_{BODY}Xy12Ab\n",  # the prefix inside a longer word
        f"CFUT_{BODY[:30]}\n",  # too short
        f"CFUT_{BODY}_MORE\n",  # an identifier: the run goes on with _
        "CFK_CONFIG_SETTINGS_FOR_THE_PRODUCTION_ENVIRONMENT_ONE\n",  # a constant's name
    ],
)
def test_an_upper_case_look_alike_is_not_a_credential(text: str) -> None:
    """Placeholders, longer words, short or underscored runs stay clean in any case."""
    assert detect(text.encode()) == []


def test_the_scanner_and_the_redaction_know_the_same_prefixes() -> None:
    """One definition: the scanner's kinds are the shared prefixes', and every prefix the
    redaction scrubs is one the scanner reports."""
    assert set(_redaction.CREDENTIAL_PREFIXES.values()) | {"legacy_token", "legacy_api_key"} == (
        set(KINDS)
    )
    for prefix in _redaction.CREDENTIAL_PREFIXES:
        for spelling in (prefix, prefix.upper(), prefix.capitalize()):
            text = f"x {spelling}{BODY}Xy12Ab y"
            (hit,) = detect(text.encode())
            assert hit.kind == _redaction.CREDENTIAL_PREFIXES[prefix]
            assert redact(text) == "x [redacted] y"


@pytest.mark.parametrize(("kind", "prefix"), CASES)
def test_every_hit_is_scrubbed_by_the_redaction(kind: str, prefix: str) -> None:
    """What the scanner reports, the redaction hides: the text of each hit is gone from the
    redacted text, in every spelling."""
    for text in (f"{prefix}{BODY}Xy12Ab", f'{{"t": "a\\n{prefix}{BODY}Zz9Kq1"}}'):
        (hit,) = detect(text.encode())
        found = text[hit.start : hit.start + len(hit.value)]
        assert found.lower() == hit.value.lower()
        assert BODY not in redact(text)


def test_a_notebook_output_in_upper_case_is_found_and_never_shown(tmp_path: Path) -> None:
    """A notebook whose output printed ``CFAT_…`` (a shouting log line) is a hit in that
    cell's output, and no rendering of the result holds the secret in any spelling."""
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "source": ["print(token.upper()[:5] + token[5:])"],
        "outputs": [{"name": "stdout", "output_type": "stream", "text": [f"CFAT_{BODY}Zz9Kq1\n"]}],
    }
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "shouting.ipynb"
    path.write_text(json.dumps(notebook, indent=1))  # as nbformat writes it
    (tmp_path / "app.env").write_text(f"TOKEN=Cfut_{BODY}Ab12Cd\n")
    result = scan(tmp_path)
    kinds = {h.kind: h for h in result.hits}
    assert set(kinds) == {"account_token", "user_token"}
    assert kinds["account_token"].where == "cell 1 output"
    assert kinds["account_token"].fingerprint == "cfat_…9Kq1"
    assert kinds["user_token"].fingerprint == "cfut_…12Cd"
    assert kinds["account_token"].secret.reveal() == f"cfat_{BODY}Zz9Kq1"
    body = re.compile(re.escape(BODY), re.IGNORECASE)
    for shown in renderings(result):
        assert not body.search(shown)
