"""The catalog search service: what is listed, how it is ranked, filtered, sorted and paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from portal.catalog import aggregates
from portal.catalog.services import get_or_create_brand, get_or_create_category
from portal.extensions import db
from portal.storefront.search import MAX_QUERY_LENGTH, CatalogQuery, search_catalog, ts_query


def search(per_page: int = 24, max_results: int = 1000, **args):
    query = CatalogQuery.from_args(MultiDict({k: str(v) for k, v in args.items()}))
    return search_catalog(query, per_page=per_page, max_results=max_results)


def names(result) -> list[str]:
    return [item.name for item in result.listings]


def test_an_exact_name_comes_before_names_that_only_contain_it(catalog):
    # The longer names are offered more widely: only the ranking can put the exact one first.
    catalog.master("Oat milk barista edition 1 l", "2.10", "2.20", "2.30")
    catalog.master("Chocolate oat milk", "2.50", "2.60")
    catalog.master("Oat milk", "1.99")
    catalog.master("Almond milk", "2.40")

    result = search(q="Oat Milk")

    assert names(result)[0] == "Oat milk"
    assert set(names(result)) == {"Oat milk", "Oat milk barista edition 1 l", "Chocolate oat milk"}


def test_a_name_match_ranks_above_a_description_match(catalog):
    catalog.master("Travel mug", "9.00", "9.50", description="Keeps coffee hot for hours.")
    catalog.master("Coffee grinder", "30.00")

    assert names(search(q="coffee")) == ["Coffee grinder", "Travel mug"]


@pytest.mark.parametrize("typed", ["WH-1000XM4", "wh1000xm4", "1000XM4"])
def test_a_model_number_finds_its_product_first(catalog, typed):
    catalog.master("Sony WH-1000XM3 Wireless Headphones", "199.00", "210.00", "220.00")
    catalog.master("Sony Wireless Headphones", "99.00", "110.00")
    catalog.master(
        "Sony Noise Cancelling Headphones",
        "279.00",
        attributes={"Model": "WH-1000XM4"},
    )

    result = search(q=typed)

    assert names(result)[0] == "Sony Noise Cancelling Headphones"


def test_the_last_word_matches_as_a_prefix_while_typing(catalog):
    catalog.master("Bose QuietComfort Headphones", "249.00")
    catalog.master("Headlamp 300 lumen", "19.00")
    catalog.master("Desk lamp", "25.00")

    assert set(names(search(q="head"))) == {"Bose QuietComfort Headphones", "Headlamp 300 lumen"}
    assert names(search(q="bose head")) == ["Bose QuietComfort Headphones"]
    assert names(search(q="headlamp")) == ["Headlamp 300 lumen"]


def test_a_typo_finds_close_matches_and_says_so(catalog):
    catalog.master("Bose QuietComfort Headphones", "249.00")
    catalog.master("Desk lamp", "25.00")

    exact = search(q="headphones")
    typo = search(q="hedphones")

    assert not exact.close_matches
    assert typo.close_matches and names(typo) == ["Bose QuietComfort Headphones"]
    assert search(q="zzqxw").listings == []


def test_masters_no_shop_offers_are_never_listed(catalog):
    catalog.master("Oat milk", "1.99")
    catalog.master("Oat milk unlisted")  # made from a product, never mapped: vendor_count 0
    archived = catalog.master("Oat milk discontinued", "3.00")
    [mapping_row] = archived.mappings
    mapping_row.product.status = "archived"
    aggregates.refresh_for_products([mapping_row.product.id])
    db.session.expire_all()

    for result in (search(), search(q="oat milk"), search(q="unlisted"), search(q="discontnued")):
        assert "Oat milk unlisted" not in names(result)
        assert "Oat milk discontinued" not in names(result)
    assert names(search()) == ["Oat milk"]


def test_the_listing_shows_price_range_shops_brand_and_category(catalog):
    brand, category = get_or_create_brand("Oatly"), get_or_create_category("Dairy alternatives")
    catalog.master("Oat milk", "1.99", "2.49", "2.19", brand=brand, category=category)

    [item] = search().listings

    assert (str(item.lowest_price), str(item.highest_price), item.vendor_count) == (
        "1.99",
        "2.49",
        3,
    )
    assert (item.brand, item.category) == ("Oatly", "Dairy alternatives")


def test_category_and_brand_filters_with_their_counts(catalog):
    drinks, snacks = get_or_create_category("Drinks"), get_or_create_category("Snacks")
    oatly, other = get_or_create_brand("Oatly"), get_or_create_brand("Other")
    catalog.master("Oat milk", "1.99", brand=oatly, category=drinks)
    catalog.master("Oat bar", "0.99", brand=oatly, category=snacks)
    catalog.master("Oat cookies", "2.99", brand=other, category=snacks)
    catalog.master("Rice milk", "1.89", brand=other, category=drinks)

    everything = search(q="oat")
    assert {(f.name, f.count) for f in everything.categories} == {("Drinks", 1), ("Snacks", 2)}
    assert {(f.name, f.count) for f in everything.brands} == {("Oatly", 2), ("Other", 1)}

    assert set(names(search(q="oat", category=snacks.id))) == {"Oat bar", "Oat cookies"}
    assert names(search(q="oat", category=snacks.id, brand=oatly.id)) == ["Oat bar"]
    assert set(names(search(brand=other.id))) == {"Oat cookies", "Rice milk"}


def test_facets_have_no_counts_when_the_result_is_too_large_to_count(catalog):
    for n in range(4):
        catalog.master(f"Oat drink {n}", "1.00")

    capped = search(q="oat", max_results=3)

    assert capped.capped and capped.count_label == "3+"
    assert all(facet.count is None for facet in capped.categories + capped.brands)


def test_sorts_by_price_shops_and_newest(catalog):
    made = {
        "Cheap tea": ("1.00",),
        "Dear tea": ("9.00", "9.50"),
        "Middle tea": ("5.00", "5.10", "5.20"),
    }
    masters = {name: catalog.master(name, *prices) for name, prices in made.items()}
    # All were made in this test's transaction, at one now(): give them distinct ages.
    for age, name in enumerate(["Middle tea", "Cheap tea", "Dear tea"]):
        masters[name].created_at = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(days=age)
    db.session.flush()

    for words in ("", "tea"):
        assert names(search(q=words, sort="price")) == ["Cheap tea", "Middle tea", "Dear tea"]
        assert names(search(q=words, sort="-price")) == ["Dear tea", "Middle tea", "Cheap tea"]
        assert names(search(q=words, sort="shops")) == ["Middle tea", "Dear tea", "Cheap tea"]
        assert names(search(q=words, sort="newest")) == ["Middle tea", "Cheap tea", "Dear tea"]
    # Without words, the best match is what most shops offer.
    assert names(search()) == ["Middle tea", "Dear tea", "Cheap tea"]


def test_pages_cover_every_master_once_and_stop_at_the_last(catalog):
    for n in range(5):
        catalog.master(f"Tea number {n}", f"{n + 1}.00")

    pages = [search(per_page=2, page=n, sort="price") for n in (1, 2, 3)]
    assert [names(p) for p in pages] == [
        ["Tea number 0", "Tea number 1"],
        ["Tea number 2", "Tea number 3"],
        ["Tea number 4"],
    ]
    assert (pages[0].has_previous, pages[0].has_next, pages[2].has_next) == (False, True, False)
    ranked = [names(search(per_page=2, page=n, q="tea")) for n in (1, 2, 3)]
    assert sorted(name for page in ranked for name in page) == [f"Tea number {n}" for n in range(5)]

    past = search(per_page=2, page=99)
    assert past.page == 3 and len(past.listings) == 1
    assert past.notices == ["There is no page 99 of this list; showing its last page."]
    absurd = search(per_page=2, page="9" * 40)
    assert absurd.page == 3 and "There is no page 1,000,000,000" in absurd.notices[0]


def test_a_list_goes_only_max_results_deep(catalog):
    for n in range(5):
        catalog.master(f"Tea number {n}", f"{n + 1}.00")

    deep = search(per_page=2, max_results=3, page=3, sort="price")

    assert deep.capped and deep.page == 2 and names(deep) == ["Tea number 2"]
    assert "goes 3 products deep" in deep.notices[0]


@pytest.mark.parametrize(
    ("args", "notice"),
    [
        ({"page": "0"}, "That page number is not one; showing the first page."),
        ({"page": "-3"}, "That page number is not one; showing the first page."),
        ({"page": "two"}, "That page number is not one; showing the first page."),
        ({"page": "1.5"}, "That page number is not one; showing the first page."),
        ({"sort": "price; drop"}, "That sort order is not offered; showing the best matches."),
        ({"category": "snacks"}, "That category is not one we know; showing every category."),
        (
            {"category": "00000000-0000-0000-0000-000000000000"},
            "That category is not one we know; showing every category.",
        ),
        ({"brand": "nope"}, "That brand is not one we know; showing every brand."),
        (
            {"brand": "00000000-0000-0000-0000-000000000001"},
            "That brand is not one we know; showing every brand.",
        ),
        ({"q": "x" * 500}, f"The search was cut to its first {MAX_QUERY_LENGTH} characters."),
        ({"q": "!!! ???"}, "The search has no letters or digits to look for; showing everything."),
    ],
)
def test_bad_input_is_said_and_the_rest_still_works(catalog, args, notice):
    catalog.master("Oat milk", "1.99")

    result = search(**args)

    assert notice in result.notices
    assert result.page == 1


def test_tsquery_syntax_typed_is_only_text(catalog):
    catalog.master("Oat milk", "1.99")

    for typed in ["oat & | ! milk", "oat:* milk", "'oat' (milk)", "oat <-> milk", "oat\\milk"]:
        assert names(search(q=typed)) == ["Oat milk"], typed
    assert ts_query(["oat", "milk"], ["ab123"]) == "(oat & milk:*) | ab123"
