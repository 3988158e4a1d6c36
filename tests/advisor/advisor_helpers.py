"""Shared constants and builders for the advisor tests: a small company directory."""

from __future__ import annotations

from datetime import UTC, datetime

import cftokens as cft
from cftokens.model import AccountRef

PROD = "eb78d65290b24279ba6f44721b3ea3c4"
STAGING = "0f2ac74b498b48028cb68387c421e279"
EXAMPLE_COM = "023e105f4ecef8ad9ca31a8372d0c353"
EXAMPLE_NET = "22b1de5f1c0e4b3ea97bb1e963b06a43"
STAGING_ZONE = "9a7806061c88ada191ed06f989cc3dac"
USER = "7c5dae5552338874e5053f2534d2767a"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_directory() -> cft.Directory:
    """Two accounts; two zones in production, one in staging."""
    return cft.Directory(
        accounts=[
            cft.Account(id=PROD, name="Acme Production"),
            cft.Account(id=STAGING, name="Acme Staging"),
        ],
        zones=[
            cft.Zone(id=EXAMPLE_COM, name="example.com", account=AccountRef(id=PROD)),
            cft.Zone(id=EXAMPLE_NET, name="example.net", account=AccountRef(id=PROD)),
            cft.Zone(id=STAGING_ZONE, name="staging.example", account=AccountRef(id=STAGING)),
        ],
    )
