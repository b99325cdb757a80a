"""Charts of the statistics (统计图) as SVG, drawn by matplotlib on the server.

No JavaScript, nothing from a CDN (police intranets are offline). Text is drawn as
glyph outlines (``svg.fonttype = path``), so Chinese labels look the same in any
browser, in WeasyPrint's PDF and in an image viewer, whatever fonts the reader has.
The font is Noto Sans CJK SC (Debian ``fonts-noto-cjk``, installed by
``scripts/install-system-deps``), falling back to AR PL UMing and DejaVu Sans for a
character it lacks. The output is deterministic (fixed ids, no date), so the same
numbers give the same bytes. Uses matplotlib's object API only (no ``pyplot`` and its
global figure state), so it is safe in a threaded server.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import threading
from collections import OrderedDict
from typing import Any, Final

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .statistics import ChartData
from .workflow import pick_label

#: Font families, first that has a glyph wins (matplotlib's per-glyph fallback).
FONT_FAMILY: Final[list[str]] = ["Noto Sans CJK SC", "AR PL UMing CN", "DejaVu Sans"]
#: Series colours: a blue, a green, an amber, a grey (readable when printed in grey too).
COLOURS: Final[tuple[str, ...]] = ("#1f5fa8", "#2e8b57", "#d08a1a", "#8a8f98")
WIDTH_IN, HEIGHT_IN = 7.2, 3.4

# matplotlib's rcParams are process-wide; charts are drawn one at a time, each in its own rc_context.
_LOCK: Final[threading.Lock] = threading.Lock()
_STYLE: Final[Any] = {  # matplotlib types the keys as a Literal of every rc name
    "svg.fonttype": "path",
    "svg.hashsalt": "mediation-statistics",
    "font.family": "sans-serif",
    "font.sans-serif": FONT_FAMILY,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": False,
}


def _empty_note(locale: str) -> str:
    return "No data for this period" if locale == "en" else "本期无数据"


#: Charts already drawn, by their numbers and locale (the same numbers give the same bytes),
#: so reloading a page or looking at a month again draws nothing: a drawing takes a tenth
#: of a second, the figures behind it a few milliseconds. The least recently used go first.
_DRAWN: Final[OrderedDict[str, str]] = OrderedDict()
_DRAWN_MAX: Final = 64


def chart_svg(chart: ChartData, locale: str = "zh_CN") -> str:
    """The chart as SVG text (``<svg …>…</svg>``, no XML declaration), labels in ``locale``."""
    key = json.dumps([dataclasses.asdict(chart), locale], ensure_ascii=False, sort_keys=True)
    with _LOCK:
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
    svg = _drawn_svg(chart, locale)
    with _LOCK:
        _DRAWN[key] = svg
        while len(_DRAWN) > _DRAWN_MAX:
            _DRAWN.popitem(last=False)
    return svg


def _drawn_svg(chart: ChartData, locale: str) -> str:
    categories = [pick_label(label, locale) for _key, label in chart.categories]
    with _LOCK, rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
        axes = figure.add_subplot()
        axes.set_title(pick_label(chart.title, locale), loc="left", fontsize=11)
        if not categories or all(v in (None, 0) for s in chart.series for v in s.values):
            axes.text(0.5, 0.5, _empty_note(locale), ha="center", va="center", transform=axes.transAxes,
                      color="#666666")
            axes.set_xticks([])
            axes.set_yticks([])
        else:
            _draw(axes, chart, categories, locale)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _strip_prologue(buffer.getvalue())


def _draw(axes: Any, chart: ChartData, categories: list[str], locale: str) -> None:
    positions = list(range(len(categories)))
    series = chart.series
    if chart.kind == "line":
        for i, s in enumerate(series):
            points = [(x, v) for x, v in zip(positions, s.values, strict=True) if v is not None]
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=COLOURS[i % len(COLOURS)],
                      label=pick_label(s.label, locale))
            for x, v in points:
                axes.annotate(f"{v:g}", (x, v), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
        if chart.unit == "percent":
            axes.set_ylim(0, 105)
            axes.set_ylabel("%")
    elif chart.kind == "stacked":
        bottoms = [0.0] * len(categories)
        for i, s in enumerate(series):
            values = [float(v or 0) for v in s.values]
            axes.bar(positions, values, bottom=bottoms, color=COLOURS[i % len(COLOURS)],
                     label=pick_label(s.label, locale), width=0.6)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        for x, total in zip(positions, bottoms, strict=True):
            if total:
                axes.annotate(f"{total:g}", (x, total), textcoords="offset points", xytext=(0, 3), ha="center",
                              fontsize=7)
    else:
        width = min(0.6, 0.8 / max(1, len(series)))
        for i, s in enumerate(series):
            offset = (i - (len(series) - 1) / 2) * width
            values = [float(v or 0) for v in s.values]
            bars = axes.bar([p + offset for p in positions], values, width=width, color=COLOURS[i % len(COLOURS)],
                            label=pick_label(s.label, locale))
            if len(categories) * len(series) <= 24:
                axes.bar_label(bars, labels=[f"{v:g}" if v else "" for v in values], fontsize=7, padding=2)
    axes.set_xticks(positions)
    rotate = len(categories) > 6 or max(len(c) for c in categories) > 8
    axes.set_xticklabels(categories, rotation=35 if rotate else 0, ha="right" if rotate else "center")
    if chart.unit == "count":
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", color="#e3e6ea", linewidth=0.6)
    axes.set_axisbelow(True)
    if len(series) > 1:
        axes.legend(frameon=False, fontsize=8, ncols=min(4, len(series)), loc="upper left", bbox_to_anchor=(0, -0.28)
                    if rotate else (0, -0.12))


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def _strip_prologue(svg: str) -> str:
    """Drop the XML declaration and DOCTYPE so the SVG can be inlined in HTML."""
    return _PROLOGUE.sub("", svg, count=1)


def prefixed_ids(svg: str, prefix: str) -> str:
    """``svg`` with every ``id`` and its references prefixed, so several charts can share one HTML page."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
