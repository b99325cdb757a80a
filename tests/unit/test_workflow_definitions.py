"""Workflow definitions as data: the shipped files load, a bad file is refused at load
time with a message naming the file and the field (DESIGN.md §2–§3)."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediation.errors import DefinitionError
from mediation.workflow import WORKFLOWS_DIR, Registry, load_definition

LABOUR = WORKFLOWS_DIR / "labour.yaml"
NEIGHBOUR = WORKFLOWS_DIR / "neighbour.yaml"


def labour() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(LABOUR.read_text(encoding="utf-8"))
    return copy.deepcopy(raw)


def write(tmp_path: Path, raw: dict[str, Any], name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- the shipped definitions ---------------------------------------------------------

@pytest.mark.parametrize("path", [LABOUR, NEIGHBOUR], ids=lambda p: p.name)
def test_shipped_definition_loads(path):
    definition = load_definition(path)
    assert definition.version == 1
    assert definition.initial == "registered"
    assert [definition.tiers[n].state for n in (1, 2, 3)] == ["tier1", "tier2", "tier3"]
    assert {s for s, spec in definition.states.items() if spec.final} == {"declined", "resolved", "terminated",
                                                                          "withdrawn"}
    assert len(definition.digest) == 64


def test_registry_of_the_workflows_directory_holds_both_shipped_definitions():
    registry = Registry.from_directory()
    assert registry.names() == ["labour", "neighbour"]
    assert ("labour", 1) in registry and ("neighbour", 1) in registry
    with pytest.raises(KeyError):
        registry.get("minor_assault")


def test_tier_leads_follow_the_field():
    """DESIGN.md §1, §3: department head → liaison officer → chief; volunteer → community officer → chief."""
    assert [load_definition(LABOUR).lead_role(n) for n in (1, 2, 3)] == [
        "department_head", "liaison_officer", "station_chief"]
    assert [load_definition(NEIGHBOUR).lead_role(n) for n in (1, 2, 3)] == [
        "volunteer_mediator", "community_officer", "station_chief"]


def test_only_labour_has_the_15_day_statutory_period():
    """R18 (劳动争议调解仲裁法 第14条) applies to labour disputes; neighbour disputes have none."""
    statutory = load_definition(LABOUR).clocks["statutory_period"]
    assert (statutory.days, statutory.start_on, statutory.pause_in) == (15, ("accept",), ("suspended",))
    assert "第14条" in (statutory.source or "")
    assert all(c.days != 15 for c in load_definition(NEIGHBOUR).clocks.values())


def test_shipped_tier_deadlines_remind_rather_than_escalate():
    """DESIGN.md §3: real cases often stay longer at one tier, so the shipped definitions remind."""
    for path in (LABOUR, NEIGHBOUR):
        clocks = load_definition(path).clocks
        assert {c.on_expiry["action"] for c in clocks.values()} == {"remind"}
        assert (clocks["tier1_service"].days, clocks["tier2_service"].days) == (3, 7)


# --- a bad definition is refused, naming the file and the field ---------------------

def _key(node: Any, part: str) -> Any:
    """``part`` as the key ``node`` uses: list indexes and the tiers' numbers are integers."""
    return int(part) if isinstance(node, list) or (part.isdigit() and int(part) in node) else part


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting the dotted ``path`` (list indexes as numbers) to ``value``; ``...`` deletes it."""

    def change(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for p in parents:
            node = node[_key(node, p)]
        key = _key(node, last)
        if value is ...:
            del node[key]
        else:
            node[key] = value

    return change


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown dest state": (_set("triggers.escalate.transitions.0.dest", "tier4"),
                           "triggers.escalate.transitions.0.dest"),
    "unknown source state": (_set("triggers.escalate.transitions.1.source", "tier_two"),
                             "triggers.escalate.transitions.1.source"),
    "unknown state group": (_set("triggers.suspend.transitions.0.source", "@tierz"),
                            "triggers.suspend.transitions.0.source"),
    "unknown guard": (_set("triggers.record_performance.transitions.0.conditions", ["all_paid"]),
                      "triggers.record_performance.transitions.0.conditions"),
    "unknown role in who": (_set("triggers.accept.who", ["station_chief", "mayor"]), "triggers.accept.who"),
    "unknown lead role": (_set("tiers.2.lead", "sheriff"), "tiers.2.lead"),
    "bad type: days as text": (_set("clocks.statutory_period.days", "fifteen"), "clocks.statutory_period.days"),
    "bad type: version as text": (_set("version", "one"), "version"),
    "bad type: final as text": (_set("states.resolved.final", "yes"), "states.resolved.final"),
    "bad type: label without English": (_set("states.tier1.label", {"zh_CN": "一级"}), "states.tier1.label"),
    "misspelt transition key": (_set("triggers.accept.transitions.0.sorce", "registered"),
                                "triggers.accept.transitions.0"),
    "missing required field": (_set("initial", ...), "(top level)"),
    "tier state lacks the tier number": (_set("states.tier2.tier", ...), "states.tier2.tier"),
    "tier state has another tier number": (_set("states.tier3.tier", 2), "states.tier3.tier"),
    "clock naming an unknown trigger": (_set("clocks.statutory_period.start_on", ["acept"]),
                                        "clocks.statutory_period.start_on"),
    "clock stopping on an unknown trigger": (_set("clocks.judicial_confirmation.stop_on", ["confirm"]),
                                             "clocks.judicial_confirmation.stop_on"),
    "clock pausing in an unknown state": (_set("clocks.statutory_period.pause_in", ["paused"]),
                                          "clocks.statutory_period.pause_in"),
    "clock offering an unknown trigger": (_set("clocks.statutory_period.on_expiry.offer",
                                               {"trigger": "arbitrate"}), "clocks.statutory_period.on_expiry.offer"),
    "clock notifying an unknown role": (_set("clocks.tier1_service.on_expiry.notify", ["boss"]),
                                        "clocks.tier1_service.on_expiry.notify"),
    "clock with an unknown guard": (_set("clocks.judicial_confirmation.conditions", ["signed"]),
                                    "clocks.judicial_confirmation.conditions"),
    "unknown initial state": (_set("initial", "new"), "initial"),
    "unknown category": (_set("categories", ["wages", "divorce"]), "categories"),
    "severity mapped to a missing tier": (_set("tiers.3", ...), "severity_tier.major"),
    "unknown document kind": (_set("triggers.draft_agreement.documents", ["contract"]),
                              "triggers.draft_agreement.documents"),
    "leaving a final state": (_set("triggers.reopen.transitions.0.source", "resolved"),
                              "triggers.reopen.transitions.0.source"),
    "matching on an unknown case attribute": (_set("triggers.resume.transitions.0.case", {"colour": "red"}),
                                              "triggers.resume.transitions.0.case"),
    "unknown severity in accept": (_set("triggers.accept.transitions.0.when", {"severity": "trivial"}),
                                   "triggers.accept.transitions"),
    "expiry escalating without the system in escalate's who": (
        lambda raw: (_set("clocks.tier1_service.on_expiry", {"action": "escalate"})(raw),
                     _set("triggers.escalate.who", ["tier_lead", "station_chief"])(raw)),
        "clocks.tier1_service.on_expiry.action"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_bad_definition_is_refused_naming_the_file_and_the_field(tmp_path, case):
    change, field = BROKEN[case]
    raw = labour()
    change(raw)
    path = write(tmp_path, raw)
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    message = str(info.value)
    assert message.startswith("broken.yaml: ")
    assert f"field {field}:" in message


def test_a_broken_file_in_the_directory_stops_the_registry(tmp_path):
    shutil.copy(LABOUR, tmp_path / "labour.yaml")
    raw = labour()
    raw["name"] = "labour_copy"
    raw["triggers"]["escalate"]["transitions"][0]["dest"] = "tier4"
    write(tmp_path, raw, "labour_copy.yaml")
    with pytest.raises(DefinitionError, match=r"labour_copy\.yaml: field triggers\.escalate"):
        Registry.from_directory(tmp_path)


def test_a_key_given_twice_is_refused_naming_the_file_and_the_line(tmp_path):
    """YAML keeps the last of two equal keys silently; a definition must not lose a trigger that way."""
    text = LABOUR.read_text(encoding="utf-8").replace(
        "  decline:\n", "  accept:\n    label: {zh_CN: 重复, en: Duplicate}\n    who: [station_chief]\n"
        "    transitions:\n      - {source: registered, dest: declined}\n  decline:\n", 1)
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"(?s)twice\.yaml: .*'accept' is given twice.*line \d+"):
        load_definition(path)


def test_a_file_that_is_not_yaml_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "garbled.yaml"
    path.write_text("name: labour\ntriggers: [unclosed\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^garbled\.yaml: cannot be read as YAML"):
        load_definition(path)


def test_registry_refuses_two_files_with_the_same_name_and_version(tmp_path):
    shutil.copy(LABOUR, tmp_path / "a_labour.yaml")
    shutil.copy(LABOUR, tmp_path / "b_labour.yaml")
    with pytest.raises(DefinitionError) as info:
        Registry.from_directory(tmp_path)
    message = str(info.value)
    assert "labour@1" in message and "a_labour.yaml" in message and "b_labour.yaml" in message


def test_newest_version_is_for_new_cases_and_older_versions_stay_available(tmp_path):
    """DESIGN.md §2: a running case keeps the version it started with; a new one applies to new cases."""
    shutil.copy(LABOUR, tmp_path / "labour.yaml")
    raw = labour()
    raw["version"] = 2
    raw["clocks"]["tier1_service"]["days"] = 5
    write(tmp_path, raw, "labour_v2.yaml")
    registry = Registry.from_directory(tmp_path)
    assert registry.get("labour").version == 2
    assert registry.get("labour", 1).clocks["tier1_service"].days == 3
    assert registry.get("labour", 2).digest != registry.get("labour", 1).digest
    with pytest.raises(KeyError):
        registry.get("labour", 3)
