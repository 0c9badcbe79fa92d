"""Charts drawn on the server as SVG: the console's dashboard (inline, no script — the CSP
forbids them) and the PDF report (WeasyPrint draws the same SVG).

Right-to-left: the whole drawing is mirrored — labels on the right, bars growing to the left,
the first month on the right — and the root carries ``direction="rtl"``, so that every text's
``text-anchor="start"`` is its right edge and Arabic labels are laid out (and shaped) as a
right-to-left run, in a browser and in WeasyPrint alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

FONT = "'Noto Sans Arabic', 'Noto Naskh Arabic', 'DejaVu Sans', sans-serif"
PALETTE = ("#0f5c4d", "#cc7222", "#3b6ea5", "#8a1c14", "#6b4e9b")
TEXT = "#1d2733"
MUTED = "#52606d"
GRID = "#d8dee4"
MAX_LABEL = 24


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str | None = None
    shown: str | None = None  # what is written at the bar's end (default: the value)
    color: str | None = None


@dataclass(frozen=True)
class Column:
    label: str  # "\n" splits it over two lines
    values: Sequence[float | None]  # one per series
    href: str | None = None


def bar_chart(bars: Sequence[Bar], *, title: str, rtl: bool, width: int = 480,
              label_width: int = 180, full: float | None = None) -> Markup:
    """Horizontal bars, one per group: a bar of value ``full`` (default: the largest) spans
    the space the labels leave."""
    row, top, value_width = 26, 6, 56
    height = top * 2 + row * max(len(bars), 1)
    track = width - label_width - value_width
    largest = full or max((bar.value for bar in bars), default=0) or 1
    parts = [_open(width, height, title, rtl, linked=any(bar.href for bar in bars))]
    if not bars:
        parts.append(_text(_x(label_width, rtl, width), top + 16, "—", rtl=rtl, fill=MUTED))
    for index, bar in enumerate(bars):
        y = top + index * row
        length = max(bar.value / largest * track, 0 if bar.value == 0 else 2)
        left = _span(label_width, length, rtl, width)
        label = bar.label if len(bar.label) <= MAX_LABEL else bar.label[:MAX_LABEL - 1] + "…"
        shown = bar.shown if bar.shown is not None else _number(bar.value)
        item = [
            f"<title>{escape(bar.label)}: {escape(shown)}</title>",
            _text(_x(4, rtl, width), y + 17, label, rtl=rtl),
            f'<rect x="{left:.1f}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{bar.color or PALETTE[0]}" rx="2"/>',
            _text(_x(label_width + length + 6, rtl, width), y + 17, shown, rtl=rtl,
                  fill=MUTED),
        ]
        parts.append(_group(item, bar.href))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text and attribute is escaped above)


def column_chart(columns: Sequence[Column], series: Sequence[str], *, title: str, rtl: bool,
                 percent: bool = False, width: int = 640, height: int = 240) -> Markup:
    """Vertical columns per group (months), one colour per series, legend on top; shares
    (0–1) when ``percent``."""
    legend, bottom, side = 24, 40, 8
    plot = height - legend - bottom - 16
    slot = (width - 2 * side) / max(len(columns), 1)
    gap = max(slot * 0.2, 4)
    each = (slot - gap) / max(len(series), 1)
    largest = 1.0 if percent else max(
        (value or 0 for column in columns for value in column.values), default=0) or 1
    parts = [_open(width, height, title, rtl, linked=any(column.href for column in columns)),
             _legend(series, rtl, width)]
    base = legend + 16 + plot
    parts.append(f'<line x1="{side}" x2="{width - side}" y1="{base}" y2="{base}" '
                 f'stroke="{GRID}"/>')
    for index, column in enumerate(columns):
        start = side + index * slot + gap / 2
        item = [f"<title>{escape(column.label.replace(chr(10), ' '))}</title>"]
        for number, value in enumerate(column.values):
            tall = (value or 0) / largest * plot
            x = _span(start + number * each, each, rtl, width) if rtl \
                else start + number * each
            if value:
                item.append(f'<rect x="{x:.1f}" y="{base - tall:.1f}" width="{each - 1:.1f}" '
                            f'height="{tall:.1f}" fill="{PALETTE[number % len(PALETTE)]}"/>')
            shown = "—" if value is None else (f"{value:.0%}" if percent else _number(value))
            item.append(_text(x + each / 2, base - tall - 4, shown, rtl=rtl, anchor="middle",
                              size=10, fill=MUTED))
        centre = _x(start + (slot - gap) / 2, rtl, width)
        for line, words in enumerate(column.label.split("\n")[:2]):
            item.append(_text(centre, base + 15 + line * 13, words, rtl=rtl, anchor="middle",
                              size=11))
        parts.append(_group(item, column.href))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text and attribute is escaped above)


def _open(width: int, height: int, title: str, rtl: bool, *, linked: bool) -> str:
    # An image's parts are hidden from screen readers, so a chart whose bars are links is a
    # named group instead: each link keeps its own name (its <title>).
    role = "group" if linked else "img"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="{role}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'direction="{"rtl" if rtl else "ltr"}" font-family="{escape(FONT)}" '
            f'font-size="12" aria-label="{escape(title)}"><title>{escape(title)}</title>')


def _legend(series: Sequence[str], rtl: bool, width: int) -> str:
    parts, offset = [], 8
    for index, name in enumerate(series):
        swatch = _span(offset, 12, rtl, width)
        parts.append(f'<rect x="{swatch:.1f}" y="6" width="12" height="12" '
                     f'fill="{PALETTE[index % len(PALETTE)]}"/>')
        parts.append(_text(_x(offset + 18, rtl, width), 16, name, rtl=rtl, size=11))
        offset += 18 + 7 * len(name) + 20
    return "".join(parts)


def _group(item: list[str], href: str | None) -> str:
    inner = "".join(item)
    return f'<a href="{escape(href)}">{inner}</a>' if href else f"<g>{inner}</g>"


def _text(x: float, y: float, words: str, *, rtl: bool, anchor: str = "start", size: int = 12,
          fill: str = TEXT) -> str:
    del rtl  # the root's direction decides which edge "start" is
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}">{escape(words)}</text>')


def _x(x: float, rtl: bool, width: int) -> float:
    """A point ``x`` from the reading start (left in English, right in Arabic)."""
    return width - x if rtl else x


def _span(x: float, length: float, rtl: bool, width: int) -> float:
    """The left edge of a span that starts ``x`` from the reading start."""
    return width - x - length if rtl else x


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
