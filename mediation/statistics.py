"""Statistics the station is judged by (统计), DOMAIN R37: each figure defined once, here.

``FIGURES`` lists every figure with its label and the definition of what it counts (the
numerator and, for a rate, the denominator) in zh_CN and en; the statistics page, the
monthly report (PDF and XLSX), the API and the tests all read the figures and their
definitions from here. ``compute`` gives the figures of a period, of the same period a
year earlier, and the numbers behind the charts.

Conventions:

- A period is a range of calendar days in Asia/Shanghai, both ends included; an instant
  belongs to it when it falls between 00:00 of the first day and 24:00 of the last.
- A case is counted for the event the figure is about when that event happened in the
  period: filed (``filed_at``), accepted (``accepted_at``), closed (``closed_at``),
  its first agreement in force (``effective_at``), a follow-up visit or escalation
  (the event's time), a mediation period lapsed (the clock's due instant).
- The outcome of a closed case is its final state's ``outcome`` in the workflow
  definition (``settled``, ``failed``, ``withdrawn``); a final state without one is
  a dispute not accepted (不予受理). No figure names a state of a particular workflow.
- The filters (organisation, enterprise, area, kind of dispute, tier) and the user's
  visibility (``policy.visible_clause``) narrow the cases; the tier is the case's tier
  now (for a closed case: the tier it closed in).

Nothing here knows Flask. Money does not appear; days are whole calendar days.
"""

from __future__ import annotations

import math
import statistics as pystats
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from typing import Any

from sqlalchemy import ColumnElement, FunctionElement, Integer, Select, and_, case, func, or_, select, true
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from . import policy
from .clocks import local_date, start_of_day
from .enums import AgreementKind, Category, ClockStatus
from .errors import ValidationError
from .i18n import N_
from .models import Agreement, Case, CaseClock, Event, Obligation, User
from .planning import without_parallel_workers
from .workflow import Definition, Label, Registry, pick_label

#: Triggers the activity figures count (the domain's vocabulary, DESIGN.md §3).
FOLLOW_UP_TRIGGER = "record_follow_up"
ESCALATE_TRIGGER = "escalate"
ACCEPT_TRIGGER = "accept"
#: Outcomes of final states (``outcome:`` in a definition); ``None`` = not accepted.
SETTLED, FAILED, WITHDRAWN, DECLINED = "settled", "failed", "withdrawn", "declined"
#: Longest period the statistics accept (days), so a typo cannot ask for centuries.
MAX_PERIOD_DAYS = 3660
#: Months the monthly charts show at least (the period's months, going back if fewer).
TREND_MONTHS = 12


# --- periods and filters --------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Calendar days ``start`` … ``end`` (both included) in Asia/Shanghai."""

    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """The calendar month ``year-month``."""
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """The month ``YYYY-MM``; raises ``ValidationError`` naming ``month``."""
        try:
            year, month = (int(part) for part in text.strip().split("-"))
            return cls.month(year, month)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"month": N_("Not a month (YYYY-MM).")}) from exc

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        """The days ``start`` … ``end``; raises ``ValidationError`` (``to``) when reversed or too long."""
        if end < start:
            raise ValidationError({"to": N_("The period ends before it starts.")})
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise ValidationError({"to": N_("A period is at most ten years.")})
        return cls(start, end)

    def bounds(self) -> tuple[datetime, datetime]:
        """``[from, to)`` as aware UTC instants: 00:00 of the first day to 00:00 after the last."""
        return (
            start_of_day(self.start).astimezone(UTC),
            start_of_day(self.end + timedelta(days=1)).astimezone(UTC),
        )

    def year_before(self) -> Period:
        """The same days one year earlier (29 February becomes the 28th)."""
        return Period(_year_back(self.start), _year_back(self.end))

    def is_month(self) -> bool:
        """True when the period is exactly one calendar month."""
        return self == Period.month(self.start.year, self.start.month)

    def months(self) -> list[Period]:
        """The calendar months the period touches, each whole, in order."""
        out = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(Period.month(year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def trend_months(self) -> list[Period]:
        """The months the monthly charts show: the period's, going back to ``TREND_MONTHS`` if fewer."""
        months = self.months()
        while len(months) < TREND_MONTHS:
            first = months[0].start
            months.insert(0, Period.month(first.year - (first.month == 1), (first.month - 2) % 12 + 1))
        return months

    @property
    def key(self) -> str:
        """``2026-03`` for a month, else ``2026-03-01_2026-03-31`` (for file names)."""
        if self.is_month():
            return self.start.strftime("%Y-%m")
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def label(self, locale: str = "zh_CN") -> str:
        """``2026年3月`` / ``March 2026`` for a month, else ``2026-03-01 – 2026-03-31``."""
        if self.is_month():
            if locale == "en":
                return self.start.strftime("%B %Y")
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def current_month(now: datetime) -> Period:
    """The calendar month (Asia/Shanghai) that ``now`` falls in."""
    today = local_date(now)
    return Period.month(today.year, today.month)


@dataclass(frozen=True)
class Filters:
    """What narrows the cases counted, besides the user's visibility; ``None`` = all."""

    organisation_id: int | None = None
    enterprise_id: int | None = None
    area_id: int | None = None
    category: str | None = None
    tier: int | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if self.category is not None and self.category not in {c.value for c in Category}:
            errors["category"] = N_("Not one of the allowed values.")
        if self.tier is not None and self.tier not in (1, 2, 3):
            errors["tier"] = N_("Not one of the allowed values.")
        if errors:
            raise ValidationError(errors)

    def as_params(self) -> dict[str, str]:
        """The filters that are set, as query-string parameters."""
        pairs = {
            "organisation": self.organisation_id, "enterprise": self.enterprise_id, "area": self.area_id,
            "kind": self.category, "tier": self.tier,
        }
        return {k: str(v) for k, v in pairs.items() if v is not None}


# --- the figures and their definitions ---------------------------------------------------

@dataclass(frozen=True)
class FigureDef:
    """One figure: its key, label, unit and the definition shown beside it (zh_CN and en).

    ``unit`` is ``count``, ``percent`` or ``days``. ``numerator`` says what is counted;
    ``denominator`` (rates only) what it is divided by.
    """

    key: str
    section: str
    label: Label
    unit: str
    numerator: Label
    denominator: Label | None = None

    def definition(self, locale: str = "zh_CN") -> str:
        """The definition as one text: numerator, then ``÷`` denominator for a rate."""
        text = pick_label(self.numerator, locale)
        if self.denominator is not None:
            text += (" ÷ " if locale == "en" else "；除以：") + pick_label(self.denominator, locale)
        return text


def _two(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


SECTIONS: Mapping[str, Label] = {
    "intake": _two("收案与受理", "Intake"),
    "outcome": _two("调解结果", "Outcomes"),
    "time": _two("办理时间与期限", "Time taken and periods"),
    "performance": _two("协议履行", "Performance of agreements"),
    "activity": _two("回访与提级", "Follow-up visits and escalations"),
}

_CLOSED_IN = _two("在本期内结案", "closed in the period")
_CONCLUDED = _two(
    "本期内受理后结案的案件：调解成功结案、调解终止、受理后撤回之和（不含不予受理）",
    "cases closed in the period after acceptance: resolved + terminated + withdrawn after acceptance "
    "(disputes not accepted are left out)",
)
_FIRST_AGREEMENT = _two(
    "本期内首份调解协议生效的案件（书面协议自各方签字、需审签的自所长审签之日生效；口头协议自登记之日生效）",
    "cases whose first agreement took effect in the period (a written one when signed by every party, "
    "or on the chief's sign-off where needed; an oral one when recorded)",
)

FIGURES: tuple[FigureDef, ...] = (
    FigureDef("received", "intake", _two("收案数", "Disputes received"), "count",
              _two("本期内登记（收到）的纠纷件数，按登记时间计", "disputes filed in the period, by the time filed")),
    FigureDef("accepted", "intake", _two("受理数", "Accepted"), "count",
              _two("本期内受理的纠纷件数，按受理时间计（不论何时登记）",
                 "disputes accepted in the period, by the time accepted (whenever filed)")),
    FigureDef("declined", "intake", _two("不予受理数", "Not accepted (declined)"), "count",
              _two("本期内以不予受理结案的件数（结束状态无调解结果）",
                 "cases closed in the period as not accepted (a final state without a mediation outcome)")),
    FigureDef("settled", "outcome", _two("达成协议数", "Settled (agreements reached)"), "count",
              _FIRST_AGREEMENT),
    FigureDef("settled_written", "outcome", _two("其中书面协议", "of which written"), "count",
              _two("达成协议数中首份生效协议为书面调解协议书的件数",
                 "settled cases whose first agreement in force is a written agreement")),
    FigureDef("settled_oral", "outcome", _two("其中口头协议", "of which oral"), "count",
              _two("达成协议数中首份生效协议为口头协议（人民调解法第28条）的件数",
                 "settled cases whose first agreement in force is an oral agreement (People's Mediation Law "
                 "art. 28)")),
    FigureDef("resolved", "outcome", _two("调解成功结案数", "Resolved (closed as settled)"), "count",
              _two("本期内以调解成功结案（履行完毕并回访）的件数",
                 "cases closed in the period as settled (performed and followed up)")),
    FigureDef("terminated", "outcome", _two("调解终止数", "Terminated"), "count",
              _two("本期内以调解终止结案的件数（告知其他解决途径）",
                 "cases closed in the period as terminated (other channels advised)")),
    FigureDef("withdrawn", "outcome", _two("撤回数", "Withdrawn"), "count",
              _two("本期内以申请人撤回结案的件数（含受理前撤回）",
                 "cases closed in the period as withdrawn by the applicant (also before acceptance)")),
    FigureDef("success_rate", "outcome", _two("调解成功率", "Success rate"), "percent",
              _two("本期内调解成功结案数", "cases closed as settled in the period"), _CONCLUDED),
    FigureDef("days_to_agreement_median", "time", _two("受理至达成协议天数（中位数）",
                                                      "Days from acceptance to agreement (median)"), "days",
              _two("达成协议的案件中，受理日至首份协议生效日的日历天数的中位数（偶数个时取中间两数的平均）",
                 "of the settled cases, the median of the calendar days from the day accepted to the day the "
                 "first agreement took effect (the mean of the middle two when their number is even)")),
    FigureDef("days_to_agreement_p90", "time", _two("受理至达成协议天数（90%分位）",
                                                   "Days from acceptance to agreement (90th percentile)"), "days",
              _two("同上天数的第90百分位（最近秩法：从小到大排列后第⌈0.9×n⌉个）",
                 "the 90th percentile of the same days (nearest rank: the ⌈0.9 × n⌉-th smallest)")),
    FigureDef("past_statutory_period", "time", _two("超过法定调解期限数", "Past the statutory mediation period"),
              "count",
              _two("本期内调解期限届满仍未达成协议的件数：自受理起算、有法律依据的调解期限（劳动争议15日，"
                 "劳动争议调解仲裁法第14条；相邻纠纷一个月，人民调解工作若干规定第33条），中止期间不计",
                 "cases whose mediation period ran out in the period without an agreement: the period with a "
                 "legal source that runs from acceptance (labour: 15 days, Labour Dispute Mediation and "
                 "Arbitration Law art. 14; neighbours: one month, MOJ Provisions on People's Mediation art. 33), "
                 "days suspended not counted")),
    FigureDef("performed_full", "performance", _two("全部履行", "Performed in full"), "count",
              _two("达成协议数中，至期末每一项协议内容均已履行的件数（当场履行的口头协议计入）",
                 "settled cases whose every agreed term was performed by the end of the period (an oral "
                 "agreement performed on the spot counts)")),
    FigureDef("performed_part", "performance", _two("部分履行", "Performed in part"), "count",
              _two("达成协议数中，至期末部分内容已履行、无未履行记录的件数",
                 "settled cases with some but not all terms performed by the end of the period, none breached")),
    FigureDef("breached", "performance", _two("未履行（违约）", "Breached"), "count",
              _two("达成协议数中，至期末有协议内容登记为未履行且尚未补履行的件数",
                 "settled cases with a term recorded as breached and not performed since, at the end of the "
                 "period")),
    FigureDef("performance_rate", "performance", _two("协议履行率", "Agreement performance rate"), "percent",
              _two("全部履行的件数", "settled cases performed in full"), _FIRST_AGREEMENT),
    FigureDef("follow_up_visits", "activity", _two("回访次数", "Follow-up visits done"), "count",
              _two("本期内登记的回访次数（履行后回访与履行中的监督回访，人民调解法第31条）",
                 "follow-up visits recorded in the period (after performance, and supervision visits "
                 "during performance, People's Mediation Law art. 31)")),
    FigureDef("escalations_to_tier2", "activity", _two("提级至二级", "Escalations to tier 2"), "count",
              _two("本期内由一级提级至二级调处的次数（含期限届满系统提级）",
                 "escalations from tier 1 to tier 2 in the period (including by the clock)")),
    FigureDef("escalations_to_tier3", "activity", _two("提级至三级", "Escalations to tier 3"), "count",
              _two("本期内提级至三级（所长负责·联合化解）的次数",
                 "escalations to tier 3 (the station chief with the township offices) in the period")),
)
FIGURE_BY_KEY: Mapping[str, FigureDef] = {f.key: f for f in FIGURES}

#: Names of the kinds of dispute (纠纷类别) in both languages, for charts and reports.
KIND_LABELS: Mapping[str, Label] = {
    "wages": _two("拖欠工资", "Unpaid wages"),
    "work_injury": _two("工伤", "Work injury"),
    "contract_termination": _two("解除劳动合同", "Termination of labour contract"),
    "labour_service_pay": _two("劳务报酬", "Pay for labour services"),
    "neighbour_lift": _two("加装电梯相邻纠纷", "Neighbours: lift installation"),
    "neighbour_building": _two("建房相邻纠纷", "Neighbours: house building"),
    "neighbour_other": _two("其他相邻关系纠纷", "Neighbours: other"),
    "property_service": _two("物业服务纠纷", "Property management service"),
    "minor_assault": _two("轻微伤害", "Minor assault"),
    "other": _two("其他", "Other"),
}
TIER_LABELS: Mapping[int, Label] = {
    1: _two("一级调处", "Tier 1"),
    2: _two("二级调处", "Tier 2"),
    3: _two("三级调处", "Tier 3"),
}
NOT_ACCEPTED_LABEL: Label = _two("未受理", "Not accepted")
OUTCOME_LABELS: Mapping[str, Label] = {
    SETTLED: _two("调解成功结案", "Resolved"),
    FAILED: _two("调解终止", "Terminated"),
    WITHDRAWN: _two("撤回", "Withdrawn"),
    DECLINED: _two("不予受理", "Declined"),
}


# --- results ------------------------------------------------------------------------

@dataclass(frozen=True)
class FigureValue:
    """A figure's value over one period; a rate also carries its numerator and denominator."""

    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None


@dataclass(frozen=True)
class Series:
    """One line or bar series of a chart: key, label, one value per category."""

    key: str
    label: Label
    values: list[float | int | None]


@dataclass(frozen=True)
class ChartData:
    """The numbers behind a chart: categories (x axis) and series; ``unit`` of the values."""

    key: str
    title: Label
    kind: str  # "bar", "stacked", "line"
    unit: str
    categories: list[tuple[str, Label]]
    series: list[Series]

    def rows(self, locale: str = "zh_CN") -> list[list[Any]]:
        """Header row then one row per category: ``[category, value per series …]`` (for CSV and XLSX)."""
        header: list[Any] = [_two("类别", "Category")[locale if locale == "en" else "zh_CN"]]
        header += [pick_label(s.label, locale) for s in self.series]
        out = [header]
        for i, (_key, label) in enumerate(self.categories):
            out.append([pick_label(label, locale), *[s.values[i] for s in self.series]])
        return out


@dataclass(frozen=True)
class FigureRow:
    """A figure as a table shows it: definition, this period, the same period last year, change."""

    definition: FigureDef
    current: FigureValue
    previous: FigureValue
    #: (this − last) ÷ last × 100 for counts and days; the difference in points for rates; None if unknown.
    change: float | None
    change_unit: str  # "percent" or "points"


@dataclass(frozen=True)
class Statistics:
    """The figures of a period and of the same period a year earlier, and the charts' numbers."""

    period: Period
    previous_period: Period
    filters: Filters
    as_of: datetime
    current: Mapping[str, FigureValue]
    previous: Mapping[str, FigureValue]
    charts: Mapping[str, ChartData] = field(default_factory=dict)

    def rows(self) -> list[FigureRow]:
        """Every figure in ``FIGURES`` order with last year's value and the change."""
        out = []
        for d in FIGURES:
            cur, prev = self.current[d.key], self.previous[d.key]
            out.append(FigureRow(d, cur, prev, *change(d, cur.value, prev.value)))
        return out

    def value(self, key: str) -> float | int | None:
        """The value of figure ``key`` this period."""
        return self.current[key].value

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready): period, filters, figures with definitions, charts."""
        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "previous_period": {"from": self.previous_period.start.isoformat(),
                                "to": self.previous_period.end.isoformat()},
            "as_of": self.as_of.isoformat(),
            "filters": {
                "organisation": self.filters.organisation_id, "enterprise": self.filters.enterprise_id,
                "area": self.filters.area_id, "kind": self.filters.category, "tier": self.filters.tier,
            },
            "figures": [
                {
                    "key": r.definition.key,
                    "section": r.definition.section,
                    "label": dict(r.definition.label),
                    "unit": r.definition.unit,
                    "value": r.current.value,
                    "numerator": r.current.numerator,
                    "denominator": r.current.denominator,
                    "last_year": r.previous.value,
                    "change": r.change,
                    "change_unit": r.change_unit,
                    "definition": {"zh_CN": r.definition.definition("zh_CN"), "en": r.definition.definition("en")},
                }
                for r in self.rows()
            ],
            "charts": [
                {
                    "key": c.key, "title": dict(c.title), "unit": c.unit,
                    "categories": [{"key": k, "label": dict(label)} for k, label in c.categories],
                    "series": [{"key": s.key, "label": dict(s.label), "values": list(s.values)} for s in c.series],
                }
                for c in self.charts.values()
            ],
        }


def change(definition: FigureDef, current: float | int | None, previous: float | int | None) -> tuple[
    float | None, str
]:
    """The change from last year: per cent of last year's value, or points for a rate; ``None`` if unknown."""
    if definition.unit == "percent":
        if current is None or previous is None:
            return None, "points"
        return round(float(current) - float(previous), 1), "points"
    if current is None or previous is None or previous == 0:
        return None, "percent"
    return round((float(current) - float(previous)) / float(previous) * 100, 1), "percent"


def percentage(numerator: int, denominator: int) -> float | None:
    """``numerator ÷ denominator × 100`` to one place; ``None`` when nothing was counted."""
    return round(numerator / denominator * 100, 1) if denominator else None


def nearest_rank(values: Sequence[int], percentile: float) -> int | None:
    """The nearest-rank ``percentile`` (0–100) of ``values``: the ⌈p/100 × n⌉-th smallest; ``None`` if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[int]) -> float | None:
    """The median (mean of the middle two for an even count); ``None`` if empty."""
    return float(pystats.median(values)) if values else None


# --- queries --------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Scope:
    """The cases counted: ``cases``, a condition on ``Case``; ``station``, the id of the one
    mediating organisation (调解组织, the station) they all belong to, or ``None`` if none is named.

    Events, agreements and clocks carry their case's station (``models.case_station_key``):
    narrowed by it first, a month's rows are one station's, read from the station-led
    indexes, and only those are checked against ``cases``.
    """

    cases: ColumnElement[bool]
    station: int | None = None

    def of_station(self, column: QueryableAttribute[int]) -> ColumnElement[bool]:
        """``column == station``, or no condition when the station is not named."""
        return true() if self.station is None else column == self.station


def scope_of(user: User | None, filters: Filters, registry: Registry | None = None) -> Scope:
    """The cases counted: those ``user`` may see (``None``: the system, every case) narrowed by
    ``filters``. The station is the filter's, else the user's (``policy.station_of``)."""
    clauses: list[ColumnElement[bool]] = []
    if user is not None:
        clauses.append(policy.visible_clause(user, list(registry) if registry is not None else None))
    if filters.organisation_id is not None:
        clauses.append(Case.organisation_id == filters.organisation_id)
    if filters.enterprise_id is not None:
        clauses.append(Case.enterprise_id == filters.enterprise_id)
    if filters.area_id is not None:
        clauses.append(Case.area_id == filters.area_id)
    if filters.category is not None:
        clauses.append(Case.category == Category(filters.category))
    if filters.tier is not None:
        clauses.append(Case.tier == filters.tier)
    station = filters.organisation_id if filters.organisation_id is not None else policy.station_of(user)
    return Scope(and_(true(), *clauses), station)


def _in(column: Any, bounds: tuple[datetime, datetime]) -> ColumnElement[bool]:
    lower, upper = bounds
    return and_(column >= lower, column < upper)


def _outcome(definition: Definition | None, state: str) -> str | None:
    """``settled``/``failed``/``withdrawn``/``declined`` for a final state, else ``None``."""
    spec = definition.states.get(state) if definition is not None else None
    if spec is None or not spec.final:
        return None
    return spec.outcome or DECLINED


def _definition(registry: Registry, name: str, version: int) -> Definition | None:
    return registry.get(name, version) if (name, version) in registry else None


@dataclass
class _Closed:
    """Cases closed in a period, by outcome, and by tier and outcome."""

    by_outcome: dict[str, int] = field(default_factory=dict)
    withdrawn_accepted: int = 0
    by_tier: dict[tuple[int | None, str], int] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return self.by_outcome.get(outcome, 0)

    @property
    def concluded(self) -> int:
        """Closed after acceptance: resolved + terminated + withdrawn after acceptance (the success denominator)."""
        return self.count(SETTLED) + self.count(FAILED) + self.withdrawn_accepted


def filed_by_kind(session: Session, scope: Scope, period: Period) -> dict[str, int]:
    """Disputes filed in ``period`` per kind (category value)."""
    rows = session.execute(
        select(Case.category, func.count())
        .where(scope.cases, _in(Case.filed_at, period.bounds()))
        .group_by(Case.category)
    )
    return {getattr(category, "value", str(category)): int(n) for category, n in rows}


def accepted_count(session: Session, scope: Scope, period: Period) -> int:
    """Disputes accepted in ``period``."""
    return int(session.scalar(
        select(func.count()).select_from(Case).where(scope.cases, _in(Case.accepted_at, period.bounds()))
    ) or 0)


def closed(session: Session, registry: Registry, scope: Scope, period: Period) -> _Closed:
    """Cases closed in ``period`` by outcome and tier."""
    rows = session.execute(
        select(Case.workflow, Case.workflow_version, Case.state, Case.tier, Case.accepted_at.is_not(None), func.count())
        .where(scope.cases, _in(Case.closed_at, period.bounds()))
        .group_by(Case.workflow, Case.workflow_version, Case.state, Case.tier, Case.accepted_at.is_not(None))
    )
    out = _Closed()
    for workflow, version, state, tier, was_accepted, n in rows:
        outcome = _outcome(_definition(registry, workflow, version), state)
        if outcome is None:
            continue
        out.by_outcome[outcome] = out.by_outcome.get(outcome, 0) + int(n)
        if outcome == WITHDRAWN and was_accepted:
            out.withdrawn_accepted += int(n)
        key = (tier if was_accepted else None, outcome)
        out.by_tier[key] = out.by_tier.get(key, 0) + int(n)
    return out


@dataclass
class _Agreements:
    """Cases whose first agreement took effect in a period: kinds, days taken, performance."""

    written: int = 0
    oral: int = 0
    days: list[int] = field(default_factory=list)
    performance: dict[str, int] = field(default_factory=dict)

    @property
    def settled(self) -> int:
        return self.written + self.oral


class local_days_between(FunctionElement[int]):
    """``local_days_between(later, earlier)``: whole calendar days in Asia/Shanghai from the
    instant ``earlier`` to ``later`` (``clocks.local_date`` of each, subtracted), computed by
    the database so a month's rows reach Python as one integer each; NULL if either is.

    PostgreSQL converts with the zone itself; SQLite, which has no zones, adds eight hours:
    China has kept UTC+8 without daylight saving since 1991. Other databases: ``CompileError``.
    """

    type = Integer()
    inherit_cache = True


@compiles(local_days_between)
def _local_days_between_elsewhere(element: local_days_between, compiler: Any, **kw: Any) -> str:
    raise CompileError(f"local_days_between has no form for {compiler.dialect.name}")


@compiles(local_days_between, "postgresql")
def _local_days_between_postgresql(element: local_days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((({later}) AT TIME ZONE 'Asia/Shanghai')::date - (({earlier}) AT TIME ZONE 'Asia/Shanghai')::date)"


@compiles(local_days_between, "sqlite")
def _local_days_between_sqlite(element: local_days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return (f"CAST(julianday({later}, '+8 hours', 'start of day') "
            f"- julianday({earlier}, '+8 hours', 'start of day') AS INTEGER)")


def _first_agreements(
    scope: Scope, period: Period, cut: datetime
) -> Select[int, AgreementKind, int | None, int, Any, Any]:
    """The first agreement in force of each case in ``scope`` whose first one took effect in
    ``period``: (agreement id, kind, calendar days from the case's acceptance to it, its
    terms, those performed before ``cut``, those breached and not performed before ``cut``).

    Read from the station's agreements of the period (``ix_agreements_org_effective``),
    each joined to its case by key (both planners start from the agreements, which carry
    the station), checked for an earlier one in force (``ix_agreements_case_effective``)
    and joined to its terms (``uq_obligations_agreement_id_seq``), counted in the database.
    """
    first = aliased(Agreement)
    earlier = aliased(Agreement)
    sooner = (
        select(earlier.id)
        .where(
            earlier.case_id == first.case_id,
            earlier.effective_at.is_not(None),
            or_(earlier.effective_at < first.effective_at,
                and_(earlier.effective_at == first.effective_at, earlier.id < first.id)),
        )
        .exists()
    )
    performed = case((Obligation.performed_at < cut, 1), else_=0)
    breached = case((Obligation.performed_at < cut, 0), (Obligation.breached_at < cut, 1), else_=0)
    return (
        select(first.id, first.kind, local_days_between(first.effective_at, Case.accepted_at),
               func.count(Obligation.id), func.sum(performed), func.sum(breached))
        .join(Case, Case.id == first.case_id)
        .outerjoin(Obligation, Obligation.agreement_id == first.id)
        .where(scope.of_station(first.organisation_id), _in(first.effective_at, period.bounds()), scope.cases,
               ~sooner)
        .group_by(first.id, first.kind, first.effective_at, Case.accepted_at)
    )


def agreements(session: Session, scope: Scope, period: Period, now: datetime) -> _Agreements:
    """The settled cases of ``period`` and their first agreements' performance at the period's end (or now)."""
    out = _Agreements()
    cut = min(period.bounds()[1], now)
    for _id, kind, days, terms, performed, breached in session.execute(_first_agreements(scope, period, cut)):
        if kind is AgreementKind.ORAL:
            out.oral += 1
        else:
            out.written += 1
        if days is not None:
            out.days.append(int(days))
        status = performance_status(int(terms), int(performed or 0), int(breached or 0))
        out.performance[status] = out.performance.get(status, 0) + 1
    return out


def performance_status(terms: int, performed: int, breached: int) -> str:
    """``breached``, ``full``, ``part`` or ``pending`` for an agreement of ``terms`` terms (none: performed on
    the spot, as an oral agreement without terms must be)."""
    if breached:
        return "breached"
    if performed == terms:
        return "full"
    return "part" if performed else "pending"


@dataclass
class _Activity:
    follow_ups: int = 0
    escalations: dict[int, int] = field(default_factory=dict)


def activity(session: Session, registry: Registry, scope: Scope, period: Period) -> _Activity:
    """Follow-up visits and escalations (by the tier reached) recorded in ``period``."""
    rows = session.execute(
        select(Event.trigger, Case.workflow, Case.workflow_version, Event.to_state, func.count())
        .join(Case, Case.id == Event.case_id)
        .where(scope.of_station(Event.organisation_id), Event.trigger.in_([FOLLOW_UP_TRIGGER, ESCALATE_TRIGGER]),
               _in(Event.at, period.bounds()), scope.cases)
        .group_by(Event.trigger, Case.workflow, Case.workflow_version, Event.to_state)
    )
    out = _Activity()
    for trigger, workflow, version, to_state, n in rows:
        if trigger == FOLLOW_UP_TRIGGER:
            out.follow_ups += int(n)
            continue
        definition = _definition(registry, workflow, version)
        spec = definition.states.get(to_state) if definition is not None else None
        if spec is not None and spec.tier is not None:
            out.escalations[spec.tier] = out.escalations.get(spec.tier, 0) + int(n)
    return out


def mediation_period_clocks(registry: Registry) -> dict[str, list[str]]:
    """Per workflow, the clocks that are mediation periods: a legal source, started on acceptance."""
    out: dict[str, list[str]] = {}
    for d in registry:
        for spec in d.clocks.values():
            if spec.source and ACCEPT_TRIGGER in spec.start_on:
                names = out.setdefault(d.name, [])
                if spec.name not in names:
                    names.append(spec.name)
    return out


def lapsed_periods(
    session: Session, registry: Registry, scope: Scope, period: Period, now: datetime
) -> int:
    """Cases whose mediation period lapsed in ``period`` (by the end of the period or ``now``)."""
    clocks = mediation_period_clocks(registry)
    if not clocks:
        return 0
    lower, upper = period.bounds()
    cut = min(upper, now)
    if cut <= lower:
        return 0
    which = or_(*(and_(Case.workflow == w, CaseClock.name.in_(names)) for w, names in clocks.items()))
    lapsed = or_(CaseClock.status == ClockStatus.EXPIRED,
                 and_(CaseClock.status == ClockStatus.RUNNING, CaseClock.due_at <= now))
    return int(session.scalar(
        select(func.count(func.distinct(CaseClock.case_id)))
        .select_from(CaseClock)
        .join(Case, Case.id == CaseClock.case_id)
        .where(scope.of_station(CaseClock.organisation_id), CaseClock.due_at >= lower, CaseClock.due_at < cut,
               lapsed, which, scope.cases)
    ) or 0)


# --- putting it together ------------------------------------------------------------

class _Reads:
    """The counts of one ``compute``, each read once per period: the charts show the
    period's own kinds and closings, and the trend's last month is the period itself when
    it is a month. ``filed``, ``accepted`` and ``closed`` take a ``Period``."""

    def __init__(self, session: Session, registry: Registry, scope: Scope) -> None:
        self.session, self.registry, self.scope = session, registry, scope
        self.filed: Callable[[Period], dict[str, int]] = cache(partial(filed_by_kind, session, scope))
        self.accepted: Callable[[Period], int] = cache(partial(accepted_count, session, scope))
        self.closed: Callable[[Period], _Closed] = cache(partial(closed, session, registry, scope))


def period_figures(reads: _Reads, period: Period, now: datetime) -> dict[str, FigureValue]:
    """Every figure of ``FIGURES`` over ``period`` for the cases ``reads.scope`` selects."""
    session, registry, scope = reads.session, reads.registry, reads.scope
    kinds = reads.filed(period)
    ended = reads.closed(period)
    settled = agreements(session, scope, period, now)
    acts = activity(session, registry, scope, period)
    perf = settled.performance
    values: dict[str, FigureValue] = {
        "received": FigureValue(sum(kinds.values())),
        "accepted": FigureValue(reads.accepted(period)),
        "declined": FigureValue(ended.count(DECLINED)),
        "settled": FigureValue(settled.settled),
        "settled_written": FigureValue(settled.written),
        "settled_oral": FigureValue(settled.oral),
        "resolved": FigureValue(ended.count(SETTLED)),
        "terminated": FigureValue(ended.count(FAILED)),
        "withdrawn": FigureValue(ended.count(WITHDRAWN)),
        "success_rate": FigureValue(percentage(ended.count(SETTLED), ended.concluded),
                                    ended.count(SETTLED), ended.concluded),
        "days_to_agreement_median": FigureValue(median(settled.days)),
        "days_to_agreement_p90": FigureValue(nearest_rank(settled.days, 90)),
        "past_statutory_period": FigureValue(lapsed_periods(session, registry, scope, period, now)),
        "performed_full": FigureValue(perf.get("full", 0)),
        "performed_part": FigureValue(perf.get("part", 0)),
        "breached": FigureValue(perf.get("breached", 0)),
        "performance_rate": FigureValue(percentage(perf.get("full", 0), settled.settled),
                                        perf.get("full", 0), settled.settled),
        "follow_up_visits": FigureValue(acts.follow_ups),
        "escalations_to_tier2": FigureValue(acts.escalations.get(2, 0)),
        "escalations_to_tier3": FigureValue(acts.escalations.get(3, 0)),
    }
    assert set(values) == set(FIGURE_BY_KEY), "every figure of FIGURES is computed, and only those"
    return values


def _kind_chart(kinds: Mapping[str, int]) -> ChartData:
    order = [c.value for c in Category]
    present = sorted((k for k, n in kinds.items() if n), key=lambda k: (-kinds[k], order.index(k)))
    return ChartData(
        "by_kind", _two("本期收案按纠纷类别", "Disputes received by kind"), "bar", "count",
        [(k, KIND_LABELS.get(k, _two(k, k))) for k in present],
        [Series("received", FIGURE_BY_KEY["received"].label, [kinds[k] for k in present])],
    )


def _tier_chart(ended: _Closed) -> ChartData:
    tiers: list[int | None] = [1, 2, 3, None]
    categories = [(str(t) if t else "none", TIER_LABELS[t] if t else NOT_ACCEPTED_LABEL) for t in tiers]
    series = [
        Series(outcome, OUTCOME_LABELS[outcome], [ended.by_tier.get((t, outcome), 0) for t in tiers])
        for outcome in (SETTLED, FAILED, WITHDRAWN, DECLINED)
    ]
    return ChartData("by_tier", _two("本期结案按层级与结果", "Cases closed by tier and outcome"), "stacked", "count",
                     categories, series)


def trend_charts(reads: _Reads, months: Iterable[Period]) -> tuple[ChartData, ChartData]:
    """Counts by month (received, accepted, resolved) and the success-rate trend, over ``months``."""
    received: list[float | int | None] = []
    accepted: list[float | int | None] = []
    resolved: list[float | int | None] = []
    rates: list[float | int | None] = []
    categories: list[tuple[str, Label]] = []
    for month in months:
        name = _two(f"{month.start.year}年{month.start.month}月", month.start.strftime("%b %Y"))
        categories.append((month.key, name))
        received.append(sum(reads.filed(month).values()))
        accepted.append(reads.accepted(month))
        ended = reads.closed(month)
        resolved.append(ended.count(SETTLED))
        rates.append(percentage(ended.count(SETTLED), ended.concluded))
    by_month = ChartData(
        "by_month", _two("按月收案、受理与成功结案", "Received, accepted and resolved by month"), "bar", "count",
        categories,
        [Series("received", FIGURE_BY_KEY["received"].label, received),
         Series("accepted", FIGURE_BY_KEY["accepted"].label, accepted),
         Series("resolved", FIGURE_BY_KEY["resolved"].label, resolved)],
    )
    trend = ChartData(
        "success_trend", _two("调解成功率按月走势", "Success rate by month"), "line", "percent", categories,
        [Series("success_rate", FIGURE_BY_KEY["success_rate"].label, rates)],
    )
    return by_month, trend


#: The charts, in the order pages and reports show them.
CHART_KEYS: tuple[str, ...] = ("by_month", "by_kind", "by_tier", "success_trend")


def compute(
    session: Session,
    registry: Registry,
    user: User | None,
    period: Period,
    filters: Filters | None = None,
    *,
    now: datetime,
    charts: bool = True,
) -> Statistics:
    """The statistics of ``period`` for the cases ``user`` may see (``None``: the system) narrowed by
    ``filters``: the figures, last year's, and (``charts``) the numbers behind the charts."""
    filters = filters or Filters()
    if user is None and filters.organisation_id is None:
        raise ValidationError({"organisation": N_("Choose the station.")})
    scope = scope_of(user, filters, registry)
    previous_period = period.year_before()
    chart_data: dict[str, ChartData] = {}
    with without_parallel_workers(session):  # some fifty small index reads: workers cost more than they save
        reads = _Reads(session, registry, scope)
        current = period_figures(reads, period, now)
        previous = period_figures(reads, previous_period, now)
        if charts:
            by_month, trend = trend_charts(reads, period.trend_months())
            chart_data = {
                "by_month": by_month,
                "by_kind": _kind_chart(reads.filed(period)),
                "by_tier": _tier_chart(reads.closed(period)),
                "success_trend": trend,
            }
    return Statistics(period, previous_period, filters, now, current, previous, chart_data)
