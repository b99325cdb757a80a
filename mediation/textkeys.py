"""Search and sort keys of names and texts (检索键、拼音排序键).

The ledger searches and sorts on keys stored beside the text they come from, so the
database compares plain strings:

- ``fold``: NFKC (full-width ``Ａ１`` → ``A1``, ``．`` → ``.``), case-folded, and every
  middle-dot variant used in transliterated names (``·・•‧．``) made one ``·``;
- ``name_key``: a folded name without spaces (``阿不都 · 热合曼`` = ``阿不都•热合曼``);
- ``pinyin_key``: a name in pinyin (pypinyin) for sorting, syllables joined by ``0``:
  a digit sorts before every letter in every collation (SQLite's binary one,
  PostgreSQL's libc and ICU ones) and no collation ignores it, so ``li`` < ``lin`` <
  ``liu`` holds everywhere, which a space separator does not guarantee.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pypinyin import Style, lazy_pinyin

#: Middle-dot look-alikes (after NFKC): middle dot, katakana middle dot, bullet,
#: hyphenation point, full stop (from full-width ．), bullet and dot operators, sinological dot.
DOTS = "·・•‧.∙⋅ꞏ"
_DOT_TABLE = str.maketrans({c: "·" for c in DOTS})
_SPACE = re.compile(r"\s+")
#: Surnames whose reading differs from the character's common one (单 shàn, 曾 zēng …).
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha", "区": "ou",
    "盖": "ge", "覃": "qin", "翟": "zhai", "缪": "miao", "乐": "yue", "召": "shao", "繁": "po",
    "员": "yun", "种": "chong", "秘": "bi", "折": "she",
}
#: Longest stored keys (characters).
NAME_KEY_LENGTH = 200
PINYIN_KEY_LENGTH = 255


def fold(text: str | None) -> str:
    """``text`` in NFKC, case-folded, middle dots unified; ``""`` for ``None``."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).casefold().translate(_DOT_TABLE)


def name_key(name: str | None) -> str:
    """A person's or organisation's name as searched: folded, without white space."""
    return _SPACE.sub("", fold(name))[:NAME_KEY_LENGTH]


def text_key(*parts: str | None) -> str:
    """Free text as searched: the folded parts joined by one space, white space collapsed."""
    return _SPACE.sub(" ", " ".join(fold(p) for p in parts if p)).strip()


def digits(text: str | None) -> str:
    """The ASCII digits of ``text`` after NFKC (``１３８-0000`` → ``1380000``)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text or "") if c.isascii() and c.isdigit())


def id_number_key(text: str | None) -> str:
    """An ID number (or part of one) as stored: NFKC, upper case, no spaces (DOMAIN R34)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "")).upper()


def pinyin_key(name: str | None, *, person: bool = True) -> str:
    """The sort key of a name in pinyin order (``李某`` → ``li0mou``); a person's surname
    is read as a surname (``曾`` → ``zeng``)."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", name or "")).translate(_DOT_TABLE).replace("·", "")
    if not text:
        return ""
    head: list[str] = []
    if person and text[0] in SURNAME_READINGS:
        head, text = [SURNAME_READINGS[text[0]]], text[1:]
    syllables = head + lazy_pinyin(text, style=Style.NORMAL, errors="default")
    return "0".join(s.casefold() for s in syllables if s)[:PINYIN_KEY_LENGTH]


def names_pinyin_key(names: Iterable[str]) -> str:
    """The sort key of several names (a case's applicants), in order."""
    return "00".join(k for k in (pinyin_key(n) for n in names) if k)[:PINYIN_KEY_LENGTH]
