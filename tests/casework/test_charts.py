"""Server-drawn SVG charts: mirrored in Arabic, escaped, linked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from casework.charts import Bar, Column, bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"


def _tree(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 — our own output: it must be well-formed XML


@pytest.mark.parametrize(("rtl", "label_side"), [pytest.param(True, "right", id="rtl"),
                                                 pytest.param(False, "left", id="ltr")])
def test_bars_start_on_the_reading_side(rtl: bool, label_side: str) -> None:
    svg = _tree(bar_chart([Bar("صندوق الشكاوى", 10), Bar("SMS", 5)], title="t", rtl=rtl,
                          width=480, label_width=180))
    assert svg.get("direction") == ("rtl" if rtl else "ltr")
    label = svg.find(f".//{SVG}g/{SVG}text")
    rects = svg.findall(f".//{SVG}rect")
    assert label is not None and label.get("text-anchor") == "start"
    x = float(label.get("x", "0"))
    assert (x > 400) if label_side == "right" else (x < 80)
    longest, shorter = (float(rect.get("width", "0")) for rect in rects)
    assert longest == pytest.approx(2 * shorter)  # 10 against 5
    left_edges = [float(rect.get("x", "0")) for rect in rects]
    if rtl:  # bars grow leftwards from the labels: their right edges line up
        rights = [edge + float(rect.get("width", "0"))
                  for edge, rect in zip(left_edges, rects, strict=True)]
        assert rights[0] == pytest.approx(rights[1]) == pytest.approx(480 - 180)
    else:
        assert left_edges[0] == pytest.approx(left_edges[1]) == pytest.approx(180)


def test_first_month_is_on_the_reading_side() -> None:
    columns = [Column("Jan", [1]), Column("Feb", [2])]
    for rtl in (True, False):
        svg = column_chart(columns, ["received"], title="t", rtl=rtl, width=400)
        xs = {text: float(x) for x, text in re.findall(
            r'<text x="([\d.]+)"[^>]*>(Jan|Feb)</text>', str(svg))}
        assert (xs["Jan"] > xs["Feb"]) is rtl


def test_labels_are_escaped_and_bars_linked() -> None:
    svg = str(bar_chart([Bar("<b>&", 3, href="/admin/queue?a=1&b=2")], title="x<y", rtl=False))
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert '<a href="/admin/queue?a=1&amp;b=2">' in svg
    _tree(svg)


@pytest.mark.parametrize("href", [pytest.param("/admin/queue", id="linked"),
                                  pytest.param(None, id="plain")])
def test_a_linked_chart_is_a_named_group_not_an_image(href: str | None) -> None:
    """An image's descendants are presentational: links inside one could be focused but not
    named by a screen reader (axe's nested-interactive)."""
    for svg in (bar_chart([Bar("a", 1, href=href)], title="Cases by channel", rtl=True),
                column_chart([Column("Jan", [1], href=href)], ["received"],
                             title="Cases by channel", rtl=False)):
        root = _tree(str(svg))
        assert root.get("role") == ("group" if href else "img")
        assert root.get("aria-label") == "Cases by channel"
        assert (root.find(f".//{SVG}a") is not None) is bool(href)


def test_shares_are_written_as_percentages() -> None:
    svg = str(column_chart([Column("Mar", [0.754]), Column("Apr", [None])], ["share"],
                           title="t", rtl=False, percent=True))
    assert ">75%<" in svg and ">—<" in svg


def test_shares_are_drawn_against_the_whole_not_the_largest() -> None:
    svg = _tree(bar_chart([Bar("a", 0.5), Bar("b", 0.25)], title="t", rtl=False, width=480,
                          label_width=180, full=1.0))
    widths = [float(rect.get("width", "0")) for rect in svg.findall(f".//{SVG}rect")]
    track = 480 - 180 - 56
    assert widths == [pytest.approx(track / 2), pytest.approx(track / 4)]
