"""Passwords and log-in (登录认证): hashing with werkzeug's current default (scrypt).

No Flask here: the web layer calls ``authenticate`` inside its unit of work and commits,
so a hash made with an older method is upgraded on the next successful log-in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .models import User
from .services import UnitOfWork

#: The method ``generate_password_hash`` uses by default (werkzeug ≥ 3.0: scrypt).
CURRENT_METHOD = "scrypt"
#: Locales a user may choose for the interface.
LOCALES = ("zh_CN", "en")

# Checked when the user name is unknown, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


def hash_password(password: str) -> str:
    """A salted hash of ``password`` with werkzeug's default method (scrypt)."""
    return generate_password_hash(password)


def needs_rehash(password_hash: str) -> bool:
    """True when ``password_hash`` was made with another method than the current default."""
    return not password_hash.startswith(CURRENT_METHOD + ":")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this user name and password, or ``None`` (never says which was wrong).

    An old-method hash is replaced in ``session``; the caller commits.
    """
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_locale(uow: UnitOfWork, user_id: int, locale: str) -> None:
    """Remember the interface language a user chose (``zh_CN`` or ``en``); raises ``ValueError``."""
    if locale not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}")
    user = uow.session.get(User, user_id)
    if user is not None and user.locale != locale:
        user.locale = locale
        uow.commit()
