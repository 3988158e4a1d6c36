"""A legacy 40-character token (``[A-Za-z0-9_-]``) that happens to begin with a prefixed
credential's prefix, in any case (``cfk_…``, ``CFUT_…``), is too short to be a prefixed secret
(the prefix and 40 or more characters): it is reported as the legacy token its name says it
is, not dropped as if the prefixed detector had found it."""

from __future__ import annotations

import random
import string

import pytest

from cftokens.detect import as_written, detect
from cftokens.leak.verify import as_written as verified_form
from cftokens.model.secret import Secret

ALPHABET = string.ascii_letters + string.digits


def _random(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(ALPHABET) for _ in range(n))


@pytest.mark.parametrize("prefix", ["cfk_", "CFK_", "cfut_", "CFUT_", "Cfat_", "cfAT_"])
def test_a_legacy_token_beginning_like_a_prefix_is_found(prefix: str) -> None:
    value = prefix + _random(40 - len(prefix), len(prefix))
    assert len(value) == 40
    hits = detect(f"CLOUDFLARE_API_TOKEN={value}\n".encode())
    assert [(h.kind, h.value) for h in hits] == [("legacy_token", value)]


@pytest.mark.parametrize("prefix", ["cfut_", "CFUT_", "cfk_"])
def test_a_prefixed_secret_after_a_name_is_found_once_as_prefixed(prefix: str) -> None:
    body = _random(46, 7)
    hits = detect(f"CLOUDFLARE_API_TOKEN={prefix}{body}\n".encode())
    assert [(h.kind, h.value) for h in hits] == [
        ("global_api_key" if prefix == "cfk_" else "user_token", prefix.lower() + body)
    ]


@pytest.mark.parametrize("prefix", ["cfk_", "CFK_", "CFUT_", "Cfat_"])
def test_a_legacy_token_beginning_like_a_prefix_is_verified_as_it_is(prefix: str) -> None:
    """Triage and the verifier lower a prefixed secret's prefix (``CFUT_…`` is ``cfut_…``),
    never a legacy token's first characters: those are its own secret."""
    legacy = prefix + _random(40 - len(prefix), 3)
    assert as_written(legacy) == legacy
    assert verified_form(Secret(legacy)).reveal() == legacy
    prefixed = prefix + _random(46, 3)
    assert as_written(prefixed) == prefix.lower() + prefixed[len(prefix) :]
    assert verified_form(Secret(prefixed)).reveal() == as_written(prefixed)
