"""Warnings the mediator sees on the agreement screen before the parties sign (签订前提示).

DOMAIN R24 (published court cases): a work-injury agreement signed before the injury is
certified or graded, with pay clearly below the statutory standard, can be set aside by
a court. So a work-injury agreement whose terms waive certification or grading (放弃工伤
认定, 不再进行伤残鉴定, 放弃劳动能力鉴定, 一次性了结…工伤…) gets a warning. The messages
are English msgids marked with ``N_``; the web layer translates and shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .i18n import N_

__all__ = ["WAIVES_CERTIFICATION", "WAIVES_INJURY_CLAIMS", "agreement_warnings", "waiver_wording"]

WAIVES_CERTIFICATION: Final[str] = N_(
    "This work-injury agreement waives the injury certification, the disability grading or the statutory benefits. "
    "A court can set aside such an agreement when it was signed before certification and pays "
    "clearly less than the statutory benefits (DOMAIN R24): check before the parties sign."
)
WAIVES_INJURY_CLAIMS: Final[str] = N_(
    "This work-injury agreement settles every work-injury claim in one payment. If the injury "
    "is not yet certified and graded, compare the sum with the statutory benefits before the "
    "parties sign (DOMAIN R24)."
)

# Procedures a worker may give up: certification (工伤认定), disability / work-ability
# grading (伤残等级鉴定, 劳动能力鉴定, 伤残评定) and the claim to work-injury insurance benefits.
_PROCEDURE = (
    r"(?:工伤认定|认定工伤|工伤鉴定|伤残(?:等级)?(?:鉴定|评定|评残)|劳动能力(?:等级)?鉴定|评残"
    r"|工伤保险待遇|工伤待遇)"
)
_NEGATION = r"(?:不再|不予|不必|无需|无须|不需要?|不得|不用|免于|免予)"
_VERB = r"(?:申请|进行|做|办理|要求|主张|提出)"
# "放弃 (申请) X" (not "不放弃"), "不再 (申请) X", "不申请 X", "X 不再申请"; a clause that
# merely mentions X ("不影响申请工伤认定", "协助申请工伤认定") is no waiver.
_WAIVE_PROCEDURE: Final[re.Pattern[str]] = re.compile(
    rf"(?<!不)放弃[^，。；;,.]{{0,12}}?{_PROCEDURE}"
    rf"|{_NEGATION}再?{_VERB}?[^，。；;,.]{{0,4}}?{_PROCEDURE}"
    rf"|不{_VERB}[^，。；;,.]{{0,4}}?{_PROCEDURE}"
    rf"|{_PROCEDURE}[^，。；;,.]{{0,6}}?{_NEGATION}再?{_VERB}"
)
# "一次性了结 / 终结 / 解决 ... 工伤 ..." either way round, within one sentence.
_SETTLE_ALL: Final[re.Pattern[str]] = re.compile(
    r"一次性(?:了结|终结|解决|处理|结清|买断)[^。；;]{0,30}?工伤|工伤[^。；;]{0,30}?一次性(?:了结|终结|买断)"
)


def _term_text(term: Any) -> str:
    """The text of a term: a mapping's ``text`` (as the draft form sends it) or an Obligation's ``.text``."""
    if isinstance(term, Mapping):
        value = term.get("text")
    elif isinstance(term, str):
        value = term
    else:
        value = getattr(term, "text", None)
    return value if isinstance(value, str) else ""


def waiver_wording(text: str) -> list[str]:
    """The phrases of ``text`` that waive certification or grading or settle all injury claims (R24)."""
    compact = re.sub(r"\s+", "", text)
    return [m.group(0) for pattern in (_WAIVE_PROCEDURE, _SETTLE_ALL) for m in pattern.finditer(compact)]


def _category(case: Any) -> str:
    category = case.get("category") if isinstance(case, Mapping) else getattr(case, "category", None)
    return str(getattr(category, "value", category))


def agreement_warnings(case: Any, terms: Iterable[Any], text: str | None = None) -> list[str]:
    """Msgids (``N_``) to show before signing a work-injury agreement that waives certification or grading (R24).

    ``case`` is a ``Case`` (or a mapping with ``category``); ``terms`` are the agreed
    terms as the draft form sends them (mappings with ``text``), ``Obligation`` rows or
    plain strings; ``text`` is an agreement's free text, if any. Returns [] for any
    other category, each warning at most once, certification before settlement.
    """
    if _category(case) != "work_injury":
        return []
    texts = [_term_text(t) for t in terms]
    if text:
        texts.append(text)
    whole = "。".join(re.sub(r"\s+", "", t) for t in texts if t)
    warnings: list[str] = []
    if _WAIVE_PROCEDURE.search(whole):
        warnings.append(WAIVES_CERTIFICATION)
    if _SETTLE_ALL.search(whole):
        warnings.append(WAIVES_INJURY_CLAIMS)
    return warnings
