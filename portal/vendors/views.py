from flask import Blueprint, render_template

from ..security import restrict_blueprint
from ..tiers.services import tier_for_shop
from .services import current_vendor

bp = Blueprint("vendor", __name__, url_prefix="/vendor")
restrict_blueprint(bp, "vendor")


@bp.route("/")
def dashboard():
    vendor = current_vendor()
    return render_template("vendors/dashboard.html", vendor=vendor, shop_tier=tier_for_shop(vendor.id))
