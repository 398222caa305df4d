"""An admin pauses a shop's payouts (runs hold it, the shop is told) and lifts the pause (the next
run pays it), through the vendor's admin page."""

from __future__ import annotations

from portal.extensions import db
from portal.payouts import runs
from portal.payouts.admin_holds import admin_hold_of
from portal.payouts.models import PayoutHold
from tests.payouts.helpers import net_of, payable_shop, payouts_of


def test_paused_runs_hold_the_shop_until_the_pause_is_lifted(client, admin, app_stripe):
    shop = payable_shop(app_stripe)
    page = f"/admin/vendors/{shop.id}"
    answer = client.post(f"{page}/payouts/pause", data={"note": "Chargeback review"})
    assert answer.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "Payouts paused" in shown and "Chargeback review" in shown
    waiting = net_of(shop)

    runs.run_payouts()
    db.session.expire_all()
    hold = db.session.get(PayoutHold, shop.id)
    assert (hold.reason, hold.amount_waiting) == ("admin_hold", waiting)
    assert payouts_of(shop) == []
    assert app_stripe.transfer_log() == []

    assert client.post(f"{page}/payouts/lift").status_code == 303
    assert admin_hold_of(shop.id) is None
    assert db.session.get(PayoutHold, shop.id) is None  # the shop's page stops saying so at once
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert (payout.status, payout.amount) == ("paid", waiting)


def test_a_pause_needs_a_note_and_cannot_be_doubled(client, admin, app_stripe):
    shop = payable_shop(app_stripe)
    page = f"/admin/vendors/{shop.id}"
    client.post(f"{page}/payouts/pause", data={"note": "   "})
    assert admin_hold_of(shop.id) is None
    assert "Say why the shop" in client.get(page).get_data(as_text=True)
    client.post(f"{page}/payouts/pause", data={"note": "Review"})
    client.post(f"{page}/payouts/pause", data={"note": "Again"})
    assert admin_hold_of(shop.id).note == "Review"
    assert "already paused" in client.get(page).get_data(as_text=True)
    client.post(f"{page}/payouts/lift")
    client.post(f"{page}/payouts/lift")
    assert "are not paused" in client.get(page).get_data(as_text=True)
