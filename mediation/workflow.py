"""Workflow definitions as data (流程定义): loading, checking, the registry.

A definition is a YAML file in ``workflows/`` (DESIGN.md §3). ``load_definition``
checks it against ``workflows/schema.yaml`` and then the cross-references a schema
cannot express; every error names the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .enums import Category, IntakeSource, Role, Severity
from .errors import DefinitionError

WORKFLOWS_DIR = Path(__file__).resolve().parent.parent / "workflows"
SCHEMA_FILE = WORKFLOWS_DIR / "schema.yaml"

#: Actor words a definition may use besides role names.
SYMBOLIC_ACTORS = frozenset({"tier_lead", "next_tier_lead", "system"})
#: Keys of the ``case:`` match a transition may test.
CASE_MATCH_KEYS = frozenset({"tier", "severity", "category", "filed_via"})

Label = Mapping[str, str]
#: Per document kind, the case attributes it is issued for (``{kind: {key: values}}``).
DocumentCases = Mapping[str, Mapping[str, tuple[str, ...]]]


def _case_value(case: Any, key: str) -> str:
    value = getattr(case, key, None)
    return str(getattr(value, "value", value))


def _documents_for(kinds: tuple[str, ...], cases: DocumentCases, case: Any) -> tuple[str, ...]:
    """The ``kinds`` whose ``case:`` match holds for ``case`` (a kind without one always)."""
    return tuple(
        k for k in kinds if all(_case_value(case, key) in values for key, values in cases.get(k, {}).items())
    )


@dataclass(frozen=True)
class StateSpec:
    """A state of the workflow (状态)."""

    name: str
    label: Label
    final: bool = False
    tier: int | None = None
    outcome: str | None = None
    documents: tuple[str, ...] = ()
    document_cases: DocumentCases = field(default_factory=dict)

    def documents_for(self, case: Any) -> tuple[str, ...]:
        """The documents entering this state issues for ``case`` (those whose ``case:`` match holds)."""
        return _documents_for(self.documents, self.document_cases, case)


@dataclass(frozen=True)
class TransitionSpec:
    """One way a trigger may move a case: sources → dest (``None`` = stays, an activity)."""

    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    when: Mapping[str, Any] = field(default_factory=dict)
    case: Mapping[str, Any] = field(default_factory=dict)
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriggerSpec:
    """A trigger or activity (操作) with who may fire it and the data it needs."""

    name: str
    label: Label
    who: tuple[str, ...]
    requires: tuple[str, ...]
    documents: tuple[str, ...]
    transitions: tuple[TransitionSpec, ...]
    document_cases: DocumentCases = field(default_factory=dict)

    def documents_for(self, case: Any) -> tuple[str, ...]:
        """The documents this trigger issues for ``case`` (those whose ``case:`` match holds)."""
        return _documents_for(self.documents, self.document_cases, case)

    @property
    def is_activity(self) -> bool:
        """True when no transition changes the state (a timeline event only)."""
        return all(t.dest is None for t in self.transitions)


@dataclass(frozen=True)
class TierSpec:
    """A tier of the escalation ladder (调处层级) and the role that leads it."""

    number: int
    state: str
    lead: str
    title: Label


@dataclass(frozen=True)
class ClockSpec:
    """A period on a case (期限), counted in days by DOMAIN R25."""

    name: str
    label: Label
    days: int
    on_expiry: Mapping[str, Any]
    source: str | None = None
    start_on: tuple[str, ...] = ()
    runs_in: tuple[str, ...] = ()
    pause_in: tuple[str, ...] = ()
    stop_on: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Definition:
    """A checked, immutable workflow definition (one name, one version); hashed by identity."""

    name: str
    version: int
    title: Label
    categories: tuple[str, ...]
    initial: str
    tiers: Mapping[int, TierSpec]
    severity_tier: Mapping[str, int]
    states: Mapping[str, StateSpec]
    triggers: Mapping[str, TriggerSpec]
    clocks: Mapping[str, ClockSpec]
    source_text: str
    path: str

    @property
    def key(self) -> tuple[str, int]:
        """``(name, version)``."""
        return (self.name, self.version)

    @cached_property
    def digest(self) -> str:
        """SHA-256 hex of the source text."""
        return hashlib.sha256(self.source_text.encode("utf-8")).hexdigest()

    def tier_of_state(self, state: str) -> int | None:
        """The tier number a state belongs to, or ``None``."""
        return self.states[state].tier

    def lead_role(self, tier: int | None) -> str | None:
        """The role that leads ``tier`` (``None`` when the case has no tier yet)."""
        spec = self.tiers.get(tier) if tier is not None else None
        return spec.lead if spec else None

    def label(self, state: str, locale: str = "zh_CN") -> str:
        """The state's label in ``locale`` (``zh_CN`` or ``en``)."""
        return _pick(self.states[state].label, locale)


def _pick(label: Label, locale: str) -> str:
    return label.get(locale) or label.get("zh_CN") or next(iter(label.values()))


def pick_label(label: Label, locale: str = "zh_CN") -> str:
    """The text of a two-language label in ``locale``, falling back to Chinese."""
    return _pick(label, locale)


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def _field_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping.

    Plain ``safe_load`` keeps the last of two ``accept:`` entries without a word, so a
    pasted trigger or state would silently replace another.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_definition(path: Path | str, known_guards: Iterable[str] | None = None) -> Definition:
    """Load and check one definition file; raises ``DefinitionError`` naming file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: builds plain data only
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"{path.name}: cannot be read as YAML: {exc}") from exc
    return parse_definition(raw, text, str(path), known_guards)


def parse_definition(
    raw: Any, text: str, origin: str, known_guards: Iterable[str] | None = None
) -> Definition:
    """Check a parsed definition and build it; raises ``DefinitionError``."""
    name = Path(origin).name
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise DefinitionError(f"{name}: field {_field_path(first)}: {first.message}")
    if known_guards is None:
        from .guards import GUARDS

        known_guards = GUARDS.keys()
    return _build(raw, text, origin, frozenset(known_guards))


def _build(raw: dict[str, Any], text: str, origin: str, guards: frozenset[str]) -> Definition:
    fname = Path(origin).name

    def fail(where: str, message: str) -> DefinitionError:
        return DefinitionError(f"{fname}: field {where}: {message}")

    allowed_values = {
        "category": {c.value for c in Category},
        "filed_via": {s.value for s in IntakeSource},
        "severity": {s.value for s in Severity},
        "tier": {"1", "2", "3"},
    }

    def documents(where: str, items: Iterable[str | dict[str, Any]]) -> tuple[tuple[str, ...], DocumentCases]:
        """A ``documents:`` list as kinds and their ``case:`` matches (kinds are checked later)."""
        kinds: list[str] = []
        cases: dict[str, dict[str, tuple[str, ...]]] = {}
        for item in items:
            kind = item if isinstance(item, str) else item["kind"]
            if kind in kinds:
                raise fail(where, f"document kind {kind!r} is listed twice")
            kinds.append(kind)
            if isinstance(item, str):
                continue
            match: dict[str, tuple[str, ...]] = {}
            for key, value in item["case"].items():
                values = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
                if key not in CASE_MATCH_KEYS:
                    raise fail(f"{where}.case", f"cannot match on {key!r}")
                unknown = [v for v in values if v not in allowed_values.get(key, set(values))]
                if unknown:
                    raise fail(f"{where}.case.{key}", f"unknown {key} {unknown[0]!r}")
                match[key] = values
            cases[kind] = match
        return tuple(kinds), cases

    states: dict[str, StateSpec] = {}
    for n, s in raw["states"].items():
        state_docs, state_doc_cases = documents(f"states.{n}.documents", s.get("documents", ()))
        states[n] = StateSpec(
            name=n,
            label=s["label"],
            final=bool(s.get("final", False)),
            tier=s.get("tier"),
            outcome=s.get("outcome"),
            documents=state_docs,
            document_cases=state_doc_cases,
        )
    groups: dict[str, list[str]] = raw.get("groups", {})
    for g, members in groups.items():
        for m in members:
            if m not in states:
                raise fail(f"groups.{g}", f"unknown state {m!r}")

    def expand(where: str, source: str | list[str]) -> tuple[str, ...]:
        items = [source] if isinstance(source, str) else source
        out: list[str] = []
        for item in items:
            if item.startswith("@"):
                if item[1:] not in groups:
                    raise fail(where, f"unknown group {item!r}")
                out.extend(groups[item[1:]])
            elif item not in states:
                raise fail(where, f"unknown state {item!r}")
            else:
                out.append(item)
        return tuple(dict.fromkeys(out))

    if raw["initial"] not in states:
        raise fail("initial", f"unknown state {raw['initial']!r}")
    for c in raw["categories"]:
        if c not in {m.value for m in Category}:
            raise fail("categories", f"unknown category {c!r}")
    roles = {r.value for r in Role}
    tiers: dict[int, TierSpec] = {}
    for key, t in raw["tiers"].items():
        number = int(key)
        if t["state"] not in states:
            raise fail(f"tiers.{key}.state", f"unknown state {t['state']!r}")
        if t["lead"] not in roles:
            raise fail(f"tiers.{key}.lead", f"unknown role {t['lead']!r}")
        if states[t["state"]].tier != number:
            raise fail(f"states.{t['state']}.tier", f"must be {number} (tier {key} names it)")
        tiers[number] = TierSpec(number, t["state"], t["lead"], t["title"])
    for sev, tier in raw["severity_tier"].items():
        if tier not in tiers:
            raise fail(f"severity_tier.{sev}", f"no tier {tier}")

    from .documents import DOCUMENT_KINDS

    def check_docs(where: str, docs: Iterable[str]) -> None:
        for d in docs:
            if d not in DOCUMENT_KINDS:
                raise fail(where, f"unknown document kind {d!r}")

    for s in states.values():
        check_docs(f"states.{s.name}.documents", s.documents)

    triggers: dict[str, TriggerSpec] = {}
    for tname, t in raw["triggers"].items():
        for w in t["who"]:
            if w not in roles and w not in SYMBOLIC_ACTORS:
                raise fail(f"triggers.{tname}.who", f"unknown role {w!r}")
        trigger_docs, trigger_doc_cases = documents(f"triggers.{tname}.documents", t.get("documents", ()))
        check_docs(f"triggers.{tname}.documents", trigger_docs)
        specs: list[TransitionSpec] = []
        for i, tr in enumerate(t["transitions"]):
            where = f"triggers.{tname}.transitions.{i}"
            dest = tr["dest"]
            if dest is not None and dest not in states:
                raise fail(f"{where}.dest", f"unknown state {dest!r}")
            for cname in tr.get("conditions", ()):
                if cname not in guards:
                    raise fail(f"{where}.conditions", f"unknown guard {cname!r}")
            for key in tr.get("case", {}):
                if key not in CASE_MATCH_KEYS:
                    raise fail(f"{where}.case", f"cannot match on {key!r}")
            sources = expand(f"{where}.source", tr["source"])
            for src in sources:
                if states[src].final and dest is not None:
                    raise fail(f"{where}.source", f"final state {src!r} cannot be left")
            specs.append(
                TransitionSpec(
                    trigger=tname,
                    sources=sources,
                    dest=dest,
                    when=dict(tr.get("when", {})),
                    case=dict(tr.get("case", {})),
                    conditions=tuple(tr.get("conditions", ())),
                )
            )
        triggers[tname] = TriggerSpec(
            name=tname,
            label=t["label"],
            who=tuple(t["who"]),
            requires=tuple(t.get("requires", ())),
            documents=trigger_docs,
            transitions=tuple(specs),
            document_cases=trigger_doc_cases,
        )
    if "accept" in triggers:
        for tr in triggers["accept"].transitions:
            sev = tr.when.get("severity")
            if sev is not None and sev not in {s.value for s in Severity}:
                raise fail("triggers.accept.transitions", f"unknown severity {sev!r}")

    clocks: dict[str, ClockSpec] = {}
    for cname, c in raw.get("clocks", {}).items():
        for key in ("runs_in", "pause_in"):
            for s in c.get(key, ()):
                if s not in states:
                    raise fail(f"clocks.{cname}.{key}", f"unknown state {s!r}")
        for key in ("start_on", "stop_on"):
            for trig in c.get(key, ()):
                if trig not in triggers:
                    raise fail(f"clocks.{cname}.{key}", f"unknown trigger {trig!r}")
        if not c.get("start_on") and not c.get("runs_in"):
            raise fail(f"clocks.{cname}", "needs start_on or runs_in")
        for g in c.get("conditions", ()):
            if g not in guards:
                raise fail(f"clocks.{cname}.conditions", f"unknown guard {g!r}")
        expiry = c["on_expiry"]
        for w in expiry.get("notify", ()):
            if w not in roles and w not in SYMBOLIC_ACTORS:
                raise fail(f"clocks.{cname}.on_expiry.notify", f"unknown role {w!r}")
        if expiry["action"] == "escalate" and "escalate" not in triggers:
            raise fail(f"clocks.{cname}.on_expiry.action", "no escalate trigger to fire")
        if expiry["action"] == "escalate" and "system" not in triggers["escalate"].who:
            # the sweep fires it as the system actor, which policy allows only where ``who`` says so
            raise fail(f"clocks.{cname}.on_expiry.action", "escalate must list 'system' in its who")
        offer = expiry.get("offer")
        if offer and offer["trigger"] not in triggers:
            raise fail(f"clocks.{cname}.on_expiry.offer", f"unknown trigger {offer['trigger']!r}")
        clocks[cname] = ClockSpec(
            name=cname,
            label=c["label"],
            days=int(c["days"]),
            on_expiry=expiry,
            source=c.get("source"),
            start_on=tuple(c.get("start_on", ())),
            runs_in=tuple(c.get("runs_in", ())),
            pause_in=tuple(c.get("pause_in", ())),
            stop_on=tuple(c.get("stop_on", ())),
            conditions=tuple(c.get("conditions", ())),
        )

    return Definition(
        name=raw["name"],
        version=int(raw["version"]),
        title=raw["title"],
        categories=tuple(raw["categories"]),
        initial=raw["initial"],
        tiers=tiers,
        severity_tier=dict(raw["severity_tier"]),
        states=states,
        triggers=triggers,
        clocks=clocks,
        source_text=text,
        path=origin,
    )


class Registry:
    """Every loaded definition, by ``(name, version)``; the newest version is for new cases."""

    def __init__(self, definitions: Iterable[Definition]) -> None:
        self._defs: dict[tuple[str, int], Definition] = {}
        for d in definitions:
            if d.key in self._defs:
                raise DefinitionError(
                    f"{Path(d.path).name}: {d.name}@{d.version} is also defined in "
                    f"{Path(self._defs[d.key].path).name}"
                )
            self._defs[d.key] = d

    @classmethod
    def from_directory(cls, *directories: Path | str) -> Registry:
        """Load every ``*.yaml`` definition (not the schema) in the directories."""
        paths: list[Path] = []
        for d in directories or (WORKFLOWS_DIR,):
            paths.extend(p for p in sorted(Path(d).glob("*.yaml")) if p.name != "schema.yaml")
        return cls(load_definition(p) for p in paths)

    def get(self, name: str, version: int | None = None) -> Definition:
        """The definition ``name@version`` (newest if ``version`` is None); ``KeyError`` if none."""
        if version is None:
            versions = [v for (n, v) in self._defs if n == name]
            if not versions:
                raise KeyError(name)
            version = max(versions)
        return self._defs[(name, version)]

    def names(self) -> list[str]:
        """Workflow names, sorted."""
        return sorted({n for (n, _) in self._defs})

    def __iter__(self) -> Any:
        return iter(sorted(self._defs.values(), key=lambda d: d.key))

    def __contains__(self, key: object) -> bool:
        return key in self._defs


def canonical_json(value: Any) -> str:
    """Deterministic JSON text (sorted keys, no ASCII escaping) for digests."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
