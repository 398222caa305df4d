"""Server-side sign-in sessions.

Flask's session is a signed cookie: deleting it in one browser does not stop a copy of it from
working. So each sign-in gets a ``user_sessions`` row whose id is what Flask-Login keeps in the
cookie (``User.get_id``); the user loader accepts the cookie only while its row exists. Signing
out deletes this browser's row; a password change or reset deletes all of the account's rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from ..clock import utcnow
from ..extensions import db
from .models import User, UserSession


def _oldest_valid(now: datetime) -> datetime:
    return now - current_app.config["PERMANENT_SESSION_LIFETIME"]


def start_session(user: User, *, now: datetime | None = None) -> UserSession:
    """A new session row for ``user`` (set as their current one); expired rows are pruned."""
    now = now or utcnow()
    db.session.execute(
        sa.delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at < _oldest_valid(now)
        )
    )
    row = UserSession(id=uuid.uuid4(), user_id=user.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    user.current_session_id = row.id
    return row


def user_for_session(session_id: str, *, now: datetime | None = None) -> User | None:
    """The active user signed in with this session, or None (ended, expired, or not an id)."""
    try:
        key = uuid.UUID(session_id)
    except ValueError:
        return None
    user = db.session.scalar(
        sa.select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == key, UserSession.created_at >= _oldest_valid(now or utcnow()))
    )
    if user is not None:
        user.current_session_id = key
    return user


def end_session(session_id: uuid.UUID | None) -> None:
    if session_id is not None:
        db.session.execute(sa.delete(UserSession).where(UserSession.id == session_id))


def end_all_sessions(user: User) -> int:
    """End every session of the account; returns how many there were."""
    result = db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))
    user.current_session_id = None
    return result.rowcount


def count_sessions(user: User, *, now: datetime | None = None) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.created_at >= _oldest_valid(now or utcnow()),
        )
    )
