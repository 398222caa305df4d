from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..extensions import db
from ..htmx import render
from ..security import restrict_blueprint
from .idempotency import once_per_key
from .services import AvailabilityRefused, driver_for_user, set_availability

bp = Blueprint("driver", __name__, url_prefix="/driver")
restrict_blueprint(bp, "driver")


def current_driver():
    driver = driver_for_user(current_user)
    if driver is None:
        abort(403, description="Your account has no driver profile.")
    return driver


@bp.route("/")
def dashboard():
    driver = current_driver()
    return render_template("deliveries/dashboard.html", **dashboard_context(driver))


@bp.post("/availability")
@once_per_key(current_driver)
def availability():
    """The online/offline switch (sent through the outbox: static/js/driver_outbox.js)."""
    driver = current_driver()
    problem = None
    try:
        set_availability(driver, request.form.get("status", ""))
        if driver.status == "offline":
            hand_back_offers(driver)  # an offer held goes on to the next driver at once
        db.session.commit()
    except AvailabilityRefused as refused:
        db.session.rollback()
        problem = str(refused)
    return render(
        "deliveries/dashboard.html",
        "deliveries/_availability.html",
        status=422 if problem else 200,
        **(dashboard_context(driver) | {"problem": problem}),
    )


# The driver's deliveries (offer, the active delivery, proof, earnings) live in their own module
# on this blueprint; so do their documents and position history (driver_account_views.py).
from . import driver_account_views  # noqa: E402, F401
from .driving import hand_back_offers  # noqa: E402
from .driving_views import dashboard_context  # noqa: E402
