"""The view-only relationships of the models refuse writes instead of losing them silently."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mediation.models import Case, CaseClock, Document, Enterprise, Event, Organisation, User


def _case() -> Case:
    return Case(organisation_id=1, assigned_to_id=None)


@pytest.mark.parametrize(
    ("write", "column"),
    [
        (lambda c: setattr(c, "organisation", Organisation()), "organisation_id"),
        (lambda c: setattr(c, "enterprise", Enterprise()), "enterprise_id"),
        (lambda c: setattr(c, "assigned_to", User()), "assigned_to_id"),
        (lambda c: setattr(c, "filed_by", User()), "filed_by_id"),
        (lambda c: c.documents.append(Document()), "Document.case_id"),
        (lambda c: c.clocks.append(CaseClock()), "CaseClock.case_id and organisation_id"),
        (lambda c: c.events.append(Event()), "Event.case_id and organisation_id"),
        (lambda c: setattr(Event(), "case", c), "case_id and organisation_id"),
        (lambda c: setattr(Event(), "actor", User()), "actor_id"),
    ],
)
def test_writing_through_a_view_only_relationship_names_the_column_to_set(
    write: Callable[[Case], object], column: str
) -> None:
    case = _case()
    with pytest.raises(AttributeError, match=f"read-only: set {column} instead"):
        write(case)
    assert case.assigned_to_id is None and case.organisation_id == 1  # nothing half-written


def test_the_columns_stay_writable() -> None:
    case = _case()
    case.assigned_to_id, case.enterprise_id = 7, 3
    assert (case.assigned_to_id, case.enterprise_id) == (7, 3)
    assert Document(case=case).case is case  # the document's own relationship still writes its case_id
