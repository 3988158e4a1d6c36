"""Deprecated names kept for one release: one warning, worded the same everywhere."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

__all__ = ["moved_submodule", "warn_renamed"]


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
