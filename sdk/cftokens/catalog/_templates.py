"""The dashboard's API-token templates ("Edit zone DNS", "Read billing info", …).

``templates["Edit zone DNS"].build(zones=[zone_id], name="ci-dns")`` returns a
:class:`~cftokens.TokenSpec` with one policy per scope. Resources are always chosen by the
caller: where the dashboard defaults to "all accounts" or "all zones", ``build`` asks for the
resources (or ``all_accounts=True``/``all_zones=True``) instead of widening silently.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from attrs import frozen

from .._exports import export
from .._ids import Scope
from ..errors import InvalidInput, UnknownTemplate
from ..model.policy import Policy
from ..model.token import TokenSpec
from ._data import load_json
from .groups import PermissionGroup, permission_groups

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Template", "TemplateCatalog", "templates"]


@frozen(kw_only=True)
class Template:
    """One dashboard template: its permission groups and the resources the docs describe.

    ``inferred`` is True for "Read all resources", whose content Cloudflare does not document:
    its groups are every read-level group, as inferred in the reference data.
    """

    name: str
    groups: tuple[PermissionGroup, ...]
    inferred: bool = False
    resource_types: tuple[str, ...] = ()
    documented_resources: tuple[str, ...] = ()
    note: str = ""
    source: str = ""

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """The scopes of its groups, in order (zone, account, user)."""
        order = [Scope.ZONE, Scope.ACCOUNT, Scope.USER, Scope.R2_BUCKET]
        have = {g.scope for g in self.groups}
        return tuple(s for s in order if s in have)

    def build(
        self,
        *,
        name: str | None = None,
        zones: Iterable[str] = (),
        all_zones_of: str | Iterable[str] = (),
        all_zones: bool = False,
        accounts: Iterable[str] = (),
        all_accounts: bool = False,
        user: str | None = None,
        allow_ips: Iterable[str] = (),
        deny_ips: Iterable[str] = (),
        not_before: datetime | None = None,
        expires_on: datetime | None = None,
    ) -> TokenSpec:
        """A :class:`TokenSpec` with this template's groups on the resources you name.

        Zone groups go on ``zones``/``all_zones_of``/``all_zones``; account groups on
        ``accounts``/``all_accounts``; user groups on ``user`` (your user tag, from
        ``client.user.get().id``). Each scope the template uses needs resources.
        """
        zones = [zones] if isinstance(zones, str) else list(zones)
        nested = [all_zones_of] if isinstance(all_zones_of, str) else list(all_zones_of)
        accounts = [accounts] if isinstance(accounts, str) else list(accounts)
        policies: list[Policy] = []
        for scope in self.scopes:
            groups = [g for g in self.groups if g.scope is scope]
            if scope is Scope.ZONE:
                if not (zones or nested or all_zones):
                    raise InvalidInput(self._needs("zones=[zone_id, …]", "all_zones=True", scope))
                policies.append(
                    Policy.allow(groups, zones=zones, all_zones_of=nested, all_zones=all_zones)
                )
            elif scope is Scope.ACCOUNT:
                if not (accounts or all_accounts):
                    raise InvalidInput(
                        self._needs("accounts=[account_id, …]", "all_accounts=True", scope)
                    )
                policies.append(Policy.allow(groups, accounts=accounts, all_accounts=all_accounts))
            elif scope is Scope.USER:
                if user is None:
                    raise InvalidInput(
                        f"template {self.name!r} has user permissions "
                        f"({', '.join(g.name for g in groups)}); pass user=<your user tag> "
                        "(client.user.get().id)"
                    )
                policies.append(Policy.allow(groups, user=user))
        return TokenSpec(
            name=name or self.name,
            policies=policies,
            allow_ips=tuple(allow_ips),
            deny_ips=tuple(deny_ips),
            not_before=not_before,
            expires_on=expires_on,
        )

    def _needs(self, narrow: str, wide: str, scope: Scope) -> str:
        groups = ", ".join(g.name for g in self.groups if g.scope is scope)
        default = ""
        if self.documented_resources:
            default = f" (the dashboard's default is: {'; '.join(self.documented_resources)})"
        return (
            f"template {self.name!r} grants {scope.label} permissions ({groups}); "
            f"pass {narrow}, or {wide} to cover every {scope.label}{default}"
        )

    def __str__(self) -> str:
        return self.name


class TemplateCatalog(Mapping[str, Template]):
    """The dashboard templates by name, case-insensitively (``templates["edit zone dns"]``)."""

    def __init__(self) -> None:
        self._templates: dict[str, Template] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[str, Template]:
        templates = self._templates
        if templates is None:
            with self._lock:
                if self._templates is None:
                    loaded: dict[str, Template] = {}
                    for t in load_json("templates.json")["templates"]:
                        groups = []
                        for gid in t["groups"]:
                            group = permission_groups.by_id(gid)
                            if group is None:
                                raise RuntimeError(f"package data: unknown group {gid}")
                            groups.append(group)
                        loaded[t["name"].lower()] = Template(
                            name=t["name"],
                            groups=tuple(groups),
                            inferred=t["inferred"],
                            resource_types=tuple(t["resource_types"]),
                            documented_resources=tuple(t["documented"]),
                            note=t["note"],
                            source=t["source"],
                        )
                    self._templates = loaded
                templates = self._templates
        return templates

    def __getitem__(self, name: str) -> Template:
        templates = self._load()
        found = templates.get(" ".join(str(name).lower().split()))
        if found is None:
            names = ", ".join(repr(t.name) for t in templates.values())
            raise UnknownTemplate(f"no token template is called {name!r}; templates: {names}")
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(t.name for t in self._load().values())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"<TemplateCatalog: {', '.join(self)}>"

    def describe(self) -> pd.DataFrame:
        """A DataFrame: template, groups, scopes, inferred."""
        import pandas as pd

        return pd.DataFrame(
            {
                "template": [t.name for t in self._load().values()],
                "groups": [", ".join(g.name for g in t.groups) for t in self._load().values()],
                "scopes": [", ".join(s.label for s in t.scopes) for t in self._load().values()],
                "inferred": [t.inferred for t in self._load().values()],
            }
        )


templates = TemplateCatalog()
"""The dashboard's token templates by name (``cftokens.templates``)."""

export(__name__)  # the exported classes report cftokens as their module
