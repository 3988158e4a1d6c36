"""What the top-level ``cftokens`` exports lazily, and where from; the classes among them
report ``cftokens`` as their module (:func:`export`) and still show their source
(``inspect.getsource(cft.Token)``, IPython's ``cft.Token??``) and their type hints
(``typing.get_type_hints(cft.Token)``). A leaf: every layer may import it."""

from __future__ import annotations

import _thread
import builtins
import contextlib
import sys
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from typing import Any

__all__ = ["LAZY", "export", "export_class"]

# name -> module that defines it; imported on first attribute access (the catalogue, the
# models and the policy engine too: a script that only builds a client never loads them).
LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "Level",
            "Operation",
            "OperationMatch",
            "PermissionGroup",
            "Template",
            "operations",
            "permission_groups",
            "risk_families",
            "templates",
        ),
        ".catalog",
    ),
    **dict.fromkeys(
        (
            "Account",
            "Condition",
            "CreatedToken",
            "Directory",
            "Effect",
            "PermissionGroupRef",
            "Policy",
            "Resource",
            "ResourceKind",
            "Scope",
            "Secret",
            "SpecSummary",
            "Token",
            "TokenSpec",
            "TokenStatus",
            "User",
            "VerifyResult",
            "Zone",
        ),
        ".model",
    ),
    **dict.fromkeys(
        ("Decision", "EffectiveGrant", "effective_grants", "evaluate", "evaluate_request"),
        ".policy",
    ),
    "Advice": ".advisor",
    "AuditExplorer": ".widgets",
    "RightSize": ".advisor",
    "AsyncClient": ".client",
    "Audit": ".audit",
    "AuditLogRecord": ".client",
    "Client": ".client",
    "DnsRecord": ".client",
    "Finding": ".audit",
    "Recorder": ".client",
    "Sandbox": ".sandbox",
    "Severity": ".audit",
    "run_audit": ".audit",
    "run_audit_async": ".audit",
    "least_privilege": ".advisor",
    "least_privilege_from_usage": ".advisor",
    "rightsize": ".advisor",
    "scan": ".leak",
    "ScanResult": ".leak",
    "Triage": ".leak",
    "triage": ".leak",
    "TokenBuilder": ".widgets",
}


def export(module: str) -> None:
    """Give the classes ``cftokens`` exports that ``module`` holds (``cftokens.model``,
    ``cftokens.catalog.templates``...) the top level as their ``__module__``: reprs,
    tracebacks, help and pickles name ``cftokens.Token``, not the file that defines it today.
    Each module that provides exported classes calls this once, at the end of its import,
    whatever imported it first; the errors (imported eagerly) are done at the end of
    ``cftokens/__init__.py``. Lazily loaded names of ``module`` are not loaded here."""
    namespace = vars(sys.modules[module])
    for name, where in LAZY.items():
        package = "cftokens" + where
        if module == package or module.startswith(package + "."):
            value = namespace.get(name)
            if isinstance(value, type):
                export_class(value)


class _DefinedIn:
    """``cls.__wrapped__`` of an exported class: where its source is, for ``inspect``.

    ``inspect.getsource`` finds a class's file through ``sys.modules[cls.__module__]``, which
    for ``cftokens`` is the package's ``__init__.py``, and then finds no ``class Token`` there.
    Before that, ``inspect.getsource``/``getsourcelines`` (and IPython's ``??``, ``?``'s
    *File:*) follow ``__wrapped__`` (:func:`inspect.unwrap`); this descriptor answers it with a
    stand-in class named like the exported one but in its defining module, so the source found
    is the real definition. It answers for the exported class itself only: a user's subclass
    and every instance have no ``__wrapped__``. The stand-in carries the class's own signature
    (``inspect.signature`` unwraps too, stopping at a ``__signature__``) and docstring."""

    def __init__(self, cls: type, defined_in: str) -> None:
        self._cls = cls
        self._defined_in = defined_in
        self._stand_in: type | None = None

    def __get__(self, instance: object, owner: type | None = None) -> type:
        if instance is not None or owner is not self._cls:
            raise AttributeError("__wrapped__")
        if self._stand_in is None:
            import inspect  # only when a source or signature is asked for: import stays fast

            cls = self._cls
            try:
                signature: object = inspect.signature(cls, follow_wrapped=False)
            except (TypeError, ValueError):  # no signature to show (some builtin bases)
                signature = None
            self._stand_in = type(
                cls.__name__,
                (),
                {
                    "__module__": self._defined_in,
                    "__qualname__": cls.__qualname__,
                    "__doc__": cls.__doc__,
                    "__signature__": signature,
                },
            )
        return self._stand_in


class _Names(Mapping[str, Any]):
    """The names an exported class's annotations may use, as its own module sees them: that
    module's globals, then the class's own attributes, then the top-level ``cftokens`` names
    (a name its module imports only for type checkers)."""

    def __init__(self, module: str, cls: type) -> None:
        self._globals = vars(sys.modules[module])
        self._cls = cls

    def __getitem__(self, name: str) -> Any:
        for names in (self._globals, vars(self._cls)):
            if name in names:
                return names[name]
        if name in LAZY:
            return getattr(sys.modules["cftokens"], name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._globals)

    def __len__(self) -> int:
        return len(self._globals)


_RESOLVING = _thread.RLock()  # _thread, not threading: a built-in, import stays fast


class _Annotations(dict[str, Any]):
    """``__annotations__`` of an exported class: its string annotations (``from __future__
    import annotations``) evaluated where the class is defined, on first read.

    ``typing.get_type_hints`` evaluates a class's strings in ``sys.modules[cls.__module__]``,
    which for ``cftokens`` is the package, where ``datetime`` or ``Resource`` are not names:
    it raised NameError, and so did ``attrs.resolve_types`` and cattrs. Reading the items
    first (as ``get_type_hints`` and ``inspect.get_annotations`` do) turns each string it can
    evaluate into its object, so nothing is left for them to evaluate in the wrong module; a
    string that cannot be evaluated stays a string. Nothing is evaluated at import."""

    __slots__ = ("_cls", "_done", "_module")

    def __init__(self, raw: Mapping[str, Any], cls: type, module: str) -> None:
        super().__init__(raw)
        self._cls: type | None = cls
        self._done = False
        self._module = module

    def _resolve(self) -> None:
        if self._done:  # resolved (the rule): no lock taken
            return
        # one lock for every class: another thread reading meanwhile waits for the strings'
        # objects (it got the strings, left for get_type_hints to evaluate in cftokens); the
        # same thread reading again while evaluating gets them as they are
        with _RESOLVING:
            cls, self._cls = self._cls, None
            if cls is None:
                return
            names = _Names(self._module, cls)
            for key, value in list(dict.items(self)):
                if isinstance(value, str):
                    with contextlib.suppress(Exception):  # else left as the string it was
                        evaluated = eval(value, {"__builtins__": builtins}, names)
                        dict.__setitem__(self, key, evaluated)
            self._done = True

    def __getitem__(self, key: str) -> Any:
        self._resolve()
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._resolve()
        return super().get(key, default)

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        self._resolve()
        return super().items()

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        self._resolve()
        return super().values()


def export_class(cls: type) -> None:
    """Make ``cls`` report ``cftokens`` as its module, keeping its source findable (see
    :class:`_DefinedIn`) and its type hints resolvable (:class:`_Annotations`). Idempotent."""
    if cls.__module__ == "cftokens":
        return
    # the class's own annotations, read without importing inspect (import stays fast)
    annotations = cls.__dict__.get("__annotations__")  # noqa: RUF063
    if type(annotations) is dict and any(isinstance(v, str) for v in annotations.values()):
        cls.__annotations__ = _Annotations(annotations, cls, cls.__module__)
    cls.__wrapped__ = _DefinedIn(cls, cls.__module__)  # type: ignore[attr-defined]
    cls.__module__ = "cftokens"
