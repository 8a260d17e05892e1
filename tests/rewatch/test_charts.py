"""The morning page's charts (rewatch.charts): well-formed SVG, one mark per figure with its
number, names escaped, and an empty chart that says so instead of drawing nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from rewatch import charts

SVG = "{http://www.w3.org/2000/svg}"


def _marks(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # well-formed, or this raises
    assert root.tag == f"{SVG}svg"
    return [element for element in root.iter() if element.get("class") == "mark"]


def _titles(marks: list[ET.Element]) -> list[str]:
    return [mark.find(f"{SVG}title").text for mark in marks]


def test_grouped_bars_draw_a_bar_per_title_and_series_with_its_figure():
    svg = charts.grouped_bars(
        "funnel", [("Film <A> & co", [10, 7, 2]), ("Film B", [5, 0, 0])], ["starters", "completers", "repeat"]
    )
    marks = _marks(svg)
    assert len(marks) == 6
    assert "Film <A> & co: starters 10" in _titles(marks)
    assert "<A>" not in svg  # escaped
    widths = [float(m.get("width")) for m in marks]
    assert widths[0] == max(widths) and widths[4] == 0  # scaled to the largest; a zero is no bar


def test_columns_heatmap_and_lines_draw_their_figures():
    columns = _marks(charts.columns("completions", [("1", 40), ("2", 12), ("5+", 3)], "households"))
    assert _titles(columns) == ["1: 40 households", "2: 12 households", "5+: 3 households"]

    cells = _marks(charts.heatmap("heat", ["Mon", "Tue"], ["07", "16"], {("Mon", "07"): 9, ("Tue", "16"): 3}))
    assert len(cells) == 4
    fills = {mark.find(f"{SVG}title").text: mark.get("fill") for mark in cells}
    assert fills["Mon 07:00 - 9"] == "rgb(0, 114, 178)" and fills["Tue 07:00 - 0"] == "rgb(255, 255, 255)"

    marks = _marks(charts.lines("staying", {"A": [(0, 5), (1, 8), (2, 6)], "B": [(0, 1)]}, "day", "households"))
    assert [m.tag for m in marks].count(f"{SVG}path") == 2
    assert "A: day 1, 8" in _titles(marks)


def test_a_chart_without_figures_says_so_and_draws_no_mark():
    for svg in (
        charts.grouped_bars("funnel", [], ["starters"], empty="no title yet"),
        charts.columns("c", [("1", 0)], "households", empty="no title yet"),
        charts.heatmap("h", ["Mon"], ["07"], {}, empty="no title yet"),
        charts.lines("l", {"A": []}, "day", "households", empty="no title yet"),
    ):
        assert _marks(svg) == [] and "no title yet" in svg
