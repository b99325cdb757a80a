"""The engine: one ``transitions`` machine per (workflow, version), never one per case.

Each machine has one stand-in model, a small token attached once when the machine is
built. A decision lends the token one case under the machine's lock (``set_state`` to the
case's state → trigger → the case is taken back), so the machine holds no per-case
objects and memory does not grow with the number of cases (DESIGN.md §2); attaching a
model anew for every decision (``add_model``) cost more than the decision itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from transitions import Machine, MachineError
from transitions.core import EventData

from .errors import InvalidTransition
from .guards import GUARDS
from .models import Case
from .workflow import Definition, Registry, TransitionSpec


@dataclass
class _Token:
    """The machine's stand-in model; it holds a case only during one decision."""

    state: str
    case: Case | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class _Attached:
    """A definition's machine, its token and the lock that serialises decisions on it."""

    machine: Machine
    token: _Token
    lock: threading.Lock

    @contextmanager
    def lend(self, case: Case, data: Mapping[str, Any] | None) -> Iterator[_Token]:
        """The token standing for ``case`` (in its state, with ``data``) for one decision."""
        with self.lock:
            token = self.token
            self.machine.set_state(case.state, model=token)
            token.case, token.data = case, data
            try:
                yield token
            finally:
                token.case = token.data = None  # keep no case alive between decisions


def _bound(token: _Token, name: str) -> Callable[[str], bool]:
    """A method the machine bound to the token while attached (``trigger``, ``may_trigger``)."""
    method: Callable[[str], bool] = getattr(token, name)
    return method


def _matches(actual: Any, expected: Any) -> bool:
    value = getattr(actual, "value", actual)
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected or value == expected
    return str(value) == str(expected)


def _condition(spec: TransitionSpec) -> Any:
    """One callable checking ``when`` (data), ``case`` (attributes) and named guards."""

    def check(event: EventData) -> bool:
        token = cast(_Token, event.model)
        case, data = cast(Case, token.case), token.data
        if data is not None:
            for key, expected in spec.when.items():
                if not _matches(data.get(key), expected):
                    return False
        for key, expected in spec.case.items():
            if not _matches(getattr(case, key), expected):
                return False
        return all(GUARDS[name](case, data) for name in spec.conditions)

    return check


class Engine:
    """Builds and caches machines and answers which state a trigger leads to."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._machines: dict[tuple[str, int], _Attached] = {}
        self._build_lock = threading.Lock()

    def machine(self, definition: Definition) -> Machine:
        """The shared machine of a definition (built on first use)."""
        return self._attached(definition).machine

    def _attached(self, definition: Definition) -> _Attached:
        found = self._machines.get(definition.key)
        if found is not None:
            return found
        with self._build_lock:
            if definition.key not in self._machines:
                machine = self._build(definition)
                token = _Token(state=definition.initial)
                machine.add_model(token, initial=definition.initial)
                self._machines[definition.key] = _Attached(machine, token, threading.Lock())
            return self._machines[definition.key]

    @staticmethod
    def _build(definition: Definition) -> Machine:
        transitions: list[dict[str, Any]] = []
        for trig in definition.triggers.values():
            for spec in trig.transitions:
                transitions.append(
                    {
                        "trigger": trig.name,
                        "source": list(spec.sources),
                        "dest": spec.dest,
                        "conditions": [_condition(spec)],
                    }
                )
        return Machine(
            model=None,
            states=list(definition.states),
            transitions=transitions,
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def next_state(
        self, definition: Definition, case: Case, trigger: str, data: Mapping[str, Any] | None
    ) -> str:
        """The state ``trigger`` moves the case to (its own state for an activity).

        Raises ``InvalidTransition`` when the trigger is unknown, not allowed in the
        case's state, or no transition's conditions hold.
        """
        if trigger not in definition.triggers:
            raise InvalidTransition(f"{definition.name}@{definition.version} has no trigger {trigger!r}")
        with self._attached(definition).lend(case, data) as token:
            try:
                moved = _bound(token, "trigger")(trigger)
            except MachineError as exc:
                raise InvalidTransition(
                    f"{trigger!r} is not allowed in state {case.state!r}"
                ) from exc
            dest = token.state
        if not moved:
            raise InvalidTransition(f"{trigger!r}: the conditions for it do not hold now")
        return dest

    def available(self, definition: Definition, case: Case) -> list[str]:
        """Triggers the machine allows from the case's state now (``may_trigger``).

        Checks that depend on the trigger's data (``when``, data-bound guards) answer
        yes here; ``next_state`` checks them for real when the trigger is fired.
        """
        with self._attached(definition).lend(case, None) as token:
            may = _bound(token, "may_trigger")
            return [name for name in definition.triggers if may(name)]
