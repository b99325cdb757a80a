"""Verification of the tamper-evident trail (操作留痕校验).

Events are hash-chained per case: each event's hash covers its fields and the previous
event's hash. A case's chain is broken when an event was edited (its hash no longer
matches), inserted or deleted (a gap in ``seq`` or a ``prev_hash`` that does not match),
or cut off at the end (every event bumps the case's version, so a case of version v
has v − 1 events; the case records its chain's head; its state is its last event's
destination).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Case, Event
from .services import GENESIS_HASH, event_hash, event_hash_fields


@dataclass(frozen=True)
class ChainBreak:
    """One broken case: its id, number, and what is wrong, with the event ``seq`` if known."""

    case_id: int
    number: str
    seq: int | None
    problem: str


def verify_case(case: Case, events: list[Event]) -> list[ChainBreak]:
    """Every break in one case's chain; empty when the chain holds."""
    breaks: list[ChainBreak] = []

    def add(seq: int | None, problem: str) -> None:
        breaks.append(ChainBreak(case.id, case.number, seq, problem))

    prev = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            add(event.seq, f"expected event {expected_seq} here: an event was deleted or inserted")
        if event.prev_hash != prev:
            add(event.seq, "does not follow the event before it: an event was deleted or inserted")
        if event_hash(event_hash_fields(event)) != event.hash:
            add(event.seq, "its content does not match its hash: the event was edited")
        prev = event.hash
    if len(events) != case.version - 1:
        add(None, f"the case has version {case.version} but {len(events)} events: events are missing or extra")
    if (case.last_event_hash or GENESIS_HASH) != prev:
        add(None, "the case's chain head is not its last event: events were deleted or replaced")
    if events and events[-1].to_state != case.state:
        add(events[-1].seq, f"the case is in {case.state!r} but its last event leads to {events[-1].to_state!r}")
    return breaks


def verify_all(session: Session, batch: int = 500) -> Iterator[ChainBreak]:
    """Check every case's chain, ``batch`` cases at a time; yields each break found."""
    last_id = 0
    while True:
        cases = session.scalars(select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)).all()
        if not cases:
            return
        ids = [c.id for c in cases]
        by_case: dict[int, list[Event]] = {i: [] for i in ids}
        for event in session.scalars(
            select(Event).where(Event.case_id.in_(ids)).order_by(Event.case_id, Event.seq, Event.id)
        ):
            by_case[event.case_id].append(event)
        for case in cases:
            yield from verify_case(case, by_case[case.id])
        last_id = ids[-1]
        session.expunge_all()
