"""The workshop's check cells catch wrong answers (not only accept the solutions)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from notebook_scan import NOTEBOOKS, runner

SOLUTIONS = NOTEBOOKS / "07-workshop-exercises-solutions.ipynb"

# answer variable -> (wrong answer, what its check must say)
WRONG = {
    "spec1": (
        'spec1 = cft.TokenSpec(name="x", policies=[cft.Policy.allow(["DNS Write"], '
        'zones=[zone["acme-shop.example"]])], expires_on=now + timedelta(days=7))',
        "refuse requests from outside 45.83.12.0/28",
    ),
    "spec2": (
        'spec2 = cft.TokenSpec(name="x", policies=[cft.Policy.allow(["DNS Write"], zones=['
        'zone[z.name] for z in directory.zones_of(production.id) if z.name != "acme.example"])])',
        "also cover production zones added later",
    ),
    "created3": (
        'created3 = client.tokens.create(cft.TokenSpec(name="dns-maintenance", policies=['
        'cft.Policy.allow(["DNS Read"], zones=[zone["acme-status.example"]])], '
        "expires_on=now + timedelta(days=2)))",
        "be unusable now UTC",
    ),
    "names4": ('names4 = {"cert-manager", "ci-deploy-shop"}', "not in the answer: ci-deploy-shop"),
    "spec5": (
        "spec5 = grafana.to_spec()",
        "remove DNS Write: the dashboard only reads",
    ),
    "ip6": ('ip6 = "203.0.113.9"', "203.0.113.9 did not use the Global API Key"),
}


@pytest.mark.slow
def test_each_check_reports_a_wrong_answer(tmp_path: Path) -> None:
    """With a wrong answer in every exercise, every check prints "not yet" and the reason."""
    nb = nbformat.read(SOLUTIONS, as_version=4)
    answered: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        for variable in WRONG:
            if cell.cell_type == "code" and re.search(rf"^{variable} = ", cell.source, re.M):
                answered[variable] = index
                cell.source += "\n" + WRONG[variable][0]
    assert set(answered) == set(WRONG)
    path = tmp_path / "mutated-solutions.ipynb"
    nbformat.write(nb, path)
    ran, _ = runner().execute(path)
    for variable, index in answered.items():
        check = ran.cells[index + 1]
        text = "".join(o.get("text", "") for o in check.outputs)
        assert check.source.startswith("check_"), check.source
        assert "not yet" in text and WRONG[variable][1] in text, (variable, text)
