"""The driver's deliveries: the current offer, the active delivery and its proof, earnings.

Each status change comes from the phone's outbox (``data-outbox``, static/js/driver_outbox.js)
and runs once per ``Idempotency-Key`` (``@once_per_key``); the answer is the work panel
(``deliveries/_work.html``), which replaces the one on the page. A driver reaches only their own
offers and deliveries: another's is a 404.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user

from ..extensions import db
from ..htmx import is_partial_request, render
from ..queues import enqueue_after_commit
from . import driving, states
from .dispatch import DISPATCH_JOB
from .idempotency import once_per_key
from .services import is_verified
from .views import bp, current_driver


def work_context(driver) -> dict:
    """What the work panel shows: the delivery under way, else the offer, else waiting (an
    answer adds ``work_problem``, a refusal's text, or ``done``, the delivery just delivered)."""
    active = driving.active_delivery(driver)
    offer = None if active is not None else driving.current_offer(driver)
    return {
        "driver": driver,
        "delivery": driving.delivery_view(active) if active is not None else None,
        "offer": offer,
        "work_problem": None,
        "done": None,
        "poll_seconds": current_app.config["DRIVER_OFFER_POLL_SECONDS"],
    }


def dashboard_context(driver) -> dict:
    """The dashboard: the work panel and the day's and week's figures."""
    return {
        **work_context(driver),
        "verified": is_verified(driver),
        "summary": driving.summary(driver),
    }


def _work(driver, status: int = 200, **context):
    """The work panel for HTMX and the outbox (polled every few seconds: only what the panel
    needs is read), the whole dashboard otherwise."""
    base = work_context(driver) if is_partial_request() else dashboard_context(driver)
    response = render(
        "deliveries/dashboard.html",
        "deliveries/_work.html",
        status=status,
        **(base | context),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/work")
def work():
    """The work panel on its own: polled while the driver waits for an offer."""
    return _work(current_driver())


def _answer(driver, act, refusals, status: int = 409):
    """Run the driver's step ``act()`` and commit; the work panel after it, or with the refusal
    (``status``), or a 404 for what is not the driver's."""
    try:
        done = act()
        db.session.commit()
    except driving.WrongPin as wrong:
        db.session.commit()  # the failed try counts
        return _work(driver, 422, work_problem=str(wrong))
    except driving.NotYours as missing:
        db.session.rollback()
        abort(404, description=str(missing))
    except refusals as refused:
        db.session.rollback()
        return _work(driver, status, work_problem=str(refused))
    return _work(driver, done=done)


@bp.post("/offers/<uuid:offer_id>/accept")
@once_per_key(current_driver)
def accept_offer(offer_id):
    driver = current_driver()

    def act():
        driving.accept_offer(driver, offer_id, actor=current_user)

    return _answer(driver, act, driving.OfferRefused)


@bp.post("/offers/<uuid:offer_id>/decline")
@once_per_key(current_driver)
def decline_offer(offer_id):
    """Declined: the dispatch offers it to the next nearest driver after the commit."""
    driver = current_driver()

    def act():
        offer = driving.decline_offer(driver, offer_id)
        enqueue_after_commit(DISPATCH_JOB, str(offer.assignment_id))

    return _answer(driver, act, driving.OfferRefused)


@bp.get("/deliveries/<uuid:delivery_id>")
def delivery(delivery_id):
    """One of the driver's deliveries: under way, the work panel; ended, what happened."""
    driver = current_driver()
    try:
        assignment = driving.own_delivery(driver, delivery_id)
    except driving.NotYours:
        abort(404, description="There is no such delivery.")
    return render_template(
        "deliveries/driver_delivery.html",
        driver=driver,
        view=driving.delivery_view(assignment),
        ended=assignment.status in states.FINISHED,
    )


@bp.post("/deliveries/<uuid:delivery_id>/step")
@once_per_key(current_driver)
def step(delivery_id):
    driver = current_driver()

    def act():
        driving.advance_delivery(
            driver, delivery_id, request.form.get("to", ""), actor=current_user
        )

    return _answer(driver, act, states.IllegalTransition)


@bp.post("/deliveries/<uuid:delivery_id>/proof")
@once_per_key(current_driver)
def proof(delivery_id):
    """Proof at the door, then delivered: ``method`` signature (a PNG data URL in
    ``signature``), photo (the file ``photo``) or pin (``pin``); the phone's position if sent."""
    driver = current_driver()
    form = request.form

    def act():
        return driving.prove_delivery(
            driver,
            delivery_id,
            form.get("method", ""),
            actor=current_user,
            pin=form.get("pin"),
            signature=form.get("signature"),
            photo=request.files.get("photo"),
            position=driving.parse_position(form.get("latitude"), form.get("longitude")),
        )

    return _answer(driver, act, (driving.ProofRefused, states.IllegalTransition), status=422)
