"""``/shops/<slug>``: a shop's public page, for anyone (no sign-in), phone first."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from .public import active_shop, public_shop_page

bp = Blueprint("shops", __name__, url_prefix="/shops")


@bp.route("/<slug>")
def page(slug: str):
    shop = active_shop(slug)
    if shop is None:
        abort(404)
    number = request.args.get("page", 1, type=int) or 1
    result = public_shop_page(shop, number, current_app.config["SHOP_PAGE_PRODUCTS_PER_PAGE"])
    return render_template("shops/page.html", result=result, shop=shop)
