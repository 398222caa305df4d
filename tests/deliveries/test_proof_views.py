"""The proof of delivery where admins look: the delivery's page says how it was proved, links the
signature or photo kept in the shop's private area (admins and the shop's members open it), and
where it was taken."""

import sqlalchemy as sa

from portal.deliveries import dispatch, driving
from portal.vendors.models import VendorMember
from tests.deliveries.dispatch_helpers import north, ready_order
from tests.deliveries.helpers import verified_driver
from tests.deliveries.test_driver_pages import arrived, data_url, png
from tests.factories import make_admin, make_vendor


def test_the_admin_sees_and_opens_the_signature(client, auth, db_session):
    driver = verified_driver(north(0.2))
    _order, delivery = ready_order()
    driving.accept_offer(driver, dispatch.dispatch(delivery.id).offer.id)
    arrived(driver, delivery)
    driving.prove_delivery(
        driver, delivery.id, "signature", signature=data_url(png()), position=(45.5231, -122.6765)
    )
    auth.login(make_admin().email)
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    proof = page.split('id="delivery-proof">')[1].split("</dd>")[0]
    link = proof.split('href="')[1].split('"')[0]
    assert "Signature" in proof and "at 45.52310, -122.67650" in proof
    assert link.startswith(f"/files/{delivery.vendor_id}/proof-of-delivery/")
    with client.get(link) as opened:
        assert opened.status_code == 200 and opened.data.startswith(b"\x89PNG")
        assert opened.headers["Cache-Control"] == "private, no-cache"

    # Another shop's owner cannot open it.
    auth.logout()
    other = make_vendor()
    assert (
        db_session.scalar(sa.select(VendorMember.vendor_id).where(VendorMember.user_id == other.id))
        != delivery.vendor_id
    )
    auth.login(other.email)
    assert client.get(link).status_code == 404
