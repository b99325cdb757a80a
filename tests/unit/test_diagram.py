"""Workflow drawings: drawn locally by Graphviz, current state highlighted, path marked."""

from __future__ import annotations

import pytest

from mediation.diagram import definition_svg, state_path
from mediation.workflow import Registry


@pytest.mark.parametrize("name", ["labour", "neighbour"])
def test_definition_is_drawn_with_state_labels(registry: Registry, name: str) -> None:
    svg = definition_svg(registry.get(name))
    assert svg.startswith("<svg")
    assert "已登记" in svg and "调解成功结案" in svg
    assert "http" not in svg.split(">", 1)[1].replace("http://www.w3.org", "")  # nothing fetched


def test_current_state_and_path_are_marked(registry: Registry) -> None:
    labour = registry.get("labour")
    plain = definition_svg(labour)
    marked = definition_svg(labour, current="performing", path=["registered", "tier2", "agreement_drafted"])
    assert "darksalmon" not in plain
    assert "darksalmon" in marked  # the current state
    assert "azure" in marked  # the states passed through


def test_english_labels(registry: Registry) -> None:
    assert "Registered" in definition_svg(registry.get("labour"), locale="en")


def test_unknown_state_is_refused(registry: Registry) -> None:
    with pytest.raises(KeyError):
        definition_svg(registry.get("labour"), current="nowhere")


def test_state_path_collapses_activities() -> None:
    pairs = [("registered", "registered"), ("registered", "tier1"), ("tier1", "tier1"), ("tier1", "tier2")]
    assert state_path(pairs) == ["registered", "tier1", "tier2"]
