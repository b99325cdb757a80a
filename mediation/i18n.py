"""Message marking for translation without a dependency on Flask.

Domain messages are English msgids wrapped in ``N_`` so that ``pybabel extract`` finds
them; the web layer (Flask-Babel) and the CLI translate them when shown.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; returns it unchanged."""
    return message


def colon(locale: str) -> str:
    """The colon after a label in ``locale``: full-width ``：`` in Chinese, ``": "`` in English."""
    return ": " if locale == "en" else "："
