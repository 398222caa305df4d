"""An admin's second factor: the TOTP secret, its recovery codes, and which sessions proved it."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime
from ..extensions import db


class AdminSecondFactor(db.Model):
    """One authenticator per admin. ``secret_sealed`` is the confirmed one (NULL until the first
    code proved it); ``pending_sealed`` a new one waiting for its first code (an enrollment, or a
    new phone: the old secret keeps working until then). ``last_used_step`` is the 30-second step
    of the last code accepted, so that code (and any older one) is refused afterwards."""

    __tablename__ = "admin_second_factors"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Base32 secrets sealed with a key derived from SECRET_KEY (portal/auth/totp.py).
    secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    pending_sealed: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class RecoveryCode(db.Model):
    """A single-use code for an admin without their phone; only its SHA-256 is kept."""

    __tablename__ = "admin_recovery_codes"
    __table_args__ = (sa.Index("ix_admin_recovery_codes_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SecondFactorCheck(db.Model):
    """When this signed-in session last proved the second factor. Keyed by the server-side session:
    signing out deletes the session row and this one with it, and a new sign-in starts without."""

    __tablename__ = "second_factor_checks"

    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
