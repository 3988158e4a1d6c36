"""The package installs anywhere: its metadata, its sdist, its extras and what a missing extra says."""

from __future__ import annotations

import functools
import importlib.metadata as md
import json
import re
import subprocess
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import cftokens
from cftokens.cli import main
from cftokens.sandbox.server import make_server

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_license_is_apache_2_in_full_and_declared_as_spdx() -> None:
    """LICENSE holds the whole Apache License 2.0 and pyproject declares it by SPDX id."""
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 10_000
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]


def test_readme_has_no_relative_image_for_the_long_description() -> None:
    """The README (the package's long description) embeds no image by a relative path."""
    readme = (ROOT / PROJECT["readme"]).read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)|<img[^>]+src=\"([^\"]+)\"", readme)
    relative = [a or b for a, b in images if not (a or b).startswith("https://")]
    assert relative == []


def test_extras_fit_their_users() -> None:
    """The base has no notebook or server package; [notebook] and [server] hold them. The
    HTML report draws its own SVG charts: matplotlib is for the notebooks' charts."""
    base = {Requirement(r).name.lower() for r in PROJECT["dependencies"]}
    assert {"httpx", "attrs", "pandas"} <= base
    assert not base & {"ipywidgets", "anywidget", "ipykernel", "starlette", "uvicorn", "matplotlib"}
    extras = PROJECT["optional-dependencies"]
    notebook = {Requirement(r).name.lower() for r in extras["notebook"]}
    assert {"ipywidgets", "anywidget", "ipykernel", "matplotlib"} <= notebook
    assert {Requirement(r).name.lower() for r in extras["server"]} == {"uvicorn"}
    dev = {Requirement(r).name.lower() for r in extras["dev"]}
    assert {"build", "twine", "pytest-xdist", "nbval"} <= dev
    own = [Requirement(r) for r in extras["dev"] if Requirement(r).name == "cftokens"]
    assert len(own) == 1 and {"notebook", "server"} <= own[0].extras


def test_readme_names_the_smallest_extra_for_each_user() -> None:
    """Install lines: CI and analysts the base, learners [notebook], trainers [server]."""
    readme = (ROOT / "README.md").read_text()
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in readme.splitlines()
        if line.startswith("| ") and "pip install" in line
    }
    assert rows["CI jobs, the CLI, analysts in scripts"] == "`pip install .`"
    assert rows["learners (the notebooks), analysts in Jupyter"] == '`pip install ".[notebook]"`'
    assert rows["trainers running a workshop server"] == '`pip install ".[server]"`'
    assert "python -m pytest -n auto" in readme


def test_pytest_keeps_each_notebook_on_one_worker() -> None:
    """`pytest -n auto` sends all cells of one notebook to one xdist worker, in order."""
    addopts = PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert addopts[addopts.index("--dist") + 1] == "loadfile"


def test_the_inner_loop_spreads_tests_one_by_one_only_without_notebooks() -> None:
    """The README's inner loop sends tests to whichever worker is free (``--dist worksteal``),
    which would split a notebook's cells (one kernel) over workers: it leaves them out."""
    readme = (ROOT / "README.md").read_text()
    loops = [line for line in readme.splitlines() if line.startswith("python -m pytest")]
    spread = [line for line in loops if "--dist" in line]
    assert spread == ['python -m pytest -n auto --dist worksteal -m "not slow and not notebooks"']


# -- a fresh environment with the base dependencies only -----------------------------------------
# Fresh interpreters (slow); the in-process tests below check the same errors with the extras'
# modules hidden from this process.

_BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set({blocked!r})
    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None
    sys.meta_path.insert(0, _Block())
    """
)


def _closure(requirements: list[str]) -> set[str]:
    """Distribution names (normalised) needed by ``requirements``, recursively, without extras."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            todo += [Requirement(r) for r in md.requires(req.name) or []]
        except md.PackageNotFoundError:
            continue
    return seen


def _blocked_modules(allowed_requirements: list[str]) -> list[str]:
    """Top-level modules of every installed distribution outside the closure of the base."""
    allowed = _closure(allowed_requirements) | {"cftokens"}
    blocked = set()
    for module, dists in md.packages_distributions().items():
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in dists}
        if not names & allowed and not module.startswith("_"):
            blocked.add(module)
    return sorted(blocked)


@functools.cache
def _base_blocked() -> tuple[str, ...]:
    """``_blocked_modules`` of the base dependencies, read once per session (each reading goes
    through every installed distribution's metadata: about 0.3 s of CPU)."""
    return tuple(_blocked_modules(PROJECT["dependencies"]))


def _run_base_only(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that can import only cftokens and its base."""
    blocked = _base_blocked()
    script = _BLOCKER.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "sdk"), "HOME": str(tmp_path)},
    )


@pytest.mark.slow
def test_the_simulated_base_environment_lacks_the_extras(tmp_path: Path) -> None:
    """The simulation is real: ipywidgets, anywidget, uvicorn, starlette and matplotlib cannot
    be imported."""
    blocked = _base_blocked()
    wanted = {"ipywidgets", "anywidget", "uvicorn", "starlette", "IPython", "nbval", "matplotlib"}
    assert wanted <= set(blocked)
    assert not {"pandas", "httpx", "numpy", "attrs", "yaml"} & set(blocked)
    run = _run_base_only("import ipywidgets", tmp_path)
    assert "ModuleNotFoundError" in run.stderr


@pytest.mark.slow
def test_readme_main_job_runs_with_the_base_alone(tmp_path: Path) -> None:
    """`cftokens audit --sandbox --allow-gaps --output audit-report.html` (the README's main job)
    works with only the base installed; the demo's planted gap is named, not hidden."""
    run = _run_base_only(
        """
        from cftokens.cli import main
        raise SystemExit(
            main(["audit", "--sandbox", "--allow-gaps", "--output", "audit-report.html"])
        )
        """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Audited 42 tokens" in run.stdout
    assert "passing an incomplete audit; not seen (1)" in run.stdout + run.stderr
    html = (tmp_path / "audit-report.html").read_text()
    assert "<html" in html.lower() and len(html) > 10_000
    assert html.count('<svg class="chart"') == 3 and "charts not drawn" not in html


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "extra", "module"),
    [
        ("import cftokens as cft; cft.TokenBuilder", "notebook", "ipywidgets"),
        ("import cftokens as cft; cft.AuditExplorer", "notebook", "ipywidgets"),
        ("import cftokens.widgets", "notebook", "ipywidgets"),
        (
            "from cftokens.sandbox.server import make_server; import cftokens as cft;"
            " make_server(cft.Sandbox())",
            "server",
            "uvicorn",
        ),
    ],
)
def test_a_missing_extra_names_the_extra_to_install(
    tmp_path: Path, code: str, extra: str, module: str
) -> None:
    """Using a feature whose extra is not installed raises MissingExtra naming the extra."""
    run = _run_base_only(
        f"""
        import json
        import cftokens
        try:
            {code}
        except cftokens.MissingExtra as exc:
            print(json.dumps({{"extra": exc.extra, "module": exc.module, "message": str(exc)}}))
        """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["extra"] == extra and found["module"] == module
    assert f"pip install 'cftokens[{extra}]'" in found["message"]


@pytest.mark.slow
def test_sandbox_serve_without_the_server_extra_stops_before_printing_or_writing(
    tmp_path: Path,
) -> None:
    """No URL printed, no token file written: the error names [server], exit code 2."""
    run = _run_base_only(
        """
        from cftokens.cli import main
        raise SystemExit(main(["sandbox", "serve", "--port", "8799", "--token-file", "t.txt"]))
        """,
        tmp_path,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert "pip install 'cftokens[server]'" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "t.txt").exists()


# -- the distributions -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and wheel, built offline from this checkout (hatchling, no isolation)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return {
        "sdist": next(out.glob("cftokens-*.tar.gz")),
        "wheel": next(out.glob("cftokens-*.whl")),
    }


@pytest.mark.slow
def test_twine_check_passes(dists: dict[str, Path]) -> None:
    """`twine check --strict` accepts both distributions (metadata and long description)."""
    run = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists.values())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASSED") == 2


@pytest.mark.slow
def test_sdist_holds_tests_notebooks_docs_and_license(dists: dict[str, Path]) -> None:
    """The sdist can check itself: tests, the course, the docs and the licence are in it."""
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for wanted in (
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "tests/test_packaging.py",
        "conftest.py",  # loads the notebooks' leak scan
        "notebooks/01-first-token.ipynb",
        "notebooks/nbval-sanitize.cfg",
        "docs/audit-report.png",
        "sdk/cftokens/__init__.py",
    ):
        assert wanted in names, wanted
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".db", ".env"))]


@pytest.mark.slow
def test_wheel_metadata_declares_license_and_extras(dists: dict[str, Path]) -> None:
    """The wheel's METADATA: SPDX licence expression, the licence file, the three extras."""
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        meta_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        meta = wheel.read(meta_name).decode()
        names = wheel.namelist()
    assert "License-Expression: Apache-2.0" in meta
    assert any(n.endswith("licenses/LICENSE") for n in names)
    for extra in ("notebook", "server", "dev"):
        assert f"Provides-Extra: {extra}" in meta
    assert not [n for n in names if n.startswith(("tests/", "notebooks/"))]


def test_the_version_is_written_once_and_everything_agrees(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pyproject takes the version from ``cftokens.__version__`` (hatchling, at build time);
    ``cftokens --version`` and the installed metadata say the same."""
    assert "version" not in PROJECT and PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "sdk/cftokens/__init__.py"
    source = (ROOT / "sdk/cftokens/__init__.py").read_text()
    assert re.findall(r'^__version__ = "([^"]+)"$', source, re.M) == [cftokens.__version__]
    assert md.version("cftokens") == cftokens.__version__
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cftokens {cftokens.__version__}"


@pytest.mark.slow
def test_the_built_distributions_carry_the_package_version(dists: dict[str, Path]) -> None:
    assert dists["wheel"].name.startswith(f"cftokens-{cftokens.__version__}-")
    assert dists["sdist"].name == f"cftokens-{cftokens.__version__}.tar.gz"
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        meta_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        meta = wheel.read(meta_name).decode()
    assert f"\nVersion: {cftokens.__version__}\n" in meta


@pytest.mark.slow
def test_the_asgi_app_needs_no_extra(tmp_path: Path) -> None:
    """The sandbox's ASGI app is plain ASGI: it is built with only the base installed (serving
    it needs uvicorn, the [server] extra)."""
    run = _run_base_only(
        "import cftokens as cft; print(type(cft.Sandbox().asgi_app()).__name__)", tmp_path
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "SandboxApp"


# -- the same errors in this process, the extras' modules hidden ---------------------------------


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import MODULE`` fail in this process (as if not installed) and forget what
    cftokens loaded from it, so the next use imports again; all undone after the test."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # `import name` raises ImportError
    monkeypatch.delitem(sys.modules, "cftokens.widgets", raising=False)
    for attribute in ("widgets", "TokenBuilder", "AuditExplorer"):
        if attribute in vars(cftokens):  # (getattr would import them)
            monkeypatch.delattr(cftokens, attribute)


@pytest.mark.parametrize(
    "use",
    [
        "import cftokens as cft; cft.TokenBuilder",
        "import cftokens as cft; cft.AuditExplorer",
        "import cftokens.widgets",
    ],
)
@pytest.mark.parametrize("missing", ["ipywidgets", "anywidget"])
def test_the_widgets_without_the_notebook_extra_name_it(
    use: str, missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The widgets without ipywidgets or anywidget raise MissingExtra naming [notebook]."""
    _hide(monkeypatch, missing)
    with pytest.raises(cftokens.MissingExtra) as raised:
        exec(use, {})
    assert raised.value.extra == "notebook" and raised.value.module == missing
    assert "pip install 'cftokens[notebook]'" in str(raised.value)


def test_serving_without_the_server_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without uvicorn: ``make_server`` raises MissingExtra naming [server]; ``cftokens sandbox
    serve`` exits 2 with that message before printing a URL or writing its token file."""
    _hide(monkeypatch, "uvicorn")
    with pytest.raises(cftokens.MissingExtra) as raised:
        make_server(cftokens.Sandbox())
    assert raised.value.extra == "server" and raised.value.module == "uvicorn"
    assert "pip install 'cftokens[server]'" in str(raised.value)
    monkeypatch.chdir(tmp_path)
    assert main(["sandbox", "serve", "--port", "8799", "--token-file", "t.txt"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "pip install 'cftokens[server]'" in err and "Traceback" not in err
    assert not (tmp_path / "t.txt").exists()
