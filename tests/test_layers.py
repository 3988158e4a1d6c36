"""The layers below the analysis: the model, the catalogue and the policy engine import only
downward (the full contract is import-linter's, in pyproject.toml; `lint-imports` in CI)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import grimp
import pytest

import cftokens as cft
from cftokens import _files, _sarif, detect, policy
from cftokens.audit import report
from cftokens.audit.records import declared_records
from cftokens.model import Token, terraform

DNS_READ = "82e64a83756745bbbb1c9c2701bf816b"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("cftokens", cache_dir=None)


def _imports_of(graph: grimp.ImportGraph, package: str) -> Iterator[tuple[str, str]]:
    for module in sorted(graph.find_descendants(package) | {package}):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            yield module, imported


def _inside(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_model_imports_only_the_catalogue_data_and_leaf_helpers(
    graph: grimp.ImportGraph,
) -> None:
    """Before: model.token imported the advisor's Terraform writer; model.policy imported the
    catalogue package (whose templates build model objects)."""
    allowed = (
        "cftokens.model",
        "cftokens.catalog.groups",
        "cftokens.catalog.risk",
        "cftokens.catalog._data",
        "cftokens._ids",
        "cftokens._exports",  # a leaf: the top level's export table (no import of its own)
        "cftokens._text",  # a leaf: untrusted text made Unicode (imports only the errors)
        "cftokens._shown",  # a leaf: untrusted text as shown (imports _text and the errors)
        "cftokens.errors",
    )
    upward = [(m, i) for m, i in _imports_of(graph, "cftokens.model") if not _inside(i, *allowed)]
    assert upward == []
    text = {i for _, i in _imports_of(graph, "cftokens._text") if i.startswith("cftokens")}
    assert text <= {"cftokens.errors"}
    shown = {i for _, i in _imports_of(graph, "cftokens._shown") if i.startswith("cftokens")}
    assert shown <= {"cftokens._text", "cftokens.errors"}


def test_the_catalogue_data_does_not_import_the_model(graph: grimp.ImportGraph) -> None:
    """Before: catalog.groups imported Scope and is_id from the model (and the model the
    catalogue: a cycle). Only the templates, which build specs, sit above the model."""
    for package in ("cftokens.catalog.groups", "cftokens.catalog.operations"):
        found = [i for _, i in _imports_of(graph, package) if _inside(i, "cftokens.model")]
        assert found == [], package


def test_the_model_does_not_carry_the_policy_engines_cache(
    collect_garbage: Callable[[], object],
) -> None:
    """Before: Token and TokenSpec had a `_compiled` attribute the policy engine filled."""
    token = Token.from_api(
        {
            "id": "ed17574386854bf78a67040be0a770b0",
            "name": "t",
            "status": "active",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": DNS_READ}],
                    "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
                }
            ],
        }
    )
    assert policy.check_token(token).allowed
    assert "_compiled" not in attrs.asdict(token)
    assert "_compiled" not in {f.name for f in attrs.fields(cft.TokenSpec)}
    # evaluating a token does not keep it alive
    ref = weakref.ref(token)
    del token
    collect_garbage()
    assert ref() is None


def test_decisions_follow_each_token_when_objects_come_and_go() -> None:
    """The engine's cache is keyed by identity: a new token at a recycled address must get
    its own decision, never the one of the token that lived there before."""
    for round_ in range(200):
        effect = "allow" if round_ % 2 == 0 else "deny"
        spec = cft.TokenSpec(
            name="t",
            policies=[cft.Policy.allow(["DNS Read"], zones=[ZONE])]
            + ([cft.Policy.deny(["DNS Read"], zones=[ZONE])] if effect == "deny" else []),
        )
        decision = policy.evaluate(spec, "DNS Read", zone=ZONE)
        assert decision.allowed is (effect == "allow"), round_
        del spec


def test_the_terraform_writer_moved_into_the_model_and_the_old_path_warns() -> None:

    sys.modules.pop("cftokens.advisor.terraform", None)
    with pytest.warns(DeprecationWarning, match=r"cftokens\.model\.terraform"):
        old = importlib.import_module("cftokens.advisor.terraform")
    assert old.to_terraform is terraform.to_terraform
    assert cft.advisor.to_terraform is terraform.to_terraform


@pytest.mark.slow
def test_the_templates_load_on_first_use_and_keep_their_public_names() -> None:
    code = (
        "import sys, cftokens.model, cftokens.catalog as c\n"
        "assert 'cftokens.catalog._templates' not in sys.modules\n"
        "assert 'templates' in dir(c)\n"
        "assert c.templates['Edit zone DNS'].name == 'Edit zone DNS'\n"
        "assert isinstance(c.templates, c.TemplateCatalog) and c.Template.__name__ == 'Template'\n"
        "from cftokens.catalog import templates\n"
        "assert templates is c.templates\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_the_detectors_are_a_leaf_and_the_old_path_warns(graph: grimp.ImportGraph) -> None:
    """Before: the audit imported cftokens.leak.detect, a module of the layer above it."""

    # (only the credentials' prefixes, shared with the redaction below it)
    inside = [i for _, i in _imports_of(graph, "cftokens.detect") if i.startswith("cftokens")]
    assert set(inside) <= {"cftokens._redaction"}
    assert not [m for m, i in _imports_of(graph, "cftokens.audit") if _inside(i, "cftokens.leak")]
    sys.modules.pop("cftokens.leak.detect", None)
    with pytest.warns(DeprecationWarning, match=r"cftokens\.detect"):
        old = importlib.import_module("cftokens.leak.detect")
    assert old.detect is detect.detect and old.fingerprint_of is detect.fingerprint_of


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "absent"),
    [
        # every command's parser is built on each run: the heavy layers load with their command
        (
            "import cftokens.cli as c; c.build_parser()",
            ("cftokens.audit", "cftokens.sandbox", "cftokens.client", "cftokens.leak", "numpy"),
        ),
        # a scan without verification (the pre-commit hook) needs neither the audit nor the client
        ("import cftokens.leak", ("cftokens.audit", "cftokens.client", "numpy", "httpx")),
        # the advisor writes Terraform; only reading it needs the HCL parser
        (
            "import cftokens.advisor",
            ("cftokens.audit", "numpy", "pandas", "cftokens.model._hcl", "cftokens.model._hclexpr"),
        ),
        ("import cftokens.model", ("cftokens.catalog._templates", "cftokens.policy")),
    ],
)
def test_lazy_imports_keep_light_entry_points_light(code: str, absent: tuple[str, ...]) -> None:
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {list(absent)!r} if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_templates_module_path_of_the_last_release_still_imports() -> None:
    """``cftokens.catalog.templates`` was a module (``from cftokens.catalog.templates import
    Template``) and is the catalogue object; the module path stays one release, deprecated,
    and importing it never replaces the catalogue object on the package."""
    code = (
        "import warnings, cftokens.catalog as c\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    from cftokens.catalog.templates import Template, TemplateCatalog\n"
        "    import cftokens.catalog.templates\n"
        "assert Template is c.Template and TemplateCatalog is c.TemplateCatalog\n"
        "assert isinstance(c.templates, c.TemplateCatalog), type(c.templates)\n"
        "assert any(issubclass(w.category, DeprecationWarning)\n"
        "           and 'cftokens.catalog.templates' in str(w.message) for w in seen), seen\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def _sibling_cycle(graph: grimp.ImportGraph, package: str) -> list[str]:
    """A cycle among the children of ``package`` (each child with its descendants), as the
    children's names, or [] when they import one another in one direction only."""
    prefix = package + "."
    children = {m.split(".")[len(package.split("."))] for m in graph.find_descendants(package)}
    edges: dict[str, set[str]] = {child: set() for child in children}
    for module, imported in _imports_of(graph, package):
        if module.startswith(prefix) and imported.startswith(prefix):
            a, b = (m[len(prefix) :].split(".")[0] for m in (module, imported))
            if a != b:
                edges[a].add(b)
    path: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        path.append(node)
        for nxt in sorted(edges[node]):
            if cycle := visit(nxt):
                return cycle
        path.pop()
        done.add(node)
        return []

    for child in sorted(children):
        if cycle := visit(child):
            return cycle
    return []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    """The guard below can fail: two sibling modules importing each other are a cycle."""
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("from . import c\n")
    (package / "c.py").write_text("from .a import x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        cyclic = grimp.build_graph("cyclic_pkg", cache_dir=None)
    finally:
        sys.path.remove(str(tmp_path))
    assert _sibling_cycle(cyclic, "cyclic_pkg") == ["a", "b", "c", "a"]


def test_the_audits_modules_import_one_another_in_one_direction() -> None:
    """Before: the audit package was left out of the acyclic contract (terraform <-> hcl,
    report_html <-> core). Imports under TYPE_CHECKING (annotations naming the Audit facade)
    are left out, as import-linter leaves them out."""
    runtime = grimp.build_graph("cftokens", cache_dir=None, exclude_type_checking_imports=True)
    for package in ("cftokens.audit", "cftokens.model", "cftokens.advisor"):
        assert _sibling_cycle(runtime, package) == [], package


def test_the_terraform_reader_sits_beside_the_writer_below_the_audit(
    graph: grimp.ImportGraph,
) -> None:
    """Before: the reader (audit.terraform, audit.hcl, audit._hclexpr) was the audit's, the
    writer the model's. Now both are the model's, so the advisor and the audit share them and
    nothing of the audit's reaches the reader, not even for annotations."""

    reader = ("cftokens.model._terraform_read", "cftokens.model._hcl", "cftokens.model._hclexpr")
    for module in reader:
        imported = graph.find_modules_directly_imported_by(module)
        assert not [i for i in imported if _inside(i, "cftokens.audit", "cftokens.advisor")]
    # the audit reads Terraform through the model, never through its own deprecated aliases
    for alias in ("cftokens.audit.terraform", "cftokens.audit.hcl"):
        assert graph.find_modules_that_directly_import(alias) == set(), alias
    assert "cftokens.model.terraform" in graph.find_modules_directly_imported_by(
        "cftokens.audit.core"
    )
    assert {"read", "to_terraform", "read_configuration"} <= set(terraform.__all__)


@pytest.mark.parametrize(
    ("old", "names"),
    [
        ("cftokens.audit.terraform", ("PENDING_KEY", "UNKNOWN_KEY", "to_token")),
        ("cftokens.audit.hcl", ("UNREAD_MODULE", "read_configuration")),
    ],
)
def test_the_terraform_readers_old_paths_warn(old: str, names: tuple[str, ...]) -> None:

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=r"cftokens\.model\.terraform"):
        module = importlib.import_module(old)
    for name in names:
        assert getattr(module, name) is getattr(terraform, name), name


def test_the_old_terraform_entry_points_audit_as_before(tmp_path: Path) -> None:
    """``read_terraform(Audit, path, kwargs)`` and ``token_records`` of the last release give
    what ``Audit.from_terraform`` and ``declared_tokens`` give now, as the audit's records."""

    plan = tmp_path / "main.tf"
    plan.write_text(
        'resource "cloudflare_api_token" "ci" {\n'
        '  name = "ci"\n'
        "  policies = [{\n"
        '    effect = "allow"\n'
        f'    permission_groups = [{{ id = "{DNS_READ}" }}]\n'
        f'    resources = {{ "com.cloudflare.api.account.zone.{ZONE}" = "*" }}\n'
        "  }]\n"
        "}\n"
    )
    sys.modules.pop("cftokens.audit.terraform", None)
    with pytest.warns(DeprecationWarning, match=r"read_terraform is Audit\.from_terraform"):
        old = importlib.import_module("cftokens.audit.terraform")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    now = cft.Audit.from_terraform(plan, profile="ci", now=at).findings
    before = old.read_terraform(cft.Audit, plan, {"profile": "ci", "now": at}).findings
    assert before.equals(now) and len(now) > 0
    resources = terraform.read_configuration(plan, now=at)
    records, gaps = old.token_records(resources)
    declared, declared_gaps = terraform.declared_tokens(resources)
    assert gaps == declared_gaps == []
    assert [vars_of(r) for r in records] == [vars_of(r) for r in declared_records(declared)]
    assert [(r.kind, r.owner_id, r.owner_name) for r in records] == [("user", None, None)]


def vars_of(record: object) -> tuple[object, ...]:
    return tuple(getattr(record, slot) for slot in ("payload", "kind", "owner_id", "owner_name"))


def test_reports_are_written_by_leaves_not_by_the_audit(graph: grimp.ImportGraph) -> None:
    """Before: the leak scanner, its incident report and SARIF and the scan command imported
    the audit's report module (and so the whole audit) for write_atomic and the SARIF envelope,
    the scanner and the responder on first use; now they are leaf helpers imported at the top."""

    assert report.write_atomic is _files.write_atomic  # the audit's name stays
    assert report.sarif_log is _sarif.sarif_log
    for leaf in ("cftokens._files", "cftokens._sarif"):
        imported = {i for _, i in _imports_of(graph, leaf) if i.startswith("cftokens")}
        assert imported <= {"cftokens", "cftokens.errors", "cftokens._text"}, leaf  # leaves
    uses = {
        "cftokens.leak.incident": "cftokens._files",
        "cftokens.leak.results": "cftokens._files",  # (the scan result writes the reports)
        "cftokens.cli.scan": "cftokens._files",
        "cftokens.leak.sarif": "cftokens._sarif",
    }
    for module, leaf in uses.items():
        found = graph.find_modules_directly_imported_by(module)
        assert leaf in found, module
        assert not [i for i in found if _inside(i, "cftokens.audit")], module
    assert "cftokens.leak.incident" in graph.find_modules_directly_imported_by(
        "cftokens.leak.responder"
    )
    assert "cftokens.leak.sarif" in graph.find_modules_directly_imported_by("cftokens.leak.results")
