"""The public surface: ``cftokens.audit`` is the package whatever the import order, the audit
function is ``run_audit``, and the old spellings still work for one release with a warning."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
import threading
import time
import types
import warnings
from pathlib import Path

import pytest

import cftokens as cft
import cftokens.audit
import cftokens.audit.collect
from cftokens.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter (import order matters) and return what it printed as
    JSON; DeprecationWarnings are errors there unless the code catches them. The tests using it
    are ``slow`` (an interpreter each); in-process tests check the same in this process's
    import order."""
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


@pytest.mark.slow
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
        (lambda: cftokens.audit.collect.audit, cft.run_audit),  # type: ignore[attr-defined]
    ]:
        with pytest.warns(DeprecationWarning, match=rf"use cftokens\.{new.__name__}\b") as rec:
            assert get() is new
        assert [Path(w.filename).name for w in rec] == [Path(__file__).name]
    assert "audit_async" not in cft.__all__ and "audit" not in cftokens.audit.__all__
    assert {"run_audit", "run_audit_async"} <= set(cft.__all__) & set(cftokens.audit.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        cftokens.audit.nonsense  # type: ignore[attr-defined]  # noqa: B018


def test_the_project_uses_the_new_names_only() -> None:
    """The README and the notebooks spell run_audit. (No DeprecationWarning comes from the
    project's own code: pyproject makes one raised at a line of cftokens an error in every test;
    tests/cli/test_audit_cli.py runs the CLI's demo audit to HTML, and
    tests/audit/test_hostile_names.py the CLI's every --format, with every DeprecationWarning
    an error.)"""
    sources = [ROOT / "README.md", *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for path in sources:
        text = path.read_text().replace("run_audit", "")
        assert "cft.audit(" not in text and "audit_async(" not in text, path  # calls


def test_calling_the_package_in_process_warns() -> None:
    assert isinstance(cft.audit, types.ModuleType)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cft.audit(Sandbox(), progress=False)  # type: ignore[operator]
    assert [w.filename for w in caught if w.category is DeprecationWarning] == [__file__]


def test_dir_is_the_public_names() -> None:
    """``dir(cftokens)`` (tab completion) is ``__all__``, sorted, without the module's own
    helpers; every name in ``__all__`` resolves, and ``import *`` gives them all."""
    assert dir(cft) == sorted(cft.__all__)
    assert not {"Any", "TYPE_CHECKING", "importlib", "logging", "annotations"} & set(dir(cft))
    assert len(set(cft.__all__)) == len(cft.__all__)
    assert [name for name in cft.__all__ if not hasattr(cft, name)] == []
    namespace: dict[str, object] = {}
    exec("from cftokens import *", namespace)
    assert set(cft.__all__) <= set(namespace)


@functools.cache
def exported_classes() -> list[str]:
    """The names of the exported classes (read here, not at collection: reading every export
    loads the widgets, IPython and ipywidgets, in each worker that collects this file)."""
    return [name for name in cft.__all__ if isinstance(getattr(cft, name), type)]


def test_exported_classes_report_cftokens_as_their_module() -> None:
    assert len(exported_classes()) > 60  # models, catalogue, clients, audit, errors...
    wrong = {n: getattr(cft, n).__module__ for n in exported_classes()}
    assert {n: m for n, m in wrong.items() if m != "cftokens"} == {}


@pytest.mark.slow
def test_exported_classes_report_cftokens_whatever_imported_them() -> None:
    """Importing a defining module directly (not through ``cftokens.X``) gives the same
    ``__module__``: it is set when that module loads, not when the top level is asked."""
    out = _run(
        """
        import json
        from cftokens.model.token import TokenSpec
        from cftokens.client._async import AsyncClient
        from cftokens.catalog._templates import Template
        from cftokens.errors import NotFound
        from cftokens.sandbox.core import Sandbox
        from cftokens.audit.core import Audit
        classes = (TokenSpec, AsyncClient, Template, NotFound, Sandbox, Audit)
        print(json.dumps({c.__name__: c.__module__ for c in classes}))
        """
    )
    assert set(out.values()) == {"cftokens"}, out


def _global_ref(module: str, name: str) -> bytes:
    """How protocol 4 names a class: two short strings, memoised, before STACK_GLOBAL."""
    return (
        b"\x8c"
        + bytes([len(module)])
        + module.encode()
        + b"\x94\x8c"
        + bytes([len(name)])
        + name.encode()
    )


def test_models_and_errors_pickle_by_their_public_name() -> None:
    """Pickles name ``cftokens.X`` (resolvable lazily) and round-trip, errors with keyword-only
    fields included; attrs reprs are unchanged."""
    import pickle

    spec = cft.templates["Edit zone DNS"].build(zones=["0" * 32], name="ci-dns")
    data = pickle.dumps(spec, protocol=4)
    assert _global_ref("cftokens", "TokenSpec") in data
    assert pickle.loads(data) == spec
    assert repr(spec).startswith("TokenSpec(")
    errors = [
        cft.PermissionDenied(
            "no", needed=["DNS Write"], status=403, method="GET", url="https://x/y"
        ),
        cft.MissingExtra("install it", extra="notebook", module="ipywidgets"),
        cft.MaybeCreated("maybe", name="ci-dns"),
        cft.UnknownPermissionGroup("none", query="DNS Wrte", suggestions=["DNS Write"]),
    ]
    for error in errors:
        data = pickle.dumps(error, protocol=4)
        assert _global_ref("cftokens", type(error).__name__) in data
        back = pickle.loads(data)
        assert type(back) is type(error) and back.args == error.args
        assert vars(back) == vars(error) and str(back) == str(error)


def test_resource_objects_have_reprs_without_secrets(tmp_path: Path) -> None:
    """The sandbox's parts, the catalogues and the clients' transport show what they are,
    never ``<... object at 0x...>`` and never a secret the sandbox issued or holds."""
    sb = Sandbox(db=tmp_path / "lab.db", rate_limit="100/60s", faults="rate=0.5")
    secret = sb.bootstrap_token.reveal()
    key = sb.store.key.hex()
    client = sb.client()
    objects = [
        sb,
        sb.store,
        sb.engine,
        sb.engine.generator,
        sb.engine.limiter,
        sb.clock,
        client._transport if hasattr(client, "_transport") else None,
        cft.permission_groups,
        cft.operations,
        cft.templates,
        cft.risk_families,
        client,
        client.tokens,
    ]
    for obj in [o for o in objects if o is not None]:
        text = repr(obj)
        assert " object at 0x" not in text, text
        assert secret not in text and key not in text, text
    assert repr(sb.store) == f"<Store at {str(tmp_path / 'lab.db')!r}>"
    assert "deterministic" in repr(sb.engine.generator) and "seed" not in repr(sb.engine.generator)
    sb.close()


def test_exported_classes_show_their_source() -> None:
    """``inspect.getsource`` of every exported class is its definition in its own module
    (``__module__`` is ``cftokens``, whose file defines none of them); the signature shown is
    the class's own, and a subclass or an instance has no ``__wrapped__`` pointing at it."""
    import inspect
    import re

    for name in exported_classes():
        cls = getattr(cft, name)
        assert cls.__module__ == "cftokens"
        assert inspect.signature(cls) == inspect.signature(cls, follow_wrapped=False), name
        # where inspect looks (its file), and that the file defines the class at top level
        # (inspect.getsource parses the whole module per class: run below on a sample)
        stand_in = inspect.unwrap(cls)
        assert stand_in is not cls and stand_in.__qualname__ == name, name
        path = Path(inspect.getsourcefile(stand_in) or "")
        assert path.name != "__init__.py" or path.parent.name != "cftokens", (name, path)
        assert re.search(rf"^class {name}\b", path.read_text(), re.M), (name, path)
    for name in ("Token", "NotFound", "Client", "Sandbox"):  # four modules, four packages
        source = inspect.getsource(getattr(cft, name))
        header = next(line for line in source.splitlines() if not line.startswith("@"))
        assert header.startswith(f"class {name}"), (name, header)
    assert inspect.getdoc(cft.Token) == inspect.getdoc(inspect.unwrap(cft.Token))

    class Mine(cft.NotFound):
        pass

    assert not hasattr(Mine, "__wrapped__") and inspect.getsource(Mine).startswith("    class Mine")
    assert not hasattr(cft.NotFound("gone"), "__wrapped__")
    spec = cft.templates["Edit zone DNS"].build(zones=["0" * 32], name="ci-dns")
    assert not hasattr(spec, "__wrapped__")


def test_exported_classes_give_their_type_hints() -> None:
    """``typing.get_type_hints`` (what cattrs, pydantic and ``attrs.resolve_types`` call) works
    on every exported class although its ``__module__`` is ``cftokens`` and its annotations
    are strings naming what its own module imports; it raised NameError on 20 of them."""
    import typing
    from datetime import datetime

    import attrs

    for name in exported_classes():
        cls = getattr(cft, name)
        hints = typing.get_type_hints(cls)
        assert all(not isinstance(v, str | typing.ForwardRef) for v in hints.values()), name
    assert typing.get_type_hints(cft.TokenSpec)["expires_on"] == datetime | None
    assert typing.get_type_hints(cft.Token)["status"] is cft.TokenStatus
    assert typing.get_type_hints(cft.Policy)["resources"] == tuple[cft.Resource, ...]
    attrs.resolve_types(cft.Zone)
    assert attrs.fields(cft.Zone).name.type is str
    assert inspect_annotations(cft.Condition)

    class Mine(cft.TokenSpec):  # a subclass in another module resolves both levels
        note: str = "x"

    assert typing.get_type_hints(Mine)["note"] is str
    assert typing.get_type_hints(Mine)["expires_on"] == datetime | None


def inspect_annotations(cls: type) -> dict[str, object]:
    import inspect

    return inspect.get_annotations(cls, eval_str=True)


@pytest.mark.slow
def test_ipython_double_question_mark_shows_the_source() -> None:
    """``cft.Token??`` in IPython shows the class's source and the file that defines it."""
    pytest.importorskip("IPython")
    out = _run(
        """
        import json
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="nocolor")
        shell.run_cell("import cftokens as cft")
        found = {}
        for name in ("Token", "Client", "NotFound"):
            info = shell.object_inspect_mime(f"cft.{name}", detail_level=1)["text/plain"]
            found[name] = info
        print(json.dumps(found))
        """
    )
    for name, info in out.items():
        assert f"class {name}" in info, info  # type: ignore[operator]
        assert "Source:" in info and "__init__.py" not in info, info  # type: ignore[operator]


def test_import_cftokens_leaves_inspect_unloaded() -> None:
    """The stand-in that shows an exported class's source imports ``inspect`` when a source or
    signature is asked for, not with ``import cftokens`` (about 20 ms of ast, dis, tokenize)."""
    out = _run(
        """
        import json, sys
        import cftokens
        before = "inspect" in sys.modules
        cftokens.Token.__wrapped__
        print(json.dumps({"before": before, "after": "inspect" in sys.modules}))
        """
    )
    assert out == {"before": False, "after": True}


def _wait_until_blocked_in(thread: threading.Thread, where: str, timeout: float = 10.0) -> None:
    """Returns once ``thread`` has finished, or has been inside the file ``where`` (its
    stack holds a frame of it) at each of 3 looks 10 ms apart: waiting there. A fixed pause
    before going on either wasted its length or, on a slow machine, left the thread short of
    the point the test is about."""

    def inside() -> bool:
        frame = sys._current_frames().get(thread.ident)
        while frame is not None:
            if frame.f_code.co_filename.replace("\\", "/").endswith(where):
                return True
            frame = frame.f_back
        return False

    deadline = time.monotonic() + timeout
    seen = 0
    while thread.is_alive() and seen < 3:
        assert time.monotonic() < deadline, f"{thread.name} never reached {where}"
        seen = seen + 1 if inside() else 0
        time.sleep(0.01)


def test_exported_class_hints_read_by_two_threads_at_once() -> None:
    """The first read evaluates the annotations; a second thread reading them meanwhile
    waits for it instead of getting strings left to evaluate in ``cftokens`` (NameError)."""
    import sys
    import threading
    import types
    import typing

    from cftokens._exports import export_class

    module = types.ModuleType("cftokens_race_probe")
    started, release = threading.Event(), threading.Event()

    def gate() -> type:
        started.set()
        release.wait(10)
        return int

    module.gate = gate  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        exec(
            "from __future__ import annotations\n"
            "class Later: ...\n"
            "class Probe:\n    a: gate()\n    b: Later\n",
            vars(module),
        )
        probe = module.Probe
        export_class(probe)
        results: dict[str, object] = {}

        def read(who: str) -> None:
            try:
                results[who] = typing.get_type_hints(probe)
            except Exception as exc:  # the failure looked for
                results[who] = exc

        first = threading.Thread(target=read, args=("first",))
        first.start()
        assert started.wait(10)
        second = threading.Thread(target=read, args=("second",))
        second.start()
        _wait_until_blocked_in(second, "cftokens/_exports.py")
        release.set()
        first.join(10)
        second.join(10)
        for who in ("first", "second"):
            assert results[who] == {"a": int, "b": module.Later}, (who, results[who])
    finally:
        release.set()
        del sys.modules[module.__name__]
