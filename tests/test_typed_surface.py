"""The public signatures say what they take: no new ``Any`` and no pass-through ``**kwargs``.

The public surface is ``cftokens.__all__`` and the ``__all__`` of every public module
(``cftokens.x.y`` without a leading underscore in the path): its functions, and the methods,
properties and fields of its classes (their cftokens base classes included). A parameter,
return or field annotation counts when it holds ``Any`` other than in a JSON object
(``Mapping[str, Any]`` / ``dict[str, Any]``: a decoded JSON object's values are any JSON), and
a ``**kwargs`` counts unless it is ``Unpack[SomeTypedDict]``. Each one left is in ``JUSTIFIED``
with the reason no precise type fits; a new one fails here (type it, or justify it), and so
does an entry that no longer occurs (the list stays exact).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Unpack

import cftokens
from cftokens.client import ClientSettings

_ANY = re.compile(r"\bAny\b")
_JSON_OBJECT = re.compile(r"\b(?:dict|Mapping)\[str, Any\]")

_IPYTHON = "IPython's display protocol: its keyword arguments and return are IPython's own"
_COLUMNS = (
    "the rules' findings as column batches: int64 arrays and coded columns side by side, "
    "one tuple type per batch layout"
)
_CODED = (
    "a coded column of the rules' findings holds any per-finding value (text, a fix, None); "
    "the rules' internals, which could make it generic"
)
_HCL = (
    "an evaluated HCL value: a string, number, bool, list or object (the Terraform reader, "
    "which another change moves out of the audit)"
)
JUSTIFIED: dict[str, str] = {
    "cftokens.AuditExplorer._repr_mimebundle_ **kwargs": _IPYTHON,
    "cftokens.AuditExplorer._repr_mimebundle_ return": _IPYTHON,
    "cftokens.TokenBuilder._repr_mimebundle_ **kwargs": _IPYTHON,
    "cftokens.TokenBuilder._repr_mimebundle_ return": _IPYTHON,
    "cftokens.widgets.SecretField.__init__ **kwargs": (
        "passed to ipywidgets.DOMWidget, whose keyword arguments are untyped traitlets"
    ),
    "cftokens.Resource value": (
        "an entry cftokens cannot parse keeps the wire's value verbatim: any JSON, mappings frozen"
    ),
    "cftokens.Resource.__init__ value": "as the field: any JSON value, kept verbatim",
    "cftokens.Resource.unparsed value": "as the field: any JSON value, kept verbatim",
    "cftokens.audit.risk_score return": "numpy's shape parameter (ndarray[Any, dtype[float64]])",
    "cftokens.audit.hcl.read_configuration return": _HCL,
    "cftokens.model.terraform.declared_tokens resources": _HCL,
    "cftokens.audit.rules.Hits.batches return": _COLUMNS,
    "cftokens.audit.rules.base.Coded.__init__ values": _CODED,
    "cftokens.audit.rules.base.Coded.decoded return": _CODED,
    "cftokens.audit.rules.base.Coded.of value": _CODED,
    "cftokens.audit.rules.base.Coded.per_key make": _CODED,
    "cftokens.audit.terraform.to_token values": _HCL,
    "cftokens.audit.terraform.token_records resources": _HCL,
}


def _public_modules() -> Iterator[str]:
    yield "cftokens"
    for found in pkgutil.walk_packages(cftokens.__path__, "cftokens."):
        if not any(part.startswith("_") for part in found.name.split(".")[1:]):
            yield found.name


def _text(annotation: object) -> str:
    return annotation if isinstance(annotation, str) else repr(annotation)


def _loose(annotation: object) -> bool:
    if annotation is inspect.Parameter.empty:
        return False
    return bool(_ANY.search(_JSON_OBJECT.sub("JSON", _text(annotation))))


def _signature_problems(where: str, function: Callable[..., object]) -> Iterator[str]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature
        return
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            if not _text(parameter.annotation).startswith("Unpack["):
                yield f"{where} **{parameter.name}"
        elif _loose(parameter.annotation):
            yield f"{where} {parameter.name}"
    if _loose(signature.return_annotation):
        yield f"{where} return"


def _class_problems(where: str, cls: type) -> Iterator[str]:
    seen: set[int] = set()
    for base in cls.__mro__:
        if not base.__module__.startswith("cftokens"):
            continue
        protocol = getattr(base, "_is_protocol", False)
        for name, value in vars(base).items():
            if name.startswith("_") and name not in ("__init__", "__call__", "_repr_mimebundle_"):
                continue
            if name == "__init__" and protocol:
                continue  # typing's placeholder: a Protocol is not instantiated
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if isinstance(value, property):
                value = value.fget
            if inspect.isfunction(value) and id(value) not in seen:
                seen.add(id(value))
                yield from _signature_problems(f"{where}.{name}", value)
        if base is cls:
            for name, annotation in vars(base).get("__annotations__", {}).items():
                if not name.startswith("_") and _loose(annotation):
                    yield f"{where} {name}"


def loose_signatures() -> set[str]:
    """Every loose annotation of the public surface, as ``"<qualified name> <parameter>"``."""
    found: set[str] = set()
    visited: set[int] = set()
    for module_name in _public_modules():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the deprecated aliases
            module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name, None)
            if id(value) in visited:
                continue
            visited.add(id(value))
            where = f"{module_name}.{name}"
            if isinstance(value, type) and value.__module__.startswith("cftokens"):
                found.update(_class_problems(where, value))
            elif inspect.isfunction(value) and value.__module__.startswith("cftokens"):
                found.update(_signature_problems(where, value))
    return found


def test_no_new_any_or_bare_kwargs_on_the_public_surface() -> None:
    found = loose_signatures()
    assert sorted(found - set(JUSTIFIED)) == [], "type these (or justify them in JUSTIFIED)"
    assert sorted(set(JUSTIFIED) - found) == [], "no longer loose: remove from JUSTIFIED"
    assert all(JUSTIFIED.values()), "each justified one says why"


def test_the_check_sees_what_it_must() -> None:
    """The scan reports a loose annotation, a bare ``**kwargs`` and an ``Any`` return, and
    passes a JSON object, an ``Unpack`` and a precise type."""

    def sample(a: Any, b: dict[str, Any], *, c: int, **rest: Any) -> list[Any]:
        return []

    def typed(a: Mapping[str, Any], **rest: Unpack[ClientSettings]) -> int:
        return 0

    assert set(_signature_problems("s", sample)) == {"s a", "s **rest", "s return"}
    assert set(_signature_problems("t", typed)) == set()


def test_the_client_option_dicts_are_the_constructors_keywords() -> None:
    """``ClientOptions``/``AsyncClientOptions`` (``from_env(**options)``) and
    ``ClientSettings`` (``Sandbox.client(token, ip, **settings)``) name exactly the clients'
    keyword arguments, so they cannot drift apart."""
    import cftokens as cft
    from cftokens.client import AsyncClientOptions, ClientOptions

    def keywords(cls: type) -> set[str]:
        parameters = inspect.signature(cls).parameters.values()
        return {p.name for p in parameters if p.kind is p.KEYWORD_ONLY}

    def keys(typed: Any) -> set[str]:
        return set(typed.__required_keys__ | typed.__optional_keys__)

    assert keys(ClientOptions) == keywords(cft.Client)
    assert keys(AsyncClientOptions) == keywords(cft.AsyncClient)
    assert keys(ClientSettings) == keywords(cft.Client) - {"token", "transport"}
    for method in (cft.Sandbox.client, cft.Sandbox.async_client):
        parameters = inspect.signature(method).parameters
        assert list(parameters) == ["self", "token", "ip", "client_kwargs"]
        assert parameters["client_kwargs"].annotation == "Unpack[ClientSettings]"
