"""Charts for the morning page, drawn as inline SVG: the page works offline and asks nothing of
the network (no script, no font, no style sheet from elsewhere).

Each function takes plain numbers and returns one `<svg>` element. Every mark (a bar, a cell,
a line, a point) has the class `mark` and a `<title>` with its exact figure, so a reader can
hover for the number and a test can count what was drawn. No figure, no marks: an empty chart
says so in its own text instead of drawing an empty frame.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

# Colour-blind-safe (Okabe-Ito), in series order.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
FONT = "font-family='sans-serif' font-size='12'"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figure(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' role='img' aria-label='{_esc(label)}' "
        f"width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"
        f"<title>{_esc(label)}</title>" + "".join(body) + "</svg>"
    )


def _empty(label: str, why: str, width: int = 640) -> str:
    return _svg(width, 40, label, [f"<text x='0' y='24' {FONT} fill='#555'>{_esc(why)}</text>"])


def _legend(series: Sequence[str], x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(series):
        left = x + i * 150
        out.append(f"<rect x='{left}' y='{y - 10}' width='12' height='12' fill='{PALETTE[i % len(PALETTE)]}'/>")
        out.append(f"<text x='{left + 16}' y='{y}' {FONT}>{_esc(name)}</text>")
    return out


def grouped_bars(
    label: str, rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[str], empty: str = "no data yet"
) -> str:
    """Horizontal bars, one group per row (e.g. a title), one bar per series (e.g. starters,
    completers, repeat households), scaled to the largest value."""
    if not rows or not any(v for _, values in rows for v in values):
        return _empty(label, empty)
    label_width, bar_height, gap, width = 260, 14, 10, 680
    plot = width - label_width - 70
    top = max(v for _, values in rows for v in values) or 1
    group = bar_height * len(series) + gap
    height = 30 + group * len(rows)
    body = _legend(series, label_width, 14)
    for r, (name, values) in enumerate(rows):
        y0 = 26 + r * group
        body.append(
            f"<text x='{label_width - 8}' y='{y0 + bar_height * len(series) / 2 + 4}' text-anchor='end' {FONT}>"
            f"{_esc(name[:40])}</text>"
        )
        for s, value in enumerate(values):
            length = max(plot * value / top, 0)
            y = y0 + s * bar_height
            body.append(
                f"<rect class='mark' x='{label_width}' y='{y}' width='{length:.1f}' height='{bar_height - 2}' "
                f"fill='{PALETTE[s % len(PALETTE)]}'><title>{_esc(name)}: {_esc(series[s])} {_figure(value)}</title></rect>"
            )
            body.append(
                f"<text x='{label_width + length + 4:.1f}' y='{y + bar_height - 4}' {FONT}>{_figure(value)}</text>"
            )
    return _svg(width, height, label, body)


def columns(label: str, pairs: Sequence[tuple[str, float]], unit: str, empty: str = "no data yet") -> str:
    """Vertical columns, one per category (e.g. households by number of completions)."""
    if not pairs or not any(v for _, v in pairs):
        return _empty(label, empty, 420)
    width, height, left, bottom, top_margin = 420, 240, 50, 30, 40
    plot_h = height - bottom - top_margin
    step = (width - left - 10) / len(pairs)
    top = max(v for _, v in pairs) or 1
    body = [f"<text x='4' y='14' {FONT} fill='#555'>{_esc(unit)}</text>"]
    for i, (name, value) in enumerate(pairs):
        h = plot_h * value / top
        x = left + i * step + step * 0.15
        y = top_margin + plot_h - h
        body.append(
            f"<rect class='mark' x='{x:.1f}' y='{y:.1f}' width='{step * 0.7:.1f}' height='{h:.1f}' fill='{PALETTE[0]}'>"
            f"<title>{_esc(name)}: {_figure(value)} {_esc(unit)}</title></rect>"
        )
        body.append(
            f"<text x='{x + step * 0.35:.1f}' y='{y - 4:.1f}' text-anchor='middle' {FONT}>{_figure(value)}</text>"
        )
        body.append(
            f"<text x='{x + step * 0.35:.1f}' y='{height - 10}' text-anchor='middle' {FONT}>{_esc(name)}</text>"
        )
    return _svg(width, height, label, body)


def heatmap(
    label: str,
    rows: Sequence[str],
    cols: Sequence[str],
    values: dict[tuple[str, str], float],
    empty: str = "no data yet",
) -> str:
    """A grid of cells (e.g. weekday x local hour), darker for more."""
    if not values or not any(values.values()):
        return _empty(label, empty)
    cell, left, top_margin = 22, 50, 20
    width, height = left + cell * len(cols) + 10, top_margin + cell * len(rows) + 10
    top = max(values.values()) or 1
    body = []
    for c, col in enumerate(cols):
        if c % 3 == 0:
            body.append(f"<text x='{left + c * cell + cell / 2}' y='14' text-anchor='middle' {FONT}>{_esc(col)}</text>")
    for r, row in enumerate(rows):
        body.append(
            f"<text x='{left - 6}' y='{top_margin + r * cell + cell * 0.7}' text-anchor='end' {FONT}>{_esc(row)}</text>"
        )
        for c, col in enumerate(cols):
            value = values.get((row, col), 0)
            # White to the palette's blue, by share of the busiest cell.
            share = value / top
            shade = tuple(round(255 - (255 - channel) * share) for channel in (0, 114, 178))
            body.append(
                f"<rect class='mark' x='{left + c * cell}' y='{top_margin + r * cell}' width='{cell - 1}' "
                f"height='{cell - 1}' fill='rgb{shade}'><title>{_esc(row)} {_esc(col)}:00 - {_figure(value)}</title></rect>"
            )
    return _svg(width, height, label, body)


def lines(
    label: str,
    series: dict[str, Sequence[tuple[float, float]]],
    x_label: str,
    y_label: str,
    empty: str = "no data yet",
) -> str:
    """One line per series (e.g. households by day since release, one line per title)."""
    points = [p for values in series.values() for p in values]
    if not points or not any(y for _, y in points):
        return _empty(label, empty)
    width, height, left, bottom, top_margin = 680, 260, 60, 40, 30
    plot_w, plot_h = width - left - 20, height - bottom - top_margin
    x_max = max(x for x, _ in points) or 1
    y_max = max(y for _, y in points) or 1

    def at(x: float, y: float) -> tuple[float, float]:
        return left + plot_w * x / x_max, top_margin + plot_h * (1 - y / y_max)

    body = [
        f"<line x1='{left}' y1='{top_margin + plot_h}' x2='{left + plot_w}' y2='{top_margin + plot_h}' stroke='#999'/>",
        f"<line x1='{left}' y1='{top_margin}' x2='{left}' y2='{top_margin + plot_h}' stroke='#999'/>",
        f"<text x='{left + plot_w / 2}' y='{height - 6}' text-anchor='middle' {FONT}>{_esc(x_label)}</text>",
        f"<text x='4' y='{top_margin - 10}' {FONT}>{_esc(y_label)} (max {_figure(y_max)})</text>",
        f"<text x='{left}' y='{top_margin + plot_h + 14}' text-anchor='middle' {FONT}>0</text>",
        f"<text x='{left + plot_w}' y='{top_margin + plot_h + 14}' text-anchor='middle' {FONT}>{_figure(x_max)}</text>",
    ]
    body += _legend(list(series)[:4], left + 220, 14) if len(series) <= 4 else []
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        ordered = sorted(values)
        path = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(at(*p) for p in ordered))
        body.append(
            f"<path class='mark' d='{path}' fill='none' stroke='{colour}' stroke-width='2'><title>{_esc(name)}</title></path>"
        )
        for x, y in ordered:
            cx, cy = at(x, y)
            body.append(
                f"<circle class='mark' cx='{cx:.1f}' cy='{cy:.1f}' r='2.5' fill='{colour}'>"
                f"<title>{_esc(name)}: {_esc(x_label)} {_figure(x)}, {_figure(y)}</title></circle>"
            )
    return _svg(width, height, label, body)
