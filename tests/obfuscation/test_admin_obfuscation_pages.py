"""The admin's obfuscation pages: classifications, a product's neutral values with the preview of
what each outside party sees, clear errors (422) beside their fields, CSRF, and nobody but
admins."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.obfuscation import services
from portal.obfuscation.models import ObfuscationClassification, ProductObfuscation
from tests.deliveries.doordash import SECRET, secret_product
from tests.factories import make_customer, make_driver, make_vendor
from tests.orders.helpers import established_shop
from tests.second_factor import verified_admin

MAKERS = {"customer": make_customer, "driver": make_driver, "vendor": make_vendor}


@pytest.fixture
def admin(db_session, client):
    return verified_admin(client, "obfuscator@example.com")


@pytest.fixture
def product(db_session):
    product = secret_product(established_shop())
    db.session.commit()  # a refused form rolls its request back, not the test's data
    return product


def _paths(product) -> list[str]:
    return [
        "/admin/obfuscation/",
        "/admin/obfuscation/classifications/intimate",
        f"/admin/obfuscation/products/{product.id}",
    ]


@pytest.mark.parametrize("role", ["customer", "driver", "vendor"])
def test_only_admins_see_the_pages(client, auth, product, role):
    auth.login(MAKERS[role]().email)
    for path in _paths(product):
        assert client.get(path).status_code == 403
    for path in ("/admin/obfuscation/classifications", _paths(product)[2]):
        assert client.post(path, data={"classification_code": "x"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ObfuscationClassification)) == 1


def test_a_guest_is_sent_to_sign_in(client, product):
    for path in _paths(product):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_pages_show_classifications_products_and_the_preview(client, admin, product):
    index = client.get("/admin/obfuscation/").get_data(as_text=True)
    assert "intimate" in index and SECRET["title"] in index and "Personal care item" in index
    page = client.get(f"/admin/obfuscation/products/{product.id}").get_data(as_text=True)
    assert 'id="obfuscation-preview"' in page
    assert "Delivery provider (DoorDash)" in page and "Personal care item" in page
    assert "— (none sent)" in page  # the empty neutral brand: nothing is sent
    search = client.get("/admin/obfuscation/?q=aurora", headers={"HX-Request": "true"})
    assert SECRET["title"] in search.get_data(as_text=True)
    assert "<html" not in search.get_data(as_text=True)


def test_an_admin_adds_a_classification(client, admin):
    response = client.post(
        "/admin/obfuscation/classifications",
        data={
            "classification_code": "pharmacy",
            "description": "Medicines",
            "applies_to_payments": "y",
            "applies_to_deliveries": "y",
        },
    )
    assert response.status_code == 303
    row = services.classification("pharmacy")
    assert (row.applies_to_payments, row.applies_to_deliveries, row.applies_to_receipts) == (
        True,
        True,
        False,
    )


def test_a_bad_classification_is_refused_beside_its_field(client, admin, product):
    response = client.post(
        "/admin/obfuscation/classifications",
        data={"classification_code": "intimate", "description": "Again"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a classification “intimate” already." in page
    assert 'aria-invalid="true"' in page
    response = client.post(
        "/admin/obfuscation/classifications",
        data={"classification_code": "Not A Code", "description": ""},
    )
    assert response.status_code == 422
    assert "Say what the classification covers." in response.get_data(as_text=True)


def test_an_admin_edits_a_classification(client, admin, product):
    response = client.post(
        "/admin/obfuscation/classifications/intimate",
        data={"description": "Intimate products", "applies_to_payments": "y"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    row = services.classification("intimate")
    assert not row.applies_to_deliveries and not row.applies_to_receipts
    assert client.get("/admin/obfuscation/classifications/nope").status_code == 404


def test_an_admin_sets_a_products_neutral_values(client, admin, product):
    response = client.post(
        f"/admin/obfuscation/products/{product.id}",
        data={
            "classification_code": "intimate",
            "obfuscated_name": "Wellness item",
            "obfuscated_description": "",
            "obfuscated_category": "Health",
            "obfuscated_brand": "",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Obfuscation saved" in response.headers["HX-Trigger"]
    db.session.expire_all()
    row = db.session.scalar(sa.select(ProductObfuscation))
    assert (row.obfuscated_name, row.obfuscated_description, row.obfuscated_category) == (
        "Wellness item",
        None,
        "Health",
    )


def test_neutral_values_that_give_the_product_away_are_refused(client, admin, product):
    response = client.post(
        f"/admin/obfuscation/products/{product.id}",
        data={
            "classification_code": "intimate",
            "obfuscated_name": "Wellness item",
            "obfuscated_brand": SECRET["brand"],
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "gives the product&#39;s real brand" in page or "gives the product's real brand" in page
    assert 'id="obfuscated_brand-error"' in page


def test_a_form_without_its_csrf_token_is_refused(client, admin, product):
    response = client.post(f"/admin/obfuscation/products/{product.id}/remove", csrf=False)
    assert response.status_code in (400, 422)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductObfuscation)) == 1


def test_an_admin_removes_an_obfuscation(client, admin, product):
    response = client.post(f"/admin/obfuscation/products/{product.id}/remove")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductObfuscation)) == 0


def test_an_unknown_product_is_a_404(client, admin):
    assert (
        client.get("/admin/obfuscation/products/00000000-0000-0000-0000-000000000000").status_code
        == 404
    )
