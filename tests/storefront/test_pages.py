"""``/catalog/`` over HTTP: the page and its HTMX fragment, links, bad input, the empty catalog."""

from __future__ import annotations

import re

import pytest

from portal.catalog.services import get_or_create_category
from tests.factories import MAKERS
from tests.hostile_corpus import TEXT


def test_the_page_lists_offered_masters_with_links_to_their_pages(client, catalog):
    oat = catalog.master("Oat milk", "1.99", "2.49")
    catalog.master("Unlisted oat drink")

    response = client.get("/catalog/?q=oat")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert f'href="/products/{oat.slug}"' in page
    assert "$1.99 \u2013 $2.49" in page and "From 2 shops" in page
    assert "Unlisted oat drink" not in page
    assert 'value="oat"' in page  # the box keeps the words
    assert "1 product · page 1 of 1" in page


@pytest.mark.parametrize("role", ["customer", "vendor", "driver", "admin"])
def test_every_role_may_open_it(client, auth, catalog, role):
    catalog.master("Oat milk", "1.99")
    auth.login(MAKERS[role]().email)

    assert "Oat milk" in client.get("/catalog/").get_data(as_text=True)


def test_the_htmx_answer_is_the_results_with_the_filters_out_of_band(client, catalog):
    drinks = get_or_create_category("Drinks")
    catalog.master("Oat milk", "1.99", category=drinks)

    response = client.get("/catalog/?q=oat", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)

    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "<html" not in fragment and "Oat milk" in fragment
    assert re.search(r'id="catalog-facets"[^>]*hx-swap-oob="true"', fragment)
    assert "Drinks (1)" in fragment
    # The whole page carries the same filters in place, not out of band.
    assert "hx-swap-oob" not in client.get("/catalog/?q=oat").get_data(as_text=True)


def test_the_pager_links_carry_the_search(client, catalog):
    for n in range(3):
        catalog.master(f"Tea number {n}", f"{n + 1}.00")
    client.application.config["STOREFRONT_PER_PAGE"] = 2
    try:
        page = client.get("/catalog/?q=tea&sort=price").get_data(as_text=True)
    finally:
        client.application.config["STOREFRONT_PER_PAGE"] = 24

    assert 'href="/catalog/?q=tea&amp;sort=price&amp;page=2"' in page


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "x" * 500,
        "q=" + "oat " * 200,
        "page=99999999999999999999",
        "page=-1",
        "page=abc",
        "category=not-a-uuid",
        "brand=00000000-0000-0000-0000-000000000000",
        "sort=../../etc",
        "q=%27%29%3B+DROP+TABLE+master_products%3B--",
        "q=oat&q=milk",
    ],
)
def test_bad_input_answers_a_clear_page(client, catalog, query):
    catalog.master("Oat milk", "1.99")

    response = client.get(f"/catalog/?{query}")

    assert response.status_code == 200
    assert "Catalog" in response.get_data(as_text=True)


def test_hostile_searches_never_fail(client, catalog):
    catalog.master("Oat milk", "1.99")

    for text in TEXT:
        response = client.get("/catalog/", query_string={"q": text})
        assert response.status_code in (200, 400), repr(text)


def test_no_results_and_the_empty_catalog_say_what_to_do(client, catalog):
    assert "The catalog is empty for now" in client.get("/catalog/").get_data(as_text=True)

    catalog.master("Oat milk", "1.99")
    page = client.get("/catalog/?q=zzqxw").get_data(as_text=True)

    assert "No products match “zzqxw”" in page
    assert 'href="/catalog/"' in page  # "Show every product"


def test_the_guest_bar_links_to_the_catalog(client):
    page = client.get("/catalog/").get_data(as_text=True)

    assert '<a href="/catalog/" class="nav-link" aria-current="page">Catalog</a>' in page
