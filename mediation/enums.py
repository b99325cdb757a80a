"""Enumerations of the domain, stored by value (see STYLE.md rule 5)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A user's role (角色)."""

    ADMIN = "admin"  # 系统管理员
    ENTERPRISE_LIAISON = "enterprise_liaison"  # 企业网格员 / 治安信息员 / HR
    DEPARTMENT_HEAD = "department_head"  # 企业部门负责人 (tier 1, labour)
    LIAISON_OFFICER = "liaison_officer"  # 联企民警 (tier 2, labour)
    COMMUNITY_OFFICER = "community_officer"  # 社区民警 (tier 2, neighbour)
    VOLUNTEER_MEDIATOR = "volunteer_mediator"  # 志愿者调解员 (tier 1, neighbour)
    STATION_CHIEF = "station_chief"  # 派出所所长 (tier 3)
    TOWNSHIP_OFFICER = "township_officer"  # 综治办 / 司法所
    AUDITOR = "auditor"  # 只读审计、统计


class Severity(enum.StrEnum):
    """Severity found at triage (纠纷等级)."""

    SIMPLE = "simple"  # 简单纠纷
    GENERAL = "general"  # 一般纠纷
    MAJOR = "major"  # 重大矛盾隐患


class IntakeSource(enum.StrEnum):
    """How the dispute reached the committee (纠纷来源, DOMAIN R3, R27)."""

    ENTERPRISE_LIAISON = "enterprise_liaison"  # 企业网格员报送
    WALK_IN = "walk_in"  # 当事人申请（来访）
    ONLINE = "online"  # 网上申请
    POLICE_REFERRAL = "police_referral"  # 公安机关移送
    COURT_REFERRAL = "court_referral"  # 法院委托
    PROACTIVE = "proactive"  # 主动调解（排查）


class Category(enum.StrEnum):
    """Kind of dispute (纠纷类别); a workflow definition lists those it takes."""

    WAGES = "wages"  # 拖欠工资
    WORK_INJURY = "work_injury"  # 工伤
    CONTRACT_TERMINATION = "contract_termination"  # 解除劳动合同
    LABOUR_SERVICE_PAY = "labour_service_pay"  # 劳务报酬
    NEIGHBOUR_LIFT = "neighbour_lift"  # 加装电梯相邻纠纷
    NEIGHBOUR_BUILDING = "neighbour_building"  # 建房相邻纠纷
    NEIGHBOUR_OTHER = "neighbour_other"  # 其他相邻关系纠纷
    PROPERTY_SERVICE = "property_service"  # 物业服务纠纷
    MINOR_ASSAULT = "minor_assault"  # 轻微伤害（治安调解）
    OTHER = "other"  # 其他


class PartyRole(enum.StrEnum):
    """A party's standing in the case (当事人地位)."""

    APPLICANT = "applicant"  # 申请人
    RESPONDENT = "respondent"  # 被申请人
    THIRD_PARTY = "third_party"  # 第三人


class PartyKind(enum.StrEnum):
    """What a party is (当事人类型, DOMAIN R15)."""

    PERSON = "person"  # 自然人
    ORGANISATION = "organisation"  # 法人或其他组织
    GROUP = "group"  # 集体（推选代表人）


class Gender(enum.StrEnum):
    """Sex as recorded on the ID card (性别)."""

    MALE = "M"
    FEMALE = "F"


class SessionMode(enum.StrEnum):
    """How a mediation session is held (调解方式)."""

    JOINT = "joint"  # 面对面
    CAUCUS = "caucus"  # 背靠背


class SessionStatus(enum.StrEnum):
    """Where a mediation session stands (调解会状态): planned, held with minutes, or called off."""

    SCHEDULED = "scheduled"  # 已安排
    HELD = "held"  # 已召开（有调解记录）
    CANCELLED = "cancelled"  # 已取消


class AgreementKind(enum.StrEnum):
    """Written or oral agreement (DOMAIN R9–R10)."""

    WRITTEN = "written"  # 书面协议
    ORAL = "oral"  # 口头协议


class AgreementStatus(enum.StrEnum):
    """Where an agreement stands (协议状态)."""

    DRAFTED = "drafted"  # 拟定
    AWAITING_SIGNOFF = "awaiting_signoff"  # 待所长审签
    EFFECTIVE = "effective"  # 已生效
    SUPERSEDED = "superseded"  # 已被新版本取代


class ClockStatus(enum.StrEnum):
    """State of a case clock (期限状态)."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    EXPIRED = "expired"


class Referral(enum.StrEnum):
    """Where the parties are pointed when mediation ends without settlement (其他途径, DOMAIN R7)."""

    ARBITRATION = "arbitration"  # 劳动仲裁
    LITIGATION = "litigation"  # 诉讼
    PAYMENT_ORDER = "payment_order"  # 支付令
    ADMINISTRATIVE = "administrative"  # 行政途径
    OTHER = "other"  # 其他
