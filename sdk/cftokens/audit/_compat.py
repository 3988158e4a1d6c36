"""pandas, imported on first use and typed loosely.

The audit builds frames from numpy arrays with many dtype arguments that pandas-stubs cannot
express precisely; going through this helper keeps ``import cftokens`` fast and ``mypy
--strict`` meaningful for the audit's own logic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

# Text columns use pandas' StringDtype with Python storage: a real string dtype that is built
# without copying into Arrow (an order of magnitude faster for the audit's large frames).
STR = "string[python]"


def pandas() -> Any:
    """The pandas module."""
    import pandas

    return pandas


if TYPE_CHECKING:
    import pandas as pd


def as_frame(value: Any) -> pd.DataFrame:
    """``value`` (a DataFrame built through :func:`pandas`) with its static type."""
    return cast("pd.DataFrame", value)
