"""The public master product page: offers cheapest first, only mappings of active products of
active shops (never a waiting proposal), SEO head, merged slugs answered with 301, 404 otherwise."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.models import MasterProductRedirect, MatchProposal
from portal.catalog.services import get_or_create_brand, get_or_create_category
from portal.extensions import db
from tests.catalog.helpers import product, shop


def offers_in(html: str) -> list[str]:
    return re.findall(r'class="offer-shop" href="/shops/[^"]+">([^<]+)</a>', html)


def catalog(db_session):
    """A master offered by three shops (one suspended), with a waiting proposal and an archive."""
    _, cheap = shop(shop_name="Cheap Corner")
    _, dear = shop(shop_name="Dear Deli")
    _, third = shop(shop_name="Third Store")
    _, suspended = shop(shop_name="Suspended Shop")
    _, hopeful = shop(shop_name="Hopeful Shop")
    first = product(
        dear,
        title="Lavazza Qualità Rossa 1 kg beans",
        price=Decimal("14.50"),
        inventory=3,
        brand=get_or_create_brand("Lavazza"),
        category=get_or_create_category("Coffee"),
        attributes={"weight": "1 kg", "roast": "medium"},
        description="Whole beans.",
    )
    master = mapping.create_master_from_product(first)
    mapping.map_product(first, master, method="new_master")
    for vendor, price, inventory, method, verified in (
        (cheap, "12.99", 0, "gtin", False),
        (third, "13.25", 8, "model", True),
        (suspended, "9.99", 5, "model", False),
    ):
        p = product(vendor, title=f"Lavazza Rossa at {vendor.name}", price=Decimal(price))
        p.inventory = inventory
        mapping.map_product(p, master, method=method, verified=verified)
    gone = product(third, title="Lavazza Rossa old listing", price=Decimal("1.00"))
    mapping.map_product(gone, master, method="model")
    gone.status = "archived"
    suspended.status = "suspended"
    waiting = product(hopeful, title="Lavazza Rossa maybe", price=Decimal("5.00"))
    db.session.add(
        MatchProposal(
            vendor_id=hopeful.id,
            vendor_product_id=waiting.id,
            master_product_id=master.id,
            confidence=Decimal("0.55"),
            match_method="model",
        )
    )
    db.session.flush()
    return master


def test_offers_cheapest_first_with_inventory(client, db_session):
    master = catalog(db_session)
    page = client.get(f"/products/{master.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert offers_in(html) == ["Cheap Corner", "Third Store", "Dear Deli"]
    assert "Suspended Shop" not in html  # a suspended shop's product is no offer
    assert "Hopeful Shop" not in html and "maybe" not in html  # a waiting proposal never shows
    assert "old listing" not in html  # an archived product neither
    assert "Out of stock" in html and "8 in stock" in html and "3 in stock" in html
    assert re.search(r"\$12\.99\s*\u2013\s*\$14\.50", html) and "from 3 shops" in html
    assert "<h1>Lavazza Qualità Rossa 1 kg beans</h1>" in html
    assert "Lavazza · Coffee" in html and "<dt>roast</dt><dd>medium</dd>" in html
    cheap_slug = re.search(r'class="offer-shop" href="(/shops/[^"]+)">Cheap Corner', html)[1]
    assert client.get(cheap_slug).status_code == 200  # the offer links to the shop's page


def test_the_head_carries_canonical_slug_and_meta(client, db_session):
    master = catalog(db_session)
    master.meta_title = "Lavazza Rossa 1 kg: compare prices"
    master.meta_description = "Lavazza Qualità Rossa, 1 kg of beans, from local shops."
    db.session.flush()
    html = client.get(f"/products/{master.slug}?utm_source=x").get_data(as_text=True)
    head = html[: html.index("</head>")]
    assert f'<link rel="canonical" href="http://localhost/products/{master.slug}">' in head
    assert "<title>Lavazza Rossa 1 kg: compare prices · Marketplace Portal</title>" in head
    assert (
        '<meta name="description" content="Lavazza Qualità Rossa, 1 kg of beans, from local '
        'shops.">' in head
    )


def test_a_merged_slug_answers_301_to_the_survivor(client, db_session):
    master = catalog(db_session)
    db.session.add(MasterProductRedirect(slug="lavazza-rossa-old", master_product_id=master.id))
    db.session.flush()
    answer = client.get("/products/lavazza-rossa-old")
    assert answer.status_code == 301
    assert answer.headers["Location"] == f"/products/{master.slug}"


def test_an_unknown_slug_is_a_404_page(client, db_session):
    answer = client.get("/products/no-such-thing")
    assert answer.status_code == 404
    assert "There is no such product in the catalog." in answer.get_data(as_text=True)
    assert client.get("/products/" + "x" * 300).status_code == 404


def test_a_master_nobody_offers_says_so(client, db_session):
    _, vendor = shop(shop_name="Lonely")
    p = product(vendor, title="Rare tea", price=Decimal("3.00"))
    master = mapping.create_master_from_product(p)
    mapping.map_product(p, master, method="new_master")
    p.status = "archived"
    db.session.flush()
    html = client.get(f"/products/{master.slug}").get_data(as_text=True)
    assert "No shop offers this product right now." in html and 'id="price-range"' not in html


def test_the_page_agrees_with_the_stored_aggregates_when_every_shop_is_active(client, db_session):
    master = catalog(db_session)
    db.session.execute(sa.text("UPDATE vendors SET status = 'active'"))
    from portal.catalog.aggregates import recompute_masters

    recompute_masters([master.id])
    db.session.refresh(master)
    html = client.get(f"/products/{master.slug}").get_data(as_text=True)
    assert f"from {master.vendor_count} shops" in html
    assert f"${master.lowest_price}" in html and f"${master.highest_price}" in html
