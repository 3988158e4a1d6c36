"""The workshop's check cells catch wrong answers (not only accept the solutions)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notebook_scan import NOTEBOOKS, read_notebook, run_fresh, shared_kernel

SOLUTIONS = NOTEBOOKS / "07-workshop-exercises-solutions.ipynb"

# answer variable -> (wrong answer, what its check must say)
WRONG = {
    "spec1": (
        'spec1 = cft.TokenSpec(name="x", policies=[cft.Policy.allow(["DNS Write"], '
        'zones=[zone["acme-shop.example"]])], expires_on=now + timedelta(days=7))',
        "It works from 45.83.12.16, 45.83.11.255, 198.51.100.4, 2001:db8::1: allow only 45.83.12.0/28",
    ),
    "spec2": (
        'spec2 = cft.TokenSpec(name="x", policies=[cft.Policy.allow(["DNS Write"], zones=['
        'zone[z.name] for z in directory.zones_of(production.id) if z.name != "acme.example"])])',
        "It lacks what the web team needs: DNS Write on zones added later to Acme Production.",
    ),
    "created3": (
        'created3 = client.tokens.create(cft.TokenSpec(name="dns-maintenance", policies=['
        'cft.Policy.allow(["DNS Read"], zones=[zone["acme-status.example"]])], '
        "expires_on=now + timedelta(days=2)))",
        "It is usable now (2026-11-02 09:00 UTC)",
    ),
    "names4": (
        'names4 = {"cert-manager", "ci-deploy-shop"}',
        "ci-deploy-shop should not be in the answer: it cannot change the DNS of acme.example",
    ),
    "spec5": (
        "spec5 = grafana.to_spec()",
        "It allows more than the dashboard (by its requests) needs: DNS Write on acme-shop.example and acme.example.",
    ),
    "ip6": ('ip6 = "203.0.113.9"', "203.0.113.9 did not use the Global API Key"),
}

# Over-privileged answers the checks once called correct (issue 12), and answers of the wrong type.
OVER = {
    "spec2": (
        'spec2 = spec2.replace(policies=spec2.policies + (cft.Policy.allow(["Account API Tokens Write"], accounts=[production.id]),))',
        "It allows more than the web team needs: Account API Tokens Write on the account Acme Production.",
    ),
    "created3": ("created3 = created3.token.to_spec()", "created3 holds a cft.TokenSpec, a design"),
    "names4": ('names4 = "cert-manager"', "names4 is one string ('cert-manager')"),
    "spec5": (
        'spec5 = spec5.replace(policies=spec5.policies + (cft.Policy.allow(["DNS Write", "Zone Settings Write"], all_zones=True),))',
        "It allows more than the dashboard (by its requests) needs: DNS Write on every zone of every account",
    ),
}


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One kernel for both runs, each from what a fresh kernel has (``shared_kernel``)."""
    with shared_kernel(tmp_path_factory.mktemp("kernel")) as started:
        yield started


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("wrong", [WRONG, OVER], ids=["wrong", "over-privileged-or-mistyped"])
def test_each_check_reports_a_wrong_answer(
    tmp_path: Path, wrong: dict[str, tuple[str, str]], kernel: Any
) -> None:
    """With a wrong answer in every exercise, every check prints "not yet" and the reason."""
    nb = read_notebook(SOLUTIONS)
    answered: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        for variable in wrong:
            if cell.cell_type == "code" and re.search(rf"^{variable} = ", cell.source, re.M):
                answered[variable] = index
                cell.source += "\n" + wrong[variable][0]
    assert set(answered) == set(wrong)
    ran = run_fresh(nb, tmp_path / "mutated-solutions.ipynb", kernel)
    for variable, index in answered.items():
        check = ran.cells[index + 1]
        text = "".join(o.get("text", "") for o in check.outputs)
        assert check.source.startswith("check_"), check.source
        flat = " ".join(text.split())  # messages are wrapped at 96 columns
        assert "not yet" in text and wrong[variable][1] in flat, (variable, text)
