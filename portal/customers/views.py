from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..loyalty import statement
from ..security import restrict_blueprint
from .services import customer_for_user, recent_orders

bp = Blueprint("customer", __name__, url_prefix="/account")
restrict_blueprint(bp, "customer")


def signed_in_customer():
    """The signed-in customer's profile (the customer's pages name no customer in their URLs)."""
    customer = customer_for_user(current_user)
    if customer is None:
        abort(403, description="Your account has no customer profile.")
    return customer


@bp.route("/")
def dashboard():
    customer = signed_in_customer()
    return render_template(
        "customers/dashboard.html",
        customer=customer,
        orders=recent_orders(customer.id),
        points=statement.balance_card(customer.id),
    )
