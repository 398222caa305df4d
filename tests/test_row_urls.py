"""``row_url`` gives exactly what ``url_for`` gives, for any row's id and the other values."""

import uuid

from flask import url_for

from portal.row_urls import row_url


def test_row_url_is_url_for(app):
    ids = [uuid.uuid4() for _ in range(3)]
    with app.test_request_context("/"):
        for order_id in ids:
            assert row_url("vendor_orders.detail", "order_id", order_id) == url_for(
                "vendor_orders.detail", order_id=order_id
            )
            assert row_url("vendor_orders.cancel", "order_id", order_id, view="list") == url_for(
                "vendor_orders.cancel", order_id=order_id, view="list"
            )
            for field in ("price", "inventory"):
                assert row_url(
                    "products.inline_cell", "product_id", order_id, field=field, edit=1
                ) == url_for("products.inline_cell", product_id=order_id, field=field, edit=1)
