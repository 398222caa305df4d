"""Every Flask extension object, created unbound and initialised in ``create_app``."""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .replica_routing import RoutingSession

# Constraint names are predictable so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# create_savepoint: a session bound to a connection already in a transaction (tests) works in a
# savepoint of it; bound to the engine, as in the app, the option has no effect.
# class_: read-only pages may read a streaming replica (portal/replica_routing.py).
db = SQLAlchemy(
    model_class=Base,
    session_options={"join_transaction_mode": "create_savepoint", "class_": RoutingSession},
)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# request.htmx: the HX-* request headers, read in portal/htmx.py.
htmx = Htmx()
mail = Mail()  # SMTP settings: MAIL_SERVER and friends (portal/config.py, portal/mail.py)
# Storage and limits come from config (RATELIMIT_STORAGE_URI etc.); nothing is limited by default.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    # Every limit is on a form's POST (sign-in, sign-up, reset mail), so a read skips the
    # limiter's lookup of the limits of its route, a few hundred calls on every page.
    # tests/auth/test_next_and_limits.py fails if a limit is ever set on a read.
    return request.method in READ_METHODS
