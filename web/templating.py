"""Template filters and globals: Asia/Shanghai times, yuan, labels in the current locale."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from flask_login import current_user

from mediation import documents, policy
from mediation.clocks import SHANGHAI

from . import labels


def localtime(value: datetime | None) -> str:
    """``2026-03-02 09:00``: an aware instant shown in Asia/Shanghai."""
    if value is None:
        return ""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def localdate(value: date | datetime | None) -> str:
    """``2026-03-02``: a date, or an instant's date in Asia/Shanghai."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    return value.isoformat()


def yuan(value: Decimal | str | None) -> str:
    """``¥9,966.00``: an amount in CNY with two places; empty for none."""
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


def html_lang() -> str:
    """The ``<html lang>`` of the current locale: ``zh-CN`` or ``en``."""
    return "en" if labels.locale_key() == "en" else "zh-CN"


def document_title(kind: str) -> str:
    """The title of a document kind in the current locale (调解协议书 / Mediation agreement)."""
    return documents.document_title(kind, labels.locale_key())


def hidden_input(field: Any) -> bool:
    """True for the inputs every form carries out of sight (CSRF token, case version)."""
    return getattr(field, "short_name", None) in ("csrf_token", "version")


def _nav() -> dict[str, Any]:
    user = current_user.user if current_user and current_user.is_authenticated else None
    return {
        "may_file_nav": user is not None and policy.can(user, "file"),
        "may_queue_nav": user is not None and policy.can(user, "view_queue"),
        "may_admin_nav": user is not None and policy.can(user, "administer"),
        "may_stats_nav": user is not None and policy.can(user, "view_statistics"),
    }


def init_app(app: Flask) -> None:
    """Register the filters, tests, globals and the navigation context."""
    app.jinja_env.add_extension("jinja2.ext.do")
    app.add_template_test(hidden_input)
    app.context_processor(_nav)
    app.add_template_filter(localtime)
    app.add_template_filter(localdate)
    app.add_template_filter(yuan)
    app.add_template_filter(labels.pick, "pick")
    app.add_template_filter(labels.legal_source, "legal_source")
    app.jinja_env.globals["colon"] = labels.colon
    globals_: dict[str, Any] = {
        "label": labels.label,
        "html_lang": html_lang,
        "locale_key": labels.locale_key,
        "document_title": document_title,
    }
    app.jinja_env.globals.update(globals_)
