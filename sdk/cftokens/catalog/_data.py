"""Reading the catalogue's data files (package data, shipped inside the package)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["load_json", "records"]

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_json(name: str) -> Any:
    """Read one of the package's data files (shipped inside the package)."""
    with open(os.path.join(_DATA, name), "rb") as handle:
        return json.load(handle)


def records(columns: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """The records of a column layout (``{"field": [values…], …}``, as the data files store
    them: scripts/build_catalog.py writes that layout because it parses several times faster)."""
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
