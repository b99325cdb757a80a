"""The statistics against a hand count over the replayed real cases (DOMAIN R37).

Every real case of ``../shared/cases`` is replayed into the test database through the
replay (the service functions the web UI calls); the figures are then compared with
counts made here by hand from each file's steps and ``expect`` block.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import literal, select

from mediation import statistics as stats
from mediation.clocks import SHANGHAI, period_end
from mediation.enums import Role
from mediation.errors import ValidationError
from mediation.models import Organisation
from mediation.replay import DEFAULT_START, ORGANISATION, replay_file
from mediation.statistics import Filters, Period
from mediation.types import UTCDateTime
from tests import factories

from .journeys import Station, open_station

#: After the last step of every case (c22 ends on day 410).
AFTER_ALL = datetime(2027, 12, 31, 12, 0, tzinfo=UTC)
WHOLE = Period(date(2026, 3, 1), date(2027, 12, 31))


def _steps(spec: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in spec["steps"] if s["do"] == action]


def _day(spec: dict[str, Any], action: str) -> int | None:
    found = _steps(spec, action)
    return int(found[0]["day"]) if found else None


@pytest.fixture
def replayed(cases_dir: Path, uow, session) -> tuple[list[dict[str, Any]], int]:
    """Every real case replayed; returns the parsed files and the organisation id."""
    specs = []
    for path in sorted(cases_dir.glob("c*.yaml")):
        result = replay_file(uow, path)
        assert result.ok, result.line()
        specs.append(yaml.safe_load(path.read_text(encoding="utf-8")))
    org_id = session.scalar(select(Organisation.id).where(Organisation.name == ORGANISATION["name"]))
    assert org_id is not None
    return specs, org_id


def _settled_day(spec: dict[str, Any]) -> int | None:
    """The day the case's first agreement took effect, counted by hand from its steps."""
    oral = _day(spec, "record_oral_agreement")
    needs_sign_off = spec.get("severity") == "major" or 3 in spec["expect"]["tiers"]
    written = _day(spec, "sign_off") if needs_sign_off else _day(spec, "sign")
    days = [d for d in (oral, written) if d is not None]
    return min(days) if days else None


def _performance(spec: dict[str, Any]) -> str | None:
    """full / part / breached / pending of the first agreement, by hand from the steps."""
    if _settled_day(spec) is None:
        return None
    drafts = _steps(spec, "draft_agreement")
    oral = _steps(spec, "record_oral_agreement")
    terms = len(drafts[0]["terms"]) if drafts else len(oral[0].get("terms") or [])
    performed = {s["term"] for s in _steps(spec, "record_performance")}
    breached = {s["term"] for s in _steps(spec, "report_breach")} - performed
    if breached:
        return "breached"
    if len(performed) == terms:
        return "full"
    return "part" if performed else "pending"


def _lapsed(spec: dict[str, Any]) -> bool:
    """True when the mediation period (labour 15 days, neighbours 30) ran out before an agreement or the end."""
    accept = _day(spec, "accept")
    if accept is None:
        return False
    stops = [s["day"] for s in spec["steps"] if s["do"] in (
        "draft_agreement", "record_oral_agreement", "terminate", "withdraw", "decline")]
    stop = min(stops) if stops else 10_000
    days = 15 if spec["workflow"] == "labour" else 30
    suspend, resume = _day(spec, "suspend"), _day(spec, "resume")
    paused = (resume - suspend) if suspend is not None and resume is not None and resume <= stop else 0
    started = DEFAULT_START + timedelta(days=accept)
    lapses_at = period_end(started, days + paused).lapses_at
    stop_at = datetime.combine(DEFAULT_START + timedelta(days=stop), datetime.min.time(), tzinfo=SHANGHAI) + timedelta(
        hours=9)
    return lapses_at <= stop_at


def _hand_count(specs: list[dict[str, Any]]) -> dict[str, Any]:
    states = [s["expect"]["state"] for s in specs]
    accepted = [s for s in specs if _day(s, "accept") is not None]
    settled = [s for s in specs if _settled_day(s) is not None]
    days = sorted(int(_settled_day(s)) - int(_day(s, "accept")) for s in settled)  # type: ignore[operator]
    withdrawn_accepted = sum(1 for s in accepted if s["expect"]["state"] == "withdrawn")
    resolved, terminated = states.count("resolved"), states.count("terminated")
    escalations = {2: 0, 3: 0}
    for s in specs:
        tiers = s["expect"]["tiers"]
        for before, after in itertools.pairwise(tiers):
            if after == before + 1:
                escalations[after] += 1
    performance = [_performance(s) for s in settled]
    mid = len(days) // 2
    return {
        "received": len(specs),
        "accepted": len(accepted),
        "declined": states.count("declined"),
        "settled": len(settled),
        "settled_written": sum(1 for s in settled if _day(s, "record_oral_agreement") is None),
        "settled_oral": sum(1 for s in settled if _day(s, "record_oral_agreement") is not None),
        "resolved": resolved,
        "terminated": terminated,
        "withdrawn": states.count("withdrawn"),
        "success_rate": round(resolved / (resolved + terminated + withdrawn_accepted) * 100, 1),
        "days_to_agreement_median": float(days[mid] if len(days) % 2 else (days[mid - 1] + days[mid]) / 2),
        "days_to_agreement_p90": days[math.ceil(0.9 * len(days)) - 1],
        "past_statutory_period": sum(1 for s in specs if _lapsed(s)),
        "performed_full": performance.count("full"),
        "performed_part": performance.count("part"),
        "breached": performance.count("breached"),
        "performance_rate": round(performance.count("full") / len(settled) * 100, 1),
        "follow_up_visits": sum(len(_steps(s, "record_follow_up")) for s in specs),
        "escalations_to_tier2": escalations[2],
        "escalations_to_tier3": escalations[3],
    }


def test_figures_agree_with_a_hand_count_over_the_replayed_cases(replayed, session, registry):
    """R37: received, accepted, settled (written, oral), outcomes, success rate, days, performance, visits."""
    specs, org_id = replayed
    result = stats.compute(session, registry, None, WHOLE, Filters(organisation_id=org_id), now=AFTER_ALL)
    expected = _hand_count(specs)
    got = {key: result.value(key) for key in expected}
    assert got == expected
    assert set(expected) == {f.key for f in stats.FIGURES}, "every figure is hand-counted"
    # the statutory clock is not trivially zero or everything: some cases ran past it, most did not
    assert 0 < expected["past_statutory_period"] < len(specs)


def test_the_chief_sees_the_same_figures_as_the_system_and_the_month_splits_them(replayed, session, registry):
    specs, org_id = replayed
    org = session.get(Organisation, org_id)
    chief = factories.UserFactory(role=Role.STATION_CHIEF, organisation=org)
    system = stats.compute(session, registry, None, WHOLE, Filters(organisation_id=org_id), now=AFTER_ALL)
    seen = stats.compute(session, registry, chief, WHOLE, Filters(), now=AFTER_ALL)
    assert seen.current == system.current
    march = stats.compute(session, registry, chief, Period.month(2026, 3), now=AFTER_ALL)
    assert march.value("received") == len(specs)  # every case is filed on day 0, 2 March 2026
    months = WHOLE.months()
    by_month = stats.compute(session, registry, chief, WHOLE, now=AFTER_ALL).charts["by_month"]
    assert [c for c, _label in by_month.categories] == [m.key for m in months]
    resolved = next(s for s in by_month.series if s.key == "resolved")
    assert sum(v or 0 for v in resolved.values) == system.value("resolved")
    by_kind = seen.charts["by_kind"]
    assert sum(v or 0 for v in by_kind.series[0].values) == len(specs)
    by_tier = seen.charts["by_tier"]
    closed = sum(v or 0 for s in by_tier.series for v in s.values)
    final = ("resolved", "terminated", "withdrawn", "declined")
    assert closed == sum(1 for s in specs if s["expect"]["state"] in final)


def test_filters_narrow_the_count_by_kind_tier_and_enterprise(replayed, session, registry):
    specs, org_id = replayed
    base = Filters(organisation_id=org_id)
    labour = sum(1 for s in specs if s["category"] == "wages")
    wages = stats.compute(session, registry, None, WHOLE, Filters(organisation_id=org_id, category="wages"),
                          now=AFTER_ALL, charts=False)
    assert wages.value("received") == labour
    tier3 = stats.compute(session, registry, None, WHOLE, Filters(organisation_id=org_id, tier=3),
                          now=AFTER_ALL, charts=False)
    assert tier3.value("received") == sum(1 for s in specs if s["expect"]["tiers"][-1:] == [3])
    other_org = factories.OrganisationFactory(name="青田县公安局另一派出所", short_name="另一")
    nothing = stats.compute(session, registry, None, WHOLE, Filters(organisation_id=other_org.id), now=AFTER_ALL,
                            charts=False)
    assert nothing.value("received") == 0
    everything = stats.compute(session, registry, None, WHOLE, base, now=AFTER_ALL, charts=False)
    assert everything.value("received") == len(specs)


def test_a_user_of_another_organisation_counts_none_of_these_cases(replayed, session, registry):
    _specs, org_id = replayed
    other = factories.OrganisationFactory(name="青田县公安局另一派出所", short_name="另一")
    auditor = factories.UserFactory(role=Role.AUDITOR, organisation=other)
    result = stats.compute(session, registry, auditor, WHOLE, Filters(organisation_id=org_id), now=AFTER_ALL)
    assert all((v.value or 0) == 0 for v in result.current.values())


def test_last_year_is_the_same_days_a_year_earlier_and_the_change_is_relative():
    period = Period.month(2024, 2)
    assert period.year_before() == Period(date(2023, 2, 1), date(2023, 2, 28))
    count = stats.FIGURE_BY_KEY["received"]
    rate = stats.FIGURE_BY_KEY["success_rate"]
    assert stats.change(count, 15, 10) == (50.0, "percent")
    assert stats.change(count, 3, 0) == (None, "percent")
    assert stats.change(rate, 80.0, 75.0) == (5.0, "points")


def test_percentiles_use_the_nearest_rank_and_the_median_the_middle():
    assert stats.nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert stats.nearest_rank([5], 90) == 5
    assert stats.nearest_rank([], 90) is None
    assert stats.median([1, 2, 3, 10]) == 2.5


def test_a_bad_period_or_filter_names_its_field():
    with pytest.raises(ValidationError) as bad_month:
        Period.parse_month("2026-13")
    assert "month" in bad_month.value.errors
    with pytest.raises(ValidationError) as reversed_period:
        Period.of(date(2026, 3, 2), date(2026, 3, 1))
    assert "to" in reversed_period.value.errors
    with pytest.raises(ValidationError) as bad_kind:
        Filters(category="nonsense")
    assert "category" in bad_kind.value.errors


def test_every_figure_has_a_definition_in_both_languages():
    for figure in stats.FIGURES:
        for locale in ("zh_CN", "en"):
            assert figure.label[locale] and figure.numerator[locale]
            assert figure.definition(locale)
        assert (figure.denominator is not None) == (figure.unit == "percent"), figure.key


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        (datetime(2026, 3, 2, 16, 30, tzinfo=UTC), datetime(2026, 3, 2, 15, 30, tzinfo=UTC)),  # 00:30 after 23:30
        (datetime(2026, 3, 2, 15, 59, tzinfo=UTC), datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),  # one Shanghai day
        (datetime(2026, 3, 17, 1, 0, 0, 500000, tzinfo=UTC), datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),
        (datetime(2024, 3, 1, 0, 0, tzinfo=UTC), datetime(2024, 2, 28, 15, 0, tzinfo=UTC)),  # over 29 February
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2025, 12, 31, 16, 0, tzinfo=UTC)),  # the same day
    ],
)
def test_days_to_agreement_are_calendar_days_in_shanghai_on_both_databases(database, later, earlier):
    """``local_days_between`` (computed by the database) agrees with ``clocks.local_date``."""
    expected = (later.astimezone(SHANGHAI).date() - earlier.astimezone(SHANGHAI).date()).days
    with database.engine.connect() as conn:
        got = conn.execute(select(stats.local_days_between(literal(later, UTCDateTime()),
                                                           literal(earlier, UTCDateTime())))).scalar_one()
    assert got == expected


@pytest.fixture
def station(uow, session, make_user, organisation) -> Station:
    return open_station(uow, session, make_user, organisation)


def test_performance_is_counted_as_it_stood_at_the_period_end_or_now(station, session, registry):
    """A term performed or breached after the period's end (or after ``now``) does not count yet."""
    signed = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    case_id = station.drive_to("labour", "performing", now=signed)
    station.fire(case_id, "record_performance", {"term": 1, "note": "已转账"},
                 now=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    station.fire(case_id, "report_breach", {"term": 2, "note": "到期未付"}, now=datetime(2026, 4, 5, 2, 0, tzinfo=UTC))
    chief = station.user(Role.STATION_CHIEF)

    def figures(now: datetime) -> dict[str, Any]:
        got = stats.compute(session, registry, chief, Period.month(2026, 3), now=now, charts=False).current
        return {k: got[k].value for k in ("settled", "performed_full", "performed_part", "breached")}

    assert figures(datetime(2026, 3, 5, tzinfo=UTC)) == {"settled": 1, "performed_full": 0, "performed_part": 0,
                                                         "breached": 0}
    assert figures(datetime(2026, 3, 20, tzinfo=UTC)) == {"settled": 1, "performed_full": 0, "performed_part": 1,
                                                          "breached": 0}
    # The breach of 5 April is after March: March's figures still show the first term performed.
    assert figures(datetime(2026, 4, 30, tzinfo=UTC)) == {"settled": 1, "performed_full": 0, "performed_part": 1,
                                                          "breached": 0}
    april = stats.compute(session, registry, chief, Period(date(2026, 3, 1), date(2026, 4, 30)),
                          now=datetime(2026, 4, 30, tzinfo=UTC), charts=False).current
    assert (april["breached"].value, april["performed_part"].value) == (1, 0)
