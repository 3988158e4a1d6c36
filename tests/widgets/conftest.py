"""Fixtures for the headless widget tests (helpers live in ``widget_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets.widgets.widget as widget_module
import pytest


@pytest.fixture(autouse=True)
def close_new_widgets() -> Iterator[None]:
    """Close the widgets a test made once it ends, as a notebook's kernel restart would: a live
    widget stays in ipywidgets' registry until closed, and ``all_widget_state()`` reads every
    one there, so without this each test read the state of all earlier tests' widgets too (the
    reads grew with the test count: about 800 widgets' states per read by the last ones)."""
    before = set(widget_module._instances)
    yield
    for model_id, widget in list(widget_module._instances.items()):
        if model_id not in before:
            widget.close()
