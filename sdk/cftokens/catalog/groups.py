"""The permission-group catalogue: every API-token permission group Cloudflare lists."""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from attrs import field, frozen

from .._ids import Scope, is_id
from .._shown import field_repr
from ..errors import AmbiguousPermissionGroup, CloudflareError, UnknownPermissionGroup
from ._data import load_json, records
from .risk import risk_families

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Level", "PermissionGroup", "PermissionGroupCatalog", "permission_groups"]


class Level(enum.StrEnum):
    """How much a group can change: ``read``, ``write`` (incl. purge, revoke, admin), ``other``."""

    READ = "read"
    WRITE = "write"
    OTHER = "other"


@frozen(kw_only=True)
class PermissionGroup:
    """One permission group: ``id``, ``name``, ``scope``, ``description`` and ``level``.

    Names are not unique across scopes ("Logs Read" exists for accounts and for zones); the
    pair (name, scope) and the id are.
    """

    id: str = field(repr=field_repr)
    name: str = field(repr=field_repr)
    scope: Scope
    description: str = ""
    level: Level = Level.OTHER

    @property
    def is_write(self) -> bool:
        """True for write-level groups (the audit's W(T))."""
        return self.level is Level.WRITE

    @property
    def families(self) -> frozenset[str]:
        """The audit risk families this group belongs to (PE, HIJACK, EXFIL, CRED, EVASION)."""
        return risk_families.of(self.id)

    def __str__(self) -> str:
        return self.name


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


_SCOPE_WORDS = {"zone": Scope.ZONE, "account": Scope.ACCOUNT, "user": Scope.USER}
# Separators people put between scope, product and level: "Zone:DNS:Edit", "Zone / DNS / Edit",
# "Zone - DNS - Edit" (hyphen with spaces, en and em dashes), "Zone.DNS:Edit".
_SEPARATORS = re.compile(r"\s*(?::|/|\.|\s-\s|[\u2013\u2014])\s*")
_LEVEL_WORDS = {"edit": "write", "write": "write", "read": "read"}


def spellings(
    query: str, aliases: Mapping[str, str] | None = None
) -> Iterator[tuple[str, Scope | None]]:
    """The catalogue names a written group name may mean, most literal first, each with the
    scope the text states (``None`` when it states none). Names are normalised (lower case).

    Covers the API name ("DNS Write"), the dashboard's "Edit" for "Write", the dashboard and
    README forms ``Zone:DNS:Edit``, ``Zone / DNS / Edit``, ``Zone - DNS - Edit`` (hyphen, en
    and em dashes), ``Zone.DNS:Edit``, ``DNS:Edit``, ``Zone:Zone:Read`` (→ Zone Read),
    ``Account:Cloudflare Pages:Edit`` (→ Pages Write), ``Zone:Cache Purge:Purge`` (→ Cache
    Purge), a scope word in front ("Account API Tokens Edit"), and the old names of
    Cloudflare's schema (``aliases``: "Account Filter Lists Edit" → Account Rule Lists Write).
    """
    aliases = aliases or {}
    seen: set[tuple[str, Scope | None]] = set()
    for name, scope in _raw_spellings(_normalise(query)):
        yield from _forms(name, scope, aliases, seen)


def _forms(
    name: str,
    scope: Scope | None,
    aliases: Mapping[str, str],
    seen: set[tuple[str, Scope | None]],
) -> Iterator[tuple[str, Scope | None]]:
    """``name`` normalised, its old-name alias, and "… write" for "… edit"; each once."""
    name = _normalise(name)
    for candidate in (name, aliases.get(name)):
        if not candidate:
            continue
        forms = [candidate]
        if candidate.endswith(" edit"):
            forms.append(candidate[: -len(" edit")] + " write")
        for form in forms:
            if (form, scope) not in seen:
                seen.add((form, scope))
                yield form, scope


def _raw_spellings(key: str) -> Iterator[tuple[str, Scope | None]]:
    """The names (not yet normalised) a normalised query may mean, most literal first."""
    yield key, None
    parts = [p for p in _SEPARATORS.split(key) if p]
    words = key.split()
    if len(parts) < 2 and len(words) >= 2 and words[0] in _SCOPE_WORDS:
        # "Zone DNS Write", "Account API Tokens Edit": a scope word in front of a name
        yield " ".join(words[1:]), _SCOPE_WORDS[words[0]]
        yield key, _SCOPE_WORDS[words[0]]
        return
    if len(parts) >= 2:
        yield from _separated(parts)


def _separated(parts: list[str]) -> Iterator[tuple[str, Scope | None]]:
    """``Scope:Product:Level`` and its shorter forms, split at the separators."""
    scope = _SCOPE_WORDS.get(parts[0]) if len(parts) >= 3 or parts[0] in _SCOPE_WORDS else None
    if scope is not None:
        parts = parts[1:]
    level_word = parts[-1] if len(parts) >= 2 and " " not in parts[-1] else ""
    products = parts[:-1] if level_word else parts
    product_forms = [" ".join(products), ": ".join(products)]
    for product in list(product_forms):
        if product.startswith("cloudflare "):
            product_forms.append(product[len("cloudflare ") :])
    level = _LEVEL_WORDS.get(level_word, level_word)
    for product in product_forms:
        if level:
            yield f"{product} {level}", scope
            yield f"{product}: {level}", scope  # "Cloud Email Security: Read"
            if product.split()[-1] == level_word:  # "Cache Purge" : "Purge"
                yield product, scope
        else:
            yield product, scope
        if scope is not None:  # "Account:API Tokens:Edit" → "Account API Tokens Write"
            prefix = scope.label
            if not product.startswith(prefix + " "):
                yield f"{prefix} {product} {level}".strip(), scope


class PermissionGroupCatalog:
    """All permission groups, loaded on first use from the package data.

    >>> from cftokens import permission_groups
    >>> permission_groups.get("DNS Edit").name
    'DNS Write'
    >>> permission_groups.get("Logs Read", scope="zone").scope.label
    'zone'
    """

    def __init__(self, groups: list[PermissionGroup] | None = None):
        self._groups: list[PermissionGroup] | None = groups
        self._by_id: dict[str, PermissionGroup] = {}
        self._by_name: dict[str, list[PermissionGroup]] = {}
        self._lock = threading.Lock()
        self._aliases: dict[str, str] = {}
        if groups is not None:
            self._index(groups)

    # -- loading ------------------------------------------------------------------------
    def _load(self) -> list[PermissionGroup]:
        groups = self._groups
        if groups is None:
            with self._lock:
                if self._groups is None:
                    raw = load_json("permission_groups.json")
                    data = records(raw["groups"])
                    self._aliases = {
                        _normalise(old): _normalise(new)
                        for old, new in (raw.get("meta") or {}).get("name_overrides", {}).items()
                    }
                    loaded = [
                        PermissionGroup(
                            id=g["id"],
                            name=g["name"],
                            scope=Scope(g["scope"]),
                            description=g["description"],
                            level=Level(g["level"]),
                        )
                        for g in data
                    ]
                    self._index(loaded)
                    self._groups = loaded
                groups = self._groups
        return groups

    def _index(self, groups: list[PermissionGroup]) -> None:
        by_name: dict[str, list[PermissionGroup]] = {}
        for g in groups:
            by_name.setdefault(_normalise(g.name), []).append(g)
        self._by_id = {g.id: g for g in groups}
        self._by_name = by_name

    # -- lookups --------------------------------------------------------------------------
    def by_id(self, group_id: str) -> PermissionGroup | None:
        """The group with this id, or None."""
        self._load()
        return self._by_id.get(group_id)

    def lookup(self, query: str | PermissionGroup) -> list[PermissionGroup]:
        """Every group matching a name or id, one per scope. Raises with suggestions on a miss.

        Accepts API names ("DNS Write"), dashboard wording ("DNS Edit", "Zone / DNS / Edit"),
        any letter case, and ids.
        """
        if isinstance(query, PermissionGroup):
            return [query]
        if not isinstance(query, str):
            raise UnknownPermissionGroup(
                f"a permission group is named by a string or id, got {type(query).__name__}",
                query=str(query),
            )
        self._load()
        if is_id(query):
            group = self._by_id.get(query)
            if group is None:
                raise UnknownPermissionGroup(
                    f"no permission group has id {query}; it may be new or retired. "
                    "List current groups with client.permission_groups.list()",
                    query=query,
                )
            return [group]
        found = self._find_by_name(query)
        if found:
            return list(found)
        suggestions = self.suggest(query)
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        raise UnknownPermissionGroup(
            f"no permission group is called {query!r}{hint} "
            "(search with cftokens.permission_groups.search(text))",
            query=query,
            suggestions=suggestions,
        )

    def written(self, text: str) -> list[PermissionGroup]:
        """Every group a name or id written in a definition may mean (one per scope; [] when
        none): :meth:`lookup` of the text, then of it with underscores and runs of spaces as
        one space. How the audit reads a group given as text or by name only, and how its
        fixes find that group again."""
        for spelling in dict.fromkeys((text, " ".join(text.replace("_", " ").split()))):
            try:
                return self.lookup(spelling)
            except (CloudflareError, ValueError):
                continue
        return []

    def _find_by_name(self, query: str, scope: Scope | None = None) -> list[PermissionGroup]:
        """The groups a written name means (see :func:`spellings`), optionally in one scope.

        The first spelling that names a group wins; a scope written in the name ("Zone:…")
        or passed in must match, never loosened to another scope's group.
        """
        self._load()
        for name, implied in spellings(query, self._aliases):
            wanted = scope or implied
            found = self._by_name.get(name)
            if not found:
                continue
            if wanted is not None:
                found = [g for g in found if g.scope is wanted]
                if not found:
                    continue
            return list(found)
        if scope is not None and scope is not Scope.R2_BUCKET:
            prefixed = f"{scope.label} {_normalise(query)}"  # "API Tokens:Edit" of an account
            if not _normalise(query).startswith(scope.label + " "):
                return self._find_by_name(prefixed, scope)
        return []

    def resolve(self, query: str, scope: str | Scope | None = None) -> PermissionGroup | None:
        """The one group a written name means in ``scope`` (or without one), else None.

        Never raises for a name: use it where a miss is an answer (readers of other people's
        files), :meth:`get` where a miss is a mistake.
        """
        if not isinstance(query, str):
            return None
        wanted = Scope.parse(scope) if scope is not None else None
        if is_id(query):
            group = self.by_id(query)
            return group if group and (wanted is None or group.scope is wanted) else None
        found = self._find_by_name(query, wanted)
        return found[0] if len(found) == 1 else None

    def get(
        self,
        query: str | PermissionGroup | tuple[str, str | Scope],
        scope: str | Scope | None = None,
    ) -> PermissionGroup:
        """The one group for a name, id, or ``(name, scope)`` pair.

        A name that exists in several scopes ("Logs Read") needs ``scope="zone"`` or
        ``scope="account"``; without it :class:`AmbiguousPermissionGroup` is raised.
        """
        if isinstance(query, tuple):
            query, scope = query
        if scope is not None and isinstance(query, str) and not is_id(query):
            # the scope picks among the spellings ("API Tokens:Edit" for an account is
            # Account API Tokens Write), never loosened to another scope's group
            in_scope = self._find_by_name(query, Scope.parse(scope))
            if len(in_scope) == 1:
                return in_scope[0]
        candidates = self.lookup(query)
        if scope is not None:
            wanted = Scope.parse(scope)
            fitting = [g for g in candidates if g.scope is wanted]
            if not fitting:
                have = ", ".join(g.scope.label for g in candidates)
                raise UnknownPermissionGroup(
                    f"{candidates[0].name} exists only with scope {have}, not {wanted.label}",
                    query=str(query),
                )
            return fitting[0]
        if len(candidates) > 1:
            scopes = [g.scope.label for g in candidates]
            raise AmbiguousPermissionGroup(
                f"{candidates[0].name!r} exists for {' and '.join(scopes)} resources; "
                f"pass scope={scopes[0]!r} or scope={scopes[1]!r}",
                query=str(query),
                scopes=scopes,
            )
        return candidates[0]

    def suggest(self, query: str, limit: int = 5) -> list[str]:
        """The closest group names to ``query``."""
        import difflib

        groups = self._load()
        names = sorted({g.name for g in groups})
        lowered = {n.lower(): n for n in names}
        forms = [name for name, _ in spellings(query, self._aliases)]
        key = forms[-1] if len(forms) > 1 else _normalise(query)  # "account dns write"
        result: list[str] = []
        for form in dict.fromkeys([key, _normalise(query)]):
            for c in difflib.get_close_matches(form, list(lowered), n=limit, cutoff=0.55):
                if lowered[c] not in result:
                    result.append(lowered[c])
        words = [w for w in re.split(r"\W+", key) if len(w) > 1]
        for name in names:
            if len(result) >= limit:
                break
            if name not in result and words and all(w in name.lower() for w in words[:2]):
                result.append(name)
        return result[:limit]

    def search(self, text: str, *, scope: str | Scope | None = None) -> list[PermissionGroup]:
        """Groups whose name (first), former name or description mention every word of
        ``text``; a name written as people write it ("Zone:DNS:Edit", "Account Filter Lists
        Edit") puts the group it means first.

        A search that finds nothing raises :class:`UnknownPermissionGroup` with suggestions.
        """
        groups = self._load()
        wanted = Scope.parse(scope) if scope is not None else None
        exact = {g.id for g in self._find_by_name(text, wanted)}
        words = [w for w in re.split(r"\s+", _normalise(text)) if w]
        former: dict[str, list[str]] = {}
        for old, new in self._aliases.items():
            former.setdefault(new, []).append(old)
        ranked: list[tuple[int, str, str, PermissionGroup]] = []
        for g in groups:
            if wanted is not None and g.scope is not wanted:
                continue
            name = g.name.lower()
            haystack = " ".join([name, *former.get(name, ()), g.description.lower()])
            if g.id in exact:
                ranked.append((-1, name, g.scope.value, g))
                continue
            if not all(w in haystack for w in words):
                continue
            if name == " ".join(words):
                rank = 0
            elif name.startswith(words[0] if words else ""):
                rank = 1
            elif all(w in name for w in words):
                rank = 2
            else:
                rank = 3
            ranked.append((rank, name, g.scope.value, g))
        if not ranked:
            suggestions = self.suggest(text)
            hint = f"; close names: {', '.join(suggestions)}" if suggestions else ""
            raise UnknownPermissionGroup(
                f"no permission group matches {text!r}{hint}", query=text, suggestions=suggestions
            )
        return [entry[3] for entry in sorted(ranked, key=lambda e: e[:3])]

    def twin(self, group: PermissionGroup, level: Level | str) -> PermissionGroup | None:
        """The same group at another level in the same scope (``DNS Write`` → ``DNS Read``)."""
        self._load()
        wanted = Level(level)
        base = re.sub(r" (read|write|edit)$", "", group.name.lower())
        suffix = {Level.READ: " read", Level.WRITE: " write"}.get(wanted)
        if suffix is None:
            return None
        for candidate in self._by_name.get(base + suffix, []):
            if candidate.scope is group.scope:
                return candidate
        return None

    def in_scope(self, scope: str | Scope) -> list[PermissionGroup]:
        """Every group of one scope."""
        wanted = Scope.parse(scope)
        return [g for g in self._load() if g.scope is wanted]

    # -- collection protocol --------------------------------------------------------------
    def __getitem__(self, query: str) -> PermissionGroup:
        return self.get(query)

    def __contains__(self, query: object) -> bool:
        if isinstance(query, PermissionGroup):
            return self.by_id(query.id) == query
        if not isinstance(query, str):
            return False
        try:
            self.lookup(query)
        except UnknownPermissionGroup:
            return False
        return True

    def __iter__(self) -> Iterator[PermissionGroup]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        if self._groups is None:
            return "<PermissionGroupCatalog (not loaded yet)>"
        return f"<PermissionGroupCatalog of {len(self._groups)} permission groups>"

    def as_frame(self) -> pd.DataFrame:
        """A DataFrame: id, name, scope (category), level (category), families, description."""
        import pandas as pd

        groups = self._load()
        frame = pd.DataFrame(
            {
                "id": [g.id for g in groups],
                "name": [g.name for g in groups],
                "scope": pd.Categorical([g.scope.label for g in groups]),
                "level": pd.Categorical(
                    [g.level.value for g in groups], categories=["read", "write", "other"]
                ),
                "families": [",".join(sorted(g.families)) for g in groups],
                "description": [g.description for g in groups],
            }
        )
        return frame


permission_groups = PermissionGroupCatalog()
"""The catalogue of every API-token permission group (``cftokens.permission_groups``)."""
