"""The admin's Audit page: who did what, on which thing (linked), when; filtered by action."""

from __future__ import annotations

import uuid

from portal.admin import audit
from portal.extensions import db
from tests.factories import make_admin
from tests.orders.helpers import established_shop, paid_order


def test_the_trail_lists_who_what_on_which_thing_and_filters(client, verified_admin):
    other = make_admin(email="night-shift@example.com")
    order = paid_order(established_shop())
    audit.record("order.refunded", "order", order.id, actor=other, label=order.label, amount="5.00")
    audit.record("payout_run.started", "payout_run", uuid.uuid4(), actor=None)
    db.session.flush()

    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "night-shift@example.com" in page and "Order refunded" in page
    assert f'href="/admin/orders/{order.id}/refund"' in page and f"Order {order.label}" in page
    assert "amount 5.00" in page
    # An action this page has no words for reads as its own; no page to link: no link.
    assert "Payout run started" in page and "The scheduler" in page
    assert "Second factor set up" in page  # the verified admin's own enrollment

    only = client.get("/admin/audit/?action=order.refunded", headers={"HX-Request": "true"})
    body = only.get_data(as_text=True)
    assert "<html" not in body and "Order refunded" in body and "Payout run started" not in body
    assert "1 event" in body

    bad = client.get("/admin/audit/?action=<script>").get_data(as_text=True)
    assert "Not a valid choice" in bad and "Payout run started" in bad  # shown, not applied
    assert "<script>" not in bad


def test_a_page_past_the_end_shows_the_last(client, verified_admin):
    page = client.get("/admin/audit/?action=second_factor.enrolled&page=99").get_data(True)
    assert "1 event" in page  # a page past the end shows the last
