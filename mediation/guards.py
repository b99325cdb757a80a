"""Named guards a definition may cite in ``conditions`` (条件).

Each guard takes the case and the trigger's cleaned data and answers yes or no.
``data`` is ``None`` when the UI only asks whether an action could apply now: a guard
that depends on the data then answers yes, and the real check happens on firing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .enums import AgreementKind, AgreementStatus
from .models import Case

Guard = Callable[[Case, Mapping[str, Any] | None], bool]


def completes_performance(case: Case, data: Mapping[str, Any] | None) -> bool:
    """True when recording term ``data['term']`` leaves no term of the agreement unperformed."""
    agreement = case.current_agreement
    if data is None or agreement is None:
        return data is None
    term = data.get("term")
    return all(o.performed_at is not None or o.seq == term for o in agreement.obligations)


def has_written_agreement(case: Case, data: Mapping[str, Any] | None) -> bool:
    """True when the case's current agreement is written (书面协议)."""
    agreement = case.current_agreement
    return agreement is not None and agreement.kind is AgreementKind.WRITTEN


def has_effective_written_agreement(case: Case, data: Mapping[str, Any] | None) -> bool:
    """True when a written agreement has taken effect (signed, and signed off if needed)."""
    agreement = case.current_agreement
    return (
        agreement is not None
        and agreement.kind is AgreementKind.WRITTEN
        and agreement.status is AgreementStatus.EFFECTIVE
    )


GUARDS: dict[str, Guard] = {
    "completes_performance": completes_performance,
    "has_written_agreement": has_written_agreement,
    "has_effective_written_agreement": has_effective_written_agreement,
}
