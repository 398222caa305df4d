from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..security import restrict_blueprint
from .services import driver_for_user, is_verified

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
    return render_template("deliveries/dashboard.html", driver=driver, verified=is_verified(driver))


# The driver's deliveries (offer, the active delivery, proof, earnings) live in their own module
# on this blueprint.
from . import driving_views  # noqa: E402, F401
