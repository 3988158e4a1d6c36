"""What ``cft.run_audit`` accepts besides a client: any :class:`AuditSource` (a clock and a client of
either kind), recognised by its members, so the audit does not import the sandbox."""

from __future__ import annotations

import warnings
from datetime import datetime

import pytest

import cftokens as cft
from cftokens.audit.collect import AuditSource
from cftokens.sandbox import Sandbox


class Lab:
    """Not a Sandbox: a wrapper exposing one's clock and clients, as a test harness would."""

    def __init__(self, sb: Sandbox):
        self._sb = sb

    @property
    def clock(self) -> Lab:
        return self

    def now(self) -> datetime:
        return self._sb.clock.now()

    def client(self) -> cft.Client:
        return self._sb.client()

    def async_client(self) -> cft.AsyncClient:
        return self._sb.async_client()


def test_a_source_is_audited_through_its_client_and_clock() -> None:
    """A Sandbox and any object with the same members are audits sources; clients are not
    (they are used as they are). The source's clock is the audit's now."""
    sb = Sandbox.demo()
    lab = Lab(sb)
    assert isinstance(sb, AuditSource) and isinstance(lab, AuditSource)
    assert not isinstance(sb.client(), AuditSource)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        via_lab = cft.run_audit(lab, progress=False)
        via_sandbox = cft.run_audit(sb, progress=False)
    assert via_lab.now == sb.clock.now()
    assert sorted(via_lab.tokens["token_id"]) == sorted(via_sandbox.tokens["token_id"])
    assert list(via_lab.findings["finding_id"]) == list(via_sandbox.findings["finding_id"])


def test_anything_else_is_refused_with_what_to_pass() -> None:
    with pytest.raises(cft.InvalidInput, match=r"Client, AsyncClient or Sandbox.*from_records"):
        cft.run_audit(object(), progress=False)  # type: ignore[arg-type]
