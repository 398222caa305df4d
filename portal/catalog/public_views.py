"""``/products/<slug>``: a master product's public page, for anyone (no sign-in), phone first."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for

from .master_page import master_by_slug, master_page, redirect_slug

bp = Blueprint("catalog_public", __name__, url_prefix="/products")


@bp.route("/<slug>")
def page(slug: str):
    master = master_by_slug(slug)
    if master is None:
        survivor = redirect_slug(slug)  # a merged master's old address
        if survivor is None:
            abort(404, description="There is no such product in the catalog.")
        return redirect(url_for(".page", slug=survivor), 301)
    return render_template("catalog/master.html", result=master_page(master))
