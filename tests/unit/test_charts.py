"""Charts are drawn once per set of numbers and locale; the same numbers give the same bytes."""

from __future__ import annotations

from typing import Any

import pytest

from mediation import charts
from mediation.statistics import ChartData, Series


def _chart(received: int) -> ChartData:
    return ChartData("by_kind", {"zh_CN": "本期收案按纠纷类别", "en": "Disputes received by kind"}, "bar", "count",
                     [("wages", {"zh_CN": "拖欠工资", "en": "Unpaid wages"})],
                     [Series("received", {"zh_CN": "收案", "en": "Received"}, [received])])


def test_a_chart_is_drawn_once_for_the_same_numbers_and_again_when_they_change(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[Any, str]] = []
    draw = charts._drawn_svg

    def counting(chart: ChartData, locale: str) -> str:
        drawn.append((chart, locale))
        return draw(chart, locale)

    monkeypatch.setattr(charts, "_drawn_svg", counting)
    monkeypatch.setattr(charts, "_DRAWN", type(charts._DRAWN)())
    first = charts.chart_svg(_chart(3))
    assert charts.chart_svg(_chart(3)) == first and len(drawn) == 1
    assert charts.chart_svg(_chart(4)) != first and len(drawn) == 2
    assert charts.chart_svg(_chart(3), "en") != first and len(drawn) == 3  # the labels in English
    assert first.startswith("<svg")


def test_the_cache_keeps_the_most_recently_used_charts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_drawn_svg", lambda chart, locale: f"<svg>{chart.series[0].values[0]}</svg>")
    monkeypatch.setattr(charts, "_DRAWN", type(charts._DRAWN)())
    for n in range(charts._DRAWN_MAX + 10):
        charts.chart_svg(_chart(n))
    assert len(charts._DRAWN) == charts._DRAWN_MAX
    assert charts.chart_svg(_chart(charts._DRAWN_MAX + 9)) == f"<svg>{charts._DRAWN_MAX + 9}</svg>"
