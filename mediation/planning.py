"""How the read-side queries are planned (查询计划): small index look-ups without parallel workers.

PostgreSQL may plan a query that reads a few thousand index entries with parallel
workers when its estimate crosses ``parallel_setup_cost``; starting them takes several
milliseconds, more than the work. The ledger's search probe and the statistics, which
are many such queries per page, run inside ``without_parallel_workers``. Other
databases are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

#: The setting that allows parallel workers under one Gather node.
SETTING = "max_parallel_workers_per_gather"


@contextmanager
def without_parallel_workers(session: Session) -> Iterator[None]:
    """On PostgreSQL, plan the statements run in ``session`` inside the block without parallel
    workers, then restore the setting (transaction-local either way); elsewhere nothing."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.scalar(select(func.current_setting(SETTING), func.set_config(SETTING, "0", True)))
    yield
    session.execute(select(func.set_config(SETTING, before, True)))
