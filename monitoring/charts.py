"""Line charts as server-rendered SVG geometry (no script, nothing fetched).

`line_chart` turns time series into what the template draws: one polyline per series in
a fixed viewBox, a y axis from zero to a rounded maximum with a few gridlines, and time
labels at both ends. Each chart has its own y axis, which is how failures get theirs.
"""

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 600, 160
#: Room for the y labels on the left and the time labels below.
LEFT, BOTTOM, TOP = 48, 18, 8
#: Colour-blind-safe palette (Okabe-Ito), one colour per series in order.
COLOURS = ("#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7")


@dataclass(frozen=True)
class Series:
    label: str
    #: (datetime, value or None); None breaks the line (no data in that period).
    points: list


def nice_ceiling(value):
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above value (1 for nothing to show)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(title, unit, series, start, end):
    span = max(1.0, (end - start).total_seconds())
    values = [v for s in series for _, v in s.points if v is not None]
    top = nice_ceiling(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP

    def x(t):
        return LEFT + plot_w * min(1.0, max(0.0, (t - start).total_seconds() / span))

    def y(v):
        return TOP + plot_h * (1 - v / top)

    lines = []
    for colour, s in zip(COLOURS, series):
        segments, current = [], []
        for t, v in s.points:
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{x(t):.1f},{y(v):.1f}")
        if current:
            segments.append(current)
        lines.append({
            "label": s.label,
            "colour": colour,
            "segments": [" ".join(seg) for seg in segments if len(seg) > 1],
            # A lone point between gaps draws no line: it is drawn as a dot.
            "dots": [seg[0].split(",") for seg in segments if len(seg) == 1],
        })
    grid = [{"y": round(y(top * f), 1), "label": _format(top * f)} for f in (0, 0.5, 1)]
    return {
        "title": title, "unit": unit, "lines": lines, "grid": grid, "empty": not values,
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "label_x": LEFT - 4,
        "middle_x": LEFT + plot_w / 2, "middle_y": TOP + plot_h / 2,
        "start": start, "end": end,
    }


def _format(value):
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"
