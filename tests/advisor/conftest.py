"""Fixtures for the advisor tests (constants live in advisor_helpers)."""

from __future__ import annotations

import pytest
from advisor_helpers import make_directory

import cftokens as cft


@pytest.fixture
def directory() -> cft.Directory:
    """Two accounts; two zones in production, one in staging."""
    return make_directory()
