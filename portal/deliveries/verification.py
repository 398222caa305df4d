"""Drivers' verification: where a driver stands, the admin's queue, and the admin's verdict.

Only a verified driver (insurance verified, background check ``clear``) may go online
(``services.set_availability``). A verdict that leaves a driver unverified (a check set to
``suspended``, ``failed``, ``consider`` or back to ``pending``, or the insurance unverified) takes
them offline at once:

- an ``available`` driver becomes ``offline``;
- their pending offer is withdrawn and the delivery offered again (the dispatch job is queued);
- a delivery they accepted but have not picked up yet is taken back (``states.reopen``, source
  ``admin``) and offered again, as the admin board's reassign does;
- a delivery already picked up stays theirs to finish (the goods are in their hands; an admin
  can still cancel it from the live board), and the driver is ``offline`` so no new offer
  reaches them; the admin is told so.

Every verdict writes an audit row (``driver.verification``), in the verdict's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from ..admin import audit
from ..admin.overview import awaiting_verification
from ..clock import utcnow
from ..extensions import db
from ..pagination import Paged, clamp_page
from ..queues import enqueue_after_commit
from . import states
from .dispatch import DISPATCH_JOB
from .driving import hand_back_offers
from .models import BACKGROUND_CHECK_STATUSES, DeliveryAssignment, Driver
from .models_drivers import DriverDocument
from .services import is_verified

QUEUE_SHOWS = ("waiting", "verified", "all")
CHECK_LABELS = {
    "pending": "Pending",
    "clear": "Clear",
    "consider": "Needs review",
    "suspended": "Suspended",
    "failed": "Failed",
}
# After pickup a delivery is not taken back from its driver (see the module's docstring).
CARRYING = (
    "picked_up",
    "enroute_to_dropoff",
    "arrived_at_dropoff",
    "enroute_to_return",
    "arrived_at_return",
)


class VerdictRefused(ValueError):
    """The admin's form does not make a verdict (shown beside the form)."""


class DriverNotFound(LookupError):
    pass


# --- where a driver stands (their dashboard) --------------------------------------------------


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    detail: str | None = None


@dataclass(frozen=True)
class Standing:
    verified: bool
    steps: list[Step]
    note: str | None
    check_status: str
    document: DriverDocument | None
    missing: list[str] = field(default_factory=list)

    @property
    def check_label(self) -> str:
        return CHECK_LABELS[self.check_status]

    @property
    def headline(self) -> str:
        if self.verified:
            return "You are verified: you can go online."
        if self.check_status in ("suspended", "failed"):
            check = CHECK_LABELS[self.check_status].lower()
            return f"Your background check is {check}: you cannot drive."
        return "Not verified yet: " + "; ".join(self.missing) + "."


def standing(driver: Driver) -> Standing:
    """What the driver has done, what an admin has decided, and what is still missing."""
    document = db.session.scalar(
        sa.select(DriverDocument).where(
            DriverDocument.driver_id == driver.id, DriverDocument.kind == "insurance"
        )
    )
    check = driver.background_check_status
    steps = [
        Step("Your details: name, phone, vehicle and licence", True),
        Step(
            "Insurance document uploaded",
            document is not None,
            None if document else "Upload a PDF or a photo of your insurance certificate.",
        ),
        Step(
            "Insurance verified by an admin",
            bool(driver.insurance_verified),
            None
            if driver.insurance_verified
            else ("Waiting for an admin." if document else "Upload the document first."),
        ),
        Step(
            "Background check clear",
            check == "clear",
            {
                "pending": "The check is pending.",
                "consider": "The check needs a closer look by an admin.",
                "suspended": "Your driving is suspended.",
                "failed": "The check did not pass.",
            }.get(check),
        ),
    ]
    missing = []
    if document is None:
        missing.append("upload your insurance document")
    elif not driver.insurance_verified:
        missing.append("an admin verifies your insurance")
    if check != "clear":
        missing.append(f"your background check is {CHECK_LABELS[check].lower()}")
    return Standing(
        verified=is_verified(driver),
        steps=steps,
        note=driver.verification_note,
        check_status=check,
        document=document,
        missing=missing,
    )


# --- the admin's queue ------------------------------------------------------------------------


def waiting():
    """Drivers awaiting verification: the admin overview's and sidebar's count, the same rule."""
    return awaiting_verification()


@dataclass(frozen=True)
class QueueFilters:
    show: str = "waiting"
    check: str | None = None
    q: str = ""

    @classmethod
    def parse(cls, args) -> QueueFilters:
        show = args.get("show", "waiting")
        check = args.get("check") or None
        return cls(
            show=show if show in QUEUE_SHOWS else "waiting",
            check=check if check in BACKGROUND_CHECK_STATUSES else None,
            q=" ".join((args.get("q") or "").split())[:100],
        )

    def as_args(self) -> dict:
        args = {"show": self.show}
        if self.check:
            args["check"] = self.check
        if self.q:
            args["q"] = self.q
        return args


def _filtered(filters: QueueFilters):
    query = sa.select(Driver)
    if filters.show == "waiting":
        query = query.where(waiting())
    elif filters.show == "verified":
        query = query.where(sa.not_(waiting()))
    if filters.check:
        query = query.where(Driver.background_check_status == filters.check)
    if filters.q:
        pattern = (
            "%" + filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        query = query.where(sa.or_(Driver.full_name.ilike(pattern), Driver.email.ilike(pattern)))
    return query


@dataclass(frozen=True)
class QueuePage(Paged):
    rows: list[Driver]
    page: int
    per_page: int
    total_rows: int
    documents: dict


def driver_queue(filters: QueueFilters, page: int = 1, per_page: int | None = None) -> QueuePage:
    """The drivers the filters choose, longest waiting first, with whether each uploaded a
    document."""
    per_page = per_page or current_app.config["DRIVER_QUEUE_PER_PAGE"]
    query = _filtered(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    rows = list(
        db.session.scalars(
            query.order_by(Driver.created_at, Driver.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    documents = {}
    if rows:
        documents = {
            d.driver_id: d
            for d in db.session.scalars(
                sa.select(DriverDocument).where(
                    DriverDocument.driver_id.in_([r.id for r in rows]),
                    DriverDocument.kind == "insurance",
                )
            )
        }
    return QueuePage(rows, page, per_page, total, documents)


def next_in_queue(driver: Driver, filters: QueueFilters) -> Driver | None:
    """The driver after this one in the queue (same filters, same order), else the first one
    still in it other than this driver."""
    query = _filtered(filters).where(Driver.id != driver.id)
    after = db.session.scalar(
        query.where(
            sa.tuple_(Driver.created_at, Driver.id)
            > sa.tuple_(
                sa.literal(driver.created_at, Driver.created_at.type),
                sa.literal(driver.id, Driver.id.type),
            )
        )
        .order_by(Driver.created_at, Driver.id)
        .limit(1)
    )
    if after is not None:
        return after
    return db.session.scalar(query.order_by(Driver.created_at, Driver.id).limit(1))


def driver_or_none(driver_id) -> Driver | None:
    return db.session.get(Driver, driver_id)


# --- the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictOutcome:
    driver: Driver
    went_offline: bool = False
    reopened: list[uuid.UUID] = field(default_factory=list)
    withdrawn: list[uuid.UUID] = field(default_factory=list)
    still_carrying: list[uuid.UUID] = field(default_factory=list)

    @property
    def message(self) -> str:
        name = self.driver.full_name
        text = (
            f"{name} is verified and may go online."
            if is_verified(self.driver)
            else (f"Saved: {name} is not verified.")
        )
        if self.went_offline:
            text += " They are offline now."
        if self.reopened or self.withdrawn:
            count = len(self.reopened) + len(self.withdrawn)
            noun = "delivery is" if count == 1 else "deliveries are"
            text += f" {count} {noun} offered to other drivers."
        if self.still_carrying:
            text += (
                " They carry a delivery already picked up: it stays with them to finish; "
                "cancel it from Live deliveries if it must stop."
            )
        return text


def clean_note(note: str | None) -> str | None:
    text = (note or "").strip()
    longest = current_app.config["DRIVER_VERIFICATION_NOTE_MAX"]
    if len(text) > longest:
        raise VerdictRefused(f"Write the note in at most {longest} characters.")
    return text or None


def record_verdict(
    driver_id,
    *,
    insurance_verified: bool,
    background_check_status: str,
    note: str | None,
    actor,
) -> VerdictOutcome:
    """The admin's verdict on a driver, the driver's row locked; an unverified driver is taken
    offline at once (see the module's docstring)."""
    if background_check_status not in BACKGROUND_CHECK_STATUSES:
        raise VerdictRefused("Choose one of the background check statuses.")
    text = clean_note(note)
    driver = db.session.scalar(
        sa.select(Driver)
        .where(Driver.id == driver_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if driver is None:
        raise DriverNotFound("There is no such driver.")
    has_document = db.session.scalar(
        sa.select(
            sa.exists().where(
                DriverDocument.driver_id == driver.id, DriverDocument.kind == "insurance"
            )
        )
    )
    if insurance_verified and not has_document:
        raise VerdictRefused("The driver has not uploaded an insurance document to verify.")
    before = (driver.insurance_verified, driver.background_check_status)
    now = utcnow()
    driver.insurance_verified = insurance_verified
    driver.background_check_status = background_check_status
    driver.verification_note = text
    driver.verified_at = now
    driver.verified_by_id = actor.id if actor is not None else None
    outcome = VerdictOutcome(driver)
    if not is_verified(driver):
        outcome = take_offline(driver, actor=actor, at=now)
    audit.record(
        "driver.verification",
        "driver",
        driver.id,
        actor=actor,
        label=driver.full_name,
        email=driver.email,
        insurance="verified" if insurance_verified else "not verified",
        background_check=background_check_status,
        was=f"{'verified' if before[0] else 'not verified'}, {before[1]}",
        **({"taken_offline": "yes"} if outcome.went_offline else {}),
    )
    db.session.flush()
    return outcome


def take_offline(driver: Driver, *, actor, at) -> VerdictOutcome:
    """The driver (row locked) offline at once: their pending offer withdrawn, a delivery not
    yet picked up taken back and offered again; one picked up stays theirs to finish."""
    went_offline = driver.status != "offline"
    withdrawn = hand_back_offers(driver, now=at)
    active = list(
        db.session.scalars(
            sa.select(DeliveryAssignment)
            .where(
                DeliveryAssignment.driver_id == driver.id,
                DeliveryAssignment.status.not_in(states.FINISHED),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    reopened, carrying = [], []
    for assignment in active:
        if assignment.status in states.REOPENABLE:
            states.reopen(
                assignment,
                source="admin",
                actor=actor,
                at=at,
                note="The driver was taken offline by an admin",
            )
            assignment.driver_id = None
            reopened.append(assignment.id)
        elif assignment.status in CARRYING:
            carrying.append(assignment.id)
    driver.status = "offline"
    db.session.flush()
    for assignment_id in reopened:
        enqueue_after_commit(DISPATCH_JOB, str(assignment_id))
    return VerdictOutcome(
        driver,
        went_offline=went_offline,
        reopened=reopened,
        withdrawn=withdrawn,
        still_carrying=carrying,
    )
