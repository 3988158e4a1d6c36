"""Small helpers shared by the models: ids, datetimes, frozen mappings of unknown keys."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import attrs

from .._ids import check_id as check_id
from .._ids import is_id as is_id  # re-exported: the model's users import the id helpers here
from ..errors import InvalidInput, shown

T = TypeVar("T")

# What Cloudflare writes: UTC with a Z, seconds, an optional fraction. The day is checked by
# ``datetime.fromisoformat`` (which reads a Z as UTC since Python 3.11).
_API_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")


def token_id(value: object) -> str:
    """attrs converter: a token id."""
    return check_id(value, "token id")


def account_id(value: object) -> str:
    """attrs converter: an account id."""
    return check_id(value, "account id")


def zone_id(value: object) -> str:
    """attrs converter: a zone id."""
    return check_id(value, "zone id")


def user_id(value: object) -> str:
    """attrs converter: a user id (tag)."""
    return check_id(value, "user id")


def group_id(value: object) -> str:
    """attrs converter: a permission group id."""
    return check_id(value, "permission group id")


#: The most entries a reader's memo keeps (it starts over when full): a bound on what a
#: server sending ever-new values can make it hold.
MEMO_LIMIT = 4096

K = TypeVar("K")


def remember(memo: dict[K, T], key: K, value: T) -> T:
    """Store ``value`` under ``key`` in a reader's ``memo`` (emptied when it holds
    :data:`MEMO_LIMIT` entries) and return it.

    Readers memoise what they build from wire values that repeat across a listing (the same
    timestamps, permission groups and resource maps in thousands of tokens): the values are
    immutable, so sharing them changes nothing, and only values that were read without error
    are kept, so every malformed value is still checked and refused each time."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


_TIMES: dict[str, datetime] = {}


def parse_datetime(value: object, what: str) -> datetime | None:
    """Parse an API timestamp (RFC 3339, ``Z`` or offset) into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return aware(value, what)
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be an RFC 3339 timestamp string, got {shown(value)}")
    known = _TIMES.get(value)
    if known is not None:
        return known
    if _API_TIME.fullmatch(value):
        # the API's own form (2026-01-31T00:00:00Z, optional fraction) is UTC already
        try:
            return remember(_TIMES, value, datetime.fromisoformat(value))
        except ValueError:
            pass  # not a real day or time: the general path below explains
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{what} is not a valid timestamp: {shown(value)}; use RFC 3339, e.g. "
            "2026-01-31T00:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{what} is out of range: {value!r} falls outside the years 0001-9999 once converted "
            "to UTC; use a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
        ) from None


def aware(value: datetime, what: str) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes, whose meaning is ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{what} must be timezone-aware, got the naive {value.isoformat()}; "
            "use datetime(..., tzinfo=timezone.utc)"
        )
    return value.astimezone(UTC)


def optional_aware(value: datetime | None) -> datetime | None:
    """attrs converter: None stays None, datetimes must be aware and become UTC."""
    return None if value is None else aware(value, "a timestamp")


def format_datetime(value: datetime | None) -> str | None:
    """Format a UTC datetime the way the API does: ``2026-01-31T00:00:00Z`` (fractions only
    when present)."""
    if value is None:
        return None
    return utc_text(value, fraction=bool(value.microsecond))


def utc_text(value: datetime, *, fraction: bool) -> str:
    """RFC 3339 text in UTC with a four-digit year (``0999-01-01T00:00:00Z``: ``strftime``'s
    ``%Y`` would write ``999``, which no RFC 3339 reader accepts)."""
    v = value.astimezone(UTC)
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    return f"{text}.{v.microsecond:06d}Z" if fraction else text + "Z"


class FrozenDict(Mapping[str, Any]):
    """An immutable, hashable mapping holding JSON values: the unknown keys of a payload.

    Kept on models so that ``to_api(from_api(payload))`` loses nothing Cloudflare adds later.
    Nested lists and objects are copied in (the payload read stays the caller's) and handed
    out as copies, so a frozen model cannot be changed through them.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None):
        self._data: dict[str, Any] = {k: _own(v) for k, v in (data or {}).items()}
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return _own(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(json.dumps(self._data, sort_keys=True, default=str))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (self._data,))

    def thaw(self) -> dict[str, Any]:
        """A deep, mutable copy for building payloads."""
        result: dict[str, Any] = json.loads(json.dumps(self._data))
        return result


def _own(value: Any) -> Any:
    """``value`` itself when immutable (text, numbers, null, a FrozenDict), else a deep copy."""
    if value is None or isinstance(value, str | int | float | FrozenDict):
        return value
    if type(value) is dict and all(type(v) in _FLAT for v in value.values()):
        return dict(value)  # the common case (a group's "meta"), without deepcopy's memo
    return copy.deepcopy(value)


_FLAT = frozenset({str, int, float, bool, type(None)})


#: The empty ``extra`` of a payload holding only known keys (immutable, so shared).
NO_EXTRA = FrozenDict()


def frozen_extra(value: Mapping[str, Any] | None) -> FrozenDict:
    """attrs converter for ``extra`` fields."""
    if isinstance(value, FrozenDict):
        return value
    return FrozenDict(value) if value else NO_EXTRA


def split_known(payload: Mapping[str, Any], known: frozenset[str]) -> FrozenDict:
    """The entries of ``payload`` whose keys are not in ``known``."""
    if known.issuperset(payload):
        return NO_EXTRA
    return FrozenDict({k: v for k, v in payload.items() if k not in known})


def assembler(cls: type[T]) -> Callable[..., T]:
    """A constructor of the attrs class ``cls`` taking its fields by keyword, already in their
    final form: it runs no converter, validator nor ``__attrs_post_init__``.

    For readers (``from_api``) that check and convert every value themselves, on paths that
    read thousands of objects: the converters would check each value a second time. A field
    left out takes its default; an unknown or missing one is a ``TypeError``, as with
    ``__init__``. The model tests check that what it builds equals what the class's own
    ``__init__`` builds from the same values.
    """
    namespace: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls}
    params: list[str] = []
    body: list[str] = []
    for n, f in enumerate(attrs.fields(cast("type[attrs.AttrsInstance]", cls))):
        if not f.name.isidentifier():  # pragma: no cover - attrs names are identifiers
            raise TypeError(f"{cls.__name__}: field {f.name!r} is not an identifier")
        default = f.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"_factory{n}"] = default.factory
            params.append(f"{f.name}=_missing")
            body.append(f"    if {f.name} is _missing:\n        {f.name} = _factory{n}()")
        elif default is not attrs.NOTHING:
            namespace[f"_default{n}"] = default
            params.append(f"{f.name}=_default{n}")
        else:
            params.append(f.name)
        body.append(f"    _set(self, {f.name!r}, {f.name})")
    namespace["_missing"] = object()
    source = (
        f"def build(*, {', '.join(params)}):\n    self = _new(_cls)\n"
        + "\n".join(body)
        + "\n    return self\n"
    )
    exec(compile(source, f"<assembler of {cls.__qualname__}>", "exec"), namespace)
    build: Callable[..., T] = namespace["build"]
    return build


def require_mapping(payload: object, what: str) -> Mapping[str, Any]:
    """Check that an API payload is a JSON object."""
    if type(payload) is not dict and not isinstance(payload, Mapping):  # dict: decoded JSON
        raise InvalidInput(f"{what} must be a JSON object, got {type(payload).__name__}")
    return payload
