"""Personal tokens of the JSON API (接口令牌): made, listed, revoked, and looked up.

A token is ``med_`` followed by 43 random URL-safe characters (256 bits from
``secrets``). Only its SHA-256 (hex) is stored, so a copy of the database does not give
anyone a working token; the secret is shown to its owner once, when made. The API
authenticates with the token alone (never with a session cookie) and then asks the
same ``policy`` as the browser does for that user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .errors import NotFound, ValidationError
from .i18n import N_
from .models import ApiToken, User
from .services import UnitOfWork, utcnow

PREFIX = "med_"
#: How many of a secret's first characters are kept to tell tokens apart.
SHOWN = 10
#: A token's ``last_used_at`` is written at most this often (not on every request).
TOUCH_EVERY = timedelta(minutes=5)
MAX_TOKENS = 20


def token_hash(secret: str) -> str:
    """SHA-256 hex of a token's secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: its id and the secret, which is never shown again."""

    id: int
    name: str
    secret: str


@dataclass(frozen=True)
class TokenView:
    """A token as its owner's list shows it (never the secret)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def create_token(uow: UnitOfWork, user_id: int, name: str, now: datetime | None = None) -> NewToken:
    """Make a token for ``user_id`` named ``name``; raises ``ValidationError`` (``name``) or ``NotFound``."""
    now = now or utcnow()
    clean = (name or "").strip()
    if not clean:
        raise ValidationError({"name": N_("This field is required.")})
    if len(clean) > 80:
        raise ValidationError({"name": N_("Too long (at most 80 characters).")})
    session = uow.session
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(N_("No such user."))
    live = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(live) >= MAX_TOKENS:
        raise ValidationError({"name": N_("You have too many tokens; revoke one first.")})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=clean, token_hash=token_hash(secret), prefix=secret[:SHOWN],
                     created_at=now)
    session.add(token)
    session.flush()
    made = NewToken(token.id, clean, secret)
    uow.commit()
    return made


def revoke_token(uow: UnitOfWork, user_id: int, token_id: int, now: datetime | None = None) -> None:
    """Revoke the token ``token_id`` of ``user_id`` (at once); raises ``NotFound`` for someone else's."""
    token = uow.session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(N_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    uow.commit()


def list_tokens(session: Session, user_id: int) -> list[TokenView]:
    """The user's tokens, newest first."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [TokenView(t.id, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at) for t in rows]


def authenticate(uow: UnitOfWork, secret: str, now: datetime | None = None) -> User | None:
    """The active user whose live token ``secret`` is, detached with what policy needs loaded; else ``None``."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    session = uow.session
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(
        User, token.user_id,
        options=[joinedload(User.organisation), joinedload(User.enterprise),
                 selectinload(User.assigned_enterprises), selectinload(User.assigned_areas)],
    )
    if user is None or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        uow.commit()
    # Detach everything now: leaving the unit of work rolls back, which would expire what is still attached.
    session.expunge_all()
    return user
