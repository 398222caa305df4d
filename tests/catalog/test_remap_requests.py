"""Remap requests: a vendor asks with a note (one open request per product), an admin resolves
(maps the product by hand, verified) or declines with a note, and the vendor reads the outcome."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping, remaps
from portal.catalog.models import RemapRequest, VendorProductMapping
from portal.extensions import db
from tests.catalog.helpers import product, shop
from tests.factories import MAKERS, make_admin
from tests.toasts import toast_of

HX = {"HX-Request": "true"}
NOTE = "This is the 1 l carton, not the 500 ml bottle."


@pytest.fixture
def mapped_product(db_session):
    user, vendor = shop(shop_name="Pantry")
    p = product(vendor, title="Oat milk 1 l", sku="OAT1", price=Decimal("2.00"), inventory=4)
    wrong = mapping.create_master_from_product(product(vendor, title="Oat milk 500 ml"))
    mapping.map_product(p, wrong, method="model", confidence=0.95)
    return user, vendor, p, wrong


def remap_url(p) -> str:
    return f"/vendor/products/catalog/{p.id}/remap"


def test_vendor_requests_a_remap_once(client, auth, mapped_product):
    user, vendor, p, _ = mapped_product
    auth.login(user.email)

    answer = client.post(remap_url(p), data={"note": NOTE}, headers=HX)
    assert answer.status_code == 200
    assert "Remap requested" in answer.get_data(as_text=True)
    assert "requested" in toast_of(answer)
    [made] = db.session.scalars(sa.select(RemapRequest)).all()
    assert (made.status, made.note, made.vendor_id, made.requested_by_id) == (
        "open",
        NOTE,
        vendor.id,
        user.id,
    )

    again = client.post(remap_url(p), data={"note": NOTE + " Again."}, headers=HX)
    assert again.status_code == 422
    assert "You already asked for “Oat milk 1 l” to be remapped" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RemapRequest)) == 1

    # The list says it, and the catalog row no longer offers the form.
    listing = client.get("/vendor/products/catalog/requests").get_data(as_text=True)
    assert NOTE in listing and "Waiting for an admin" in listing
    page = client.get("/vendor/products/catalog/").get_data(as_text=True)
    assert "Remap requested" in page


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "Write what is wrong"),
        ("   ", "Write what is wrong"),
        ("too short", "at least 10 characters"),
        ("x" * 1001, "Keep it to 1000 characters (this is 1001)"),
    ],
)
def test_the_note_is_required_and_length_checked(client, auth, mapped_product, note, message):
    user, _, p, _ = mapped_product
    auth.login(user.email)
    answer = client.post(remap_url(p), data={"note": note}, headers=HX)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert (
        message in html and 'aria-invalid="true"' in html and '<details class="remap" open' in html
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RemapRequest)) == 0
    # Without JavaScript the whole page comes back with the form open and the note kept.
    full = client.post(remap_url(p), data={"note": note})
    assert full.status_code == 422 and message in full.get_data(as_text=True)


def test_without_javascript_a_request_redirects_with_a_message(client, auth, mapped_product):
    user, _, p, _ = mapped_product
    auth.login(user.email)
    answer = client.post(remap_url(p), data={"note": NOTE})
    assert answer.status_code == 303
    assert "requested" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_the_form_needs_its_csrf_token(client, auth, mapped_product):
    user, _, p, _ = mapped_product
    auth.login(user.email)
    assert client.post(remap_url(p), data={"note": NOTE}, csrf=False).status_code == 400


def test_a_vendor_never_sees_or_requests_for_another_shop(client, auth, mapped_product):
    _, vendor, p, _ = mapped_product
    remaps.request_remap(vendor, p, NOTE, requested_by=None)
    rival_user, _ = shop(shop_name="Rival")
    auth.login(rival_user.email)
    assert client.post(remap_url(p), data={"note": NOTE}, headers=HX).status_code == 404
    listing = client.get("/vendor/products/catalog/requests").get_data(as_text=True)
    assert NOTE not in listing and "No remap requests" in listing
    assert "Oat milk" not in client.get("/vendor/products/catalog/").get_data(as_text=True)


def test_an_archived_product_cannot_be_requested(client, auth, mapped_product):
    user, _, p, _ = mapped_product
    p.status = "archived"
    db.session.flush()
    auth.login(user.email)
    assert client.post(remap_url(p), data={"note": NOTE}, headers=HX).status_code == 404


# --- the admin's side ---------------------------------------------------------------------------


@pytest.fixture
def open_request(mapped_product):
    user, vendor, p, wrong = mapped_product
    right = mapping.create_master_from_product(product(vendor, title="Oat milk carton 1 litre"))
    made = remaps.request_remap(vendor, p, NOTE, requested_by=user)
    return user, p, wrong, right, made


def test_admin_lists_open_requests_with_the_note(client, auth, open_request):
    _, _, wrong, _, _ = open_request
    auth.login(make_admin().email)
    html = client.get("/admin/catalog/remap-requests/").get_data(as_text=True)
    assert NOTE in html and "Pantry" in html and "Oat milk 1 l" in html
    assert f'href="/products/{wrong.slug}"' in html  # what it maps to now
    assert "1 open request ·" in html


def test_admin_finds_masters_by_name(client, auth, open_request):
    _, _, _, right, made = open_request
    auth.login(make_admin().email)
    found = client.get(
        f"/admin/catalog/remap-requests/masters?q=carton&request={made.id}", headers=HX
    ).get_data(as_text=True)
    assert f'value="{right.id}"' in found and "Oat milk carton 1 litre" in found
    none = client.get("/admin/catalog/remap-requests/masters?q=zzzz", headers=HX)
    assert "No master is named like" in none.get_data(as_text=True)
    # The master the product maps to now is not offered; one letter finds nothing yet.
    assert [m.name for m in remaps.master_choices(made.id, "oat milk")] == [
        "Oat milk carton 1 litre"
    ]
    assert remaps.master_choices(made.id, "o") == []


def test_admin_resolves_by_mapping_by_hand_and_the_vendor_sees_it(client, auth, open_request):
    vendor_user, p, wrong, right, made = open_request
    admin = make_admin()
    auth.login(admin.email)
    answer = client.post(
        f"/admin/catalog/remap-requests/{made.id}/resolve",
        data={"master": str(right.id), "note": "Moved to the carton."},
        headers=HX,
    )
    assert answer.status_code == 200 and answer.get_data(as_text=True) == ""
    assert "remapped" in toast_of(answer)
    now = db.session.scalar(
        sa.select(VendorProductMapping).where(VendorProductMapping.vendor_product_id == p.id)
    )
    assert (now.master_product_id, now.match_method, now.verified) == (right.id, "manual", True)
    db.session.refresh(made)
    assert (made.status, made.resolved_by_id, made.resolution_note) == (
        "resolved",
        admin.id,
        "Moved to the carton.",
    )
    assert made.resolved_at is not None
    db.session.refresh(wrong)
    db.session.refresh(right)
    assert (wrong.vendor_count, right.vendor_count, right.total_inventory) == (0, 1, 4)

    auth.logout()
    auth.login(vendor_user.email)
    listing = client.get("/vendor/products/catalog/requests").get_data(as_text=True)
    assert "Remapped" in listing and "Moved to the carton." in listing
    assert f'href="/products/{right.slug}"' in listing
    catalog = client.get("/vendor/products/catalog/").get_data(as_text=True)
    assert "Verified" in catalog and "Request a remap" in catalog  # a new request is possible


def test_resolve_refuses_no_master_the_same_master_and_a_decided_request(
    client, auth, open_request
):
    _, _, wrong, right, made = open_request
    auth.login(make_admin().email)
    url = f"/admin/catalog/remap-requests/{made.id}/resolve"
    none = client.post(url, data={"master": "", "q": "oat"}, headers=HX)
    assert none.status_code == 422 and "Pick the master product" in none.get_data(as_text=True)
    assert "Oat milk carton 1 litre" in none.get_data(as_text=True)  # the search kept
    same = client.post(url, data={"master": str(wrong.id)}, headers=HX)
    assert same.status_code == 422 and "maps to that master already" in same.get_data(True)
    bogus = client.post(url, data={"master": "not-a-uuid"}, headers=HX)
    assert bogus.status_code == 422
    assert client.post(url, data={"master": str(right.id)}, headers=HX).status_code == 200
    late = client.post(url, data={"master": str(right.id)}, headers=HX)
    assert late.status_code == 422 and "was resolved already" in late.get_data(as_text=True)
    assert late.headers["HX-Retarget"] == "#alerts"


def test_admin_declines_with_a_note_the_vendor_reads(client, auth, open_request):
    vendor_user, p, wrong, _, made = open_request
    auth.login(make_admin().email)
    url = f"/admin/catalog/remap-requests/{made.id}/decline"
    blank = client.post(url, data={"note": ""}, headers=HX)
    assert blank.status_code == 422 and "Write why the request is declined" in blank.get_data(True)
    answer = client.post(url, data={"note": "The 500 ml is the same product."})
    assert answer.status_code == 303
    db.session.refresh(made)
    assert (made.status, made.resolution_note) == ("declined", "The 500 ml is the same product.")
    assert mapping.mapping_of(p.id).master_product_id == wrong.id  # nothing moved

    auth.logout()
    auth.login(vendor_user.email)
    listing = client.get("/vendor/products/catalog/requests").get_data(as_text=True)
    assert "Declined" in listing and "The 500 ml is the same product." in listing


@pytest.mark.parametrize("role", ["customer", "driver", "vendor"])
def test_only_admins_open_or_decide(client, auth, open_request, role):
    _, _, _, right, made = open_request
    auth.login(MAKERS[role]().email)
    base = "/admin/catalog/remap-requests"
    assert client.get(f"{base}/").status_code == 403
    assert client.get(f"{base}/masters?q=oat").status_code == 403
    assert (
        client.post(f"{base}/{made.id}/resolve", data={"master": str(right.id)}).status_code == 403
    )
    assert client.post(f"{base}/{made.id}/decline", data={"note": NOTE}).status_code == 403
    db.session.refresh(made)
    assert made.status == "open"
