"""Secret: every rendering is masked, pickling is refused, equality is by value."""

from __future__ import annotations

import copy
import io
import logging
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cftokens as cft
from cftokens.errors import labelled, redact, redact_uri, unredacted

secrets = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=40,
            max_size=40).map(lambda s: "cfut_" + s + "ab12"),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
            min_size=40, max_size=40),
)  # fmt: skip


class _Printer:
    def __init__(self) -> None:
        self.out: list[str] = []

    def text(self, value: str) -> None:
        self.out.append(value)


@pytest.mark.parametrize("examples", [50, pytest.param(150, marks=pytest.mark.slow)])
def test_no_rendering_shows_the_value(examples: int) -> None:
    """repr, str, format, f-strings, HTML and the IPython printer never contain the secret."""

    @settings(max_examples=examples, deadline=None)
    @given(secrets)
    def check(value: str) -> None:
        secret = cft.Secret(value)
        printer = _Printer()
        secret._repr_pretty_(printer, False)
        renderings = [
            repr(secret),
            str(secret),
            f"{secret}",
            f"{secret!r}",
            format(secret, ">80"),
            secret._repr_html_(),
            "".join(printer.out),
            repr([secret]),
            repr({"token": secret}),
        ]
        for rendering in renderings:
            assert value not in rendering
        assert secret.reveal() == value

    check()


@pytest.mark.parametrize("examples", [25, pytest.param(75, marks=pytest.mark.slow)])
def test_logging_a_secret_logs_the_mask(examples: int) -> None:
    """A secret passed to a logger at DEBUG is written masked."""

    @settings(max_examples=examples, deadline=None)
    @given(secrets)
    def check(value: str) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        logger = logging.getLogger("cftokens.test.secret")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            logger.debug("token %s %r", cft.Secret(value), cft.Secret(value))
        finally:
            logger.removeHandler(handler)
        assert value not in stream.getvalue()
        assert "Secret(" in stream.getvalue()

    check()


def test_pickling_is_refused_with_advice() -> None:
    """pickle.dumps of a Secret raises a TypeError that says where to keep secrets instead."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(cft.Secret("cfut_" + "a" * 44))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps({"nested": [cft.Secret("x" * 40)]})


def test_copies_are_the_same_secret() -> None:
    """copy and deepcopy work (a Secret is immutable) and keep the value."""
    secret = cft.Secret("cfut_" + "c" * 44)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"s": secret})["s"] is secret


def test_equality_is_by_value_and_hash_consistent() -> None:
    """Secrets with the same value are equal and hash alike; different values are not equal."""
    a, b, c = cft.Secret("x" * 40), cft.Secret("x" * 40), cft.Secret("y" * 40)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != "x" * 40


def test_kind_and_mask_follow_the_prefix() -> None:
    """The kind comes from the prefix, and the mask shows only the public prefix."""
    assert cft.Secret("cfut_" + "a" * 44).kind == "user"
    assert cft.Secret("cfat_" + "a" * 44).kind == "account"
    assert cft.Secret("a" * 40).kind == "legacy"
    assert repr(cft.Secret("cfat_" + "a" * 44)) == "Secret('cfat_…')"
    assert repr(cft.Secret("a" * 40)) == "Secret('…')"


def test_bad_values_are_refused() -> None:
    """Empty values and values with surrounding whitespace (a file's newline) are refused."""
    with pytest.raises(ValueError, match="trailing newline"):
        cft.Secret("cfut_abc\n")
    with pytest.raises(ValueError, match="non-empty"):
        cft.Secret("")
    with pytest.raises(TypeError):
        cft.Secret(123)  # type: ignore[arg-type]


def test_fingerprint_is_stable_and_short() -> None:
    """The fingerprint is 12 hex characters, the same for equal secrets, not the value."""
    value = "cfut_" + "d" * 44
    assert cft.Secret(value).fingerprint() == cft.Secret(value).fingerprint()
    assert len(cft.Secret(value).fingerprint()) == 12
    assert cft.Secret(value).fingerprint() not in value


def test_redact_scrubs_credential_shapes() -> None:
    """redact removes bearer headers, prefixed secrets, legacy 40-char secrets and given values."""
    text = (
        "Authorization: Bearer cfut_" + "Z" * 44 + " and " + "q" * 40 + " key=" + "0" * 37
        + " plain=hunter2"
    )  # fmt: skip
    scrubbed = redact(text, secrets=["hunter2"])
    assert "Z" * 40 not in scrubbed
    assert "q" * 40 not in scrubbed
    assert "0" * 37 not in scrubbed
    assert "hunter2" not in scrubbed


def test_redact_scrubs_origin_ca_keys_and_their_header() -> None:
    """An Origin CA key (``v1.0-`` then hex groups, the X-Auth-User-Service-Key credential)
    is removed wherever it appears; a short version tag like ``v1.0-beta`` is kept."""
    key = "v1.0-" + "e24fd090c02efcfecb4de8f4" + "-" + "9a" * 73  # assembled: no literal key
    for text in (
        f"X-Auth-User-Service-Key: {key}",
        f"x-auth-user-service-key={key[:30]}",
        f"the key {key} was pasted here",
        f'{{"origin_ca_key": "{key}"}}',
    ):
        scrubbed = redact(text)
        assert "e24fd090c02efcfecb4de8f4" not in scrubbed, scrubbed
        assert "9a9a9a9a" not in scrubbed, scrubbed
        assert "[redacted]" in scrubbed
    assert "e24fd090c02e" not in redact_uri(f"/certificates?key={key}")
    assert redact("cftokens v1.0-beta, v1.0-rc1") == "cftokens v1.0-beta, v1.0-rc1"


def test_a_prefix_in_another_case_is_still_a_credential() -> None:
    """``CFUT_…``/``Cfat_…``/``CFK_…``/``V1.0-…``: the secret with its prefix's case changed
    (a paste through an upper-casing field, a shouted log) is still the credential to whoever
    lowers the prefix again."""
    body = "Ab1" * 14
    for prefix in ("CFUT_", "Cfat_", "CFK_", "cFuT_"):
        text = f"name {prefix}{body} end"
        assert body[:20] not in redact(text), prefix
        assert not unredacted([text]), prefix
        assert labelled(f"{prefix}{body}") != f"{prefix}{body}", prefix
    origin = "V1.0-" + "e24fd090c02efcfe" + "-" + "9a" * 30
    assert "e24fd090c02efcfe" not in redact(origin)
