"""Accessible SVG charts, drawn by hand on the server (DESIGN §12).

Every function returns one inline ``<svg>`` as a ``SafeString``; the same arguments always
give the same markup. Its element ids derive from a hash of the arguments, so two charts of
the same data on one page need different ``chart_id`` values (which also prefix the ids).

The same inline ``<svg>`` serves the web page and the PDF (WeasyPrint), so the output sticks
to basic SVG elements and presentation attributes: no scripts, no CSS classes, no external
references. No plotting library: we need full control of accessibility, NHS colours and
output that WeasyPrint renders.

Accessibility, in short:

- every chart is ``role="img"`` named by its ``<title>`` and described by a ``<desc>`` that
  summarises the data in words, so a screen-reader user gets the gist;
- series differ by marker shape and dash as well as colour, so colour is never the only cue;
- text is at least 12 px, in #212b32 or #4c6272 (both over 4.5:1 on white);
- the page shows a table of the same numbers beside each chart: every function takes plain
  lists, so the view passes the same lists to the table.

Pure Python: Django is used only to escape text and mark the result safe.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

__all__ = [
    "UNITS",
    "Series",
    "bar_chart",
    "fan_chart",
    "format_value",
    "line_chart",
    "nice_ticks",
]

# NHS identity colours, in the order series take them.
PALETTE = ("#005eb8", "#003087", "#007f3b", "#ffb81c", "#330072", "#425563")
# One marker shape per series, so colour is never the only cue (WCAG 1.4.1).
MARKERS = ("circle", "square", "triangle", "diamond", "triangle-down", "plus")
TEXT = "#212b32"  # NHS black: 15.2:1 on white
SECONDARY = "#4c6272"  # NHS secondary text: 6.3:1 on white
GRID = "#d8dde0"
AXIS = "#aeb7bd"
BAND = "#005eb8"
BAND_OPACITY = "0.2"
FONT = "Frutiger W01, Arial, sans-serif"
FONT_SIZE = 12
CHAR_WIDTH = 7  # rough width of one character at 12 px, for layout without font metrics
DASH = "6 4"
TARGET_DASH = "10 4 2 4"
MAX_SERIES = len(PALETTE)

UNITS = ("count", "gbp", "percent", "days", "patients")
# Units counted in whole things: a tick step below 1 would label the axis "0.5 patients".
_WHOLE_UNITS = {"count", "patients", "days"}

# Characters XML 1.0 does not allow at all; a stray one in a label would make the page (and
# the PDF) fail to parse, so they are dropped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ID_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Series:
    """One line on a line chart: a name for the legend and one value per label.

    ``None`` (and NaN or infinity) means no data for that label: the line has a gap there.
    """

    name: str
    values: Sequence[float | None]
    style: str = "solid"  # or "dashed"

    def __post_init__(self):
        if self.style not in ("solid", "dashed"):
            raise ValueError(f"Series style must be 'solid' or 'dashed', not {self.style!r}")


# ----------------------------------------------------------------------------- numbers


def _clean(value) -> float | None:
    """A finite float, or None for None, NaN and infinity."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _trim(number: float, places: int = 1) -> str:
    """A number with at most `places` decimals and no trailing zeros: 1.0 → "1", 2.50 → "2.5"."""
    text = f"{number:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_value(value: float, unit: str = "count") -> str:
    """A value as people read it: count "1,234", gbp "£1.2m"/"£350k"/"£900",
    percent "45%" (the value is already a percentage), days "12 days", patients "12,400"."""
    if unit not in UNITS:
        raise ValueError(f"Unknown unit {unit!r}; expected one of {', '.join(UNITS)}")
    sign = "-" if value < 0 and round(abs(value), 1) != 0 else ""
    size = abs(value)
    if unit == "gbp":
        if round(size / 1e3) >= 1000:
            return f"{sign}£{_trim(size / 1e6)}m"
        if round(size) >= 10_000:
            return f"{sign}£{round(size / 1e3)}k"
        if round(size) >= 1000:
            return f"{sign}£{_trim(size / 1e3)}k"
        return f"{sign}£{round(size)}"
    if unit == "percent":
        return f"{sign}{_trim(size)}%"
    if unit == "days":
        text = _trim(size)
        return f"{sign}{text} day" if text == "1" else f"{sign}{text} days"
    # count and patients: whole numbers when large, one decimal for small fractions (means).
    return f"{sign}{_trim(size, 0 if size >= 100 else 1)}"


def nice_ticks(low: float, high: float, *, max_ticks: int = 7, whole: bool = False) -> list:
    """Axis ticks at 1, 2 or 5 times a power of ten, covering [low, high] and always including 0:
    the finest such step that needs no more than `max_ticks` ticks.

    >>> nice_ticks(0, 37)
    [0, 10, 20, 30, 40]
    """
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    magnitude = 10 ** math.floor(math.log10((high - low) / max(max_ticks - 1, 1)))
    for step in (m * magnitude * 10**k for k in (0, 1, 2) for m in (1, 2, 5)):
        if whole and step < 1:
            continue
        first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
        if last - first + 1 <= max_ticks:
            break
    ticks = []
    for k in range(first, last + 1):
        tick = round(k * step, 10)
        ticks.append(int(tick) if tick == int(tick) else tick)
    return ticks


def _axis_ticks(low: float, high: float, unit: str, *, length: float, spacing: float) -> list:
    """Nice ticks for an axis `length` px long, at least `spacing` px apart so their labels
    never crowd: a short plot under a tall legend gets fewer ticks."""
    most = max(3, min(7, int(length // spacing) + 1))
    return nice_ticks(low, high, max_ticks=most, whole=unit in _WHOLE_UNITS)


# ----------------------------------------------------------------------------- SVG pieces


def _n(number: float) -> str:
    """A coordinate with one decimal at most, so the markup stays short and stable."""
    return _trim(number).replace(",", "")


def _text_safe(text) -> str:
    # The standard library's escape, which Django's wraps (the same five characters): a chart
    # escapes thousands of values, and the wrapper's lazy-string check was a fifth of the
    # metrics dashboard's time (issue #9's benchmark).
    return html.escape(_XML_INVALID.sub("", str(text)), quote=True)


def _open(tag: str, attrs: dict) -> str:
    """An opening tag, every attribute value escaped (None leaves the attribute out)."""
    parts = [tag]
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = _n(value)
        parts.append(f'{key}="{_text_safe(value)}"')
    return f"<{' '.join(parts)}>"


def _el(tag: str, attrs: dict, text: str | None = None) -> str:
    """One element, self-closing unless it has text; all text and values escaped."""
    if text is None:
        return _open(tag, attrs)[:-1] + "/>"
    return f"{_open(tag, attrs)}{_text_safe(text)}</{tag}>"


def _label(x, y, text, *, anchor="middle", colour=TEXT, size=FONT_SIZE, weight=None) -> str:
    return _el(
        "text",
        {
            "x": float(x),
            "y": float(y),
            "text-anchor": anchor,
            "font-family": FONT,
            "font-size": size,
            "font-weight": weight,
            "fill": colour,
        },
        text,
    )


def _text_width(text: str) -> float:
    return len(str(text)) * CHAR_WIDTH


def _points(points) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def _marker(shape: str, x: float, y: float, colour: str, *, hollow: bool = False) -> str:
    """A data-point marker 8 px across, outlined so it shows on any background."""
    fill = "#ffffff" if hollow else colour
    stroke = colour if hollow else TEXT
    common = {"fill": fill, "stroke": stroke, "stroke-width": "1.5" if hollow else "1"}
    r = 4.0
    if shape == "circle":
        return _el("circle", {"cx": float(x), "cy": float(y), "r": r, **common})
    if shape == "square":
        return _el("rect", {"x": x - r, "y": y - r, "width": 2 * r, "height": 2 * r, **common})
    offsets = {
        "triangle": [(0, -1.2), (1.1, 0.9), (-1.1, 0.9)],
        "triangle-down": [(0, 1.2), (1.1, -0.9), (-1.1, -0.9)],
        "diamond": [(0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)],
        "plus": [
            (-0.4, -1.2),
            (0.4, -1.2),
            (0.4, -0.4),
            (1.2, -0.4),
            (1.2, 0.4),
            (0.4, 0.4),
            (0.4, 1.2),
            (-0.4, 1.2),
            (-0.4, 0.4),
            (-1.2, 0.4),
            (-1.2, -0.4),
            (-0.4, -0.4),
        ],
    }[shape]
    return _el(
        "polygon", {"points": _points((x + dx * r, y + dy * r) for dx, dy in offsets)} | common
    )


def _segments(values: Sequence[float | None]) -> list[list[int]]:
    """Runs of consecutive indexes that have a value: the pieces of a line with gaps."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def _marked(values: Sequence[float | None], *, spacing: float) -> list[int]:
    """Indexes that get a marker. Dense lines mark every k-th point (markers 8 px across would
    merge into a smear), but always the ends of each run and any lone point, which has no
    line and would otherwise not show at all."""
    every = max(1, math.ceil(16 / spacing)) if spacing > 0 else 1
    marked = []
    for run in _segments(values):
        marked.extend(i for i in run if i == run[0] or i == run[-1] or (i - run[0]) % every == 0)
    return marked


def _chart_id(kind: str, chart_id: str | None, arguments: dict) -> str:
    """A stable id: the same arguments give the same markup (tests and caches rely on it),
    and ``chart_id`` tells apart two identical charts on one page."""
    digest = hashlib.sha256(repr((kind, chart_id, sorted(arguments.items()))).encode())
    prefix = chart_id if chart_id and _ID_SAFE.match(chart_id) else "chart"
    return f"{prefix}-{digest.hexdigest()[:10]}"


def _svg(*, ident: str, title: str, desc: str, width: int, height: float, body: list) -> SafeString:
    head = _open(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "role": "img",
            "aria-labelledby": f"{ident}-title {ident}-desc",
            "viewBox": f"0 0 {_n(width)} {_n(height)}",
            "width": "100%",
            "preserveAspectRatio": "xMidYMid meet",
            "font-family": FONT,
            "font-size": FONT_SIZE,
        },
    )
    title_el = _el("title", {"id": f"{ident}-title"}, title)
    desc_el = _el("desc", {"id": f"{ident}-desc"}, desc)
    # Every piece was built by _el, which escapes all text and attribute values (the escaping
    # tests in tests/metrics/test_charts.py pin it), so the whole is safe to mark.
    return mark_safe(f"{head}{title_el}{desc_el}{''.join(body)}</svg>")  # nosec B308 B703


def _no_data(*, ident, title, desc, width, height) -> SafeString:
    body = [
        _el("rect", {"x": 0, "y": 0, "width": width, "height": height, "fill": "#f0f4f5"}),
        _label(width / 2, height / 2 + 5, "No data yet", colour=SECONDARY, size=16),
    ]
    return _svg(ident=ident, title=title, desc=desc, width=width, height=height, body=body)


def _sentence_start(kind: str, title: str) -> str:
    """ "Line chart of funding raised", keeping capitals of acronyms such as "NHS sites"."""
    title = str(title).strip()
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        title = title[0].lower() + title[1:]
    return f"{kind} of {title}"


def _join_desc(description: str, summary: str) -> str:
    description = str(description).strip()
    if not description:
        return summary
    if description[-1] not in ".!?":
        description += "."
    return f"{description} {summary}"


def _legend(items: list, *, x0: float, y0: float, width: float) -> tuple[list, float]:
    """Legend entries as (text, swatch-drawer) laid out in rows; returns (markup, height)."""
    markup: list = []
    x, y, rows = x0, y0, 1
    for text, draw in items:
        item_width = 30 + _text_width(text)
        if x > x0 and x + item_width > width - 8:
            x, y, rows = x0, y + 20, rows + 1
        markup.extend(draw(x, y))
        markup.append(_label(x + 30, y + 4, text, anchor="start"))
        x += item_width + 18
    return markup, rows * 20


def _line_swatch(colour, marker, dash=None, *, hollow=False, width="2.5"):
    def draw(x, y):
        parts = [
            _el(
                "line",
                {
                    "x1": float(x),
                    "y1": float(y),
                    "x2": float(x + 24),
                    "y2": float(y),
                    "stroke": colour,
                    "stroke-width": width,
                    "stroke-dasharray": dash,
                },
            )
        ]
        if marker:
            parts.append(_marker(marker, x + 12, y, colour, hollow=hollow))
        return parts

    return draw


def _thin_every(labels: Sequence[str], slot: float) -> int:
    """Show every k-th x label so that none overlaps the next (~7 px a character)."""
    widest = max((_text_width(label) for label in labels), default=0) + 8
    return max(1, math.ceil(widest / slot)) if slot > 0 else 1


def _x_labels(labels, xs, *, y, width) -> list:
    every = _thin_every(labels, (xs[1] - xs[0]) if len(xs) > 1 else width)
    markup = []
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every:
            continue
        half = _text_width(label) / 2
        # Keep the first and last labels inside the picture.
        x = min(max(x, half + 2), width - half - 2)
        markup.append(_label(x, y, label, colour=SECONDARY))
    return markup


def _y_axis(ticks, *, scale, left, right, unit) -> list:
    markup = []
    for tick in ticks:
        y = scale(tick)
        colour = AXIS if tick == 0 else GRID
        markup.append(
            _el(
                "line",
                {
                    "x1": float(left),
                    "y1": float(y),
                    "x2": float(right),
                    "y2": float(y),
                    "stroke": colour,
                    "stroke-width": "1",
                },
            )
        )
        markup.append(
            _label(left - 6, y + 4, format_value(tick, unit), anchor="end", colour=SECONDARY)
        )
    return markup


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"Unknown unit {unit!r}; expected one of {', '.join(UNITS)}")


def _check_length(name: str, values, labels) -> None:
    if len(values) != len(labels):
        raise ValueError(f"{name} has {len(values)} values for {len(labels)} labels")


def _extreme_sentence(values, labels, unit, *, name: str | None) -> str:
    present = [(v, i) for i, v in enumerate(values) if v is not None]
    if not present:
        return f"{name}: no data." if name else "No data."
    high, hi_i = max(present, key=lambda p: (p[0], -p[1]))
    last, last_i = present[-1]
    high_text = f"{format_value(high, unit)} in {labels[hi_i]}"
    last_text = f"{format_value(last, unit)} in {labels[last_i]}"
    if name:
        return f"{name}: highest {high_text}, latest {last_text}."
    return f"Highest: {high_text}. Latest: {last_text}."


# ----------------------------------------------------------------------------- line chart


def line_chart(
    *,
    title: str,
    labels: list[str],
    series: list[Series],
    unit: str = "count",
    target: float | None = None,
    target_label: str = "Target",
    projection: Series | None = None,
    height: int = 240,
    width: int = 640,
    description: str = "",
    chart_id: str | None = None,
) -> SafeString:
    """A line chart of up to six series over the same labels, as one inline ``<svg>``.

    ``None``, NaN or infinity in a series is a gap in its line. ``projection`` is drawn
    dashed and hollow-marked, continuing from the last real value of the first series (e.g.
    year to date projected to year end); ``target`` is a labelled horizontal line. The y axis
    starts at 0 (or below, for negative values) with 1/2/5 times 10^n ticks labelled in ``unit``.
    ``description``, if given, is read before the automatic summary in ``<desc>``.

    Show the same numbers in a table beside the chart: pass the table the same ``labels``
    and each series' ``values`` (and ``format_value(value, unit)`` to format the cells).
    """
    _check_unit(unit)
    series = list(series)
    if len(series) > MAX_SERIES:
        raise ValueError(f"A line chart takes at most {MAX_SERIES} series, not {len(series)}")
    labels = [str(label) for label in labels]
    lines = [[_clean(v) for v in s.values] for s in series]
    for s, values in zip(series, lines, strict=True):
        _check_length(f"Series {s.name!r}", values, labels)
    projected = [_clean(v) for v in projection.values] if projection else None
    if projection is not None:
        _check_length(f"Projection {projection.name!r}", projected, labels)
    target = _clean(target)
    ident = _chart_id(
        "line",
        chart_id,
        dict(
            title=title,
            labels=labels,
            # Cleaned values, not the objects: numpy's repr elides long arrays.
            series=[(s.name, s.style, values) for s, values in zip(series, lines, strict=True)],
            unit=unit,
            target=target,
            target_label=target_label,
            projection=(projection.name, projected) if projection else None,
            height=height,
            width=width,
            description=description,
        ),
    )

    every_value = [v for values in [*lines, projected or []] for v in values if v is not None]
    head = _sentence_start("Line chart", title)
    if labels:
        head += f", {labels[0]} to {labels[-1]}" if len(labels) > 1 else f", {labels[0]}"
    if not labels or not any(every_value):
        desc = _join_desc(description, f"{head}: no data yet.")
        return _no_data(ident=ident, title=title, desc=desc, width=width, height=height)

    # Words first: the gist for a screen-reader user.
    sentences = [f"{head}."]
    for s, values in zip(series, lines, strict=True):
        sentences.append(
            _extreme_sentence(values, labels, unit, name=s.name if len(series) > 1 else None)
        )
    if projected is not None:
        last = [(v, i) for i, v in enumerate(projected) if v is not None]
        if last:
            value, i = last[-1]
            sentences.append(f"{projection.name}: {format_value(value, unit)} by {labels[i]}.")
    if target is not None:
        sentences.append(f"{target_label}: {format_value(target, unit)}.")
    desc = _join_desc(description, " ".join(sentences))

    # Legend, when there is more than one thing to tell apart.
    items = []
    for k, s in enumerate(series):
        dash = DASH if s.style == "dashed" else None
        items.append((s.name, _line_swatch(PALETTE[k], MARKERS[k], dash)))
    if projection is not None:
        items.append((projection.name, _line_swatch(PALETTE[0], MARKERS[0], DASH, hollow=True)))
    if target is not None:
        items.append((target_label, _line_swatch(TEXT, None, TARGET_DASH, width="1.5")))
    show_legend = len(series) > 1 or projection is not None or target is not None
    legend, legend_height = _legend(items, x0=8, y0=14, width=width) if show_legend else ([], 0)

    low = min([*every_value, 0.0] + ([target] if target is not None else []))
    high = max([*every_value, 0.0] + ([target] if target is not None else []))
    top = (legend_height + 18) if show_legend else 12
    bottom_space = 28
    height = max(height, top + bottom_space + 80)
    bottom = height - bottom_space
    ticks = _axis_ticks(low, high, unit, length=bottom - top, spacing=24)
    tick_width = max(_text_width(format_value(t, unit)) for t in ticks)
    left = max(40, tick_width + 12)
    right = width - 16
    plot_w = right - left
    t0, t1 = ticks[0], ticks[-1]

    def sy(v):
        return bottom - (v - t0) / (t1 - t0) * (bottom - top)

    n = len(labels)
    xs = [left + plot_w * (i + 0.5) / n for i in range(n)]

    body = [*legend]
    body.extend(_y_axis(ticks, scale=sy, left=left, right=right, unit=unit))
    body.extend(_x_labels(labels, xs, y=height - 8, width=width))

    if target is not None:
        y = sy(target)
        body.append(
            _el(
                "line",
                {
                    "x1": float(left),
                    "y1": float(y),
                    "x2": float(right),
                    "y2": float(y),
                    "stroke": TEXT,
                    "stroke-width": "1.5",
                    "stroke-dasharray": TARGET_DASH,
                },
            )
        )
        text = f"{target_label}: {format_value(target, unit)}"
        # Above the line unless that would leave the plot; drawn after the data, on a white
        # backing, so that no line or marker makes it unreadable.
        ty = y - 6 if y - 6 - FONT_SIZE > top - 12 else y + 16
        target_text = [
            _el(
                "rect",
                {
                    "x": float(right - _text_width(text) - 4),
                    "y": float(ty - FONT_SIZE),
                    "width": float(_text_width(text) + 4),
                    "height": float(FONT_SIZE + 4),
                    "fill": "#ffffff",
                    "fill-opacity": "0.85",
                },
            ),
            _label(right, ty, text, anchor="end"),
        ]

    for k, (s, values) in enumerate(zip(series, lines, strict=True)):
        colour = PALETTE[k]
        group = [f'<g aria-hidden="true" data-series="{k}">']
        for run in _segments(values):
            if len(run) > 1:
                group.append(
                    _el(
                        "polyline",
                        {
                            "points": _points((xs[i], sy(values[i])) for i in run),
                            "fill": "none",
                            "stroke": colour,
                            "stroke-width": "2.5",
                            "stroke-linejoin": "round",
                            "stroke-dasharray": DASH if s.style == "dashed" else None,
                        },
                    )
                )
        group.extend(
            _marker(MARKERS[k], xs[i], sy(values[i]), colour)
            for i in _marked(values, spacing=xs[1] - xs[0] if n > 1 else width)
        )
        group.append("</g>")
        body.extend(group)

    if projected is not None:
        body.extend(_projection(projected, lines[0] if lines else [], xs, sy))
    if target is not None:
        body.extend(target_text)

    return _svg(ident=ident, title=title, desc=desc, width=width, height=height, body=body)


def _projection(projected, actual, xs, sy) -> list:
    """The projection as a dashed line that starts at the last real value of the first series
    (unless the projection has its own value there or before)."""
    real = [i for i, v in enumerate(actual) if v is not None]
    points = [(i, v) for i, v in enumerate(projected) if v is not None]
    if real and points and points[0][0] > real[-1]:
        points.insert(0, (real[-1], actual[real[-1]]))
    markup = ['<g aria-hidden="true" data-series="projection">']
    if len(points) > 1:
        markup.append(
            _el(
                "polyline",
                {
                    "points": _points((xs[i], sy(v)) for i, v in points),
                    "fill": "none",
                    "stroke": PALETTE[0],
                    "stroke-width": "2.5",
                    "stroke-dasharray": DASH,
                },
            )
        )
    spacing = xs[1] - xs[0] if len(xs) > 1 else 100
    markup.extend(
        _marker(MARKERS[0], xs[i], sy(projected[i]), PALETTE[0], hollow=True)
        for i in _marked(projected, spacing=spacing)
    )
    markup.append("</g>")
    return markup


# ----------------------------------------------------------------------------- bar chart


def bar_chart(
    *,
    title: str,
    labels: list[str],
    values: list[float | None],
    unit: str = "count",
    value_labels: list[str] | None = None,
    horizontal: bool = True,
    height: int | None = None,
    width: int = 640,
    colour: str = PALETTE[0],
    description: str = "",
    chart_id: str | None = None,
) -> SafeString:
    """A bar chart of one value per label (funnels, breakdowns, cohort comparison).

    ``value_labels`` replaces the text shown at each bar, e.g. "fewer than 5" for a
    suppressed cell: a ``None`` value draws no bar but still shows its label text (or
    "No data"). Horizontal by default, one row per label; ``height`` defaults to what the
    rows need. Vertical bars thin their x labels when there are many.

    Show the same numbers in a table beside the chart: pass the table the same ``labels``
    and ``value_labels`` (or ``format_value(value, unit)``).
    """
    _check_unit(unit)
    labels = [str(label) for label in labels]
    clean = [_clean(v) for v in values]
    _check_length("values", clean, labels)
    if value_labels is not None:
        _check_length("value_labels", value_labels, labels)
    texts = [
        str(value_labels[i])
        if value_labels is not None and value_labels[i] not in (None, "")
        else (format_value(v, unit) if v is not None else "No data")
        for i, v in enumerate(clean)
    ]
    ident = _chart_id(
        "bar",
        chart_id,
        dict(
            title=title,
            labels=labels,
            values=clean,
            unit=unit,
            value_labels=value_labels,
            horizontal=horizontal,
            height=height,
            width=width,
            colour=colour,
            description=description,
        ),
    )
    head = _sentence_start("Bar chart", title)
    # A chart of suppressed cells still says something ("fewer than 5"), so it is not empty.
    said = value_labels is not None and any(
        v is None and value_labels[i] for i, v in enumerate(clean)
    )
    if not labels or not (any(clean) or said):
        desc = _join_desc(description, f"{head}: no data yet.")
        return _no_data(ident=ident, title=title, desc=desc, width=width, height=height or 160)

    if len(labels) <= 12:
        summary = "; ".join(f"{label}: {text}" for label, text in zip(labels, texts, strict=True))
    else:
        present = [(v, i) for i, v in enumerate(clean) if v is not None]
        _, hi = max(present, key=lambda p: (p[0], -p[1]))
        _, lo = min(present, key=lambda p: (p[0], p[1]))
        summary = (
            f"{len(labels)} bars. Highest: {labels[hi]}, {texts[hi]}. "
            f"Lowest: {labels[lo]}, {texts[lo]}"
        )
    desc = _join_desc(description, f"{head}. {summary}.")

    present = [v for v in clean if v is not None]
    span = (min(present, default=0), max(present, default=0))
    draw = _horizontal_bars if horizontal else _vertical_bars
    body, height = draw(labels, clean, texts, span, unit, height, width, colour)
    return _svg(ident=ident, title=title, desc=desc, width=width, height=height, body=body)


def _wrap(text: str, chars: int, lines: int = 2) -> list[str]:
    """Words in at most `lines` lines of `chars` characters, the last cut with an ellipsis."""
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= chars or not line:
            line = candidate
        else:
            out.append(line)
            line = word
    out.append(line)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return [s if len(s) <= chars else s[: max(chars - 1, 1)] + "…" for s in out]


def _horizontal_bars(labels, values, texts, span, unit, height, width, colour):
    label_chars = max(6, int(width * 0.35 / CHAR_WIDTH))
    wrapped = [_wrap(label, label_chars) for label in labels]
    label_w = max(_text_width(line) for lines in wrapped for line in lines) + 12
    value_w = max(_text_width(text) for text in texts) + 10
    two_lines = any(len(lines) > 1 for lines in wrapped)
    top, axis_space = 8, 26
    n = len(labels)
    row = 40 if two_lines else 30
    if height is not None:
        row = max((height - top - axis_space) / n, 16)
    height = top + row * n + axis_space
    left, right = label_w, width - value_w - 8
    widest_tick = max(_text_width(format_value(v, unit)) for v in span)
    ticks = _axis_ticks(*span, unit, length=right - left, spacing=max(40, widest_tick + 16))
    t0, t1 = ticks[0], ticks[-1]

    def sx(v):
        return left + (v - t0) / (t1 - t0) * (right - left)

    body = []
    for tick in ticks:
        x = sx(tick)
        body.append(
            _el(
                "line",
                {
                    "x1": float(x),
                    "y1": float(top),
                    "x2": float(x),
                    "y2": float(top + row * n),
                    "stroke": AXIS if tick == 0 else GRID,
                    "stroke-width": "1",
                },
            )
        )
        body.append(_label(x, height - 8, format_value(tick, unit), colour=SECONDARY))
    bar_h = min(row * 0.6, 24)
    x0 = sx(0)
    for i, (lines, value, text) in enumerate(zip(wrapped, values, texts, strict=True)):
        centre = top + row * (i + 0.5)
        first = centre + 4 - (len(lines) - 1) * 8
        for j, line in enumerate(lines):
            body.append(_label(left - 8, first + 16 * j, line, anchor="end"))
        if value is None:
            body.append(_label(x0 + 6, centre + 4, text, anchor="start", colour=SECONDARY))
            continue
        x = sx(value)
        body.append(
            _el(
                "rect",
                {
                    "x": float(min(x, x0)),
                    "y": float(centre - bar_h / 2),
                    "width": float(abs(x - x0)),
                    "height": float(bar_h),
                    "fill": colour,
                },
            )
        )
        body.append(_label(max(x, x0) + 6, centre + 4, text, anchor="start"))
    return body, height


def _vertical_bars(labels, values, texts, span, unit, height, width, colour):
    height = height or 240
    top, bottom = 24, height - 28
    ticks = _axis_ticks(*span, unit, length=bottom - top, spacing=24)
    tick_w = max(_text_width(format_value(t, unit)) for t in ticks)
    left, right = max(40, tick_w + 12), width - 16
    n = len(labels)
    t0, t1 = ticks[0], ticks[-1]

    def sy(v):
        return bottom - (v - t0) / (t1 - t0) * (bottom - top)

    slot = (right - left) / n
    xs = [left + slot * (i + 0.5) for i in range(n)]
    body = _y_axis(ticks, scale=sy, left=left, right=right, unit=unit)
    body.extend(_x_labels(labels, xs, y=height - 8, width=width))
    fits = max(_text_width(t) for t in texts) + 4 <= slot
    y0 = sy(0)
    bar_w = slot * 0.6
    for x, value, text in zip(xs, values, texts, strict=True):
        if value is None:
            # A suppressed cell says so even when the other value labels do not fit.
            body.append(_label(x, y0 - 6, text, colour=SECONDARY))
            continue
        y = sy(value)
        body.append(
            _el(
                "rect",
                {
                    "x": float(x - bar_w / 2),
                    "y": float(min(y, y0)),
                    "width": float(bar_w),
                    "height": float(abs(y0 - y)),
                    "fill": colour,
                },
            )
        )
        if fits:
            body.append(_label(x, min(y, y0) - 6, text))
    return body, height


# ----------------------------------------------------------------------------- fan chart


def fan_chart(
    *,
    title: str,
    years: list[str],
    p10: list[float],
    p50: list[float],
    p90: list[float],
    mean: list[float] | None = None,
    actual: list[float | None] | None = None,
    unit: str = "patients",
    height: int = 260,
    width: int = 640,
    description: str = "",
    chart_id: str | None = None,
) -> SafeString:
    """The Patient Impact forecast (DESIGN §8): a shaded P10 to P90 band, the median (P50) as a
    solid line, the mean dashed, and verified actuals as distinct diamond markers without a
    line. A year with no P10, P50 or P90 (None or NaN) breaks the band there.

    Show the same numbers in a table beside the chart: one row per year with P10, P50, P90,
    mean and actual (``format_value(value, unit)`` formats the cells).
    """
    _check_unit(unit)
    years = [str(y) for y in years]
    lows, mids, highs = ([_clean(v) for v in p] for p in (p10, p50, p90))
    means = [_clean(v) for v in mean] if mean is not None else None
    actuals = [_clean(v) for v in actual] if actual is not None else None
    for name, seq in (("p10", lows), ("p50", mids), ("p90", highs), ("mean", means)):
        if seq is not None:
            _check_length(name, seq, years)
    if actuals is not None:
        _check_length("actual", actuals, years)
    ident = _chart_id(
        "fan",
        chart_id,
        dict(
            title=title,
            years=years,
            p10=lows,
            p50=mids,
            p90=highs,
            mean=means,
            actual=actuals,
            unit=unit,
            height=height,
            width=width,
            description=description,
        ),
    )
    head = _sentence_start("Forecast", title)
    if years:
        head += f", {years[0]} to {years[-1]}" if len(years) > 1 else f", {years[0]}"
    complete = [i if None not in (lows[i], mids[i], highs[i]) else None for i in range(len(years))]
    every_value = [
        v for seq in (lows, mids, highs, means or [], actuals or []) for v in seq if v is not None
    ]
    if not years or not any(every_value):
        desc = _join_desc(description, f"{head}: no data yet.")
        return _no_data(ident=ident, title=title, desc=desc, width=width, height=height)

    sentences = [f"{head}."]
    shown = [i for i in complete if i is not None]
    if shown:
        i = shown[-1]
        sentences.append(
            f"In {years[i]}: median {format_value(mids[i], unit)}, with an 80% chance of "
            f"between {format_value(lows[i], unit)} and {format_value(highs[i], unit)}."
        )
        if means is not None and means[i] is not None:
            sentences.append(f"Mean {format_value(means[i], unit)}.")
    if actuals is not None:
        verified = [(years[i], v) for i, v in enumerate(actuals) if v is not None]
        if verified:
            listed = ", ".join(f"{format_value(v, unit)} in {y}" for y, v in verified)
            sentences.append(f"Verified actual: {listed}.")
    desc = _join_desc(description, " ".join(sentences))

    def band_swatch(x, y):
        return [
            _el(
                "rect",
                {
                    "x": float(x),
                    "y": float(y - 6),
                    "width": 24,
                    "height": 12,
                    "fill": BAND,
                    "fill-opacity": BAND_OPACITY,
                    "stroke": BAND,
                    "stroke-width": "1",
                },
            )
        ]

    items = [
        ("P10 to P90 (80% of outcomes)", band_swatch),
        ("Median (P50)", _line_swatch(PALETTE[0], "circle")),
    ]
    if means is not None:
        items.append(("Mean", _line_swatch(PALETTE[1], None, DASH)))
    if actuals is not None:
        items.append(("Verified actual", _actual_swatch))
    legend, legend_height = _legend(items, x0=8, y0=14, width=width)

    top = legend_height + 18
    height = max(height, top + 28 + 80)
    bottom = height - 28
    ticks = _axis_ticks(min(every_value), max(every_value), unit, length=bottom - top, spacing=24)
    tick_width = max(_text_width(format_value(t, unit)) for t in ticks)
    left, right = max(40, tick_width + 12), width - 16
    t0, t1 = ticks[0], ticks[-1]

    def sy(v):
        return bottom - (v - t0) / (t1 - t0) * (bottom - top)

    n = len(years)
    xs = [left + (right - left) * (i + 0.5) / n for i in range(n)]
    body = [*legend]
    body.extend(_y_axis(ticks, scale=sy, left=left, right=right, unit=unit))
    body.extend(_x_labels(years, xs, y=height - 8, width=width))

    for run in _segments(complete):
        if len(run) == 1:
            # One year alone: a short band so it still shows.
            i = run[0]
            outline = [
                (xs[i] - 6, sy(highs[i])),
                (xs[i] + 6, sy(highs[i])),
                (xs[i] + 6, sy(lows[i])),
                (xs[i] - 6, sy(lows[i])),
            ]
        else:
            outline = [(xs[i], sy(highs[i])) for i in run]
            outline += [(xs[i], sy(lows[i])) for i in reversed(run)]
        body.append(
            _el(
                "polygon",
                {
                    "points": _points(outline),
                    "fill": BAND,
                    "fill-opacity": BAND_OPACITY,
                    "stroke": "none",
                    "data-band": "p10-p90",
                },
            )
        )

    if means is not None:
        for run in _segments(means):
            if len(run) > 1:
                body.append(
                    _el(
                        "polyline",
                        {
                            "points": _points((xs[i], sy(means[i])) for i in run),
                            "fill": "none",
                            "stroke": PALETTE[1],
                            "stroke-width": "2",
                            "stroke-dasharray": DASH,
                            "data-line": "mean",
                        },
                    )
                )
    for run in _segments(mids):
        if len(run) > 1:
            body.append(
                _el(
                    "polyline",
                    {
                        "points": _points((xs[i], sy(mids[i])) for i in run),
                        "fill": "none",
                        "stroke": PALETTE[0],
                        "stroke-width": "2.5",
                        "data-line": "p50",
                    },
                )
            )
    spacing = xs[1] - xs[0] if n > 1 else width
    body.extend(
        _marker("circle", xs[i], sy(mids[i]), PALETTE[0]) for i in _marked(mids, spacing=spacing)
    )
    if actuals is not None:
        body.extend(_actual_marker(xs[i], sy(v)) for i, v in enumerate(actuals) if v is not None)
    return _svg(ident=ident, title=title, desc=desc, width=width, height=height, body=body)


def _actual_marker(x, y) -> str:
    """A verified actual: a larger green diamond with a dark outline, no connecting line."""
    r = 6.0
    return _el(
        "polygon",
        {
            "points": _points([(x, y - r), (x + r, y), (x, y + r), (x - r, y)]),
            "fill": PALETTE[2],
            "stroke": TEXT,
            "stroke-width": "1.5",
            "data-point": "actual",
        },
    )


def _actual_swatch(x, y):
    return [_actual_marker(x + 12, y)]
