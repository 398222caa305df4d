"""Password hashing and the password policy, in one place for every form and command."""

from __future__ import annotations

from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

#: The marker of an account without a password (never a valid hash, so nothing matches it).
UNUSABLE = "!"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def is_usable(password_hash: str | None) -> bool:
    return bool(password_hash) and not password_hash.startswith(UNUSABLE)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not anybody's password", method=method)


def check(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; as slow for a missing or unusable hash as for a real one."""
    if not is_usable(password_hash):
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(password_hash, password)


@cache
def _common_passwords() -> frozenset[str]:
    # The 30,000 most common passwords of leaked password lists, as zxcvbn ships them.
    return frozenset(FREQUENCY_LISTS["passwords"])


def problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    config = current_app.config
    minimum, maximum = config["PASSWORD_MIN_LENGTH"], config["PASSWORD_MAX_LENGTH"]
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > maximum:
        return f"Use at most {maximum} characters."
    folded = password.strip().casefold()
    if email and folded == email.strip().casefold():
        return "Your password cannot be your email address."
    if folded in _common_passwords() or folded.replace(" ", "") in _common_passwords():
        return "That password is one of the most common ones. Choose another."
    return None
