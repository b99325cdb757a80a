"""Drawings of workflow definitions (流程图), by transitions' GraphMachine and Graphviz.

Drawn locally (Graphviz ``dot``), never through a web service. Activities (triggers that
change no state) are left out so the drawing shows the case's path, not its paperwork.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from transitions import State
from transitions.extensions import GraphMachine

from .workflow import Definition, pick_label

FONT = "Noto Sans CJK SC, WenQuanYi Zen Hei, AR PL UMing CN, sans-serif"
#: A transition from more sources than this is drawn once, from a stand-in node.
MANY_SOURCES = 3
ANY_STATE = "_any_open_state"
ANY_LABEL = {"zh_CN": "（任一办理中状态）", "en": "(any open state)"}


class _LabelledState(State):
    """A state carrying a display label (the markup reads ``label`` off the state)."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


def _styles() -> dict[str, Any]:
    """GraphMachine's styles with a CJK font, as a copy (the library's are class-wide)."""
    styles: dict[str, Any] = copy.deepcopy(GraphMachine.style_attributes)
    styles["node"]["default"]["fontname"] = FONT
    styles["edge"]["default"].update({"fontname": FONT, "fontsize": "10"})
    return styles


class _LabelledGraphMachine(GraphMachine):
    state_cls = _LabelledState
    # Class-level like the library's own; copies, so other GraphMachines keep theirs.
    machine_attributes = {**GraphMachine.machine_attributes, "rankdir": "TB", "fontname": FONT}  # noqa: RUF012
    style_attributes = _styles()


class _Drawing:
    """The model a drawing machine is attached to."""

    state: str


def _machine(definition: Definition, locale: str, initial: str) -> tuple[GraphMachine, _Drawing]:
    states: list[dict[str, Any]] = [
        {"name": s.name, "label": pick_label(s.label, locale)} for s in definition.states.values()
    ]
    transitions: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for trig in definition.triggers.values():
        for spec in trig.transitions:
            if spec.dest is None:
                continue
            sources = spec.sources
            if len(sources) > MANY_SOURCES:
                if not any(st["name"] == ANY_STATE for st in states):
                    states.append({"name": ANY_STATE, "label": pick_label(ANY_LABEL, locale)})
                sources = (ANY_STATE,)
            for source in sources:
                if source == spec.dest or (trig.name, source, spec.dest) in seen:
                    continue
                seen.add((trig.name, source, spec.dest))
                transitions.append(
                    {"trigger": trig.name, "source": source, "dest": spec.dest, "label": pick_label(trig.label, locale)}
                )
    model = _Drawing()
    machine = _LabelledGraphMachine(
        model=model,
        states=states,
        transitions=transitions,
        initial=initial,
        auto_transitions=False,
        show_conditions=False,
        graph_engine="graphviz",
        title=f"{pick_label(definition.title, locale)} v{definition.version}",
    )
    return machine, model


def definition_svg(
    definition: Definition,
    locale: str = "zh_CN",
    current: str | None = None,
    path: Sequence[str] = (),
) -> str:
    """SVG text of the definition; ``current`` highlighted and the states of ``path`` marked.

    ``path`` is the sequence of states the case passed through, oldest first. Raises
    ``KeyError`` for a state the definition lacks.
    """
    return _svg(definition, locale, current, tuple(path))


@lru_cache(maxsize=256)
def _svg(definition: Definition, locale: str, current: str | None, path: tuple[str, ...]) -> str:
    for state in (current, *path):
        if state is not None and state not in definition.states:
            raise KeyError(state)
    machine, model = _machine(definition, locale, current or definition.initial)
    styles = machine.model_graphs[id(model)]  # transitions' styling handle for this model
    styles.reset_styling()
    if ANY_STATE in definition.states or any(st.name == ANY_STATE for st in machine.states.values()):
        styles.set_node_style(ANY_STATE, "inactive")
    for src, dst in itertools.pairwise(path):
        if src != dst:
            styles.set_previous_transition(src, dst)
    if current is not None:
        styles.set_node_style(current, "active")
    graph = styles.get_graph(title=machine.title)
    drawn: Any = graph.draw(None, format="svg", prog="dot")
    text = drawn.decode("utf-8") if isinstance(drawn, bytes) else str(drawn)
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE for inline use


def state_path(transitions: Iterable[tuple[str, str]]) -> list[str]:
    """The states a case went through, from its events' ``(from, to)`` pairs, oldest first."""
    out: list[str] = []
    for src, dst in transitions:
        if not out:
            out.append(src)
        if dst != out[-1]:
            out.append(dst)
    return out
