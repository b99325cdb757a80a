"""Checks of personal particulars: ID numbers (GB 11643-1999) and mobile numbers.

DOMAIN R34–R36. ID numbers are checked by python-stdnum's ``stdnum.cn.ric``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from .i18n import N_

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_width(text: str) -> str:
    """Fold full-width digits and letters to ASCII (NFKC), e.g. ``１２Ｘ`` → ``12X``."""
    return unicodedata.normalize("NFKC", text)


def clean_id_number(value: str) -> str:
    """A valid 18-character resident ID number in ASCII upper case (居民身份证号码).

    Accepts full-width digits and a lower-case or full-width ``x``; a 15-digit old
    number is converted when its birth date is valid. Raises ``ValueError`` with a
    message for the user. Source: GB 11643-1999, DOMAIN R34.
    """
    raw = normalise_width(value).strip().replace(" ", "").upper()
    if len(raw) == 15 and raw.isdigit():
        try:
            birth = date(1900 + int(raw[6:8]), int(raw[8:10]), int(raw[10:12]))
        except ValueError as exc:
            raise ValueError(N_("The old 15-digit number has no valid birth date")) from exc
        body = raw[:6] + birth.strftime("%Y%m%d") + raw[12:]
        raw = body + ric.calc_check_digit(body + "0")
    if len(raw) != 18 or not raw[:17].isdigit() or not (raw[17].isdigit() or raw[17] == "X"):
        raise ValueError(N_("An ID number is 17 digits and a check character"))
    try:
        born = ric.get_birth_date(raw)
    except StdnumError as exc:
        raise ValueError(N_("The birth date in the ID number is not a real date")) from exc
    if born > date.today():  # a calendar date, but nobody is born in the future
        raise ValueError(N_("The birth date in the ID number is not a real date"))
    # The area code is not looked up: codes retired since issue stay valid on old cards,
    # and stdnum's table does not hold every county's history.
    if ric.calc_check_digit(raw) != raw[17]:  # stdnum takes the number with its check char
        raise ValueError(N_("The ID number's check character is wrong"))
    return raw


def clean_mobile(value: str) -> str:
    """An 11-digit mainland mobile number ``1[3-9]xxxxxxxxx``; ``+86`` is dropped. DOMAIN R35."""
    raw = re.sub(r"[\s-]", "", normalise_width(value))
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086"):
        raw = raw[4:]
    if not _MOBILE.match(raw):
        raise ValueError(N_("A mobile number is 11 digits starting 13–19"))
    return raw


def mask_id_number(value: str | None) -> str:
    """``110105********002X``: first 6 and last 4 shown (PIPL arts. 28–30, DOMAIN R36)."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """``138****5678``: first 3 and last 4 shown (DOMAIN R36)."""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)
