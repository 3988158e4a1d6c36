"""The audit frames' typed columns, made from ready arrays, and the frames assembled from them.

A small audit's frames cost what pandas spends per column and per frame, not per row: parsing
a dtype's name (``"string[python]"``, ``"Int64"``: a look-up through every registered dtype),
validating a categorical's categories and codes, inferring each column of a dict, building
the column labels' index. Here each column is made as pandas would store it, with its dtype
object built once per process, and a frame is assembled from those columns as they are
(:func:`frame`). The results are the same as pandas' own constructors give (dtypes, codes,
column labels, index): ``tests/audit/test_frame_columns.py`` compares them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "booleans",
    "categorical",
    "category_dtype",
    "floats",
    "frame",
    "integers",
    "labels_dtype",
    "text_dtype",
    "texts",
    "utc_dates",
]


@functools.cache
def text_dtype() -> Any:
    """The dtype of the audit's text columns, ``"string[python]"`` (``_compat.STR``), as an
    object: given by name, pandas looks the name up among every registered dtype each time."""
    import pandas as pd

    return pd.StringDtype("python")


def texts(values: Sequence[Any] | npt.NDArray[Any]) -> Any:
    """``pd.array(values, dtype="string[python]")``: None and NaN read as NA."""
    dtype = text_dtype()
    return dtype.construct_array_type()._from_sequence(values, dtype=dtype)


@functools.cache
def category_dtype(*values: str, ordered: bool = False) -> pd.CategoricalDtype:
    """The categorical dtype of ``values`` (as ``pd.Categorical(..., categories=[...])``
    makes it), built once: a dtype checks and indexes its categories when it is made, which
    cost ~0.2 ms a column for every frame of every audit."""
    import pandas as pd

    return pd.CategoricalDtype(pd.Index(list(values)), ordered=ordered)


def labels_dtype(values: Sequence[str]) -> pd.CategoricalDtype:
    """The categorical dtype of distinct texts (:func:`category_dtype`), made once per tuple
    of up to 64 texts among the last 256 asked for (the group names, resource labels and risk
    families of an audit's grants: the same few in every small audit); more texts, a new
    dtype."""
    if len(values) <= _FEW_LABELS:
        return _labels_dtype(tuple(values))
    import pandas as pd

    return pd.CategoricalDtype(pd.Index(list(values)))


_FEW_LABELS = 64


@functools.lru_cache(maxsize=256)
def _labels_dtype(values: tuple[str, ...]) -> pd.CategoricalDtype:
    import pandas as pd

    return pd.CategoricalDtype(pd.Index(list(values)))


def categorical(codes: npt.NDArray[np.integer[Any]], dtype: pd.CategoricalDtype) -> Any:
    """``pd.Categorical.from_codes(codes, dtype=dtype)`` for codes known to be valid (each
    -1, for NA, or a category's position): they are not checked again, only stored in the
    integer type pandas picks for that many categories, never in the caller's array (a
    change of the frame's column leaves it alone)."""
    import pandas as pd

    made = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
    return made.copy() if np.may_share_memory(made.codes, codes) else made


def integers(values: npt.NDArray[np.integer[Any]], na: npt.NDArray[np.bool_] | None = None) -> Any:
    """``pd.array(values, dtype="Int64")`` of an integer array (NA where ``na``), a copy."""
    import pandas as pd

    data = np.array(values, dtype=np.int64)
    return pd.arrays.IntegerArray(data, np.zeros(len(data), dtype=bool) if na is None else na)


def booleans(values: npt.NDArray[np.bool_]) -> Any:
    """``pd.array(values, dtype="boolean")`` of a bool array (no NA), a copy."""
    import pandas as pd

    data = np.array(values, dtype=bool)
    return pd.arrays.BooleanArray(data, np.zeros(len(data), dtype=bool))


def floats(values: npt.NDArray[np.floating[Any]]) -> Any:
    """``pd.array(values, dtype="Float64")`` of a float array (NaN reads as NA), a copy."""
    import pandas as pd

    data = np.array(values, dtype=np.float64)
    return pd.arrays.FloatingArray(data, np.isnan(data))


def utc_dates(values: npt.NDArray[np.datetime64]) -> Any:
    """``pd.DatetimeIndex(values, tz="UTC").array`` of naive UTC datetimes (NaT stays NaT),
    a copy: the same instants in the same unit, marked UTC without pandas' localisation pass
    (an identity for UTC, ~65 µs a column however short)."""
    import pandas as pd

    unit = np.datetime_data(values.dtype)[0]
    return cast(Any, pd.arrays.DatetimeArray)._simple_new(
        np.array(values, dtype=values.dtype), dtype=_utc(unit)
    )


@functools.cache
def _utc(unit: str) -> Any:
    import pandas as pd

    return pd.DatetimeTZDtype(cast(Any, unit), "UTC")


@functools.cache
def _labels(names: tuple[str, ...]) -> pd.Index:
    """The column labels of a frame, as ``pd.DataFrame({name: …})`` makes them (once)."""
    import pandas as pd

    return pd.Index(list(names))


def frame(columns: dict[str, Any], n: int) -> pd.DataFrame:
    """``pd.DataFrame(columns, copy=False)`` for columns that are already each what the frame
    stores (pandas extension arrays or 1-d numpy arrays, every one of length ``n`` and made for
    this frame alone): without pandas' inference and checks of each column, and with the
    column labels built once per set of names (each frame gets its own copy of them, so a
    change of one frame's ``columns.name`` stays in that frame)."""
    import pandas as pd

    arrays = list(columns.values())
    if any(len(a) != n for a in arrays):
        raise ValueError(f"frame: every column must hold {n} values")
    labels = _labels(tuple(columns)).copy()
    made: pd.DataFrame = cast(Any, pd.DataFrame)._from_arrays(
        arrays, columns=labels, index=pd.RangeIndex(n), verify_integrity=False
    )
    return made
