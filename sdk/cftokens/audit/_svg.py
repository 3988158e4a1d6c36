"""The HTML report's charts as inline SVG, written directly (no plotting library).

Three pure functions, each from a DataFrame to an ``<svg>`` element for an HTML page:
:func:`severity_chart` (open findings by rule family and severity), :func:`age_chart` (tokens
by age and last use) and :func:`heatmap` (permission groups per token and zone). The charts are
crisp at any zoom, their text can be selected and found with Ctrl+F, every bar segment and
heatmap cell has a ``<title>`` tooltip, and each chart is an accessible image (``role="img"``,
its title and a ``<desc>`` that states the data in words).

Names are written by whoever holds a token, so every text taken from a frame (labels, tooltips,
the summary) goes through :func:`_text`: control characters, bidirectional overrides, lone
surrogates, line and paragraph separators and other invisible characters, and combining marks
past four on a letter shown as visible escapes (:func:`~cftokens._shown.label`), cut to a
length, then ``html.escape`` with quotes. Elements, attributes, colours and numbers are written by
this module alone: there is no link, no ``<foreignObject>``, no script and no style from data.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from .._shown import label
from .._text import printable
from ..errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

__all__ = ["REDS", "age_chart", "heatmap", "ink", "reds", "severity_chart"]

#: ColorBrewer's sequential "Reds" (the nine colours matplotlib's ``Reds`` interpolates).
REDS = (
    "#fff5f0",
    "#fee0d2",
    "#fcbba1",
    "#fc9272",
    "#fb6a4a",
    "#ef3b2c",
    "#cb181d",
    "#a50f15",
    "#67000d",
)
DARK_INK = "#222222"
LIGHT_INK = "#ffffff"
AXIS = "#444444"
GRID = "#e6e6e6"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
LABEL_LIMIT = 60  # characters of a name drawn as a label (as _shown.label cuts them)
TOOLTIP_LIMIT = 256  # characters of a name in a tooltip or the summary (a zone name's length)
SIZE = 12  # font size of labels (px); titles are 14, ticks and counts 11
BAR_CHART_WIDTH = 590.0  # px: a bar chart's width, unless its labels need more


# -- text ----------------------------------------------------------------------------------------


def _text(value: object, limit: int = LABEL_LIMIT) -> str:
    """Text from input, safe as the content or the (double-quoted) attribute of an SVG element
    inside HTML: control characters, bidi overrides, surrogates, invisible characters and a
    flood of combining marks as visible escapes, cut to ``limit`` characters, ``& < > " '``
    escaped."""
    return html.escape(label(value, limit), quote=True)


# Advance widths (hundredths of an em) of the printable ASCII characters, space to "~", in
# DejaVu Sans (what system-ui is on most Linux desktops), measured in Chromium: the widest of
# the common UI fonts, so a label measured with them never overlaps its neighbour.
_ASCII_EM = (
    "32404684649578273939508432363234646464646464646464643434848484539971697077635877"
    "75292966568675796079696360736899696169393439845050616355636234636328285828976361"
    "636340523963598259595264346484"
)
_WIDTHS = {chr(32 + i): int(_ASCII_EM[2 * i : 2 * i + 2]) / 100 for i in range(95)}


def _em(char: str) -> float:
    width = _WIDTHS.get(char)
    if width is not None:
        return width
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0
    return 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.7


def _width(text: str, size: float) -> float:
    """About how wide ``text`` (unescaped) is drawn at ``size`` px (by :data:`_WIDTHS`; 0.7 em
    for other characters, 1 em for wide ones), so labels never overlap what is next to them."""
    return size * sum(map(_em, text))


def _n(x: float) -> str:
    """A coordinate: one decimal at most."""
    return f"{x:.1f}".removesuffix(".0")


def _count(n: float) -> str:
    return f"{int(n):,}"


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


# -- colours -------------------------------------------------------------------------------------

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _colour(value: str, what: object) -> str:
    """``value`` if it is a ``#rrggbb`` colour (the only form written into a chart)."""
    if not isinstance(value, str) or not _HEX_COLOUR.fullmatch(value):
        raise InvalidInput(
            f"the colour for {printable(what)!r} must be written #rrggbb, not {printable(value)!r}"
        )
    return value


def _rgb(colour: str) -> tuple[float, float, float]:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return (int(value[0:2], 16) / 255, int(value[2:4], 16) / 255, int(value[4:6], 16) / 255)


def _luminance(colour: str) -> float:
    """WCAG relative luminance."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink(fill: str) -> str:
    """The text colour readable on ``fill``: dark on light fills, white on dark ones (whichever
    contrasts more, by WCAG's measure)."""
    return DARK_INK if _contrast(fill, DARK_INK) >= _contrast(fill, LIGHT_INK) else LIGHT_INK


def reds(fraction: float) -> str:
    """The "Reds" colour at ``fraction`` (0: the lightest, 1: the darkest), interpolated
    linearly between the nine colours of :data:`REDS`."""
    x = min(max(fraction if math.isfinite(fraction) else 0.0, 0.0), 1.0) * (len(REDS) - 1)
    i = min(int(x), len(REDS) - 2)
    t = x - i
    low, high = _rgb(REDS[i]), _rgb(REDS[i + 1])
    return "#" + "".join(
        f"{round((a + (b - a) * t) * 255):02x}" for a, b in zip(low, high, strict=True)
    )


# -- pieces --------------------------------------------------------------------------------------


def _ticks(top: float, room: float, spacing: float = 40.0) -> list[int]:
    """Integer ticks from 0 covering ``top`` at a 1/2/5 × 10ⁿ step, at least ``spacing`` px
    apart on an axis ``room`` px long."""
    top = max(top, 1.0)
    most = max(1, int(room // spacing))
    step = 1
    for magnitude in (10**k for k in range(16)):
        for factor in (1, 2, 5):
            step = factor * magnitude
            if math.ceil(top / step) <= most:
                return list(range(0, step * math.ceil(top / step) + 1, step))
    return [0, step]


def _svg(chart_id: str, width: float, height: float, title: str, summary: str) -> str:
    """The opening of a chart: an accessible image labelled by its title and summary."""
    return (
        f'<svg class="chart" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}" '
        f'font-size="{SIZE}" fill="{DARK_INK}"><title id="{chart_id}-title">{title}</title>'
        f'<desc id="{chart_id}-desc">{summary}</desc>'
    )


def _heading_width(title: str) -> float:
    return _width(title, 14) * 1.15  # bold


def _heading(centre: float, width: float, title: str) -> str:
    """A chart's title (14 px, bold) centred on ``centre`` but kept inside the chart."""
    half = _heading_width(title) / 2
    x = min(max(centre, half + 4), width - half - 4)
    return (
        f'<text x="{_n(x)}" y="20" text-anchor="middle" font-size="14" font-weight="600">'
        f"{_text(title)}</text>"
    )


def _label(raw: object, place: str) -> str:
    """A name drawn as a label (``place``: its position and style attributes, written by this
    module); its whole text (up to the tooltip limit) as a tooltip when the label is cut."""
    shown = _text(raw, LABEL_LIMIT)
    whole = _text(raw, TOOLTIP_LIMIT)
    tip = f"<title>{whole}</title>" if whole != shown else ""
    return f'<text {place} dominant-baseline="central">{tip}{shown}</text>'


def _legend(x: float, y: float, title: str, entries: Mapping[str, str]) -> Iterator[str]:
    """A legend: its title, then one swatch and name per entry, top to bottom."""
    yield f'<text x="{_n(x)}" y="{_n(y)}" font-size="11" font-weight="600">{_text(title)}</text>'
    for i, (name, colour) in enumerate(entries.items()):
        top = y + 8 + i * 18
        yield (
            f'<rect x="{_n(x)}" y="{_n(top)}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{_n(x + 17)}" y="{_n(top + 6)}" font-size="11" '
            f'dominant-baseline="central">{_text(name)}</text>'
        )


def _legend_size(title: str, entries: Mapping[str, str]) -> tuple[float, float]:
    width = max([_width(title, 11) * 1.15, *(17 + _width(label(e), 11) for e in entries)])
    return width, 8 + 18 * len(entries)


def _counts(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """The frame's cells as counts, each a whole number of 0 or more (a missing, infinite,
    negative or fractional count, or one that is not a number, raises
    :class:`~cftokens.InvalidInput` naming its cell: drawn, it would be a wrong bar, or a
    heatmap cell of "no permission group")."""
    import numpy as np

    if all(isinstance(dtype, np.dtype) and dtype.kind in "iu" for dtype in frame.dtypes):
        values = frame.to_numpy(dtype=float)
        wrong = values < 0
    else:
        cells = frame.to_numpy(dtype=object)
        number = np.array(
            [
                isinstance(v, int | float | np.integer | np.floating)
                and not isinstance(v, bool | np.bool_)
                for v in cells.ravel().tolist()
            ],
            dtype=bool,
        ).reshape(cells.shape)
        values = np.where(number, cells, 0).astype(float)
        with np.errstate(invalid="ignore"):
            wrong = ~number | ~np.isfinite(values) | (values < 0) | (values != np.floor(values))
    if wrong.any():
        i, j = (int(k) for k in np.argwhere(wrong)[0])
        raise InvalidInput(
            "chart counts must be whole numbers of 0 or more: row "
            f"{label(frame.index[i])!r}, column {label(frame.columns[j])!r} holds "
            f"{label(frame.iat[i, j])!r}"
        )
    return values


# -- stacked bars ---------------------------------------------------------------------------------


def _stacked_bars(
    frame: pd.DataFrame,
    *,
    chart_id: str,
    colours: Mapping[str, str],
    title: str,
    xlabel: str,
    ylabel: str,
    legend: str,
    noun: str,
    segment: Callable[[str, str, int], str],
) -> str:
    """Horizontal bars, one per row of ``frame``, stacked by column in the columns' order with
    ``colours[column]``; the total at each bar's end, each segment's count inside it where it
    fits (in :func:`ink` of its fill) and ``segment(row, column, count)`` as its tooltip; the
    summary counts them as ``noun``. "" for an empty frame."""
    if not frame.size:
        return ""
    rows = [str(r) for r in frame.index]
    columns = [str(c) for c in frame.columns]
    values = _counts(frame)
    totals = values.sum(axis=1)
    summary = _text(
        f"{title}: {_plural(int(totals.sum()), noun)} in all. {_breakdown(frame, values, noun)}",
        200 * len(rows) + 200,
    )
    pitch, bar, top = 30.0, 22.0, 40.0
    # the axis title turned along the rows when they are tall enough, else above their labels
    turned = bool(ylabel) and _width(ylabel, SIZE) + 8 <= pitch * len(rows)
    left = 14 + (22.0 if turned else 0.0) + max(_width(label(r), SIZE) for r in rows)
    total_room = 12 + _width(_count(float(totals.max())), 11)
    swatches = {c: _colour(colours.get(c, "#9e9e9e"), c) for c in columns}
    legend_w, legend_h = _legend_size(legend, swatches)
    # two charts side by side on the report's page: 590 px wide when the labels allow it
    plot = min(400.0, max(200.0, BAR_CHART_WIDTH - left - total_room - 24 - legend_w))
    width = max(left + plot + total_room + 16 + legend_w + 8, _heading_width(title) + 8)
    bottom = top + pitch * len(rows)
    height = max(bottom + 46, top + legend_h + 20)
    ticks = _ticks(float(totals.max()), plot)
    scale = plot / ticks[-1]
    out = [_svg(chart_id, width, height, _text(title), summary), _heading(width / 2, width, title)]
    for tick in ticks:
        x = left + tick * scale
        out.append(
            f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom)}" stroke="{GRID}"/>'
            f'<text x="{_n(x)}" y="{_n(bottom + 14)}" text-anchor="middle" font-size="11">'
            f"{tick:,}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * pitch + (pitch - bar) / 2
        out.append(_label(row, f'x="{_n(left - 8)}" y="{_n(y + bar / 2)}" text-anchor="end"'))
        start = 0.0
        for j, column in enumerate(columns):
            count = values[i, j]
            if count <= 0:
                continue
            x, w = left + start * scale, count * scale
            fill = swatches[column]
            tip = _text(segment(row, column, int(count)), TOOLTIP_LIMIT * 2)
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(bar)}" '
                f'fill="{fill}"><title>{tip}</title></rect>'
            )
            text = _count(count)
            if _width(text, 11) + 6 <= w:
                out.append(
                    f'<text x="{_n(x + w / 2)}" y="{_n(y + bar / 2)}" text-anchor="middle" '
                    f'dominant-baseline="central" font-size="11" fill="{ink(fill)}" '
                    f'aria-hidden="true">{text}</text>'
                )
            start += count
        out.append(
            f'<text x="{_n(left + start * scale + 4)}" y="{_n(y + bar / 2)}" '
            f'dominant-baseline="central" font-size="11">{_count(totals[i])}</text>'
        )
    out.append(
        f'<path d="M{_n(left)} {_n(top)}V{_n(bottom)}H{_n(left + plot)}" fill="none" '
        f'stroke="{AXIS}"/>'
        f'<text x="{_n(left + plot / 2)}" y="{_n(bottom + 34)}" text-anchor="middle">'
        f"{_text(xlabel)}</text>"
    )
    if turned:
        out.append(
            f'<text transform="translate(14 {_n((top + bottom) / 2)}) rotate(-90)" '
            f'text-anchor="middle" dominant-baseline="central">{_text(ylabel)}</text>'
        )
    elif ylabel:
        out.append(f'<text x="4" y="{_n(top - 4)}" font-size="11">{_text(ylabel)}</text>')
    out.extend(_legend(left + plot + total_room + 16, top + 4, legend, swatches))
    out.append("</svg>")
    return "".join(out)


def _breakdown(frame: pd.DataFrame, values: npt.NDArray[np.float64], noun: str) -> str:
    """Each row's total and its non-zero columns, in words (a chart's ``<desc>``)."""
    parts = []
    for row, counts in zip(frame.index, values, strict=True):
        nonzero = [f"{_count(n)} {c}" for c, n in zip(frame.columns, counts, strict=True) if n > 0]
        parts.append(f"{row}: {_plural(int(counts.sum()), noun)} ({', '.join(nonzero)})")
    return "; ".join(parts)


def severity_chart(counts: pd.DataFrame, colours: Mapping[str, str]) -> str:
    """Open findings by rule family (rows) and severity (columns, stacked in their order,
    coloured by ``colours[severity]``), as from ``family_counts``; "" for an empty frame."""
    return _stacked_bars(
        counts,
        chart_id="chart-severity",
        colours=colours,
        title="Open findings by rule family and severity",
        xlabel="open findings",
        ylabel="",
        legend="severity",
        noun="open finding",
        segment=lambda row, sev, n: f"{row}: {_plural(n, sev + ' finding')}",
    )


def age_chart(table: pd.DataFrame, colours: Mapping[str, str]) -> str:
    """Tokens by age band (rows) and last-use band (columns, stacked, coloured by
    ``colours[band]``), as from ``age_use_table``; "" for an empty frame."""
    return _stacked_bars(
        table,
        chart_id="chart-age",
        colours=colours,
        title="Tokens by age and last use",
        xlabel="tokens",
        ylabel="age (since issued)",
        legend="last use",
        noun="token",
        segment=lambda age, use, n: (
            f"{_plural(n, 'token')} issued {age} ago, {use}"
            if age != "issue date unknown"
            else f"{_plural(n, 'token')} with an unknown issue date, {use}"
        ),
    )


# -- heatmap -------------------------------------------------------------------------------------


def _groups(n: int) -> str:
    return "no permission group" if n == 0 else _plural(n, "permission group")


def heatmap(matrix: pd.DataFrame, *, note: str = "") -> str:
    """Permission groups per token (rows) and zone or account (columns), as from
    ``access_matrix``, in the "Reds" scale from 0 (no access) to the largest count; every cell
    has a tooltip (``token × zone: 3 permission groups``), ``note`` (what was left out) goes
    into the summary; "" for an empty frame. Draws every row and column it is given: cut the
    frame first to what a page can show."""
    if not matrix.size:
        return ""
    rows = list(matrix.index)
    columns = list(matrix.columns)
    values = _counts(matrix)
    most = max(1, int(values.max()))
    cw = max(12.0, min(28.0, 760 / len(columns)))
    ch = max(14.0, min(22.0, 640 / len(rows)))
    tick = 11.0
    row_w = max(_width(label(r), tick) for r in rows)
    col_w = [_width(label(c), tick) for c in columns]
    cos, sin = 0.5, math.sqrt(3) / 2  # column labels turned 60° (as the PNG drew them)
    left = max(row_w + 14, max(w * cos - (i + 0.5) * cw for i, w in enumerate(col_w)) + 8)
    top = 40.0
    grid_w, grid_h = cw * len(columns), ch * len(rows)
    below = max(w * sin for w in col_w) + 16
    bar_x = left + grid_w + 18
    bar_h = min(max(grid_h, 100.0), 320.0)
    kind = "account" if str(matrix.columns.name or "") == "account" else "zone"
    title = f"Access: permission groups per token and {kind}"
    width = max(bar_x + 14 + 8 + 40 + 24, _heading_width(title) + 8)
    height = max(top + grid_h + below, top + bar_h + 12)
    peak = divmod(int(values.argmax()), len(columns))
    summary = _text(
        f"{_plural(len(rows), 'token')} × {_plural(len(columns), kind)}, coloured by the "
        f"number of permission groups (0 to {most}); the most: "
        f"{label(rows[peak[0]], TOOLTIP_LIMIT)} × "
        f"{label(columns[peak[1]], TOOLTIP_LIMIT)} with {_groups(most)}"
        + (f". {note}" if note else ""),
        4 * TOOLTIP_LIMIT + len(note) + 200,
    )
    out = [_svg("chart-heatmap", width, height, _text(title), summary)]
    out.append(_heading(left + grid_w / 2, width, title) + '<g shape-rendering="crispEdges">')
    names = [_text(c, TOOLTIP_LIMIT) for c in columns]
    for i, row in enumerate(rows):
        y = top + i * ch
        who = _text(row, TOOLTIP_LIMIT)
        for j, name in enumerate(names):
            n = int(values[i, j])
            out.append(
                f'<rect x="{_n(left + j * cw)}" y="{_n(y)}" width="{_n(cw - 1)}" '
                f'height="{_n(ch - 1)}" fill="{reds(n / most)}"><title>{who} × {name}: '
                f"{_groups(n)}</title></rect>"
            )
    out.append("</g>")
    for i, row in enumerate(rows):
        y = top + (i + 0.5) * ch
        out.append(_label(row, f'x="{_n(left - 6)}" y="{_n(y)}" text-anchor="end" font-size="11"'))
    for j, column in enumerate(columns):
        x, y = left + (j + 0.5) * cw, top + grid_h + 6
        turned = f'transform="translate({_n(x)} {_n(y)}) rotate(-60)"'
        out.append(_label(column, f'{turned} text-anchor="end" font-size="11"'))
    out.extend(_colour_bar(bar_x, top, bar_h, most))
    out.append("</svg>")
    return "".join(out)


def _colour_bar(x: float, top: float, height: float, most: int) -> Iterator[str]:
    """The scale: the "Reds" ramp from 0 (bottom) to ``most`` (top), integer ticks, its name."""
    stops = "".join(
        f'<stop offset="{_n(100 * i / (len(REDS) - 1))}%" stop-color="{c}"/>'
        for i, c in enumerate(REDS)
    )
    yield (
        f'<defs><linearGradient id="chart-heatmap-scale" x1="0" y1="1" x2="0" y2="0">{stops}'
        f'</linearGradient></defs><rect x="{_n(x)}" y="{_n(top)}" width="14" '
        f'height="{_n(height)}" fill="url(#chart-heatmap-scale)" stroke="{AXIS}" '
        'stroke-width="0.5"/>'
    )
    for value in _ticks(float(most), height, spacing=18.0):
        if value > most:
            break
        y = top + height - height * value / most
        yield (
            f'<path d="M{_n(x + 14)} {_n(y)}h4" stroke="{AXIS}"/><text x="{_n(x + 21)}" '
            f'y="{_n(y)}" dominant-baseline="central" font-size="11">{value:,}</text>'
        )
    yield (
        f'<text transform="translate({_n(x + 56)} {_n(top + height / 2)}) rotate(90)" '
        'text-anchor="middle" dominant-baseline="central">permission groups</text>'
    )
