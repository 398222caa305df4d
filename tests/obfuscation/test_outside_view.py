"""What a product looks like outside the marketplace: one function, per outside party, and the
rules of the admin's classifications and obfuscations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.catalog.services import create_product, get_or_create_brand, get_or_create_category
from portal.extensions import db
from portal.obfuscation import services
from portal.obfuscation.services import ObfuscationError, outside_line_name, outside_view
from portal.orders import services as orders
from tests.deliveries.doordash import SECRET, secret_product
from tests.orders.helpers import established_shop


@pytest.fixture
def shop(db_session):
    return established_shop()


def test_a_product_without_obfuscation_shows_itself(shop):
    product = create_product(
        shop,
        title="Ceramic Mug",
        description="Handmade.",
        price=Decimal("28.00"),
        brand=get_or_create_brand("Alberta Clay"),
        category=get_or_create_category("Home"),
    )
    product = services.product_for_obfuscation(product.id)
    for audience in services.AUDIENCES:
        view = outside_view(product, audience)
        assert (view.name, view.description, view.category, view.brand, view.obfuscated) == (
            "Ceramic Mug",
            "Handmade.",
            "Home",
            "Alberta Clay",
            False,
        )


def test_an_obfuscated_product_shows_only_its_neutral_values(shop):
    product = secret_product(shop)
    view = outside_view(product, "deliveries")
    assert view.obfuscated
    assert (view.name, view.description, view.category, view.brand) == (
        "Personal care item",
        "Household item, boxed.",
        "Household",
        None,  # left empty: nothing is sent, never the real brand
    )
    seen = " ".join(str(value) for value in vars(view).values())
    for real in SECRET.values():
        assert real not in seen


def test_a_classification_applies_only_to_the_parties_it_names(shop):
    product = secret_product(shop, applies_to_deliveries=False)
    assert outside_view(product, "payments").obfuscated
    assert outside_view(product, "receipts").obfuscated
    delivered = outside_view(product, "deliveries")
    assert not delivered.obfuscated and delivered.name == SECRET["title"]
    assert set(services.preview(product)) == {"payments", "deliveries", "receipts"}


def test_an_unknown_audience_is_refused(shop):
    with pytest.raises(ValueError, match="unknown audience"):
        outside_view(secret_product(shop), "newspapers")


def test_an_order_line_takes_its_products_neutral_name(shop):
    product = secret_product(shop)
    order = orders.place_order(
        vendor_id=shop.id,
        items=[
            orders.LineItem(title="Gift wrap", quantity=1, unit_price=Decimal("2.00")),
            orders.LineItem(
                title=f"{SECRET['title']} (black)",
                quantity=1,
                unit_price=product.price,
                product_id=product.id,
            ),
        ],
    )
    db.session.expire_all()
    plain, secret = sorted(order.items, key=lambda item: item.title != "Gift wrap")
    assert outside_line_name(plain).name == "Gift wrap"
    line = outside_line_name(secret)
    assert line.obfuscated and line.name == "Personal care item"


@pytest.mark.parametrize(
    ("code", "problem"),
    [("", "Give the classification a code"), ("Has Space", "lower-case"), ("-x", "lower-case")],
)
def test_a_classification_code_must_be_a_code(db_session, code, problem):
    with pytest.raises(ObfuscationError, match=problem) as refused:
        services.create_classification(code, "Something")
    assert refused.value.field == "classification_code"


def test_a_classification_code_is_unique(db_session):
    services.create_classification("pharmacy", "Medicines")
    with pytest.raises(ObfuscationError, match="already") as refused:
        services.create_classification("PHARMACY", "Again")
    assert refused.value.field == "classification_code"


def test_neutral_values_must_not_give_the_real_ones_away(shop):
    product = secret_product(shop)
    with pytest.raises(ObfuscationError, match="real brand") as refused:
        services.save_obfuscation(
            product,
            classification_code="intimate",
            name="Care item",
            description=f"From {SECRET['brand']}",
        )
    assert refused.value.field == "obfuscated_description"
    with pytest.raises(ObfuscationError, match="real name"):
        services.save_obfuscation(
            product, classification_code="intimate", name=f"{SECRET['title']} kit"
        )
    with pytest.raises(ObfuscationError, match="Choose one of the classifications"):
        services.save_obfuscation(product, classification_code="nope", name="Care item")
    with pytest.raises(ObfuscationError, match="neutral name"):
        services.save_obfuscation(product, classification_code="intimate", name="  ")


def test_removing_the_obfuscation_shows_the_product_again(shop):
    product = secret_product(shop)
    services.remove_obfuscation(product)
    assert outside_view(product).name == SECRET["title"]
