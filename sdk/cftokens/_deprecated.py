"""Deprecated names kept for one release: one warning, worded the same everywhere."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from types import ModuleType

__all__ = ["moved_submodule", "moved_submodules_getattr", "warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn (:class:`DeprecationWarning`, at the caller's line by default: the caller of the
    function that calls this) that ``old`` is now ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release: use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def moved_submodule(package: str, name: str) -> ModuleType:
    """``package.name``, a submodule the package loaded itself in the last release and now a
    deprecated alias module (with a ``MESSAGE``), for the package's ``__getattr__``: imported
    quietly (its own import-time warning would name importlib's line, which Python's default
    filters hide), then warned about with its ``MESSAGE`` at the line of the attribute access."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(f".{name}", package)
    warnings.warn(module.MESSAGE, DeprecationWarning, stacklevel=3)
    return module


def moved_submodules_getattr(package: str, *names: str) -> Callable[[str], ModuleType]:
    """A package's module ``__getattr__`` that serves only its deprecated submodules ``names``
    (through :func:`moved_submodule`, warning at the line of the access); AttributeError for
    any other name."""

    def __getattr__(name: str) -> ModuleType:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return moved_submodule(package, name)

    return __getattr__
