"""The vendor's catalog page: each product's master and status, filters, paging, one statement per
page, staff access, and never another shop's products."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.catalog import mapping, vendor_catalog
from portal.catalog.models import MatchProposal
from portal.extensions import db
from portal.vendors import staff
from tests.catalog.helpers import product, shop
from tests.factories import MAKERS
from tests.vendors.test_query_counts import statements

HX = {"HX-Request": "true"}


def every_status(vendor):
    """One product of the shop in each status; returns {status: product}."""
    made = {}
    own = product(vendor, title="Anchovies in oil", sku="S-OWN")
    mapping.map_product(own, mapping.create_master_from_product(own), method="new_master")
    made["own"] = own
    other_shop_master = mapping.create_master_from_product(product(vendor, title="Basil seed"))
    auto = product(vendor, title="Basil seeds", sku="S-AUTO")
    mapping.map_product(auto, other_shop_master, method="model", confidence=0.97)
    made["auto"] = auto
    verified = product(vendor, title="Capers", sku="S-VER")
    mapping.map_product(
        verified, mapping.create_master_from_product(verified), method="model", verified=True
    )
    made["verified"] = verified
    manual = product(vendor, title="Dill", sku="S-MAN")
    mapping.map_product(manual, mapping.create_master_from_product(manual), method="manual")
    made["manual"] = manual
    waiting = product(vendor, title="Elderflower cordial", sku="S-WAIT")
    db.session.add(
        MatchProposal(
            vendor_id=vendor.id,
            vendor_product_id=waiting.id,
            master_product_id=other_shop_master.id,
            confidence=Decimal("0.6200"),
            match_method="model",
        )
    )
    made["waiting"] = waiting
    made["unmatched"] = product(vendor, title="Fennel", sku="S-NONE")
    db.session.flush()
    return made


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Pantry")
    auth.login(user.email)
    return client, vendor


def test_each_product_shows_its_master_and_status(vendor_client):
    client, vendor = vendor_client
    made = every_status(vendor)
    result = vendor_catalog.catalog_page(vendor.id)
    status_of = {row.title: row.status for row in result.rows}
    assert status_of["Anchovies in oil"] == "own"
    assert status_of["Basil seeds"] == "auto"
    assert status_of["Capers"] == "verified"
    assert status_of["Dill"] == "verified"  # mapped by hand: a person chose it
    assert status_of["Elderflower cordial"] == "waiting"
    assert status_of["Fennel"] == "unmatched"
    # The helper's extra product that a master was made from, without a mapping of its own.
    assert status_of["Basil seed"] == "unmatched"
    assert result.counts == {
        "all": 7,
        "auto": 1,
        "verified": 2,
        "waiting": 1,
        "own": 1,
        "unmatched": 2,
    }

    html = client.get("/vendor/products/catalog/").get_data(as_text=True)
    assert "Matched automatically" in html and "Waiting for review" in html
    assert "confidence 97%" in html and "confidence 62%" in html
    # A mapped product links to its master's public page; a proposal is named, not linked.
    auto_row = html[html.index(f'id="catalog-{made["auto"].id}"') :]
    assert '<a href="/products/basil-seed">Basil seed</a>' in auto_row[: auto_row.index("</tr>")]
    waiting_row = html[html.index(f'id="catalog-{made["waiting"].id}"') :]
    waiting_row = waiting_row[: waiting_row.index("</tr>")]
    assert "Proposed:</span> Basil seed" in waiting_row and "/products/basil" not in waiting_row


@pytest.mark.parametrize(
    ("status", "titles"),
    [
        ("auto", {"Basil seeds"}),
        ("verified", {"Capers", "Dill"}),
        ("waiting", {"Elderflower cordial"}),
        ("own", {"Anchovies in oil"}),
        ("unmatched", {"Fennel", "Basil seed"}),
    ],
)
def test_filter_by_status(vendor_client, status, titles):
    client, vendor = vendor_client
    every_status(vendor)
    assert {r.title for r in vendor_catalog.catalog_page(vendor.id, status=status).rows} == titles
    fragment = client.get(f"/vendor/products/catalog/?status={status}", headers=HX).get_data(True)
    assert "<html" not in fragment
    assert f"{len(titles)} product" in fragment
    for title in titles:
        assert title in fragment


def test_search_and_an_unknown_status_lists_everything(vendor_client):
    client, vendor = vendor_client
    every_status(vendor)
    assert [r.title for r in vendor_catalog.catalog_page(vendor.id, q="basil").rows] == [
        "Basil seed",
        "Basil seeds",
    ]
    assert vendor_catalog.catalog_page(vendor.id, status="bogus").total_rows == 7
    page = client.get("/vendor/products/catalog/?status=bogus&page=x")
    assert page.status_code == 200
    huge = client.get("/vendor/products/catalog/?page=99999999999999999999", headers=HX)
    assert huge.status_code == 200 and "page 1 of 1" in huge.get_data(as_text=True)


def test_archived_products_and_other_shops_are_not_listed(vendor_client):
    client, vendor = vendor_client
    gone = product(vendor, title="Old stock", sku="OLD")
    gone.status = "archived"
    _, rival = shop(shop_name="Rival Pantry")
    theirs = product(rival, title="Rival saffron", sku="R1")
    mapping.map_product(theirs, mapping.create_master_from_product(theirs), method="new_master")
    product(vendor, title="Our saffron", sku="O1")
    db.session.flush()

    html = client.get("/vendor/products/catalog/").get_data(as_text=True)
    assert "Our saffron" in html
    assert "Rival saffron" not in html and "Old stock" not in html
    assert vendor_catalog.catalog_page(rival.id).counts["all"] == 1


def test_pages_of_25_by_title_and_a_stale_page_shows_the_last(vendor_client):
    client, vendor = vendor_client
    for n in range(30):
        product(vendor, title=f"Item {n:02d}", sku=f"I{n:02d}")
    first = vendor_catalog.catalog_page(vendor.id)
    assert [r.title for r in first.rows] == [f"Item {n:02d}" for n in range(25)]
    assert first.has_next and first.pages == 2
    beyond = vendor_catalog.catalog_page(vendor.id, page=9)
    assert beyond.page == 2 and beyond.rows[0].title == "Item 25"
    html = client.get("/vendor/products/catalog/?page=2", headers=HX).get_data(as_text=True)
    assert "Item 29" in html and "Item 00" not in html and "page 2 of 2" in html


def test_one_statement_per_page_however_many_products(vendor_client):
    client, vendor = vendor_client
    every_status(vendor)
    for n in range(40):
        product(vendor, title=f"Extra {n:02d}", sku=f"E{n:02d}")
    db.session.flush()
    with statements() as sent:
        vendor_catalog.catalog_page(vendor.id, page=2)
    assert len(sent) == 1
    with statements() as sent:
        assert client.get("/vendor/products/catalog/?status=unmatched").status_code == 200
    # Who is asking (the user with the shop and role, shared with the nav), then the page.
    assert len(sent) == 2


def test_staff_of_the_shop_see_its_catalog(client, auth, db_session):
    owner, vendor = shop(shop_name="Pantry")
    product(vendor, title="Staff sees this", sku="SS")
    invitation, _ = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    staff.join_with_new_account(invitation, "long enough pw")
    auth.login("clerk@example.com", "long enough pw")
    page = client.get("/vendor/products/catalog/")
    assert page.status_code == 200 and "Staff sees this" in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["customer", "driver", "admin"])
def test_other_roles_are_refused(client, auth, db_session, role):
    auth.login(MAKERS[role]().email)
    for path in ("/vendor/products/catalog/", "/vendor/products/catalog/requests"):
        assert client.get(path).status_code == 403


def test_the_nav_links_the_catalog(vendor_client):
    client, _ = vendor_client
    html = client.get("/vendor/products/catalog/").get_data(as_text=True)
    assert 'href="/vendor/products/catalog/" class="nav-link " aria-current="page"' in html
