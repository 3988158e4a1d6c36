"""Each detector: what it finds (true positives) and what it must leave alone (false ones)."""

from __future__ import annotations

import pytest

from cftokens.detect import detect, fingerprint_of

BODY = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"  # 40 characters, random-looking
HEX = "5213fe41a76e83fb02cb41cac80f0c02200eb"  # 37 lower-case hex


def found(text: str) -> list[tuple[str, str]]:
    return [(h.kind, h.confidence) for h in detect(text.encode())]


@pytest.mark.parametrize(
    ("text", "kind", "confidence"),
    [
        (f"token: cfut_{BODY}Xy12Ab\n", "user_token", "high"),
        (f'"cfat_{BODY}Zz9Kq1"', "account_token", "high"),
        (f"key=cfk_{BODY}Ab12cd", "global_api_key", "high"),
        (f"cfut_{BODY} (cut short)", "user_token", "medium"),
        (f"CLOUDFLARE_API_TOKEN={BODY}\n", "legacy_token", "medium"),
        (f"export CF_API_TOKEN='{BODY}'\n", "legacy_token", "medium"),
        (f'provider "cloudflare" {{\n  api_token = "{BODY}"\n}}\n', "legacy_token", "medium"),
        (f'{{"api_token": "{BODY}"}}', "legacy_token", "low"),
        (f'{{"cloudflare_api_token": "{BODY}"}}', "legacy_token", "medium"),
        (f'curl -H "Authorization: Bearer {BODY}" https://api.cloudflare.com', "legacy_token",
         "medium"),
        (f"X-Auth-Key: {HEX}\n", "legacy_api_key", "medium"),
        (f"CLOUDFLARE_API_KEY={HEX}\n", "legacy_api_key", "medium"),
        (f'api_key = "{HEX}"  # cloudflare', "legacy_api_key", "medium"),
        (f'os.environ[\\"CLOUDFLARE_API_TOKEN\\"] = \\"{BODY}\\"', "legacy_token", "medium"),
        # after an escape: a JSON string, a Python repr, a URL-encoded query
        (f'{{"text": "the token is\\ncfut_{BODY}Xy12Ab"}}', "user_token", "high"),
        (f"'a=1\\tcfat_{BODY}Zz9Kq1'", "account_token", "high"),
        (f"https://example.com/hook?t%3Dcfut_{BODY}Xy12Ab", "user_token", "high"),
        # names spelled with hyphens: cert-manager's secret key, CLI flags, YAML keys
        (f"stringData:\n  api-token: {BODY}  # cloudflare\n", "legacy_token", "medium"),
        (f"flarectl --cloudflare-api-token {BODY}\n", "legacy_token", "medium"),
        (f"cloudflare-api-token: {BODY}\n", "legacy_token", "medium"),
        (f"cf-api-key: {HEX}\n", "legacy_api_key", "medium"),
        # a name/value pair: Kubernetes env, ECS task definitions, Terraform lists
        (f"- name: CLOUDFLARE_API_TOKEN\n  value: \"{BODY}\"\n", "legacy_token", "medium"),
        (f'{{"name": "CLOUDFLARE_API_TOKEN", "value": "{BODY}"}}', "legacy_token", "medium"),
        (f'{{ name = "CF_API_KEY", value = "{HEX}" }}', "legacy_api_key", "medium"),
    ],
)  # fmt: skip
def test_true_positives(text: str, kind: str, confidence: str) -> None:
    """Each format is found with its kind and confidence, once."""
    assert found(text) == [(kind, confidence)]


@pytest.mark.parametrize(
    "text",
    [
        f"GITHUB_TOKEN={BODY}\n",  # another vendor's token name
        f"sha = '{BODY.lower()[:40]}'\n",  # a 40-character value without a name
        "commit 0123456789abcdef0123456789abcdef01234567\n",  # a git sha
        "cfut_" + "X" * 46 + "\n",  # a placeholder
        "CLOUDFLARE_API_TOKEN=your_cloudflare_api_token_goes_here_xxx\n",  # placeholder words
        "CLOUDFLARE_API_TOKEN=${{ secrets.CLOUDFLARE_API_TOKEN }}\n",  # a reference, not a value
        f"mycfut_{BODY}Xy12Ab\n",  # the prefix inside a longer word
        f"cfut_{BODY[:30]}\n",  # too short
        f"X-Auth-Key: {HEX.upper()}\n",  # keys are lower-case hex
        f"CLOUDFLARE_API_TOKEN={BODY}extra\n",  # 46 characters: not a legacy token
        f"X-Auth-Key: {BODY}\n",  # not hex
        "the token = a word; the key: another word\n",
        # hex digests and git shas are not legacy tokens (a random 40-character token is
        # almost never lower-case hex), even next to a token's name
        "CLOUDFLARE_API_TOKEN: da39a3ee5e6b4b0d3255bfef95601890afd80709\n",
        "Authorization: Bearer 4b825dc642cb6eb9a060e54bf8d69288fbee4904 # cloudflare\n",
        "api_token: 123e4567e89b12d3a456426614174000abcd1234  # cloudflare\n",
        # a value two lines below a name, or beside another name, is not that name's
        f"- name: CLOUDFLARE_API_TOKEN\n  other: 1\n  value: {BODY}\n",
        f"- name: CLOUDFLARE_API_TOKEN\n- name: SENTRY_DSN\n  value: {BODY}\n",
    ],
)
def test_false_positives(text: str) -> None:
    """Values that merely look like credentials are left alone."""
    assert found(text) == []


def test_offsets_point_at_the_value_even_after_non_ascii_text() -> None:
    """A hit's offset is the value's byte offset, also after multi-byte characters."""
    data = f"# café — ünïcode\nCLOUDFLARE_API_TOKEN={BODY}\n".encode()
    (hit,) = detect(data)
    assert data[hit.start : hit.start + 40].decode() == BODY


def test_a_value_found_by_prefix_is_not_found_again_by_its_name() -> None:
    """CLOUDFLARE_API_TOKEN=cfut_… is one hit (user_token), not two."""
    assert found(f"CLOUDFLARE_API_TOKEN=cfut_{BODY}Ab12Cd\n") == [("user_token", "high")]


def test_fingerprint_shows_the_prefix_and_last_four_only() -> None:
    """The fingerprint is the prefix and the last four characters, nothing else."""
    assert fingerprint_of(f"cfut_{BODY}Ab12Cd") == "cfut_…12Cd"
    assert fingerprint_of(BODY) == "…oQ7s"
