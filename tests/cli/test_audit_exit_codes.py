"""`cftokens audit` end to end, as CI runs it: every exit code, over HTTP against a served
sandbox (loopback) or an unreachable address. An audit that could not see every token never
passes (exit 3) unless --allow-gaps says so, and then the summary says what was missed.

The commands run in-process through ``cftokens.cli.main`` (the console script's own entry point,
with the environment the CI job gives it); ``test_the_console_script_exits_with_the_code`` checks
once that a real ``python -m cftokens`` process exits with the code ``main`` returns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import cftokens as cft
import cftokens.cli.audit
import cftokens.client
from cftokens.audit.collect import AuditGapWarning
from cftokens.cli import main
from cftokens.client import AsyncClient, Retry
from cftokens.sandbox import Sandbox
from cftokens.sandbox.server import BackgroundServer

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
SDK = str(Path(cft.__file__).resolve().parent.parent)
UNREACHABLE = "http://127.0.0.1:1/client/v4"


def _policy(groups: list[str], resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "effect": "allow",
        "permission_groups": [{"id": cft.permission_groups.get(g).id} for g in groups],
        "resources": resources,
    }


def _auditor(sb: Sandbox, *, account_tokens: bool = True, **extra: Any) -> str:
    """A read-only auditing token of the main user: its own tokens, the account's tokens
    (unless ``account_tokens`` is False), accounts and zones."""
    directory = sb.directory()
    account = directory.accounts[0].id
    user = sb.user_id
    account_groups = ["Account Settings Read"] + (
        ["Account API Tokens Read"] if account_tokens else []
    )
    body = {
        "name": "auditor",
        "policies": [
            _policy(
                ["API Tokens Read", "User Details Read"], {f"com.cloudflare.api.user.{user}": "*"}
            ),
            _policy(account_groups, {f"com.cloudflare.api.account.{account}": "*"}),
            _policy(
                ["Zone Read"],
                {
                    f"com.cloudflare.api.account.{account}": {
                        "com.cloudflare.api.account.zone.*": "*"
                    }
                },
            ),
        ],
        **extra,
    }
    return sb.create_token(body, check=not extra).secret.reveal()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, BackgroundServer]]:
    sb = Sandbox(rate_limit=None)
    directory = sb.directory()
    account, zone = directory.accounts[0].id, directory.zones[0].id
    sb.create_token(
        {
            "name": "acct-dns-read",
            "policies": [
                _policy(
                    ["DNS Read"],
                    {
                        f"com.cloudflare.api.account.{account}": {
                            f"com.cloudflare.api.account.zone.{zone}": "*"
                        }
                    },
                )
            ],
        },
        account=account,
    )
    with BackgroundServer(sb) as server:
        yield sb, server


class Done(NamedTuple):
    """What a command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Done]


@pytest.fixture
def made_clients(monkeypatch: pytest.MonkeyPatch) -> list[AsyncClient]:
    """The clients the CLI builds, each retrying as by default (4 retries) but without the
    backoff's waits, so the unreachable API fails in milliseconds, not seconds."""
    made: list[AsyncClient] = []

    class NoWaitClient(AsyncClient):
        def __init__(self, **kwargs: Any) -> None:
            assert "max_retries" not in kwargs  # the CLI's client retries as by default
            super().__init__(max_retries=Retry(backoff=0.0, max_backoff=0.0), **kwargs)
            made.append(self)

    patched = [m for m in (cftokens.client, cftokens.cli.audit) if hasattr(m, "AsyncClient")]
    for module in patched:
        monkeypatch.setattr(module, "AsyncClient", NoWaitClient)
    return made


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    made_clients: list[AsyncClient],
) -> Cli:
    """``cftokens audit --no-progress ARGS`` with CLOUDFLARE_API_TOKEN/CLOUDFLARE_BASE_URL set
    as given (every other CLOUDFLARE_ variable unset), in-process."""

    def run(*args: str, token: str | None, base_url: str | None) -> Done:
        for name in [k for k in os.environ if k.startswith("CLOUDFLARE_")]:
            monkeypatch.delenv(name)
        if token is not None:
            monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
        if base_url is not None:
            monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
        capsys.readouterr()
        try:
            code = main(["audit", "--no-progress", *args])
        except SystemExit as exc:  # argparse refuses a flag: exit 2, as the process would
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def test_exit_0_complete_audit_below_the_threshold(
    served: tuple[Sandbox, BackgroundServer], cli: Cli
) -> None:
    """A complete audit with no gate, or no finding at the gate, exits 0."""
    sb, server = served
    done = cli(token=_auditor(sb), base_url=server.base_url)
    assert done.returncode == 0, done.stderr
    assert "INCOMPLETE" not in done.stdout and "tokens not seen" not in done.stdout
    assert "account-owned" in done.stdout


def test_exit_1_findings_at_or_above_fail_on(
    served: tuple[Sandbox, BackgroundServer], cli: Cli
) -> None:
    """The sandbox's bootstrap token can mint tokens (critical): --fail-on critical exits 1."""
    sb, server = served
    done = cli("--fail-on", "critical", token=_auditor(sb), base_url=server.base_url)
    assert done.returncode == 1, done.stderr
    assert "failing: open findings at critical" in done.stderr


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        (["--fail-on", "catastrophic"], "x", "catastrophic"),
        ([], None, "CLOUDFLARE_API_TOKEN"),
        (["--terraform", "/nonexistent/plan.json"], "x", "/nonexistent/plan.json"),
    ],
)
def test_exit_2_usage_or_input_error(
    args: list[str], token: str | None, message: str, cli: Cli
) -> None:
    """Bad flags, a missing token or a missing file exit 2 with a message, before any call."""
    done = cli(*args, token=token, base_url=UNREACHABLE)
    assert done.returncode == 2 and message in done.stderr


def test_exit_3_unreachable_api(cli: Cli, made_clients: list[AsyncClient]) -> None:
    """Nothing listening: every call fails, 'Audited 0 tokens' must not pass a gate."""
    done = cli("--fail-on", "high", token="x" * 40, base_url=UNREACHABLE)
    assert len(made_clients) == 1  # the CLI's own client, retrying without waits
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Audited 0 tokens" in done.stdout and "INCOMPLETE" in done.stdout
    assert "the user's own tokens [tokens not seen]: ConnectError" in done.stdout
    assert "failing: the audit is incomplete" in done.stderr


def test_exit_3_refused_token(served: tuple[Sandbox, BackgroundServer], cli: Cli) -> None:
    """A token the API does not know (revoked, mistyped) is refused on every call: exit 3."""
    sb, server = served
    revoked = _auditor(sb)
    sb.client().tokens.delete(sb.client(token=revoked).tokens.verify().id)
    done = cli("--fail-on", "high", token=revoked, base_url=server.base_url)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "tokens not seen" in done.stdout and revoked not in done.stdout + done.stderr


def test_exit_3_expired_token(served: tuple[Sandbox, BackgroundServer], cli: Cli) -> None:
    """An auditing token past its expires_on sees nothing: exit 3, never a pass."""
    sb, server = served
    past = (sb.clock.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = _auditor(sb, expires_on=past)
    done = cli("--fail-on", "critical", token=expired, base_url=server.base_url)
    assert done.returncode == 3, done.stdout + done.stderr


def test_exit_3_permission_gap_and_allow_gaps(
    served: tuple[Sandbox, BackgroundServer], cli: Cli
) -> None:
    """Without Account API Tokens Read the account's tokens are not seen: exit 3; with
    --allow-gaps the gate passes and says what was not seen."""
    sb, server = served
    blind = _auditor(sb, account_tokens=False)
    done = cli("--fail-on", "high", token=blind, base_url=server.base_url)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "account-owned tokens of" in done.stdout and "[tokens not seen]" in done.stdout
    allowed = cli("--allow-gaps", token=blind, base_url=server.base_url)
    assert allowed.returncode == 0, allowed.stderr
    assert "--allow-gaps: passing an incomplete audit; not seen (1):" in allowed.stderr
    assert "account-owned tokens of" in allowed.stderr


def test_gate_agrees_with_the_cli(served: tuple[Sandbox, BackgroundServer]) -> None:
    """Audit.gate / Audit.failed give the CLI's answer for the same audit."""
    sb, _ = served
    blind = sb.client(token=_auditor(sb, account_tokens=False))
    with pytest.warns(AuditGapWarning):
        audit = cft.run_audit(blind, progress=False)
    assert audit.incomplete and audit.gate() == 3 and audit.gate("critical") == 3
    assert audit.failed("critical") and audit.failed("critical", allow_gaps=True)
    assert audit.gate("critical", allow_gaps=True) == 1
    assert audit.not_seen()[0].startswith("account-owned tokens of")
    complete = cft.run_audit(sb.client(token=_auditor(sb)), progress=False)
    assert not complete.incomplete and complete.gate() == 0 and complete.gate("critical") == 1


def test_ln04_findings_reach_the_cli_gate(tmp_path: Path, cli: Cli) -> None:
    """A plan whose token puts its IP condition inside a policy (Cloudflare ignores it) is
    kept and judged: CFT-LN-04 high fails --fail-on high (exit 1), never only a gap row."""
    policy = {
        "effect": "allow",
        "permission_groups": [{"id": cft.permission_groups.get("DNS Read").id}],
        "resources": {"com.cloudflare.api.account.zone." + "b1" * 16: "*"},
        "condition": {"request_ip": {"in": ["203.0.113.0/24"]}},
    }
    values = {"name": "ip-in-policy", "policies": [policy], "expires_on": "2026-12-01T00:00:00Z"}
    resource = {
        "address": "cloudflare_api_token.ci",
        "mode": "managed",
        "type": "cloudflare_api_token",
        "name": "ci",
        "values": values,
    }
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {"format_version": "1.2", "planned_values": {"root_module": {"resources": [resource]}}}
        )
    )
    done = cli("--terraform", str(plan), "--fail-on", "high", token=None, base_url=None)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CFT-LN-04" in done.stdout and "failing: open findings at high" in done.stderr


@pytest.mark.slow
def test_the_console_script_exits_with_the_code(served: tuple[Sandbox, BackgroundServer]) -> None:
    """A real ``python -m cftokens audit`` process exits with the code ``main`` returns (1 at
    the gate, 2 for a flag argparse refuses), its environment read as in CI."""
    sb, server = served
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env |= {"PYTHONPATH": SDK, "CLOUDFLARE_BASE_URL": server.base_url}
    env["CLOUDFLARE_API_TOKEN"] = _auditor(sb)
    for args, code, message in [
        (["--fail-on", "critical"], 1, "failing: open findings at critical"),
        (["--fail-on", "catastrophic"], 2, "catastrophic"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "cftokens", "audit", "--no-progress", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == code and message in done.stderr, done.stderr
