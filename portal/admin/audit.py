"""The audit trail of money actions: every one writes a row, in the transaction that does it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from ..auth.models import User
from ..extensions import db
from ..pagination import Paged, clamp_page
from .models import AuditEvent


def record(
    action: str, subject_type: str, subject_id: object, *, actor: User | None, **detail: Any
) -> AuditEvent:
    """Add an audit row for ``action`` on ``subject_type`` ``subject_id`` to the session.

    ``actor`` is the admin who acted, or None for the scheduler. Not committed here: the row
    lands with the action it records, or not at all.
    """
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        detail=detail or None,
    )
    db.session.add(event)
    return event


# --- the admin's Audit page ---------------------------------------------------------------------

# How the page says each action; an action not named here reads as its own words.
ACTION_LABELS = {
    "order.refunded": "Order refunded",
    "order.held": "Order held",
    "order.hold_released": "Order hold released",
    "promotion.granted": "Promotion granted",
    "vendor.type_changed": "Kind of shop changed",
    "month_close.started": "Month-end close started",
    "second_factor.enrolled": "Second factor set up",
    "second_factor.replaced": "Second factor moved to a new phone",
    "second_factor.reset": "Second factor reset",
    "recovery_codes.regenerated": "Recovery codes made anew",
    "recovery_code.used": "Recovery code used",
    "payout_run.started": "Payout run started",
    "payout.retried": "Payout retried",
    "payout.recovered": "Negative net taken back by a reversal",
    "payout_hold.placed": "Payouts paused",
    "payout_hold.lifted": "Payout pause lifted",
    "driver.verification": "Driver verification",
    "points.adjusted": "Points adjusted",
}
# Subjects with a page of their own: (endpoint, its URL argument for the subject id, or None).
# Another feature adds its subjects here (a payout run's page, for one).
SUBJECT_PAGES: dict[str, tuple[str, str | None]] = {
    "order": ("admin.order_refund", "order_id"),
    "vendor": ("admin.vendor_detail", "vendor_id"),
    "month_close": ("admin.month_close_page", None),
    "payout_run": ("admin.payout_run", "run_id"),
    "driver": ("admin_drivers.detail", "driver_id"),
    "customer": ("admin_loyalty.customer", "customer_id"),  # their points
}
SUBJECT_NOUNS = {
    "order": "Order",
    "vendor": "Shop",
    "month_close": "Month-end close",
    "user": "Account",
    "payout_run": "Payout run",
    "payout": "Payout",
    "driver": "Driver",
    "customer": "Customer",
}
AUDIT_PER_PAGE = 50


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or action.replace(".", " ").replace("_", " ").capitalize()


def subject_label(event: AuditEvent) -> str:
    """The thing acted on, as the page names it: its label when the action kept one."""
    noun = SUBJECT_NOUNS.get(event.subject_type, event.subject_type.replace("_", " ").capitalize())
    detail = event.detail or {}
    name = detail.get("label") or detail.get("email") or event.subject_id[:8]
    return f"{noun} {name}"


def subject_url(event: AuditEvent) -> str | None:
    page = SUBJECT_PAGES.get(event.subject_type)
    if page is None:
        return None
    endpoint, argument = page
    try:
        return url_for(endpoint, **({argument: event.subject_id} if argument else {}))
    except BuildError:  # a subject id that is not the page's kind of id
        return None


def detail_text(event: AuditEvent) -> str:
    """The action's particulars in one line (the label and email are in the subject already)."""
    shown = {k: v for k, v in (event.detail or {}).items() if k not in {"label", "email"}}
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items())


def recorded_actions() -> list[str]:
    """Every action the trail holds, for the filter."""
    return list(
        db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    )


@dataclass(frozen=True)
class AuditPage(Paged):
    rows: list[AuditEvent]
    page: int
    per_page: int
    total_rows: int


def audit_page(action: str | None, page: int = 1, per_page: int = AUDIT_PER_PAGE) -> AuditPage:
    """The trail newest first, optionally of one action, with who acted."""
    query = sa.select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    total = db.session.scalar(query.with_only_columns(sa.func.count()).order_by(None))
    page = clamp_page(page, total, per_page)
    rows = db.session.scalars(
        query.options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AuditPage(list(rows), page, per_page, total)
