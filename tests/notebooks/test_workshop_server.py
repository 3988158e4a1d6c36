"""The workshop path: exercise 07's solutions pass against a served sandbox, as an attendee."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notebook_scan import NOTEBOOKS, leaks, output_texts, read_notebook, runner

import cftokens as cft
from cftokens.sandbox import Clock
from cftokens.sandbox.server import BackgroundServer


@pytest.fixture
def workshop() -> Iterator[tuple[str, cft.Secret, cft.Sandbox]]:
    """A served demo company on the wall clock (as `cftokens sandbox serve` runs) with two
    attendees; yields the base URL, the second attendee's token and the sandbox."""
    sb = cft.Sandbox.demo(clock=Clock.real(), rate_limit=None)
    attendees = sb.add_attendees(2)
    with BackgroundServer(sb) as server:
        yield server.base_url, attendees[1].token, sb


@pytest.mark.slow
@pytest.mark.notebooks
def test_solutions_pass_on_the_trainers_server(
    workshop: tuple[str, cft.Secret, cft.Sandbox],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """With CLOUDFLARE_BASE_URL and an attendee's token, every check prints "correct", the
    attendee's work stays in their own copy, and no secret reaches the outputs."""
    url, token, sb = workshop
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token.reveal())
    path = tmp_path / "solutions.ipynb"
    import nbformat  # not at collection (see notebook_scan.read_notebook)

    nbformat.write(read_notebook(NOTEBOOKS / "07-workshop-exercises-solutions.ipynb"), path)
    nb, _ = runner().execute(path)
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("check_")]
    texts = ["".join(o.get("text", "") for o in c.outputs).strip() for c in checks]
    assert texts == ["correct"] * 6
    ready = "".join(o.get("text", "") for o in nb.cells[4].outputs)
    assert ready.startswith("ready: 3 accounts, 12 zones")
    owners = {t.name: t for t in sb.tokens()}
    maintenance = owners["dns-maintenance"]  # created through the server, by the attendee
    assert maintenance.id not in {t.id for t in sb.tokens(owner=sb.user_id)}
    assert (
        leaks(output_texts(nb), [token.reveal(), *(s.reveal() for s in sb.issued_secrets())]) == []
    )
