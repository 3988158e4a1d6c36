"""What the top-level ``cftokens`` exports lazily, and where from; the classes among them
report ``cftokens`` as their module (:func:`export`) and still show their source
(``inspect.getsource(cft.Token)``, IPython's ``cft.Token??``). A leaf: every layer may import
it."""

from __future__ import annotations

import sys

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


def export_class(cls: type) -> None:
    """Make ``cls`` report ``cftokens`` as its module, keeping its source findable (see
    :class:`_DefinedIn`). Idempotent."""
    if cls.__module__ == "cftokens":
        return
    cls.__wrapped__ = _DefinedIn(cls, cls.__module__)  # type: ignore[attr-defined]
    cls.__module__ = "cftokens"
