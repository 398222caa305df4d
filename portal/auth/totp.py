"""Admins' second factor: TOTP (RFC 6238, 6 digits, 30 s) with single-use recovery codes.

The secret is sealed at rest with Fernet under a key derived (HKDF-SHA256) from SECRET_KEY: a copy
of the database alone (a backup, a replica, a read-only leak) must not hand out the codes that
guard the money actions. Earlier keys in SECRET_KEY_FALLBACKS still open it, so SECRET_KEY can be
rotated; an admin whose secret no key opens any more is reset with ``flask auth
reset-second-factor`` and enrolls again. Recovery codes carry 80 random bits, so their SHA-256
is enough (no slow hash needed against guessing).

A code is accepted in its own 30-second step or the one either side (a phone's clock drifts), and
only if its step is later than the last accepted one: a code cannot be used twice, nor an older
one after a newer one. That check and the recovery code's "used" mark are single UPDATEs, so two
requests racing with the same code cannot both pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import Markup

from ..admin import audit
from ..clock import utcnow
from ..extensions import db
from ..qr import qr_svg_inline
from .models import User
from .second_factor_models import AdminSecondFactor, RecoveryCode

# Recovery codes: 16 characters of an alphabet without 0/O and 1/I (5 bits each: 80 bits).
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_LENGTH = 16
_SEALING_INFO = b"marketplace-portal admin second factor"


class CodeRefused(ValueError):
    """The code does not prove the second factor; the message says why, for the form."""


class AlreadyEnrolled(ValueError):
    """The admin has a confirmed second factor: replacing it goes through a fresh verification."""


# --- sealing the secret -------------------------------------------------------------------------


def _fernet_for(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEALING_INFO).derive(
        key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _sealer() -> MultiFernet:
    config = current_app.config
    keys = [config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def seal(secret: str) -> str:
    return _sealer().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _sealer().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise CodeRefused(
            "This second factor cannot be read with the portal's keys: ask an operator to reset "
            "it (flask auth reset-second-factor), then set it up again."
        ) from None


# --- reading ------------------------------------------------------------------------------------


def factor_of(user: User) -> AdminSecondFactor | None:
    return db.session.get(AdminSecondFactor, user.id)


def is_enrolled(user: User) -> bool:
    factor = factor_of(user)
    return factor is not None and factor.secret_sealed is not None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


@dataclass(frozen=True)
class Enrollment:
    """What the enrollment page shows: the secret to type, its otpauth:// URI and the QR code."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def qr_svg(self) -> Markup:
        return qr_svg_inline(self.uri)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _enrollment(user: User, secret: str) -> Enrollment:
    uri = _totp(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SECOND_FACTOR_ISSUER"]
    )
    return Enrollment(secret, uri)


# --- enrolling ----------------------------------------------------------------------------------


def start_enrollment(user: User, *, replace: bool = False, now: datetime | None = None):
    """The pending authenticator of ``user``: the same secret on every reload until confirmed.

    An admin whose factor is on gets AlreadyEnrolled unless ``replace`` (a new phone; the caller
    checked a fresh verification): the old secret keeps working until the new one is confirmed."""
    factor = factor_of(user)
    if factor is not None and factor.secret_sealed is not None and not replace:
        raise AlreadyEnrolled(user.email)
    if factor is None:
        factor = AdminSecondFactor(user_id=user.id, created_at=now or utcnow())
        db.session.add(factor)
    if factor.pending_sealed is None:
        factor.pending_sealed = seal(pyotp.random_base32())  # 160 bits, as RFC 4226 recommends
        db.session.flush()
    return _enrollment(user, unseal(factor.pending_sealed))


def confirm_enrollment(user: User, code: str, *, now: datetime | None = None) -> list[str]:
    """Check the first code of the pending secret; it becomes the factor. Returns the new
    recovery codes, in clear text this once (only their hashes are kept)."""
    now = now or utcnow()
    factor = factor_of(user)
    if factor is None or factor.pending_sealed is None:
        raise CodeRefused("Start the set-up again: no new authenticator is waiting.")
    step = _matching_step(unseal(factor.pending_sealed), _digits(code), now)
    replacing = factor.secret_sealed is not None
    factor.secret_sealed, factor.pending_sealed = factor.pending_sealed, None
    factor.confirmed_at = now
    factor.last_used_step = step
    audit.record(
        "second_factor.replaced" if replacing else "second_factor.enrolled",
        "user",
        user.id,
        actor=user,
        email=user.email,
    )
    return _new_recovery_codes(user, now)


def enroll_with_secret(user: User, secret: str, *, now: datetime | None = None) -> list[str]:
    """Enroll ``user`` with a known secret, confirmed at once: the demo's admin (a documented,
    development-only secret) and the tests' verified admins. Returns the recovery codes."""
    now = now or utcnow()
    factor = factor_of(user) or AdminSecondFactor(user_id=user.id, created_at=now)
    factor.secret_sealed, factor.pending_sealed = seal(secret), None
    factor.confirmed_at = now
    factor.last_used_step = None
    db.session.add(factor)
    audit.record("second_factor.enrolled", "user", user.id, actor=user, email=user.email)
    return _new_recovery_codes(user, now)


def reset(user: User, *, by: User | None = None) -> bool:
    """Remove the admin's factor and recovery codes (a lost phone, a rotated key): they enroll
    again before their next money action. Returns False when there was nothing to remove."""
    factor = factor_of(user)
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if factor is None:
        return False
    db.session.delete(factor)
    audit.record("second_factor.reset", "user", user.id, actor=by, email=user.email)
    return True


# --- recovery codes -----------------------------------------------------------------------------


def _normalise_recovery(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(current_app.config["RECOVERY_CODE_COUNT"]):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw), created_at=now))
    db.session.flush()
    return codes


def regenerate_recovery_codes(user: User, *, now: datetime | None = None) -> list[str]:
    """New recovery codes; every earlier one stops working."""
    if not is_enrolled(user):
        raise CodeRefused("Set up the authenticator first.")
    codes = _new_recovery_codes(user, now or utcnow())
    audit.record("recovery_codes.regenerated", "user", user.id, actor=user, email=user.email)
    return codes


# --- verifying ----------------------------------------------------------------------------------


def _digits(code: str) -> str:
    # "123 456" and "123-456" as apps show them.
    return "".join(c for c in (code or "") if not c.isspace() and c != "-")


def _matching_step(secret: str, code: str, now: datetime) -> int:
    """The 30-second step ``code`` belongs to (this one or one either side), or CodeRefused."""
    if len(code) != 6 or not code.isdigit():
        raise CodeRefused("Enter the 6-digit code your authenticator app shows.")
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    raise CodeRefused("That code is not the one your authenticator shows now. Try the new one.")


def verify(user: User, code: str, *, now: datetime | None = None) -> str:
    """Check a TOTP code or a recovery code of ``user``; returns ``"totp"`` or ``"recovery"``.

    Raises CodeRefused (writing nothing) when the code does not prove the factor."""
    now = now or utcnow()
    factor = factor_of(user)
    if factor is None or factor.secret_sealed is None:
        raise CodeRefused("Set up the authenticator first.")
    typed = _digits(code)
    if len(_normalise_recovery(typed)) != RECOVERY_LENGTH:
        step = _matching_step(unseal(factor.secret_sealed), typed, now)
        claimed = db.session.execute(
            sa.update(AdminSecondFactor)
            .where(
                AdminSecondFactor.user_id == user.id,
                sa.or_(
                    AdminSecondFactor.last_used_step.is_(None),
                    AdminSecondFactor.last_used_step < step,
                ),
            )
            .values(last_used_step=step)
            .execution_options(synchronize_session="fetch")
        )
        if claimed.rowcount != 1:
            raise CodeRefused("That code was used already. Wait for the next one (30 seconds).")
        return "totp"
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery(typed),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise CodeRefused("That recovery code is not one of yours, or it was used already.")
    audit.record(
        "recovery_code.used",
        "user",
        user.id,
        actor=user,
        email=user.email,
        left=recovery_codes_left(user),
    )
    return "recovery"


def current_code(user: User, *, now: datetime | None = None) -> str:
    """The code the admin's authenticator shows now (the development CLI, for the demo)."""
    factor = factor_of(user)
    if factor is None or factor.secret_sealed is None:
        raise CodeRefused(f"{user.email} has no second factor set up.")
    return _totp(unseal(factor.secret_sealed)).at(now or utcnow())
