"""pandas, imported on first use and typed loosely.

The audit builds frames from numpy arrays with many dtype arguments that pandas-stubs cannot
express precisely; going through this helper keeps ``import cftokens`` fast and ``mypy
--strict`` meaningful for the audit's own logic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast


def pandas() -> Any:
    """The pandas module."""
    import pandas

    return pandas


if TYPE_CHECKING:
    import pandas as pd


def as_frame(value: Any) -> pd.DataFrame:
    """``value`` (a DataFrame built through :func:`pandas`) with its static type."""
    return cast("pd.DataFrame", value)
