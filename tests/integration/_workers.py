"""Worker functions run in separate processes by the multi-process concurrency tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from mediation import db
from mediation.engine import Engine
from mediation.errors import ConflictError, InvalidTransition
from mediation.services import UnitOfWork, file_case, fire
from mediation.workflow import Registry

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _uow(url: str) -> tuple[UnitOfWork, object]:
    engine = db.make_engine(url)
    return UnitOfWork(db.make_session_factory(engine), Engine(Registry.from_directory())), engine


def fire_many(url: str, actor_id: int, case_ids: list[int], fires: int, seed: int) -> dict[str, int]:
    """Fire ``fires`` random triggers on random cases; count what succeeded and what was refused."""
    uow, engine = _uow(url)
    rng = random.Random(seed)
    counts = {"ok": 0, "conflict": 0, "invalid": 0}
    for n in range(fires):
        case_id = rng.choice(case_ids)
        trigger, data = rng.choice(
            [("add_note", {"note": f"进程{seed}第{n}次"}), ("suspend", {"reason": "等待鉴定"}), ("resume", {})]
        )
        try:
            with uow:
                fire(uow, case_id, trigger, actor_id, data, now=NOW)
            counts["ok"] += 1
        except ConflictError:
            counts["conflict"] += 1
        except InvalidTransition:
            counts["invalid"] += 1
    engine.dispose()  # type: ignore[attr-defined]
    return counts


def file_many(url: str, actor_id: int, filings: int) -> list[str]:
    """File ``filings`` cases; return their numbers."""
    uow, engine = _uow(url)
    numbers = []
    for _ in range(filings):
        with uow:
            numbers.append(file_case(uow, actor_id, {
                "workflow": "labour", "category": "wages", "filed_via": "walk_in", "facts": "欠薪", "claims": "付清",
                "parties": [{"role": "applicant", "name": "张某"}, {"role": "respondent", "name": "某公司"}],
            }, now=NOW).number)
    engine.dispose()  # type: ignore[attr-defined]
    return numbers
