"""A credential with a character drawn as nothing inside it (``cfut_`` + U+200B + the rest, a
soft hyphen in a legacy secret, a bidi mark in a header's value) is still the credential to
whoever deletes that character: every redaction finds it, as it finds the plain one."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cftokens.audit import Audit
from cftokens.errors import redact, redacted_texts

# assembled from parts: no committed file holds a token-shaped string
KEY = "Zq7" + "Xw9Lm2Pk4Rt6Vb8Nc1Jd3Hf5Gs"
LEGACY = "Aa1" + "Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk1Ll2Mm3N"
UNSEEN = ["\u200b", "\u2060", "\u00ad", "\u200d", "\u202e", "\u2028", "\ufe0f", "\ufeff",
          "\U000e0041", "\x00", "\x7f"]  # fmt: skip


def _split(secret: str, at: int, mark: str) -> str:
    return secret[:at] + mark + secret[at:]


@pytest.mark.parametrize("mark", UNSEEN)
def test_a_split_prefixed_secret_is_redacted(mark: str) -> None:
    secret = "cf" + "ut_" + KEY
    for at in (2, 5, 6, 20, len(secret) - 1):
        text = "deploy " + _split(secret, at, mark) + " (ci)"
        out = redact(text)
        assert out == "deploy [redacted] (ci)", (at, out)


@pytest.mark.parametrize("mark", ["\u200b", "\u00ad", "\u202e"])
def test_split_legacy_secrets_headers_and_given_values_are_redacted(mark: str) -> None:
    assert redact("token=" + _split(LEGACY, 17, mark)) == "token=[redacted]"
    out = redact("Authorization: Bearer " + _split("eyJ" + KEY, 9, mark))
    assert KEY[6:] not in out and out.startswith("Authorization: "), out
    assert redact("pw " + _split("hunter2", 3, mark) + ".", secrets=["hunter2"]) == "pw [redacted]."


def test_text_without_a_split_credential_is_redacted_as_before() -> None:
    """Characters drawn as nothing elsewhere in the text change nothing: same output."""
    text = "Authorization: Bearer cf" + "ut_" + KEY + " zw\u200bsp \u2060x cf\u00adut_ short"
    assert redact(text) == "Authorization: [redacted] zw\u200bsp \u2060x cf\u00adut_ short"
    assert redact("ci\u200bdeploy \u202ename") == "ci\u200bdeploy \u202ename"


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(UNSEEN),
    st.integers(min_value=0, max_value=len(KEY) + 5),
    st.text(alphabet="ab -_.:\u200b", max_size=6),
    st.text(alphabet="ab -.:\u200b", max_size=6),
)
def test_redact_sees_through_unseen_characters(mark: str, at: int, before: str, after: str) -> None:
    """Differential: redacting the text with the mark is redacting it without the mark
    (the mark may survive outside the [redacted] span, never the secret)."""
    secret = "cf" + "ut_" + KEY
    text = before + _split(secret, at, mark) + after
    out = redact(text)
    assert KEY[-12:] not in out.replace(mark, ""), out
    assert "[redacted]" in out


def test_a_token_named_with_a_split_secret_is_redacted_in_the_audit() -> None:
    name = "deploy cf" + "ut_" + "\u200b" + KEY
    names = ["ci", name, "x \u200b" + LEGACY[:20] + "\u00ad" + LEGACY[20:]]
    assert sorted(redacted_texts(names)) == [1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = Audit.from_records(
            tokens=[{"id": "a" * 32, "name": name, "status": "active", "policies": []}]
        )
    for out in (audit.to_json(), audit.to_html(), audit.tokens.to_csv()):
        assert KEY[4:] not in out and KEY[4:] not in json.dumps(out), out[:200]
    assert audit.tokens["name"].tolist() == ["deploy [redacted]"]


@pytest.mark.parametrize("mark", UNSEEN)
def test_a_split_secret_escaped_before_it_is_redacted_is_redacted(mark: str) -> None:
    """repr, JSON and the terminal write the character as an escape (``\\u200b``,
    ``\\x00``, ``\\udb40\\udc41``) before a redaction may see the text: the escape hides
    nothing either."""
    name = "deploy cf" + "ut_" + mark + KEY
    for escaped in (repr(name), json.dumps(name), json.dumps(name, ensure_ascii=False)):
        out = redact(escaped)
        assert KEY[4:] not in out and "[redacted]" in out, (escaped, out)
    assert redacted_texts([repr(name)]) == {0: redact(repr(name))}


def test_an_escape_of_a_visible_character_is_not_seen_through() -> None:
    """Only escapes of characters drawn as nothing: ``\\u00e9`` is an é, which a reader sees."""
    text = json.dumps("deploy cf" + "ut_" + "\u00e9" + KEY)
    assert redact(text) == text
    assert redact(r"C:\x41\u0042 plain") == r"C:\x41\u0042 plain"


def test_reprs_of_objects_named_with_a_split_secret_do_not_show_it() -> None:
    import cftokens as cft
    from cftokens._shown import field_repr

    name = "deploy cf" + "ut_" + "\u200b" + KEY
    assert KEY[4:] not in field_repr(name)
    spec = cft.TokenSpec(name=name, policies=[cft.Policy.allow(["DNS Read"], zones=["f" * 32])])
    assert KEY[4:] not in repr(spec) and KEY[4:] not in str(spec)


@pytest.mark.parametrize(
    "field",
    [
        {"condition": {"request.ip": {"in": ["cf" + "ut_" + KEY]}}},
        {"condition": {"request.ip": {"in": ["10.0.0.0/8", "cf" + "ut_" + "\u200b" + KEY]}}},
        {"status": "cf" + "ut_" + KEY},
        {"expires_on": "cf" + "ut_" + KEY},
        {"policies": [{"effect": "cf" + "ut_" + KEY, "permission_groups": [], "resources": {}}]},
    ],
    ids=["ip-range", "split-ip-range", "status", "expires_on", "effect"],
)
def test_a_secret_in_a_field_the_audit_cannot_read_is_not_in_its_reason(
    field: dict[str, object],
) -> None:
    """A token the audit cannot read becomes a gap (and a CFT-LN-04 finding) whose reason
    quotes the bad value: a credential there is redacted, as in any message cftokens writes
    (the gaps, the findings' evidence and SARIF are shared more widely than the input)."""
    token = {"id": "a" * 32, "name": "n", "status": "active", "policies": [], **field}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = Audit.from_records(tokens=[token])
    texts = [
        *audit.gaps["reason"].astype(str),
        *audit.findings["evidence"].astype(str),
        *audit.findings["detail"].astype(str),
        audit.to_sarif(),
    ]
    assert any("[redacted]" in t for t in texts)
    for text in texts:
        assert KEY[4:] not in text, text[:300]


def test_may_hide_reads_ascii_text_as_the_pattern_does() -> None:
    """Differential: the ASCII fast path of ``_may_hide`` (a byte table, not the character
    class) answers as ``_UNSEEN_CHAR``'s search does, for each ASCII character alone, inside
    a long text, at its start and end, and next to an escape or a non-ASCII character."""
    from cftokens._redaction import _ESCAPED, _UNSEEN_CHAR, _may_hide

    def plain(text: str) -> bool:
        return _UNSEEN_CHAR.search(text) is not None or _ESCAPED.search(text) is not None

    long = "\n".join(["0123456789abcdef" * 2] * 500)
    texts = [""]
    for code in range(128):
        char = chr(code)
        texts += [char, "a" + char, char + "a", long + char, char + long, long[:999] + char + long]
        texts += [char + "\\u200b", char + "\u00e9", char + "\u200b"]
    texts += ["\\x00", "\\u200b " + long, "\\", "\\x4", "tab\there\rand\nthere"]
    for text in texts:
        assert _may_hide(text) == plain(text), repr(text[:40])


PIECES = ["0123456789abcdef", "9f", "-", "_", " ", "r", "Bearer ", "bearer ", "cf", "ut_",
          "at_", "k_", "x-auth-key: ", "Authorization: ", "v1.0-", "\u200b", KEY[:12], KEY,
          "AUTHORIZATION=", "\n"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(PIECES),
            max_size=8,
        ).map("".join),
        max_size=12,
    )
)
def test_credential_texts_are_found_as_text_by_text(texts: list[str]) -> None:
    """Differential: the texts ``redacted_texts`` and ``labelled_texts`` find (after the
    C-level scans of them all joined: the markers' letters, then the markers) are those whose
    redaction changes them and that hold a credential, each redacted or labelled alone; on
    hex-only texts too (policy ids, where no marker's letter is)."""
    from cftokens._redaction import _credential_in, labelled, labelled_texts

    want = {i: t for i, t in enumerate(texts) if redact(t) != t and _credential_in(t)}
    assert redacted_texts(texts) == {i: redact(t) for i, t in want.items()}
    assert labelled_texts(texts) == {i: labelled(t) for i, t in want.items()}
    hexes = [t for t in texts if set(t) <= set("0123456789abcdef")]
    assert redacted_texts(hexes) == {} == labelled_texts(hexes)
