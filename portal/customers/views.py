from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..security import restrict_blueprint
from .services import customer_for_user, recent_orders

bp = Blueprint("customer", __name__, url_prefix="/account")
restrict_blueprint(bp, "customer")


@bp.route("/")
def dashboard():
    customer = customer_for_user(current_user)
    if customer is None:
        abort(403, description="Your account has no customer profile.")
    return render_template(
        "customers/dashboard.html", customer=customer, orders=recent_orders(customer.id)
    )
