"""Risk families of permission groups (the audit catalogue's PE, HIJACK, EXFIL, CRED, EVASION)."""

from __future__ import annotations

import threading

from ._data import load_json

__all__ = ["FAMILIES", "RiskFamilies", "risk_families"]

FAMILIES = {
    "PE": "privilege escalation",
    "HIJACK": "traffic or domain takeover",
    "EXFIL": "data exfiltration",
    "CRED": "returns secrets",
    "EVASION": "weakens defences or visibility",
}


class RiskFamilies:
    """Which risk families each permission group belongs to; loaded on first use."""

    def __init__(self) -> None:
        self._by_group: dict[str, frozenset[str]] | None = None
        self._members: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, frozenset[str]]:
        by_group = self._by_group
        if by_group is None:
            with self._lock:
                if self._by_group is None:
                    families = load_json("risk_families.json")["families"]
                    index: dict[str, set[str]] = {}
                    for family, ids in families.items():
                        self._members[family] = frozenset(ids)
                        for gid in ids:
                            index.setdefault(gid, set()).add(family)
                    self._by_group = {k: frozenset(v) for k, v in index.items()}
                by_group = self._by_group
        return by_group

    def of(self, group_id: str) -> frozenset[str]:
        """The families of one group id (empty when it has none)."""
        return self._load().get(group_id, frozenset())

    def __repr__(self) -> str:
        return f"<RiskFamilies: {', '.join(FAMILIES)}>"

    def members(self, family: str) -> frozenset[str]:
        """The group ids of one family."""
        self._load()
        if family not in self._members:
            raise KeyError(f"no risk family {family!r}; families: {', '.join(FAMILIES)}")
        return self._members[family]


risk_families = RiskFamilies()
"""Which risk families each permission group belongs to (``cftokens.risk_families``)."""
