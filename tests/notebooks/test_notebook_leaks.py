"""The leak scan: no notebook output holds a secret the sandbox issued or an Authorization header.

Each notebook runs top to bottom in a fresh kernel (nbclient); a last cell then asks the kernel
for every secret any sandbox in it issued (``cftokens.sandbox.issued_secrets_everywhere``), and
the test scans every output of the notebook's own cells, the fresh ones and the committed ones.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from notebook_scan import COURSE, SECRET_PATTERN, leaks, output_texts, run_with_secrets

import cftokens as cft
from cftokens.sandbox import issued_secrets_everywhere


@pytest.mark.slow
@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_no_secret_or_header_in_any_output(path: Path) -> None:
    """Running the notebook prints none of the secrets its sandboxes issued, and no header."""
    nb, secrets, _ = run_with_secrets(path)
    assert len(secrets) >= 3, "the notebook's sandbox issued no secrets: nothing was scanned"
    assert leaks(output_texts(nb), secrets) == []
    committed = nbformat.read(path, as_version=4)
    assert leaks(output_texts(committed), secrets) == []


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_committed_file_has_no_secret_shaped_string(path: Path) -> None:
    """The committed notebook (sources, outputs, metadata) has nothing the repo hook greps for."""
    text = path.read_text()
    assert [m.group(0)[:5] for m in SECRET_PATTERN.finditer(text)] == []


def test_scan_finds_a_planted_secret_and_header() -> None:
    """The scanner reports an issued secret, a secret-shaped string and a printed header."""
    sb = cft.Sandbox()
    secret = sb.bootstrap_token.reveal()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x",
                outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text=f"token={secret}\n"),
                    nbformat.v4.new_output(
                        "execute_result",
                        data={"text/plain": "{'Authorization': 'Bearer abc'}"},
                        execution_count=1,
                    ),
                ],
            ),
            nbformat.v4.new_code_cell(
                "y",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data", data={"text/html": "<td>Bearer " + "k" * 30 + "</td>"}
                    )
                ],
            ),
        ]
    )
    found = leaks(output_texts(nb), [secret])
    assert any("an issued secret" in f for f in found)
    assert any("secret-shaped" in f for f in found)
    assert sum("header" in f for f in found) == 2
    assert leaks([(0, "Secret('cfut_…') and sb.bootstrap_token")], [secret]) == []


def test_issued_secrets_everywhere_covers_every_live_sandbox() -> None:
    """The process-wide list holds the secrets of every sandbox alive, and forgets dropped ones."""
    first, second = cft.Sandbox(seed=424242), cft.Sandbox.demo()  # seed: secrets of its own
    with second.client() as client:
        rolled = client.tokens.roll(str(second.bootstrap_token_id))
    values = {s.reveal() for s in issued_secrets_everywhere()}
    assert first.bootstrap_token.reveal() in values
    assert second.global_api_key.reveal() in values
    assert rolled.reveal() in values
    gone = first.bootstrap_token.reveal()
    del first
    import gc

    gc.collect()
    assert gone not in {s.reveal() for s in issued_secrets_everywhere()}
