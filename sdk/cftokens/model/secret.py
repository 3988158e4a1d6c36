"""``Secret``: a token value that never shows itself by accident."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, NoReturn

__all__ = ["Secret"]

_PREFIXES = ("cfut_", "cfat_", "cfk_")


class Secret:
    """A credential (an API token secret or a Global API Key).

    Every rendering is masked: ``repr``, ``str``, ``format``, f-strings, ``_repr_html_`` and
    IPython's pretty printer show ``Secret('cfut_…')`` (only the public kind prefix).
    Pickling is refused, so a secret cannot leak into a cache or a notebook's saved state.
    ``reveal()`` is the one way to the value. Equality compares values in constant time.

    >>> s = Secret("cfut_" + "a" * 43)
    >>> s
    Secret('cfut_…')
    >>> f"{s}"
    "Secret('cfut_…')"
    """

    __slots__ = ("__value",)

    def __init__(self, value: str | Secret):
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a str, not {type(value).__name__}")
        if not value or value != value.strip():
            raise ValueError(
                "a token secret must be a non-empty string without surrounding whitespace; "
                "check for a trailing newline when reading it from a file"
            )
        self.__value = value

    def reveal(self) -> str:
        """Return the secret value. Use it only to send it where it belongs."""
        return self.__value

    @property
    def kind(self) -> str:
        """``user`` (``cfut_``), ``account`` (``cfat_``), ``key`` (``cfk_``) or ``legacy``."""
        value = self.__value
        if value.startswith("cfut_"):
            return "user"
        if value.startswith("cfat_"):
            return "account"
        if value.startswith("cfk_"):
            return "key"
        return "legacy"

    @property
    def masked(self) -> str:
        """The public prefix followed by an ellipsis, e.g. ``cfut_…``."""
        for prefix in _PREFIXES:
            if self.__value.startswith(prefix):
                return prefix + "…"
        return "…"

    def fingerprint(self) -> str:
        """A short SHA-256 fingerprint, safe to log, for telling secrets apart."""
        return hashlib.sha256(self.__value.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def _repr_html_(self) -> str:
        return f"<code>Secret('{self.masked}')</code>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self.__value.encode(), other.__value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self.__value.encode()).digest()))

    def __bool__(self) -> bool:
        return True

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Secret cannot be pickled: store the value in a secret manager or a 0600 .env "
            "file and read it back with Secret(value)"
        )

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        self.__reduce__()

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __getstate__(self) -> NoReturn:
        self.__reduce__()
