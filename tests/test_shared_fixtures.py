"""The session-wide fixtures of tests/conftest.py guard themselves: a test that changes the
shared demo company fails the session instead of silently changing what later tests (and the
shared audits, computed from it on first use) see, which would make them pass or fail
depending on their order."""

import copy
from pathlib import Path
from typing import Any

import pytest

import cftokens as cft

CONFTEST = Path(__file__).with_name("conftest.py")


def _inner_session(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    demo_company: cft.Sandbox,
    demo_audit: cft.Audit | None = None,
) -> None:
    """The inner session reads tests/conftest.py and nothing else: none of the installed
    plugins (looking their entry points up again cost about 0.3 s of CPU per inner run).

    Each test asks for the outer session's fixtures its inner session builds again: their
    modules are then loaded before the inner run, which unloads what it loaded first
    (pytester restores ``sys.modules``); a class loaded twice failed the ``isinstance``
    checks of a later run, so this file failed when run alone. The inner session's
    ``Sandbox.demo()`` answers a copy of the outer session's company and its ``run_audit``
    (given ``demo_audit``) a deep copy of the outer session's audit: the guards under test
    are the same, without seeding the company (~0.7 s of CPU) and auditing it again."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setattr(cft.Sandbox, "demo", classmethod(lambda cls: demo_company.copy()))
    if demo_audit is not None:

        def run_audit(*args: Any, **kwargs: Any) -> cft.Audit:
            return copy.deepcopy(demo_audit)

        monkeypatch.setattr(cft, "run_audit", run_audit)
    pytester.makeconftest(CONFTEST.read_text())


def test_a_test_changing_the_session_company_fails_the_session(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    demo_company: cft.Sandbox,
    leak_company: cft.Sandbox,
) -> None:
    _inner_session(pytester, monkeypatch, demo_company)
    pytester.makepyfile(
        test_probe="""
        from datetime import timedelta

        def test_reads(demo_company, leak_company):
            assert demo_company.tokens() and leak_company.copy().tokens()

        def test_asks_the_api(leak_company):
            with leak_company.client() as client:  # journalled: the audits' usage grows
                client.tokens.verify()

        def test_moves_the_clock(demo_company):
            demo_company.clock.advance(timedelta(days=400))  # every token a year staler
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3, errors=1)  # at the session's teardown
    out = result.stdout.str()
    assert "in demo_company" in out and "in leak_company" in out  # both noticed
    assert out.count("AssertionError: a test changed the session's demo company") == 2


def test_a_test_changing_a_shared_audit_fails_the_session(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    demo_company: cft.Sandbox,
    demo_audit: cft.Audit,
) -> None:
    """Not only its frames: an audit's clock (what its reports print and its reruns and
    diffs read) set by a test is noticed too."""
    _inner_session(pytester, monkeypatch, demo_company, demo_audit)
    pytester.makepyfile(
        test_probe="""
        from datetime import timedelta

        def test_reads(demo_audit):
            assert len(demo_audit.findings) > 0

        def test_moves_the_audit_clock(demo_audit):
            demo_audit.now += timedelta(days=400)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2, errors=1)  # at the session's teardown
    result.stdout.fnmatch_lines(
        ["*a test changed a shared demo audit: change a frame's .copy(), or audit.rerun(...)*"]
    )
