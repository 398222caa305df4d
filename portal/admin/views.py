from datetime import date

from flask import Blueprint, render_template

from ..operations.partitions import list_partitions
from ..security import restrict_blueprint
from .services import platform_overview

bp = Blueprint("admin", __name__, url_prefix="/admin")
restrict_blueprint(bp, "admin")


@bp.route("/")
def dashboard():
    return render_template(
        "admin/dashboard.html", overview=platform_overview(date.today()), partitions=list_partitions()
    )
