"""Credentials in grant keys: a token record with each credential written in a permission
group's id or name or a resource key read as its label (the copy every output of the audit
reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import is_
from typing import Any

from ..errors import labelled
from ._atoms import _MISSING
from ._columns import TokenRecord, _is_map

_labels: dict[str, str | None] = {}  # text -> it with each credential labelled (None: clean)


def _label(text: str) -> str:
    """``text`` with each credential as its :func:`~cftokens.errors.credential_label`, worked
    out once per distinct text (``text`` itself, the same object, when it holds none: the
    rule)."""
    out = _labels.get(text, _MISSING)
    if out is _MISSING:
        found = labelled(text)
        out = found if found != text else None
        if len(_labels) < 500_000:
            _labels[text] = out
    return text if out is None else out


def _labelled_text(value: Any) -> Any:
    """A text through :func:`_label` (a str subclass holding a credential as plain text);
    anything else as it is."""
    if type(value) is str:
        return _label(value)
    if isinstance(value, str):
        shown = _label(str.__str__(value))
        return value if shown == value else shown
    return value


def _labelled_record(record: TokenRecord) -> TokenRecord:
    """The record with each credential in a grant key (a permission group's id or name, or a
    group given as text; a resource key, nested ones too) as its label; the record itself
    when there is none (the rule).

    Anyone who can list tokens reads their policies, so a secret written in one is exposed:
    every output of the audit (frames, findings, fixes, reports, the export, queries) reads
    the labelled copy, and a label is kept for each distinct credential, so findings and
    grouping still work. The bulk path leaves every token holding one to the token reader
    (:func:`~cftokens.audit._atoms._key_clean`, the group names it compares), which reads
    this copy. The input is left as it was; odd shapes are left to the reader to report."""
    payload = record.payload
    if not _is_map(payload):
        return record
    policies = payload.get("policies")
    if type(policies) is not list:
        return record
    new = [_labelled_policy(p) for p in policies]
    if all(map(is_, new, policies)):
        return record
    return TokenRecord(
        {**payload, "policies": new}, record.kind, record.owner_id, record.owner_name
    )


def _labelled_policy(policy: Any) -> Any:
    if not _is_map(policy):
        return policy
    changed: dict[str, Any] = {}
    groups = policy.get("permission_groups")
    entries = [groups] if isinstance(groups, str | Mapping) else groups
    if type(entries) is list:
        new = [_labelled_group(e) for e in entries]
        if not all(map(is_, new, entries)):
            changed["permission_groups"] = new if type(groups) is list else new[0]
    resources = policy.get("resources")
    if isinstance(resources, str):  # JSON-encoded: a label is JSON text too
        if _label(resources) != resources:
            changed["resources"] = _label(resources)
    elif _is_map(resources):
        given = list(resources.items())
        items = [(_labelled_text(k), _labelled_keys(v) if _is_map(v) else v) for k, v in given]
        if any(a[0] is not b[0] or a[1] is not b[1] for a, b in zip(items, given, strict=True)):
            changed["resources"] = dict(items)
    return {**policy, **changed} if changed else policy


def _labelled_group(entry: Any) -> Any:
    if isinstance(entry, str):
        return _labelled_text(entry)
    if not _is_map(entry):
        return entry
    gid, name = entry.get("id"), entry.get("name")
    new_id, new_name = _labelled_text(gid), _labelled_text(name)
    if new_id is gid and new_name is name:
        return entry
    return {**entry, "id": new_id, "name": new_name} if "name" in entry else {**entry, "id": new_id}


def _labelled_keys(inner: Mapping[Any, Any]) -> Any:
    """A nested resources map (an account's zones) with its keys labelled."""
    given = list(inner.items())
    keys = [_labelled_text(k) for k, _ in given]
    if all(k is g[0] for k, g in zip(keys, given, strict=True)):
        return inner
    return {k: g[1] for k, g in zip(keys, given, strict=True)}
