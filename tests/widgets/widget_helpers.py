"""Helpers for the headless widget tests: the state a saved notebook would keep."""

from __future__ import annotations

import json

import ipywidgets.widgets.widget as widget_module


def all_widget_state() -> str:
    """Every live widget's synced state as JSON text: what "save widget state" stores."""
    states = []
    for widget in list(widget_module._instances.values()):
        states.append(json.dumps(widget.get_state(), default=str))
    return "\n".join(states)
