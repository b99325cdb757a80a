"""Demo data (演示数据): the station 温溪派出所, its staff, demo cases and the real cases.

``load_demo`` fills a database so a person can try the product at once:

- the organisation 青田县公安局温溪派出所 (default case-number pattern) and two
  demo enterprises;
- one user for every role, and a department head and an enterprise liaison for the
  second enterprise, all with the password ``demo1234`` (``DEMO_USERS``);
- seven invented demo cases (titles start with 【演示】; names, phone and ID numbers
  are made up, the ID numbers with a correct GB 11643 check character), one in each
  of the states a visitor should see: registered, tier 1, tier 2 with a session,
  suspended, awaiting the chief's sign-off, performing with an open term, resolved;
- the real cases of ``../shared/cases`` replayed into it, when that folder exists.

Everything goes through the service functions (``services.file_case`` / ``fire``),
with timestamps in the recent past: each demo and real case ends a few days before
``now``. The demo logins are for a demo database only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from . import services
from .clocks import local_date
from .enums import Role
from .models import Organisation, User
from .replay import (
    CaseFileError,
    ReplayResult,
    case_files,
    ensure_enterprise,
    ensure_organisation,
    load_case,
    parse_case,
    replay_spec,
)

#: The documented password of every demo user.
DEMO_PASSWORD = "demo1234"
#: The real cases replayed into the demo database when the folder exists.
SHARED_CASES_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "cases"
#: The two demo enterprises (演示企业).
DEMO_ENTERPRISES = ("青田县温溪镇某阀门有限公司", "青田县温溪镇某鞋业有限公司")


@dataclass(frozen=True)
class DemoUser:
    """A demo login: role, username, display name, and the demo enterprise it belongs to."""

    role: Role
    username: str
    display_name: str
    enterprise: str | None = None


#: One user for every role (the enterprise-bound ones for each demo enterprise); all with ``DEMO_PASSWORD``.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(Role.ADMIN, "admin", "系统管理员"),
    DemoUser(Role.STATION_CHIEF, "chief", "王所长"),
    DemoUser(Role.LIAISON_OFFICER, "liaison", "李民警"),
    DemoUser(Role.COMMUNITY_OFFICER, "community", "陈民警"),
    DemoUser(Role.VOLUNTEER_MEDIATOR, "volunteer", "周调解员"),
    DemoUser(Role.TOWNSHIP_OFFICER, "township", "吴干事"),
    DemoUser(Role.AUDITOR, "auditor", "郑审计"),
    DemoUser(Role.DEPARTMENT_HEAD, "depthead", "赵主任", DEMO_ENTERPRISES[0]),
    DemoUser(Role.ENTERPRISE_LIAISON, "grid", "刘网格员", DEMO_ENTERPRISES[0]),
    DemoUser(Role.DEPARTMENT_HEAD, "depthead2", "孙经理", DEMO_ENTERPRISES[1]),
    DemoUser(Role.ENTERPRISE_LIAISON, "grid2", "钱网格员", DEMO_ENTERPRISES[1]),
)

_VALVE, _SHOES = DEMO_ENTERPRISES
_WENXI = "浙江省丽水市青田县温溪镇"


def _demo_case(case_id: str, ends_days_ago: int, **fields: Any) -> tuple[dict[str, Any], int]:
    return {"id": case_id, "source": "演示数据（虚构）", **fields}, ends_days_ago


#: The demo cases in the case-file format of ``../shared/cases`` (see replay.py),
#: each with how many days before today its last step happened.
DEMO_CASES: tuple[tuple[dict[str, Any], int], ...] = (
    _demo_case(
        "demo-registered", 1,
        title="【演示】楼上空调外机滴水至楼下晾衣区",
        workflow="neighbour", category="neighbour_other", filed_via="online", enterprise=None,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "person", "name": "潘某", "phone": "13800090101",
             "id_number": "331121197908230524", "address": f"{_WENXI}某小区3幢201室"},
            {"ref": "r1", "role": "respondent", "kind": "person", "name": "叶某", "phone": "13800090102",
             "id_number": "331121198604120312", "address": f"{_WENXI}某小区3幢301室"},
        ],
        facts="申请人潘某称，楼上住户叶某家的空调外机冷凝水管直接排向楼下，入夏以来每天滴落在其晾衣区，"
              "衣物多次被弄脏；潘某上门沟通两次，叶某答应改管但一直未动。",
        claims="叶某将空调冷凝水管改接至排水管，不再滴落到楼下",
        amount_claimed=None, severity="simple",
        steps=[{"day": 0, "do": "file"}],
        expect={"state": "registered", "tiers": [], "documents": []},
    ),
    _demo_case(
        "demo-tier1", 1,
        title="【演示】装配车间工人对计件工资核算有异议",
        workflow="labour", category="wages", filed_via="enterprise_liaison", enterprise=_VALVE,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "person", "name": "林某", "phone": "13800090201",
             "id_number": "331121199201050617", "address": f"{_WENXI}某村"},
            {"ref": "r1", "role": "respondent", "kind": "organisation", "name": _VALVE, "phone": "13800090202",
             "address": f"{_WENXI}工业园区"},
        ],
        facts="林某在阀门公司装配车间做计件工，认为十月份计件数量少算了约三百件，工资少发一千二百元左右；"
              "车间统计员称部分工件返工不计件，双方各执一词。企业网格员报送驿站。",
        claims="核实十月份计件数量，补发少算的计件工资约1200元",
        amount_claimed=1200, severity="simple",
        steps=[
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "simple"},
            {"day": 1, "do": "record_investigation", "note": "部门负责人调取十月份计件台账和返工记录，逐日核对"},
        ],
        expect={"state": "tier1", "tiers": [1], "documents": []},
    ),
    _demo_case(
        "demo-tier2", 2,
        title="【演示】鞋业公司六名工人追讨两个月工资",
        workflow="labour", category="wages", filed_via="walk_in", enterprise=_SHOES,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "group", "name": "徐某等六名工人", "size": 6,
             "phone": "13800090301", "address": "贵州省遵义市（暂住温溪镇）", "representative": "徐某"},
            {"ref": "r1", "role": "respondent", "kind": "organisation", "name": _SHOES, "phone": "13800090302",
             "address": f"{_WENXI}工业园区"},
        ],
        facts="徐某等六名工人在鞋业公司成型车间工作，公司以订单回款慢为由拖欠九月、十月两个月工资共计"
              "四万八千元。工人到派出所反映，情绪较大。",
        claims="一次性支付拖欠的两个月工资共计48000元",
        amount_claimed=48000, severity="general",
        steps=[
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "general"},
            {"day": 1, "do": "record_session", "mode": "caucus", "participants": ["a1", "镇劳动保障所"]},
            {"day": 2, "do": "record_session", "mode": "joint",
             "participants": ["a1", "r1", "镇劳动保障所", "企业人事主管"]},
        ],
        expect={"state": "tier2", "tiers": [2], "documents": []},
    ),
    _demo_case(
        "demo-suspended", 4,
        title="【演示】阀门公司车工手指受伤，等待工伤认定",
        workflow="labour", category="work_injury", filed_via="police_referral", enterprise=_VALVE,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "person", "name": "吴某", "phone": "13800090401",
             "id_number": "331121197503090818", "address": "江西省上饶市（暂住温溪镇）"},
            {"ref": "r1", "role": "respondent", "kind": "organisation", "name": _VALVE, "phone": "13800090402",
             "address": f"{_WENXI}工业园区"},
        ],
        facts="吴某操作车床时右手食指被卷伤，住院治疗两周，企业垫付了医疗费。吴某家属要求一次性赔偿"
              "十万元，企业表示应先做工伤认定再按标准赔付，家属到厂里吵闹，企业报警。",
        claims="一次性赔偿10万元",
        amount_claimed=100000, severity="general",
        steps=[
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "general"},
            {"day": 1, "do": "record_session", "mode": "joint", "participants": ["a1", "r1", "镇劳动保障所"]},
            {"day": 3, "do": "suspend",
             "reason": "赔偿标准取决于工伤认定和劳动能力鉴定结论，双方同意暂停调解，其间企业照发停工留薪期工资"},
        ],
        expect={"state": "suspended", "tiers": [2], "documents": []},
    ),
    _demo_case(
        "demo-signoff", 1,
        title="【演示】宅基地翻建挡住邻居采光，两家多次冲突",
        workflow="neighbour", category="neighbour_building", filed_via="police_referral", enterprise=None,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "person", "name": "胡某", "phone": "13800090501",
             "id_number": "331121196811260335", "address": f"{_WENXI}某村"},
            {"ref": "r1", "role": "respondent", "kind": "person", "name": "季某", "phone": "13800090502",
             "id_number": "331121198806170449", "address": f"{_WENXI}某村"},
        ],
        facts="季某在原宅基地翻建四层楼房，胡某认为新房比原房加高、外扩，挡住自家采光；两家为此多次争吵，"
              "上周双方亲属在工地推搡，村民报警。派出所按重大矛盾隐患处置。",
        claims="季某新房靠胡家一侧不超过三层，并不再外扩",
        amount_claimed=None, severity="major",
        steps=[
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "major"},
            {"day": 1, "do": "record_visit", "note": "所长带队会同村建所到工地测量新房位置与胡家窗户距离"},
            {"day": 3, "do": "record_session", "mode": "joint",
             "participants": ["a1", "r1", "温溪镇综治办", "村委会主任"]},
            {"day": 3, "do": "draft_agreement", "terms": [
                {"obligor": "r1", "obligee": "a1", "text": "新房靠胡家一侧建至三层为止，四层向另一侧退进两米",
                 "amount": None, "due_day": 90},
                {"obligor": "r1", "obligee": "a1", "text": "补偿胡某采光影响费", "amount": 6000, "due_day": 10},
                {"obligor": "a1", "obligee": "r1", "text": "不再阻挠季某按上述方案施工", "amount": None,
                 "due_day": None},
            ]},
            {"day": 3, "do": "sign"},
        ],
        expect={"state": "awaiting_signoff", "tiers": [3], "documents": ["agreement"]},
    ),
    _demo_case(
        "demo-performing", 3,
        title="【演示】装修班组追讨劳务费，分两期支付",
        workflow="labour", category="labour_service_pay", filed_via="walk_in", enterprise=None,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "group", "name": "周某等三名装修工人", "size": 3,
             "phone": "13800090601", "address": f"{_WENXI}（暂住）", "representative": "周某"},
            {"ref": "r1", "role": "respondent", "kind": "person", "name": "包某", "phone": "13800090602",
             "id_number": "331121198302280150", "address": f"{_WENXI}某小区"},
        ],
        facts="包某承包温溪镇某商铺装修，雇周某等三人做泥水和木工，完工后尚欠劳务费一万五千元未付，"
              "包某称业主尾款未到。三人到派出所求助。",
        claims="支付拖欠的劳务费15000元",
        amount_claimed=15000, severity="general",
        steps=[
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "general"},
            {"day": 1, "do": "record_session", "mode": "joint", "participants": ["a1", "r1", "商铺业主"]},
            {"day": 1, "do": "draft_agreement", "terms": [
                {"obligor": "r1", "obligee": "a1", "text": "先行支付劳务费", "amount": 8000, "due_day": 3},
                {"obligor": "r1", "obligee": "a1", "text": "收到业主尾款后支付余款，最迟不超过约定日期",
                 "amount": 7000, "due_day": 45},
            ]},
            {"day": 1, "do": "sign"},
            {"day": 3, "do": "record_performance", "term": 1},
        ],
        expect={"state": "performing", "tiers": [2], "documents": ["agreement"]},
    ),
    _demo_case(
        "demo-resolved", 2,
        title="【演示】邻居装修噪音扰民，口头协议约定施工时间",
        workflow="neighbour", category="neighbour_other", filed_via="walk_in", enterprise=None,
        parties=[
            {"ref": "a1", "role": "applicant", "kind": "person", "name": "陈某", "phone": "13800090701",
             "id_number": "331121197109140266", "address": f"{_WENXI}某小区5幢402室"},
            {"ref": "r1", "role": "respondent", "kind": "person", "name": "朱某", "phone": "13800090702",
             "id_number": "331121199507300375", "address": f"{_WENXI}某小区5幢502室"},
        ],
        facts="朱某家装修，工人常在中午和晚上八点后用电钻，陈某家有高三学生和病人，多次敲门提醒无果，"
              "双方在楼道争吵。",
        claims="装修只在工作日白天施工，中午和晚间不施工",
        amount_claimed=None, severity="simple",
        steps=[
            {"day": 0, "do": "file"},
            {"day": 0, "do": "accept", "severity": "simple"},
            {"day": 1, "do": "record_session", "mode": "joint", "participants": ["a1", "r1", "物业管家"]},
            {"day": 1, "do": "record_oral_agreement",
             "text": "朱某家装修只在8:00-12:00、14:00-18:00施工，周末不用电钻；陈某有事先找朱某或物业沟通"},
            {"day": 8, "do": "record_follow_up", "note": "回访陈某，装修按约定时间进行，两家已和好"},
        ],
        expect={"state": "resolved", "tiers": [1], "documents": ["oral_agreement", "follow_up", "dossier"]},
    ),
)


@dataclass
class DemoReport:
    """What ``load_demo`` did: the users created, the demo cases and the real replays."""

    users_created: list[str] = field(default_factory=list)
    demo_cases: list[ReplayResult] = field(default_factory=list)
    real_cases: list[ReplayResult] = field(default_factory=list)
    swept: int = 0


def has_organisation(uow: services.UnitOfWork) -> bool:
    """True when the database holds any organisation (the demo then is not loaded by ``--if-empty``)."""
    with uow:
        return bool(uow.session.scalar(select(func.count()).select_from(Organisation)))


def ensure_demo_staff(uow: services.UnitOfWork) -> list[str]:
    """Create the organisation, the demo enterprises and every missing demo user; returns new usernames.

    An existing username is left as it is (its password is not reset).
    """
    created: list[str] = []
    with uow:
        session = uow.session
        org = ensure_organisation(session)
        enterprises = {name: ensure_enterprise(session, org, name) for name in DEMO_ENTERPRISES}
        for demo_user in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == demo_user.username)) is not None:
                continue
            enterprise = enterprises[demo_user.enterprise] if demo_user.enterprise else None
            session.add(
                User(
                    username=demo_user.username,
                    password_hash=generate_password_hash(DEMO_PASSWORD),
                    display_name=demo_user.display_name,
                    role=demo_user.role,
                    organisation_id=org.id,
                    enterprise_id=enterprise.id if enterprise else None,
                    active=True,
                    locale="zh_CN",
                )
            )
            created.append(demo_user.username)
        uow.commit()
    return created


def working_logins(uow: services.UnitOfWork) -> list[DemoUser]:
    """The demo users that exist, are active and still have the demo password."""
    with uow:
        rows = uow.session.execute(
            select(User.username, User.password_hash).where(
                User.username.in_([d.username for d in DEMO_USERS]), User.active.is_(True)
            )
        )
        hashes = {username: password_hash for username, password_hash in rows}
    return [d for d in DEMO_USERS if d.username in hashes and check_password_hash(hashes[d.username], DEMO_PASSWORD)]


def logins_table(logins: Sequence[DemoUser]) -> str:
    """The demo logins as a plain-text table: role, username, password, name."""
    rows = [("role", "username", "password", "name")]
    rows += [(d.role.value, d.username, DEMO_PASSWORD, d.display_name) for d in logins]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)) for row in rows
    )


def load_demo(
    uow: services.UnitOfWork, *, now: datetime | None = None, cases_dir: Path | bool | None = True
) -> DemoReport:
    """Load the demo data described in the module docstring; returns what was done.

    Each demo case and each real case ends a few days before ``now`` (default: the
    current time); afterwards the sweep runs at ``now``. ``cases_dir`` is the folder of
    real cases (``True``: ``SHARED_CASES_DIR``; ``None``/``False``: none). A real case file that cannot
    be read is skipped with a mismatch in ``real_cases``; nothing raises for it.
    """
    now = now or services.utcnow()
    today = local_date(now)
    report = DemoReport(users_created=ensure_demo_staff(uow))
    for raw, ends_days_ago in DEMO_CASES:
        spec = parse_case(raw, f"demo:{raw['id']}")
        last_day = spec.steps[-1]["day"]
        start = today - timedelta(days=last_day + ends_days_ago)
        report.demo_cases.append(replay_spec(uow, spec, start))
    folder = SHARED_CASES_DIR if cases_dir is True else cases_dir or None
    if folder is not None and folder.is_dir():
        for path in case_files([folder]):
            try:
                spec = load_case(path)
            except CaseFileError as exc:
                report.real_cases.append(
                    ReplayResult(path.stem, str(path), "", [], [], mismatches=[str(exc)])
                )
                continue
            # Each real case ends the day before today, so the ledger looks current.
            start = today - timedelta(days=int(spec.steps[-1]["day"]) + 1)
            try:
                report.real_cases.append(replay_spec(uow, spec, start))
            except CaseFileError as exc:
                report.real_cases.append(
                    ReplayResult(spec.id, str(path), "", [], [], mismatches=[str(exc)])
                )
    with uow:
        report.swept = len(services.sweep(uow, now=now))
    return report
