"""Steps kept one release under their old names (a :class:`DeprecationWarning` when used)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import field, frozen

from .base import BodyStep


@frozen(kw_only=True)
class EditPolicy(BodyStep):
    """Deprecated (goes in the next release): a policy edit described by ``text`` and made by
    the ``edit`` callable. The rules now propose typed edits (:class:`RemoveResource`,
    :class:`RemovePolicy`, :class:`RemovePair`, :class:`ReplacePair`, :class:`RenameGroup`,
    :class:`MoveCondition`, :class:`RestrictZones`); for a new kind of edit, subclass
    :class:`BodyStep` with ``describe()`` and ``apply(body)``."""

    text: str
    edit: Callable[[dict[str, Any]], None] = field(eq=False, repr=False)
    needs: tuple[str, ...] = ()

    def describe(self) -> str:
        return self.text

    @property
    def placeholders(self) -> tuple[str, ...]:
        return self.needs

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        self.edit(body)
        return body


#: Old name -> (the object it stands for, what to use instead).
DEPRECATED: dict[str, tuple[type[BodyStep], str]] = {
    "EditPolicy": (
        EditPolicy,
        "a typed edit (RemoveResource, RemovePolicy, RemovePair, ReplacePair, RenameGroup, "
        "MoveCondition, RestrictZones) or a BodyStep subclass with describe() and apply(body)",
    ),
}
