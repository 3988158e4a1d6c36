"""The public surface: ``cftokens.audit`` is the package whatever the import order, the audit
function is ``run_audit``, and the old spellings still work for one release with a warning."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest

import cftokens as cft
import cftokens.audit

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter (import order matters) and return what it printed as
    JSON; DeprecationWarnings are errors there unless the code catches them."""
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


_PROBE = """
    import json, pydoc, types, warnings
    import cftokens as cft
    from cftokens.sandbox import Sandbox

    out = {{}}
    {first}
    out["module"] = isinstance(cft.audit, types.ModuleType)
    out["doc"] = cft.audit.__doc__.split("\\n")[0]
    out["help"] = pydoc.render_doc(cft.audit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = cft.audit(Sandbox(), progress=False)
    out["audit"] = type(found).__name__
    out["warnings"] = [
        (w.category.__name__, str(w.message), w.filename)
        for w in caught
        if issubclass(w.category, DeprecationWarning)
    ]
    print(json.dumps(out))
"""


@pytest.mark.parametrize(
    "first",
    [
        "cft.Audit",  # the class first (it imports the package)
        "",  # calling the package first
        "import cftokens.audit",  # the package imported by name
        "from cftokens.audit import Audit",
        "cft.run_audit",
    ],
)
def test_cft_audit_is_the_package_in_any_import_order(first: str) -> None:
    """``cft.audit`` is the package (its docstring, its help) in every import order; calling it
    still audits, with one DeprecationWarning at the caller's line naming ``run_audit``."""
    out = _run(_PROBE.format(first=first))
    assert out["module"] is True
    assert out["doc"] == cft.audit.__doc__.split("\n")[0]
    assert out["doc"].startswith("The audit:")  # type: ignore[union-attr]
    assert "run_audit" in out["help"], out["help"]
    assert out["audit"] == "Audit"
    [(category, message, filename)] = out["warnings"]  # type: ignore[misc]  # exactly one
    assert category == "DeprecationWarning"
    assert "cftokens.audit(client)" in message and "cftokens.run_audit(client)" in message
    assert filename == "<string>"  # the caller's line, not the package's


def test_old_names_warn_and_give_the_new_functions() -> None:
    """``cft.audit_async``, ``cftokens.audit.audit`` and ``cftokens.audit.audit_async`` are the
    new functions, each with a DeprecationWarning naming its new name, at the caller's line."""
    for get, new in [
        (lambda: cft.audit_async, cft.run_audit_async),  # type: ignore[attr-defined]
        (lambda: cftokens.audit.audit, cft.run_audit),  # type: ignore[attr-defined]
        (lambda: cftokens.audit.audit_async, cft.run_audit_async),  # type: ignore[attr-defined]
    ]:
        with pytest.warns(DeprecationWarning, match=rf"use cftokens\.{new.__name__}\b") as rec:
            assert get() is new
        assert [Path(w.filename).name for w in rec] == [Path(__file__).name]
    assert "audit_async" not in cft.__all__ and "audit" not in cftokens.audit.__all__
    assert {"run_audit", "run_audit_async"} <= set(cft.__all__) & set(cftokens.audit.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        cftokens.audit.nonsense  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.filterwarnings("error::DeprecationWarning")
def test_the_project_uses_the_new_names_only(tmp_path: Path) -> None:
    """No DeprecationWarning from the project's own code (here every DeprecationWarning is an
    error; pyproject makes one raised at a line of cftokens an error in every test): the CLI's
    audit runs, and the README and the notebooks spell run_audit."""
    from cftokens.cli import main

    out = tmp_path / "audit.json"
    args = [
        "audit",
        "--sandbox",
        "--format",
        "json",
        "--output",
        str(out),
        "--no-progress",
        "--allow-gaps",
    ]
    assert main(args) == 0  # no --fail-on: findings alone do not fail
    assert json.loads(out.read_text())["findings"]
    sources = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for path in sources:
        text = path.read_text().replace("run_audit", "")
        assert "cft.audit(" not in text and "audit_async" not in text, path


def test_calling_the_package_in_process_warns() -> None:
    assert isinstance(cft.audit, types.ModuleType)
    from cftokens.sandbox import Sandbox

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cft.audit(Sandbox(), progress=False)  # type: ignore[operator]
    assert [w.filename for w in caught if w.category is DeprecationWarning] == [__file__]
