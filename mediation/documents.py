"""Legal documents of a case (人民调解文书), rendered from Jinja2 to A4 PDF by WeasyPrint.

Formats follow the Ministry of Justice's 人民调解文书格式 (2010), DOMAIN.md R26-R33;
templates live in ``templates/documents/`` beside the package. This module knows
nothing of Flask or SQLAlchemy: callers pass one plain dict per document and get
back HTML text or PDF bytes. The context (any value may be None; it prints as a
blank to fill in by hand, never as "None"; money is Decimal yuan, dates are
``datetime.date``, times aware ``datetime`` shown in Asia/Shanghai)::

    organisation: {name, committee, short_name}
    case: {number, title, category_label, workflow_label, facts, claims, amount_claimed,
           filed_at, accepted_at, closed_at, mediator, recorder, state_label, source_label,
           filed_by, retention_label (保管期限, optional)}
    parties: [{ref, role, role_label, kind: person|organisation|group, name, size, gender: M|F,
               ethnicity, age, occupation, phone, id_number, address, representative}]
    agreement: {kind: written|oral, number, text, copies, drafted_at, signed_at, verification_code,
                terms: [{seq, obligor, obligee, text, amount, due_date}]}
    follow_up: {at, visitor, party_visited, note, performance}   (optional: method, satisfaction,
               lawsuit, escalation, measures)
    events: [{at, label, actor, note}]
    sessions: [{at, mode_label, participants: [str], place, minutes}]   (optional: result)
    investigations: [{at, note, investigator}]   (optional: place, participants, person)
    documents: [{kind, title, context}]   only for "dossier": listed in the order given (R33);
               each context inherits the keys it lacks from the dossier's own context

Font (DESIGN.md §4 asks for the choice by measurement): see ``FONT_MEASUREMENTS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import cn2an
import jinja2
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.pdf import fonts as weasy_pdf_fonts
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from mediation.errors import MediationError

__all__ = [
    "DOCUMENT_KINDS",
    "DisallowedResource",
    "UnknownDocumentKind",
    "amount_in_capitals",
    "content_digest",
    "document_title",
    "harfbuzz_subset_available",
    "render_html",
    "render_pdf",
    "verification_code",
]

DOCUMENT_KINDS: Final[tuple[str, ...]] = (
    "agreement",
    "oral_agreement",
    "follow_up",
    "dossier",
    "application",
    "acceptance_register",
    "investigation_record",
    "session_record",
)

_TITLES_ZH: Final[Mapping[str, str]] = {
    "agreement": "调解协议书",
    "oral_agreement": "口头协议登记表",
    "follow_up": "回访记录",
    "dossier": "卷宗",
    "application": "调解申请书",
    "acceptance_register": "受理登记表",
    "investigation_record": "调查记录",
    "session_record": "调解记录",
}
_TITLES_EN: Final[Mapping[str, str]] = {
    "agreement": "Mediation agreement",
    "oral_agreement": "Oral agreement register",
    "follow_up": "Follow-up record",
    "dossier": "Case dossier",
    "application": "Application for mediation",
    "acceptance_register": "Acceptance register",
    "investigation_record": "Investigation record",
    "session_record": "Mediation session record",
}

TEMPLATE_ROOT: Final[Path] = Path(__file__).resolve().parent.parent / "templates"
ASSET_DIR: Final[Path] = TEMPLATE_ROOT / "documents"

# How the font was chosen (DESIGN.md §4). Measured here with bench/documents.py:
# WeasyPrint 70, harfbuzz-subset fast path, warm process, the shared FontConfiguration,
# median CPU time of 31 renders (2-core machine shared with other work, ±15 %):
#
#   font                 c01 agreement (1 page)   c26 dossier (10 pages)   agreement, fontTools fallback
#   AR PL UMing CN       0.084 s    59 KB         0.56 s   115 KB          0.6 s
#   Noto Serif CJK SC    0.114 s   187 KB         0.62 s   236 KB          5.2-8.3 s
#
# UMing: 3x smaller files (TrueType glyphs; Noto's are CFF), ~25 % less CPU per
# agreement, and if the harfbuzz-subset library ever goes missing it degrades to
# 0.6 s rather than Noto's 5-8 s. Its Ming (宋体-like) strokes look like a printed
# official form. Its cost: one weight, so headings are set by size and spacing
# (WeasyPrint does not fake bold). Noto Serif CJK SC stays second in font-family
# for any character UMing lacks (it is then embedded too).
FONT_FAMILY: Final[str] = '"AR PL UMing CN", "Noto Serif CJK SC", serif'
FONT_MEASUREMENTS: Final[Mapping[str, tuple[float, int]]] = {
    # family: (CPU seconds, PDF bytes) for the c01 agreement
    "AR PL UMing CN": (0.084, 59_400),
    "Noto Serif CJK SC": (0.114, 186_800),
}

SHANGHAI: Final[ZoneInfo] = ZoneInfo("Asia/Shanghai")


class UnknownDocumentKind(MediationError, ValueError):
    """The document kind is not one of DOCUMENT_KINDS (or a dossier nested in a dossier)."""


class DisallowedResource(MediationError, PermissionError):
    """A document tried to load a URL outside templates/documents/ (nothing is embedded)."""


# --------------------------------------------------------------------------- titles


def document_title(kind: str, locale: str = "zh_CN") -> str:
    """Title of a document kind, e.g. 调解协议书; English for a non-``zh`` locale; raises UnknownDocumentKind."""
    titles = _TITLES_ZH if locale.lower().replace("-", "_").startswith("zh") else _TITLES_EN
    try:
        return titles[kind]
    except KeyError:
        raise UnknownDocumentKind(f"unknown document kind {kind!r}; expected one of {DOCUMENT_KINDS}") from None


# --------------------------------------------------------------------------- digest


def _canonical(value: Any) -> Any:
    """Make ``value`` JSON-serialisable in a stable way (json.dumps ``default`` hook)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"cannot put {type(value).__name__} into a document digest")


def content_digest(context: Mapping[str, Any]) -> str:
    """SHA-256 hex of the context as canonical JSON, agreement.verification_code left out; TypeError on odd types."""
    data = dict(context)
    agreement = data.get("agreement")
    if isinstance(agreement, Mapping) and "verification_code" in agreement:
        # The code is printed from the digest, so it cannot be part of it.
        data["agreement"] = {k: v for k, v in agreement.items() if k != "verification_code"}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_canonical)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verification_code(digest: str) -> str:
    """Short code from a hex digest: first 16 hex chars upper-cased as XXXX-XXXX-XXXX-XXXX; ValueError if not hex."""
    head = digest.strip()[:16]
    if len(head) < 16 or not re.fullmatch(r"[0-9a-fA-F]{16}", head):
        raise ValueError("a verification code needs a hex digest of at least 16 characters")
    head = head.upper()
    return "-".join(head[i : i + 4] for i in range(0, 16, 4))


# --------------------------------------------------------------------------- money


_CENT: Final[Decimal] = Decimal("0.01")


def amount_in_capitals(amount: Decimal | int) -> str:
    """Yuan (CNY) in capital numerals 大写, e.g. 9966 -> 玖仟玖佰陆拾陆元整; half-up to fen; ValueError if < 0."""
    try:
        value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount of money: {amount!r}") from exc
    if value < 0:
        raise ValueError(f"a negative amount has no capital form on an agreement: {amount!r}")
    return str(cn2an.an2cn(format(value, "f"), "rmb"))


# --------------------------------------------------------------------------- template filters


def _is_filled(value: Any) -> bool:
    """True unless the value is None, undefined or blank text: such fields print as hand-fill blanks."""
    if value is None or isinstance(value, jinja2.Undefined):
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _finalize(value: Any) -> Any:
    """Print None as nothing, never as 'None'."""
    return "" if value is None else value


def _local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Asia/Shanghai; a naive one is taken to be Shanghai time already."""
    return value.astimezone(SHANGHAI) if value.tzinfo is not None else value


_BLANK_DATE: Final[Markup] = Markup(
    '<span class="blank short">&#160;</span>年<span class="blank short">&#160;</span>月'
    '<span class="blank short">&#160;</span>日'
)


def _cn_date(value: Any) -> str | Markup:
    """2026年3月2日; a blank to fill in by hand when missing."""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return _BLANK_DATE


def _cn_datetime(value: Any) -> str | Markup:
    """2026年3月2日 14时05分 (Asia/Shanghai); a date alone prints as a date."""
    if isinstance(value, dt.datetime):
        local = _local(value)
        return f"{local.year}年{local.month}月{local.day}日 {local.hour}时{local.minute:02d}分"
    return _cn_date(value)


def _yuan(value: Any) -> str:
    """9,966.00 (yuan, two places)."""
    if not _is_filled(value):
        return ""
    return f"{Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def _capitals(value: Any) -> str:
    """Template form of amount_in_capitals; blank for a missing amount."""
    return amount_in_capitals(value) if _is_filled(value) else ""


def _gender(value: Any) -> str:
    """M/F -> 男/女."""
    return {"M": "男", "F": "女"}.get(str(value), "") if _is_filled(value) else ""


_ROLE_LABELS: Final[Mapping[str, str]] = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人"}


def _role_label(party: Any) -> str:
    """The party's role_label, else the standard label of its role (申请人 / 被申请人 / 第三人)."""
    if not isinstance(party, Mapping):
        return ""
    label = party.get("role_label")
    return str(label) if _is_filled(label) else _ROLE_LABELS.get(str(party.get("role")), "")


def _cn_ordinal(value: Any) -> str:
    """1 -> 一, 12 -> 十二 (term numbers)."""
    if not isinstance(value, int):
        return "" if value is None or isinstance(value, jinja2.Undefined) else str(value)
    return str(cn2an.an2cn(value, "low"))


def _paragraphs(value: Any) -> list[str]:
    """Split free text into non-empty paragraphs on line breaks."""
    if not _is_filled(value):
        return []
    return [line.strip() for line in str(value).splitlines() if line.strip()]


def _clause(value: Any) -> str:
    """Text without its closing full stop, for the template to end the sentence itself."""
    return str(value).strip().rstrip("。；;.，, ") if _is_filled(value) else ""


def _join(values: Any, sep: str = "、") -> str:
    """Join a list of names, skipping blanks."""
    if not values or isinstance(values, jinja2.Undefined):
        return ""
    return sep.join(str(v) for v in values if _is_filled(v))


def _title_of(kind: Any) -> str:
    return document_title(str(kind))


def _make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_ROOT),
        # Everything that reaches a document comes from users: escape it all.
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        cn_date=_cn_date,
        cn_datetime=_cn_datetime,
        yuan=_yuan,
        capitals=_capitals,
        gender=_gender,
        cn_ordinal=_cn_ordinal,
        paragraphs=_paragraphs,
        join_names=_join,
        clause=_clause,
        role_label=_role_label,
        title_of=_title_of,
    )
    env.tests["filled"] = _is_filled
    return env


_ENV: Final[jinja2.Environment] = _make_environment()


# --------------------------------------------------------------------------- HTML


def _check_kind(kind: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise UnknownDocumentKind(f"unknown document kind {kind!r}; expected one of {DOCUMENT_KINDS}")


def _render_body(kind: str, context: Mapping[str, Any], anchor: str) -> Markup:
    """The <section> of one document; the dossier strings several together."""
    template = _ENV.get_template(f"documents/{kind}.html")
    return Markup(template.render({**context, "kind": kind, "anchor": anchor}))


def _document_date(kind: str, context: Mapping[str, Any]) -> Any:
    """The date a document bears, for the dossier's contents list (None if unknown)."""
    case = context.get("case") or {}
    agreement = context.get("agreement") or {}
    if kind == "application":
        return case.get("filed_at")
    if kind == "acceptance_register":
        return case.get("accepted_at") or case.get("filed_at")
    if kind in ("agreement", "oral_agreement"):
        return agreement.get("signed_at") or agreement.get("drafted_at")
    if kind == "follow_up":
        return (context.get("follow_up") or {}).get("at")
    records = context.get("sessions" if kind == "session_record" else "investigations") or []
    return records[0].get("at") if records else None


def _dossier_parts(context: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Each listed document of a dossier with its rendered body; sub-contexts inherit the dossier's keys."""
    shared = {k: v for k, v in context.items() if k != "documents"}
    for index, doc in enumerate(context.get("documents") or (), start=1):
        kind = str(doc.get("kind"))
        if kind == "dossier":
            raise UnknownDocumentKind("a dossier cannot contain a dossier")
        _check_kind(kind)
        sub = {**shared, **(doc.get("context") or {})}
        anchor = f"doc-{index}"
        yield {
            "kind": kind,
            "title": doc.get("title") or document_title(kind),
            "anchor": anchor,
            "date": doc.get("date") or _document_date(kind, sub),
            "body": _render_body(kind, sub, anchor),
        }


def render_html(kind: str, context: Mapping[str, Any]) -> str:
    """Self-contained HTML (CSS inline) of one document from the plain-dict case context; raises UnknownDocumentKind."""
    _check_kind(kind)
    if kind == "dossier":
        extra: dict[str, Any] = {"parts": list(_dossier_parts(context))}
    else:
        extra = {}
    body = _render_body(kind, {**context, **extra}, "doc-0")
    base = _ENV.get_template("documents/base.html")
    return base.render({**context, "kind": kind, "body": body})


# --------------------------------------------------------------------------- PDF


class _TemplateAssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """Serve only files under templates/documents/; refuse every other URL (no network, no file://etc)."""

    def __init__(self) -> None:
        # fail_on_errors: a refused URL stops the rendering instead of being skipped
        # with a log line, so a template bug cannot silently drop a seal or a logo.
        super().__init__(fail_on_errors=True)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the asset's bytes; raise DisallowedResource for anything outside ASSET_DIR."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise DisallowedResource(f"documents embed nothing from {url!r}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(ASSET_DIR) or not path.is_file():
            raise DisallowedResource(f"documents embed only their own assets, not {url!r}")
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes())


_FETCHER: Final[_TemplateAssetFetcher] = _TemplateAssetFetcher()
_BASE_URL: Final[str] = ASSET_DIR.as_uri() + "/"

# One FontConfiguration for the process: building one reads the fontconfig cache
# (~30 ms) and its Pango font map caches the CJK faces between renders. Pango font
# maps are not documented as thread-safe, so renders take turns; a render is
# ~0.1 s of mostly GIL-holding Python, so the lock costs little parallelism.
_FONT_CONFIG: FontConfiguration | None = None
_RENDER_LOCK: Final[threading.Lock] = threading.Lock()


def _font_config() -> FontConfiguration:
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


def harfbuzz_subset_available() -> bool:
    """True if WeasyPrint subsets fonts with libharfbuzz-subset >= 4.1 (fast path), not fontTools (seconds/doc)."""
    # The very test weasyprint.pdf.fonts.Font.subset makes (WeasyPrint 70), on the names
    # that module imported: libharfbuzz-subset loaded (ffi._dlopen(..., allow_fail=True))
    # and HarfBuzz >= 4.1.0 (for hb_set_add_sorted_array). Otherwise it falls back silently
    # but for a log line, and Noto Serif CJK then takes ~5 s a page.
    library = getattr(weasy_pdf_fonts, "harfbuzz_subset", None)
    harfbuzz = getattr(weasy_pdf_fonts, "harfbuzz", None)
    if not library or harfbuzz is None:
        return False
    return bool(harfbuzz.hb_version_atleast(4, 1, 0))


def _html_to_pdf(html: str) -> bytes:
    """Lay out and write the PDF under the render lock; DisallowedResource if a URL was refused."""
    with _RENDER_LOCK:
        try:
            document = HTML(string=html, base_url=_BASE_URL, url_fetcher=_FETCHER)
            pdf = document.write_pdf(font_config=_font_config())
        except FatalURLFetchingError as exc:
            # FatalURLFetchingError is a BaseException; give callers a normal error.
            raise DisallowedResource(str(exc.__cause__ or exc)) from exc
    assert isinstance(pdf, bytes)
    return pdf


def render_pdf(kind: str, context: Mapping[str, Any]) -> bytes:
    """A4 PDF bytes of one document, CJK font embedded as a subset; raises UnknownDocumentKind, DisallowedResource."""
    return _html_to_pdf(render_html(kind, context))
