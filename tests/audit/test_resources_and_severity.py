"""R2 bucket grants are judged like any other resource; SC-04 counts each group in one risk
family; findings on tokens that cannot be used are capped at medium; LN-02 says its reading of
a zone group on a bare account key is unconfirmed."""

from __future__ import annotations

import pytest
from audit_helpers import (
    ACCT,
    ALL_ZONES,
    PUBLIC,
    USER_RES,
    ZONE,
    account,
    allow,
    deny,
    hits,
    run,
    token,
    zone,
)

import cftokens as cft

BUCKET = f"com.cloudflare.edge.r2.bucket.{ACCT}_default_prod-backups"
EU_BUCKET = f"com.cloudflare.edge.r2.bucket.{ACCT}_eu_eu-logs"


def test_r2_bucket_keys_are_resource_atoms() -> None:
    """The key parses to an R2_BUCKET atom (account, jurisdiction, bucket) and back."""
    [atom] = cft.Resource.from_api({EU_BUCKET: "*"})
    assert atom.kind is cft.ResourceKind.R2_BUCKET and atom.scope is cft.Scope.R2_BUCKET
    assert (atom.id, atom.account_id, atom.jurisdiction) == ("eu-logs", ACCT, "eu")
    assert cft.Resource.to_api([atom]) == {EU_BUCKET: "*"}
    assert atom.describe() == f"R2 bucket eu-logs (jurisdiction eu) of account {ACCT}"


def test_bucket_item_write_is_a_write_seen_by_rk02_and_lc() -> None:
    """Bucket Item Write without an allowlist or expiry: RK-02 (high), LC-01 (high, a write),
    shown by bucket name; no 'R2 not evaluated' gap any more."""
    t = token(
        "r2", allow(["Workers R2 Storage Bucket Item Write"], {BUCKET: "*"}), ip_in=[], expires=None
    )
    audit = run(t)
    rk = hits(audit, "CFT-RK-02", "r2")
    assert rk["severity"].astype(str).tolist() == ["high"]
    assert rk["resource"].tolist() == ["R2 bucket prod-backups of account Acme Production"]
    assert hits(audit, "CFT-LC-01", "r2")["severity"].astype(str).tolist() == ["high"]
    assert audit.tokens["n_write_groups"].tolist() == [1]
    assert not audit.gaps["reason"].str.contains("R2").any()
    assert hits(audit, "CFT-LN-02").empty


def test_a_named_bucket_behind_an_allowlist_raises_no_rk() -> None:
    """The least-privilege design (one bucket, tight allowlist, expiry) is not RK-02's."""
    t = token("r2", allow(["Workers R2 Storage Bucket Item Read"], {BUCKET: "*"}), ip_in=[PUBLIC])
    assert hits(run(t), "CFT-RK-02").empty


def test_bucket_grants_in_engine_access_and_explain() -> None:
    """evaluate() decides bucket by bucket, a deny on the bucket removes it from E(T), and
    access/explain name the bucket."""
    t = token(
        "r2",
        allow(["Workers R2 Storage Bucket Item Write"], {BUCKET: "*", EU_BUCKET: "*"}),
        deny(["Workers R2 Storage Bucket Item Write"], {EU_BUCKET: "*"}),
    )
    spec = cft.Token.from_api(t)
    write = "Workers R2 Storage Bucket Item Write"
    assert cft.evaluate(spec, write, account=ACCT, bucket="prod-backups").allowed
    denied = cft.evaluate(spec, write, account=ACCT, bucket="eu-logs", jurisdiction="eu")
    assert not denied.allowed and "denies" in denied.reason
    assert not cft.evaluate(spec, write, account=ACCT, bucket="other").allowed
    granted = {g.resource.id for g in cft.effective_grants(spec)}
    assert granted == {"prod-backups"}
    audit = run(t)
    concrete = audit.access.expand()
    assert concrete[["resource_kind", "resource_id"]].astype(str).values.tolist() == [
        ["r2 bucket", "prod-backups"]
    ]
    both = run(
        token("two", allow(["Workers R2 Storage Bucket Item Read"], {BUCKET: "*", EU_BUCKET: "*"}))
    )
    assert sorted(both.access.expand()["resource_name"].tolist()) == [
        "R2 bucket eu-logs (jurisdiction eu) of account Acme Production",
        "R2 bucket prod-backups of account Acme Production",
    ]
    assert "on R2 bucket prod-backups of account Acme Production" in str(audit.explain(t["id"]))


def test_sc04_counts_each_group_in_one_family() -> None:
    """Logs Write is in EXFIL and EVASION: next to a WAF group and DNS Write it makes two
    families (EVASION, HIJACK), not three; three groups in three families still fire."""
    two = token(
        "two",
        allow([("Logs Write", "zone"), "Zone WAF Write", "DNS Write"], zone(ZONE)),
        ip_in=["34.0.0.0/20"],
    )
    three = token(
        "three",
        allow(["DNS Write", "Zone WAF Write"], zone(ZONE)),
        allow(["Workers KV Storage Write"], account(ACCT)),
        ip_in=["34.0.0.0/20"],
    )
    audit = run(two, three)
    assert hits(audit, "CFT-SC-04", "two").empty
    [evidence] = hits(audit, "CFT-SC-04", "three")["evidence"].tolist()
    assert "HIJACK, EXFIL, EVASION (each group counted in one family)" in evidence


def test_findings_on_expired_or_disabled_tokens_are_at_most_medium() -> None:
    """PE/RK/SC findings drop to medium on a disabled or expired token and say why; a token
    that is merely not valid yet keeps its severity (it will work)."""
    minting = allow(["API Tokens Write"], USER_RES)
    audit = run(
        token("disabled", minting, status="disabled", modified=-2),
        token("expired", minting, expires=-1),
        token("later", minting, not_before=2, expires=20),
    )
    for name in ("disabled", "expired"):
        pe = hits(audit, "CFT-PE-01", name)
        assert pe["severity"].astype(str).tolist() == ["medium"]
        assert "Capped at medium: the token is expired or disabled" in pe["detail"].iloc[0]
    assert hits(audit, "CFT-PE-01", "later")["severity"].astype(str).tolist() == ["critical"]


def test_ln02_zone_group_on_bare_account_key_is_an_unconfirmed_reading() -> None:
    """LN-02 does not state as fact what Cloudflare's documentation does not say."""
    audit = run(token("t", allow(["DNS Read"], account(ACCT))))
    [row] = hits(audit, "CFT-LN-02", "t").to_dict("records")
    assert "Cloudflare's documentation does not confirm" in row["evidence"]
    assert "does not cover the account's zones" not in row["evidence"]
    assert row["detail"].startswith("Unconfirmed reading")


@pytest.mark.parametrize(
    ("expires_on", "expired"),
    [
        ("9999-12-31T23:59:59-05:00", False),  # wrapped to 1816 before: read as expired
        ("9999-12-31T23:59:59+05:00", False),
        ("0001-01-01T00:00:00+05:00", True),  # wrapped to 1754 before
        ("2026-11-27T13:00:00+02:00", True),  # an hour before NOW, written with an offset
        ("2026-11-27T13:00:00-02:00", False),
    ],
)
def test_an_expiry_written_with_an_offset_is_read_as_the_same_instant(
    expires_on: str, expired: bool
) -> None:
    """Dates beyond nanoseconds with a UTC offset were converted to datetime64[ns] unclamped and
    wrapped into another century, so a token valid until 9999 read as long expired (its
    findings capped at medium)."""
    t = token("offset", allow(["DNS Write"], ALL_ZONES), expires=None)
    t["expires_on"] = expires_on
    row = run(t).tokens.iloc[0]
    assert bool(row["live"]) is not expired
