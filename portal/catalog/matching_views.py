"""The admin's matcher page, ``/admin/catalog/matching``: the scoring model in use, what the
matcher has left in the catalog, a whole-catalog run on demand, and recent runs' progress."""

from __future__ import annotations

import os

from flask import Blueprint, abort, make_response, render_template
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import htmx
from ..extensions import db
from ..security import restrict_blueprint
from ..shell import toast
from . import match_jobs
from .matching.loading import active_matcher
from .models import CatalogMatchRun

bp = Blueprint("catalog_matching", __name__, url_prefix="/admin/catalog/matching")
restrict_blueprint(bp, "admin")


class MatchCatalogForm(FlaskForm):
    """The button's CSRF token; the run takes no input."""


def _context(**extra) -> dict:
    matcher = active_matcher()
    return {
        "matcher": matcher,
        "model_file": os.path.basename(matcher.path),
        "counts": match_jobs.catalog_counts(),
        "runs": match_jobs.recent_runs(),
        "form": MatchCatalogForm(formdata=None),
        **extra,
    }


@bp.get("/")
def index():
    return render_template("catalog/matching/index.html", **_context())


@bp.post("/runs")
def start_catalog_run():
    form = MatchCatalogForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired: reload the page and press the button again.")
    run = match_jobs.start_match_run("catalog", requested_by=current_user)
    db.session.commit()  # the job must find the run it updates
    response = htmx.render(
        "catalog/matching/index.html", "catalog/matching/_runs.html", **_context()
    )
    return toast(response, f"The whole catalog is queued for matching ({run.total} products).")


@bp.get("/runs/<uuid:run_id>")
def run_progress(run_id):
    run = db.session.get(CatalogMatchRun, run_id)
    if run is None:
        abort(404, description="There is no such matcher run.")
    response = make_response(render_template("catalog/matching/_run.html", run=run))
    response.vary.add("HX-Request")
    return response
