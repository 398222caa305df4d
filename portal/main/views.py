from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ..security import redirect_to_dashboard

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect_to_dashboard()
    return render_template("main/index.html")


@bp.route("/healthz")
def health():
    return {"status": "ok"}


@bp.route("/dashboard")
def dashboard():
    if current_user.is_authenticated:
        return redirect_to_dashboard()
    return redirect(url_for("auth.login"))
