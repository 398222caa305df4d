"""Login identities. Vendors' staff, drivers, customers and admins are all users."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import UTCDateTime
from ..extensions import db
from . import passwords

ROLES = ("admin", "vendor", "driver", "customer")
SIGNUP_ROLES = ("customer", "vendor", "driver")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),
        sa.Index("uq_users_email_lower", sa.func.lower(sa.text("email")), unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    email: Mapped[str] = mapped_column(sa.String(255))
    # A hash, or passwords.UNUSABLE for an account nobody has claimed yet (a storefront's buyer).
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    is_active_flag: Mapped[bool] = mapped_column(
        "is_active", sa.Boolean, server_default=sa.true(), default=True
    )
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.current_timestamp()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the owner of the address proved it (a sign-up, claim, reset or verification link).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Set by the user loader: the server-side session this request was signed in with.
    current_session_id = None  # a uuid.UUID once signed in

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.is_active_flag)

    @property
    def has_usable_password(self) -> bool:
        return passwords.is_usable(self.password_hash)

    def get_id(self) -> str:
        # Flask-Login's alternative id: the session row, not the user, so it can be ended.
        return str(self.current_session_id)

    def set_password(self, password: str) -> None:
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password: str) -> bool:
        return passwords.check(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(db.Model):
    """One signed-in browser. Signing out deletes its row, so a copied cookie stops working."""

    __tablename__ = "user_sessions"
    __table_args__ = (sa.Index("ix_user_sessions_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignupRequest(db.Model):
    """A sign-up waiting for the link mailed to its address; the account is made from it.

    Only the link token's SHA-256 is stored, and the password only as its hash.
    """

    __tablename__ = "signup_requests"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {SIGNUP_ROLES!r}", name="role"),
        sa.Index("ix_signup_requests_email", "email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")
    )
    email: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    details: Mapped[dict] = mapped_column(JSONB)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
