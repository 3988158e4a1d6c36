"""An audit over HTTP leaves no connection open behind it: ``run_audit`` with an AsyncClient runs
the collection in an event loop of its own, and the connections that loop opened cannot be used
again once it ends (a later call under a new loop starts a fresh pool), so they are closed before
it ends, and so ``cftokens audit``, which audits through it, leaves none open either. An unclosed
socket is found when the garbage collector reports it (ResourceWarning)."""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Callable, Iterator

import pytest

import cftokens as cft
from cftokens.cli import main
from cftokens.sandbox import Sandbox
from cftokens.sandbox.server import BackgroundServer


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    """A served sandbox and a token of its main user that can read its own tokens."""
    sb = Sandbox(rate_limit=None)
    user = sb.user_id
    secret = sb.create_token(
        {
            "name": "auditor",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": cft.permission_groups.get("API Tokens Read").id}],
                    "resources": {f"com.cloudflare.api.user.{user}": "*"},
                }
            ],
        }
    ).secret.reveal()
    with BackgroundServer(sb) as server:
        yield f"http://127.0.0.1:{server.port}/client/v4", secret


def unclosed_after(run: Callable[[], object]) -> list[str]:
    """The ResourceWarnings the garbage collector gives after ``run()``."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_run_audit_closes_the_connections_of_its_own_loop(served: tuple[str, str]) -> None:
    base_url, secret = served
    client = cft.AsyncClient(token=secret, base_url=base_url)

    def run() -> None:
        audit = cft.run_audit(client, include_user=True, accounts=[])
        assert len(audit.tokens) >= 1

    assert unclosed_after(run) == []
    # the client stays usable: a second audit under a new loop opens new connections
    assert unclosed_after(run) == []


def test_the_cli_leaves_no_connection_open(
    served: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, secret = served
    for name in [k for k in os.environ if k.startswith("CLOUDFLARE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", secret)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", base_url)
    codes: list[int] = []
    assert (
        unclosed_after(lambda: codes.append(main(["audit", "--no-progress", "--allow-gaps"]))) == []
    )
    assert codes == [0], capsys.readouterr()
