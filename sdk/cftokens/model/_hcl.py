"""Terraform configuration (``.tf`` files and directories), read offline.

Needs python-hcl2 (``pip install 'cftokens[terraform]'``). A directory is read as Terraform
reads a module: every ``*.tf`` file in it, ``terraform.tfvars`` and ``*.auto.tfvars`` (plus any
``var_files`` given), local child modules (``source = "./…"``) with their inputs. A
``*.tf.json`` or ``*.tofu`` file raises :class:`InvalidInput`; a registry or remote module is
returned as one :data:`UNREAD_MODULE` entry (a gap: it may declare tokens). Override files are
merged as Terraform merges them; a block declared twice raises. Values are evaluated by
:mod:`cftokens.model._hclexpr`:

- ``var.x`` is its tfvars value, else ``TF_VAR_x``, else its default, else unknown;
- the permission-group data sources resolve against the bundled catalogue: provider v4
  ``data.cloudflare_api_token_permission_groups.<n>.zone["DNS Write"]`` (also ``.account``,
  ``.user``, ``.r2``, ``.permissions``; keys in any spelling the catalogue accepts, see
  :func:`cftokens.catalog.groups.spellings`) and provider v5
  ``cloudflare_api_token_permission_groups_list`` / ``cloudflare_account_api_token_permission_
  groups_list`` filtered by ``name`` and ``scope`` (``.result[0].id``);
- another resource's attribute is the value written in its configuration, else unknown
  (``cloudflare_zone.x.id`` is known only after apply); other data sources are unknown.

A name the catalogue does not know in a data-source key raises :class:`InvalidInput` (Terraform
would fail too), never a silently missing grant.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..catalog.groups import permission_groups
from ..errors import InvalidInput, require_extra
from ._hclexpr import Template, Unknown, apply_steps, evaluate, has_unknown, parse
from .resources import Scope

__all__ = ["UNREAD_MODULE", "read_configuration"]

TOKEN_TYPES = ("cloudflare_api_token", "cloudflare_account_token")
_V4_MAPS = {"zone": "zone", "account": "account", "user": "user", "r2": "r2 bucket"}
_LIST_SOURCES = (
    "cloudflare_api_token_permission_groups_list",
    "cloudflare_account_api_token_permission_groups_list",
)


UNREAD_MODULE = "module"
"""The type :meth:`_Module.tokens` gives a child module it cannot read offline (its values
name the ``source``): a gap, since it may declare tokens."""


def _hcl2() -> Any:
    require_extra("terraform", "reading .tf files (or audit `terraform show -json` output)", "hcl2")
    import hcl2

    return hcl2


def _load(file: Path) -> dict[str, Any]:
    hcl2 = _hcl2()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file}: cannot read it ({exc})") from None
    try:
        data = hcl2.loads(text)
    except Exception as exc:  # lark's errors have no common public base
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"{file}: not valid HCL ({first})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{file}: not a Terraform configuration")
    return data


def _tf_files(folder: Path) -> list[Path]:
    """The ``.tf`` files of a module folder; JSON-syntax files (``*.tf.json``) and OpenTofu's
    ``*.tofu`` files are refused, never skipped: a token they declare would go unjudged."""
    unread = sorted(p for glob in ("*.tf.json", "*.tofu", "*.tofu.json") for p in folder.glob(glob))
    if unread:
        raise InvalidInput(
            f"{unread[0]}: JSON-syntax (.tf.json) and OpenTofu (.tofu) files are not read "
            "offline; audit `terraform show -json plan.out > plan.json` (or `tofu show "
            "-json`) instead, or rewrite it as .tf"
        )
    return sorted(folder.glob("*.tf"))


def _label(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _raw(value: Any) -> Any:
    """python-hcl2's serialised value as a parsed expression node (or a container of them)."""
    if value is None or isinstance(value, bool | int | float):
        return ("root", 0, 0, ("lit", 0, 0, value), "")
    if isinstance(value, str):
        text = value
        if text.startswith('"<<') and text.endswith('"'):
            text = text[1:-1] + "\n"  # a heredoc, quoted by the serialiser
        elif text.startswith("${") and text.endswith("}") and _single_interpolation(text):
            text = text[2:-1]
        return parse(text)
    if isinstance(value, list):
        return ("rawlist", [_raw(v) for v in value])
    if isinstance(value, dict):
        return ("rawmap", [(k, _raw(v)) for k, v in value.items() if k != "__is_block__"])
    raise InvalidInput(f"unexpected value of type {type(value).__name__} in the configuration")


def _single_interpolation(text: str) -> bool:
    depth = 0
    for i, c in enumerate(text):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return True


class _Module:
    """One module's configuration and the evaluation of its references."""

    def __init__(
        self,
        files: list[Path],
        *,
        prefix: str,
        inputs: Mapping[str, Any],
        now: datetime,
        where: str,
        depth: int = 0,
    ):
        self.prefix = prefix
        self.now = now
        self.where = where
        self.depth = depth
        self.dir = files[0].parent if files else Path(".")
        self.variables: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self.modules: dict[str, dict[str, Any]] = {}
        self._local_values: dict[str, Any] = {}
        self._busy: set[str] = set()
        # Terraform reads override files (override.tf, *_override.tf) after all the others
        for file in sorted(files, key=_is_override):
            self._collect(_load(file), file, override=_is_override(file))
        self.values: dict[str, Any] = {}
        for name, block in self.variables.items():
            if name in inputs:
                self.values[name] = inputs[name]
            elif "default" in block:
                self.values[name] = self.eval(_raw(block["default"]))
            else:
                self.values[name] = Unknown(f"var.{name}")

    def _collect(self, data: Mapping[str, Any], file: Path, *, override: bool) -> None:
        """One file's declarations: variables, locals, data sources and resources, modules."""
        self._collect_variables(data, override=override)
        self._collect_locals(data)
        self._collect_blocks(data, file, override=override)
        self._collect_modules(data, file, override=override)

    def _collect_variables(self, data: Mapping[str, Any], *, override: bool) -> None:
        for block in data.get("variable") or []:
            for name, body in block.items():
                body = body if isinstance(body, dict) else {}
                if override:
                    body = {**self.variables.get(_label(name), {}), **body}
                self.variables[_label(name)] = body

    def _collect_locals(self, data: Mapping[str, Any]) -> None:
        for block in data.get("locals") or []:
            for name, value in block.items():
                if name != "__is_block__":
                    self.locals[name] = value

    def _collect_blocks(self, data: Mapping[str, Any], file: Path, *, override: bool) -> None:
        """The data sources and resources, by (type, name)."""
        for kind, target in (("data", self.data), ("resource", self.resources)):
            for block in data.get(kind) or []:
                for rtype, named in block.items():
                    if not isinstance(named, dict):
                        continue
                    for name, body in named.items():
                        if name == "__is_block__" or not isinstance(body, dict):
                            continue
                        key = (_label(rtype), _label(name))
                        _declare(target, key, f"{kind} {key[0]}.{key[1]}", body, file, override)

    def _collect_modules(self, data: Mapping[str, Any], file: Path, *, override: bool) -> None:
        for block in data.get("module") or []:
            for name, body in block.items():
                if isinstance(body, dict):
                    label = _label(name)
                    _declare(self.modules, label, f"module {label}", body, file, override)

    # -- evaluation ----------------------------------------------------------------------
    def eval(self, node: Any, scope: Mapping[str, Any] | None = None) -> Any:
        if node[0] == "rawlist":
            return [self.eval(n, scope) for n in node[1]]
        if node[0] == "rawmap":
            out: dict[Any, Any] = {}
            for key, value in node[1]:
                k = self.eval(_raw(key), scope) if key[:1] in ('"', "$", "(") else key
                if not isinstance(k, str | Template | Unknown):
                    k = json.dumps(k)
                out[k] = self.eval(value, scope)
            return out
        return evaluate(node, self.resolve, self.now, scope)

    def resolve(self, root: str, steps: list[Any], source: str) -> Any:
        names = [s[1] for s in steps if s[0] == "attr"]
        if root == "var":
            if not steps or steps[0][0] != "attr" or steps[0][1] not in self.values:
                if steps and steps[0][1] not in self.values:
                    raise InvalidInput(f"{self.where}: {source} names an undeclared variable")
                return Unknown(source)
            return apply_steps(self.values[steps[0][1]], steps[1:], source)
        if root == "local":
            if not steps or steps[0][1] not in self.locals:
                raise InvalidInput(f"{self.where}: {source} names an undeclared local value")
            return apply_steps(self._local(steps[0][1]), steps[1:], source)
        if root == "data" and len(names) >= 2 and steps[0][0] == steps[1][0] == "attr":
            return self._data(names[0], names[1], steps[2:], source)
        if not steps:
            raise InvalidInput(
                f"{self.where}: {source!r} is not a valid reference (Terraform names a value "
                "as var.x, local.x, data.TYPE.NAME.x or TYPE.NAME.x)"
            )
        if root in ("path", "terraform", "module", "self", "each", "count"):
            return Unknown(source)
        if steps and steps[0][0] == "attr" and (root, steps[0][1]) in self.resources:
            body = self.resources[(root, steps[0][1])]
            if len(steps) >= 2 and steps[1][0] == "attr" and steps[1][1] in body:
                key = f"{root}.{steps[0][1]}.{steps[1][1]}"
                if key in self._busy or has_meta(body):
                    return Unknown(source)
                self._busy.add(key)
                try:
                    value = self.eval(_raw(body[steps[1][1]]))
                finally:
                    self._busy.discard(key)
                return apply_steps(value, steps[2:], source)
        return Unknown(source)

    def _local(self, name: str) -> Any:
        if name in self._local_values:
            return self._local_values[name]
        if name in self._busy:
            raise InvalidInput(f"{self.where}: local.{name} refers to itself")
        self._busy.add(name)
        try:
            value = self.eval(_raw(self.locals[name]))
        finally:
            self._busy.discard(name)
        self._local_values[name] = value
        return value

    def _data(self, rtype: str, name: str, steps: list[Any], source: str) -> Any:
        body = self.data.get((rtype, name))
        if rtype == "cloudflare_api_token_permission_groups":
            return _v4_groups(steps, source)
        if rtype in _LIST_SOURCES and body is not None:
            args = {k: self.eval(_raw(v)) for k, v in body.items() if k in ("name", "scope")}
            return apply_steps(
                {"result": _list_groups(args, f"data.{rtype}.{name}")}, steps, source
            )
        return Unknown(source)

    # -- tokens --------------------------------------------------------------------------
    def tokens(self) -> Iterator[tuple[str, str, Any]]:
        """(address, type, values) of every token resource instance, child modules too."""
        for (rtype, name), body in self.resources.items():
            if rtype not in TOKEN_TYPES:
                continue
            for suffix, scope in self._instances(body):
                address = f"{self.prefix}{rtype}.{name}{suffix}"
                values = self._body(body, scope, address)
                values["__file__"] = body["__file__"]
                yield address, rtype, values
        for name, body in self.modules.items():
            yield from self._child(name, body)

    def _instances(self, body: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        if "for_each" in body:
            items = self.eval(_raw(body["for_each"]))
            if isinstance(items, list) and not has_unknown(items):
                items = {str(i): i for i in items}
            # a key that is a template or a reference is not known before apply
            if isinstance(items, dict) and not any(
                isinstance(k, Template | Unknown) for k in items
            ):
                for key, value in items.items():
                    yield f"[{json.dumps(key)}]", {"each": {"key": key, "value": value}}
                return
            yield (
                "[each.key]",
                {"each": {"key": Unknown("each.key"), "value": Unknown("each.value")}},
            )
            return
        if "count" in body:
            count = self.eval(_raw(body["count"]))
            if isinstance(count, int) and not isinstance(count, bool):
                for i in range(count):
                    yield f"[{i}]", {"count": {"index": i}}
                return
            yield "[count.index]", {"count": {"index": Unknown("count.index")}}
            return
        yield "", {}

    def _body(self, body: Mapping[str, Any], scope: dict[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key in (
                "__is_block__",
                "__file__",
                "__overrides__",
                "for_each",
                "count",
                "lifecycle",
                "provider",
                "depends_on",
            ):
                continue
            if key == "dynamic":
                for block in value if isinstance(value, list) else [value]:
                    for label, dyn in block.items():
                        out.setdefault(_label(label), []).extend(
                            self._dynamic(_label(label), dyn, scope, where)
                        )
                continue
            if _is_blocks(value):
                out[key] = [self._body(b, scope, where) for b in value]
            else:
                out[key] = self.eval(_raw(value), scope)
        return out

    def _dynamic(
        self, label: str, dyn: Mapping[str, Any], scope: dict[str, Any], where: str
    ) -> list[Any]:
        items = self.eval(_raw(dyn.get("for_each")), scope)
        iterator = dyn.get("iterator")
        var = str(self.eval(_raw(iterator), scope)) if iterator is not None else label
        content = (dyn.get("content") or [{}])[0]
        if isinstance(items, list) and not has_unknown(items):
            items = dict(enumerate(items))
        if not isinstance(items, dict):
            return [Unknown(f"{where}: dynamic {label!r} blocks")]
        return [
            self._body(content, {**scope, var: {"key": k, "value": v}}, where)
            for k, v in items.items()
        ]

    def _child(self, name: str, body: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
        source = self.eval(_raw(body.get("source", '""')))
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            # registry and remote modules are not read offline: they may declare tokens
            yield f"{self.prefix}module.{name}", UNREAD_MODULE, {"source": source}
            return
        if self.depth > 8:
            raise InvalidInput(f"{self.where}: modules nested more than 8 deep")
        folder = (self.dir / source).resolve()
        files = _tf_files(folder)
        if not files:
            raise InvalidInput(f"{self.where}: module {name!r} source {source} has no .tf files")
        inputs = {
            k: self.eval(_raw(v))
            for k, v in body.items()
            if k
            not in (
                "source",
                "version",
                "providers",
                "depends_on",
                "count",
                "for_each",
                "__is_block__",
                "__file__",
                "__overrides__",
            )
        }
        child = _Module(
            files,
            prefix=f"{self.prefix}module.{name}.",
            inputs=inputs,
            now=self.now,
            where=str(folder),
            depth=self.depth + 1,
        )
        yield from child.tokens()


def _is_override(file: Path) -> bool:
    return file.name == "override.tf" or file.name.endswith("_override.tf")


def _declare(
    target: dict[Any, dict[str, Any]],
    key: Any,
    what: str,
    body: Mapping[str, Any],
    file: Path,
    override: bool,
) -> None:
    """Record one resource, data source or module block, as Terraform does: declared once;
    an override file replaces the attributes and block types it names (same-type ``dynamic``
    blocks included) and keeps the others."""
    old = target.get(key)
    if not override:
        if old is not None:
            raise InvalidInput(f"{what} is declared twice ({old['__file__']} and {file})")
        target[key] = {**body, "__file__": str(file)}
        return
    if old is None:
        raise InvalidInput(f"{file}: overrides {what}, which no other file declares")
    merged = {k: v for k, v in old.items() if k not in body}
    blocks = {k for k, v in body.items() if _is_blocks(v)}
    dynamic = {_label(label) for b in body.get("dynamic") or [] for label in b}
    if "dynamic" in merged:  # an override of block type T replaces dynamic "T" blocks too
        kept = [{k: v for k, v in b.items() if _label(k) not in blocks} for b in merged["dynamic"]]
        merged["dynamic"] = [b for b in kept if b]
    for label in dynamic:
        merged.pop(label, None)
    merged.update(body)
    merged["__overrides__"] = [*old.get("__overrides__", []), str(file)]
    target[key] = merged


def has_meta(body: Mapping[str, Any]) -> bool:
    """True for resources with count/for_each (their attributes differ per instance)."""
    return "count" in body or "for_each" in body


def _is_blocks(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def _v4_groups(steps: list[Any], source: str) -> Any:
    """``data.cloudflare_api_token_permission_groups.<n>.<map>[key]`` from the catalogue."""
    if not steps or steps[0][0] != "attr":
        return Unknown(source)
    attr = steps[0][1]
    if attr == "id":
        return Unknown(source)
    if attr not in (*_V4_MAPS, "permissions"):
        raise InvalidInput(
            f"{source}: the permission-groups data source has zone, account, user, r2 and "
            "permissions maps"
        )
    scope = _V4_MAPS.get(attr)
    rest = steps[1:]
    if rest and rest[0][0] == "index" and isinstance(rest[0][1], str):
        key = rest[0][1]
        group = permission_groups.resolve(key, scope=scope)
        if group is None:
            where = f"{attr} map" if scope else "permissions map"
            raise InvalidInput(
                f"{source}: no permission group called {key!r} in the {where} of the bundled "
                "catalogue; check the name (cftokens catalog --search TEXT)"
            )
        return apply_steps(group.id, rest[1:], source)
    groups = permission_groups.in_scope(scope) if scope else list(permission_groups)
    return apply_steps({g.name: g.id for g in groups}, rest, source)


def _list_groups(args: Mapping[str, Any], where: str) -> Any:
    """The ``result`` list of a v5 permission-groups list data source, from the catalogue."""
    name, scope = args.get("name"), args.get("scope")
    if has_unknown(name) or has_unknown(scope):
        return Unknown(f"{where}.result")
    wanted = None
    if scope is not None:
        try:
            wanted = Scope.parse(str(scope))
        except InvalidInput:
            raise InvalidInput(f"{where}: unknown scope {scope!r}") from None
    if name is None:
        groups = permission_groups.in_scope(wanted) if wanted else list(permission_groups)
    else:
        text = unquote(str(name))
        found = permission_groups.resolve(text, scope=wanted)
        if found is None:
            try:
                groups = [
                    g for g in permission_groups.lookup(text) if wanted is None or g.scope is wanted
                ]
            except InvalidInput:
                groups = []
        else:
            groups = [found]
        if not groups:
            raise InvalidInput(
                f"{where}: no permission group called {text!r}"
                + (f" with scope {wanted.value}" if wanted else "")
                + " in the bundled catalogue; the data source's result would be empty"
            )
    return [
        {"id": g.id, "name": g.name, "description": g.description, "scopes": [g.scope.value]}
        for g in groups
    ]


def _tfvars(file: Path) -> dict[str, Any]:
    if file.suffix == ".json":
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{file}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise InvalidInput(f"{file}: a .tfvars.json file is one JSON object")
        return data
    raw = _load(file)
    out: dict[str, Any] = {}
    empty = _Module([], prefix="", inputs={}, now=datetime.now(UTC), where=str(file))
    for key, value in raw.items():
        if key == "__is_block__":
            continue
        out[key] = empty.eval(_raw(value))
        if has_unknown(out[key]):
            raise InvalidInput(f"{file}: {key} must be a literal value")
    return out


def _env_vars(env: Mapping[str, str]) -> dict[str, Any]:
    """``TF_VAR_name`` environment variables, as Terraform reads them (below any tfvars): a
    value written as a list or object is parsed as HCL, anything else is a string."""
    out: dict[str, Any] = {}
    reader = _Module([], prefix="", inputs={}, now=datetime.now(UTC), where="TF_VAR_*")
    for key, value in env.items():
        if not key.startswith("TF_VAR_") or len(key) == len("TF_VAR_"):
            continue
        text = value.strip()
        if text[:1] in ("[", "{"):
            parsed = reader.eval(parse(text))
            if has_unknown(parsed):
                raise InvalidInput(f"{key} must be a literal value")
            out[key[len("TF_VAR_") :]] = parsed
        else:
            out[key[len("TF_VAR_") :]] = value
    return out


def is_tfvars(path: Path) -> bool:
    """A Terraform variables file (``*.tfvars``, ``*.tfvars.json``)."""
    return path.name.endswith((".tfvars", ".tfvars.json"))


def read_configuration(
    path: Path,
    *,
    now: datetime,
    var_files: list[Path] | None = None,
    env: Mapping[str, str] | None = None,
) -> list[tuple[str, str, Any]]:
    """(address, type, values) of every token of a directory's module, given the directory,
    one of its ``.tf`` files or one of its ``*.tfvars`` files.

    A file is read as Terraform reads it: with the other ``.tf`` files of its directory and that
    directory's tfvars, and every token of the module is returned, not only those the file
    declares: a change to ``variables.tf``, a local, a data source or a tfvars value widens
    tokens declared elsewhere (a pre-commit hook passes only the changed files). A ``*.tfvars``
    file that Terraform does not load by itself (``prod.tfvars``) is applied as a
    ``-var-file``. Variables take, lowest first, their default, ``TF_VAR_*`` from ``env``
    (default: the process environment), tfvars files.
    """
    folder = path if path.is_dir() else path.parent
    var_files = list(var_files or [])
    if path.is_file() and is_tfvars(path) and path not in var_files:
        var_files.append(path)
    files = _tf_files(folder)
    if path.is_file() and not is_tfvars(path) and path not in files:
        files.append(path)  # a file not named *.tf, given explicitly
    if not files:
        raise InvalidInput(f"{path}: no .tf files in this directory")
    inputs: dict[str, Any] = _env_vars(os.environ if env is None else env)
    auto = [folder / "terraform.tfvars", folder / "terraform.tfvars.json"]
    auto += sorted(folder.glob("*.auto.tfvars")) + sorted(folder.glob("*.auto.tfvars.json"))
    auto = [f for f in auto if f.is_file()]
    for file in auto + [f for f in var_files if f not in auto]:
        if not file.is_file():
            raise InvalidInput(f"no variables file at {file}")
        inputs.update(_tfvars(file))
    module = _Module(files, prefix="", inputs=inputs, now=now, where=str(path))
    return list(module.tokens())
