"""The shop's deliveries page: its own orders' deliveries only, for its owner and staff, with the
status, the driver's first name, the ETA, the provider and the reason of a cancelled one."""

import pytest

from portal.deliveries import states
from portal.vendors import staff
from portal.vendors.services import vendor_for_user
from tests.deliveries.helpers import verified_driver
from tests.deliveries.tracking_helpers import tracked
from tests.factories import PASSWORD, make_admin, make_customer, make_driver, make_vendor
from tests.orders.helpers import paid_order

URL = "/vendor/deliveries/"


@pytest.fixture
def shops(db_session):
    owner = make_vendor(shop_name="Own Shop")
    other_owner = make_vendor(shop_name="Other Shop")
    return owner, vendor_for_user(owner), vendor_for_user(other_owner)


def test_the_owner_sees_the_shops_deliveries_and_never_another_shops(client, auth, shops):
    owner, mine, theirs = shops
    driver = verified_driver(full_name="Morgan Velocipede")
    carried = tracked("picked_up", driver=driver, order=paid_order(mine), eta_minutes=18)
    cancelled = tracked("confirmed", order=paid_order(mine))
    states.advance(cancelled, "cancelled", source="admin", note="The customer was not home")
    elsewhere = tracked("picked_up", order=paid_order(theirs))
    auth.login(owner.email)

    response = client.get(URL)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="delivery-{carried.id}"' in text and f'id="delivery-{cancelled.id}"' in text
    assert f'id="delivery-{elsewhere.id}"' not in text
    assert "Morgan" in text and "Velocipede" not in text
    assert "18 min trip" in text and "Marketplace driver" in text
    assert "The customer was not home" in text
    assert "2 deliveries" in text


def test_the_status_filter(client, auth, shops):
    owner, mine, _ = shops
    under_way = tracked("enroute_to_dropoff", order=paid_order(mine))
    done = tracked("delivered", order=paid_order(mine))
    auth.login(owner.email)

    active = client.get(URL, query_string={"status": "active"}).get_data(as_text=True)
    assert f"delivery-{under_way.id}" in active and f"delivery-{done.id}" not in active
    delivered = client.get(
        URL, query_string={"status": "delivered"}, headers={"HX-Request": "true"}
    )
    fragment = delivered.get_data(as_text=True)
    assert "<html" not in fragment
    assert f"delivery-{done.id}" in fragment and f"delivery-{under_way.id}" not in fragment
    none = client.get(URL, query_string={"status": "returned"}).get_data(as_text=True)
    assert "No deliveries with this status" in none
    wrong = client.get(URL, query_string={"status": "lost"}).get_data(as_text=True)
    assert "Not a valid choice" in wrong  # said beside the filter, not applied
    assert f"delivery-{under_way.id}" in wrong and f"delivery-{done.id}" in wrong


def test_the_shops_staff_see_it_too(client, auth, shops):
    owner, mine, _ = shops
    delivery = tracked("confirmed", order=paid_order(mine))
    invitation, _ = staff.invite_staff(mine, "helper@example.com", invited_by=owner)
    helper = staff.join_with_new_account(invitation, PASSWORD)
    auth.login(helper.email, PASSWORD)
    text = client.get(URL).get_data(as_text=True)
    assert f"delivery-{delivery.id}" in text


def test_an_empty_shop_says_what_comes_here(client, auth, shops):
    owner, _, _ = shops
    auth.login(owner.email)
    assert "No deliveries yet" in client.get(URL).get_data(as_text=True)


@pytest.mark.parametrize("maker", [make_customer, make_driver, make_admin])
def test_other_roles_are_refused(client, auth, db_session, maker):
    auth.login(maker().email)
    assert client.get(URL).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, db_session):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_sidebar_links_the_page(client, auth, shops):
    owner, _, _ = shops
    auth.login(owner.email)
    assert f'href="{URL}"' in client.get("/vendor/").get_data(as_text=True)
