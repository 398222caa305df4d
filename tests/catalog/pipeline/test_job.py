"""The matcher job: progress per batch, idempotent replay, resuming, and what starts it."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.jobs import run_product_import
from portal.catalog.match_jobs import run_catalog_match, start_match_run
from portal.catalog.matching.loading import active_matcher
from portal.catalog.matching.pipeline import match_batch
from portal.catalog.models import (
    CatalogMatchRun,
    MasterProduct,
    MatchProposal,
    Product,
    ProductImport,
    VendorProductMapping,
)
from portal.extensions import db
from tests.catalog.helpers import HEADER, csv_upload, product, shop
from tests.catalog.pipeline.helpers import TELEVISIONS, configured


def counts():
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(VendorProductMapping)),
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MatchProposal)
            .where(MatchProposal.status == "pending")
        ),
        db.session.scalar(sa.select(sa.func.count()).select_from(MasterProduct)),
    )


@pytest.fixture
def two_shops(db_session):
    """Two shops listing overlapping products, nothing mapped yet."""
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    for title, _, price in TELEVISIONS:
        product(one, title=title, price=Decimal(price))
    product(two, title="Sony KDL40V4100 Bravia 40' LCD TV black", price=Decimal("879.00"))
    product(two, title="logitech harmony 890 universal remote", price=Decimal("189.00"))
    product(two, title="Hand-thrown stoneware teapot", price=Decimal("40.00"))
    return one, two


def test_a_catalog_run_counts_its_batches_and_a_replay_changes_nothing(two_shops):
    with configured(CATALOG_MATCH_BATCH=3):
        run = start_match_run("catalog")
        db.session.commit()
        assert (run.status, run.total, run.scope) == ("queued", 11, "catalog")
        summary = run_catalog_match(str(run.id))
    assert summary["status"] == "done" and summary["processed"] == 11
    # The first shop's products become masters; the second's match them or become their own.
    assert run.new_masters >= len(TELEVISIONS)
    assert run.exact_matched >= 1  # the remote's name is the master's, normalised
    assert run.exact_matched + run.auto_mapped + run.proposed + run.new_masters == 11
    assert run.started_at and run.finished_at and run.notice is None
    before = counts()

    assert run_catalog_match(str(run.id))["processed"] == 11  # done: returns at once
    run.status = "running"  # as if the worker died after the last batch, before "done"
    db.session.commit()
    again = run_catalog_match(str(run.id))
    assert again["processed"] == 11 and again["total"] == 11
    assert counts() == before


def test_a_resumed_run_does_only_what_is_left(two_shops):
    one, _ = two_shops
    run = start_match_run("catalog")
    db.session.commit()
    # A first batch was committed with its counters, then the worker died.
    first_ids = [
        p.id
        for p in db.session.scalars(sa.select(Product).where(Product.vendor_id == one.id).limit(4))
    ]
    done = match_batch(first_ids, active_matcher(), run.id)
    run.status, run.processed, run.new_masters = "running", 4, done.new_masters
    db.session.commit()

    summary = run_catalog_match(str(run.id))

    assert summary["total"] == 11 and summary["processed"] == 11
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(VendorProductMapping))
        + (counts()[1])
        == 11
    )


def test_a_second_catalog_request_while_one_waits_is_the_same_run(two_shops):
    first = start_match_run("catalog")
    db.session.flush()
    assert start_match_run("catalog").id == first.id


def test_a_run_for_nothing_is_not_made(db_session):
    _, vendor = shop(shop_name="Solo")
    mine = product(vendor, title="Teapot")
    master = mapping.create_master_from_product(mine)
    mapping.map_product(mine, master, method="new_master")
    assert start_match_run("products", vendor_id=vendor.id, product_ids=[mine.id]) is None


def test_a_run_without_a_model_says_so(two_shops, tmp_path):
    with configured(CATALOG_MATCHER_MODEL=str(tmp_path / "none.joblib")):
        run = start_match_run("catalog")
        db.session.commit()
        run_catalog_match(str(run.id))
    assert "none.joblib" in run.notice and run.new_masters == 0 and run.auto_mapped == 0


@pytest.fixture
def vendor_client(client, auth, db_session):
    user, vendor = shop(shop_name="Gadgets")
    auth.login(user.email)
    return client, vendor


def runs_of(vendor):
    return list(
        db.session.scalars(sa.select(CatalogMatchRun).where(CatalogMatchRun.vendor_id == vendor.id))
    )


def test_the_product_form_queues_a_run_for_that_product(vendor_client):
    client, vendor = vendor_client
    response = client.post(
        "/vendor/products/new",
        data={"title": "Sony Bravia KDL-40V4100", "price": "899.00", "inventory": "3"},
    )
    assert response.status_code == 302
    (run,) = runs_of(vendor)
    assert (run.scope, run.total, run.status) == ("products", 1, "queued")
    assert run.job_id == f"catalog-match-{run.id}"
    summary = run_catalog_match(str(run.id), [str(p.id) for p in _products(vendor)])
    assert summary["processed"] == 1 and summary["new_masters"] == 1  # an empty catalog


def _products(vendor):
    return list(db.session.scalars(sa.select(Product).where(Product.vendor_id == vendor.id)))


def test_editing_a_mapped_product_queues_no_run(vendor_client):
    client, vendor = vendor_client
    mine = product(vendor, title="Teapot", price=Decimal("20.00"))
    master = mapping.create_master_from_product(mine)
    mapping.map_product(mine, master, method="new_master")
    response = client.post(
        f"/vendor/products/{mine.id}/edit",
        data={"title": "Teapot, blue", "price": "21.00", "inventory": "1"},
    )
    assert response.status_code == 302 and runs_of(vendor) == []


def test_a_finished_import_queues_a_run_for_the_shop(vendor_client):
    client, vendor = vendor_client
    text = "\n".join([HEADER, "T1,Sony Bravia KDL-40V4100,,,Sony,TV,899,2,active,"])
    response = client.post(
        "/vendor/products/import", data=csv_upload(text), content_type="multipart/form-data"
    )
    assert response.status_code in (200, 302)
    product_import = db.session.scalar(sa.select(ProductImport))
    run_product_import(str(product_import.id))
    (run,) = runs_of(vendor)
    assert (run.scope, run.total) == ("vendor", 1)
    assert run_catalog_match(str(run.id))["new_masters"] == 1
