"""The review page: admins only, one proposal with the next prefetched, decisions answered with
the next panel, a second decision or a bad id told in words (never a 500), bulk approve with its
preview, the master search, and CSRF on every form."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.models import MatchDecision, MatchProposal
from portal.extensions import db
from tests.catalog.review.helpers import master_with, propose, shop
from tests.factories import make_customer, make_driver, make_vendor
from tests.second_factor import verified_admin

BASE = "/admin/catalog/review"
HX = {"HX-Request": "true"}
MAKERS = {"customer": make_customer, "driver": make_driver, "vendor": make_vendor}


@pytest.fixture
def queue_world(db_session):
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    tv = master_with(one, "Sony Bravia KDL-40V4100 40in LCD TV", price="500.00")
    other = master_with(one, "Samsung LN40A550 40in LCD TV", price="450.00")
    first = propose(two, tv, title="Sony KDL40V4100 television", confidence="0.93")
    second = propose(two, other, title="Samsung LN-40A550 TV", confidence="0.71")
    third = propose(one, tv, title="Sony Bravia 40 inch", confidence="0.55")
    db.session.commit()  # a refused decision rolls its request back, not the test's data
    return {"tv": tv, "other": other, "first": first, "second": second, "third": third,
            "one": one, "two": two}  # fmt: skip


@pytest.fixture
def admin(db_session, client):
    return verified_admin(client, "reviewer@example.com")


def _paths(world) -> list[tuple[str, str]]:
    p = world["first"].id
    return [
        ("get", f"{BASE}/"),
        ("get", f"{BASE}/proposals/{p}"),
        ("get", f"{BASE}/masters?q=sony"),
        ("get", f"{BASE}/bulk?min_confidence=0.5"),
        ("post", f"{BASE}/proposals/{p}/approve"),
        ("post", f"{BASE}/proposals/{p}/reject"),
        ("post", f"{BASE}/proposals/{p}/remap"),
        ("post", f"{BASE}/proposals/{p}/merge"),
        ("post", f"{BASE}/undo"),
        ("post", f"{BASE}/bulk"),
    ]


@pytest.mark.parametrize("role", ["customer", "driver", "vendor"])
def test_only_admins_may_review(client, auth, queue_world, role):
    auth.login(MAKERS[role]().email)
    for method, path in _paths(queue_world):
        assert getattr(client, method)(path).status_code == 403, path
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchDecision)) == 0


def test_a_guest_is_sent_to_sign_in(client, queue_world):
    for method, path in _paths(queue_world):
        response = getattr(client, method)(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_the_page_shows_the_most_confident_side_by_side_with_the_next_prefetched(
    client, admin, queue_world
):
    html = client.get(f"{BASE}/").get_data(as_text=True)
    first, second = queue_world["first"], queue_world["second"]
    assert f'data-proposal="{first.id}" data-current' in html
    assert f'data-proposal="{second.id}" data-prefetched hidden' in html
    assert "Sony KDL40V4100 television" in html and "Sony Bravia KDL-40V4100 40in LCD TV" in html
    assert "Both name the model number KDL40V4100" in html  # the reasons, in words
    assert "Confidence <strong>0.93</strong> · method model" in html
    assert "<strong>3</strong> waiting in this filter" in html
    assert 'name="csrf_token"' in html and 'hx-headers=\'{"X-CSRFToken"' in html


def test_filters_narrow_the_queue(client, admin, queue_world):
    one = queue_world["one"]
    html = client.get(f"{BASE}/?vendor={one.id}", headers=HX).get_data(as_text=True)
    assert f'data-proposal="{queue_world["third"].id}" data-current' in html
    assert "<strong>1</strong> waiting in this filter, <strong>3</strong> in all" in html
    html = client.get(f"{BASE}/?band=good&method=model").get_data(as_text=True)
    assert f'data-proposal="{queue_world["second"].id}" data-current' in html
    # Malformed filters are no filter, not an error.
    assert client.get(f"{BASE}/?vendor=nope&band=huge&method=x").status_code == 200


def test_approve_answers_with_the_next_proposal_and_the_counts(client, admin, queue_world):
    first, second = queue_world["first"], queue_world["second"]
    response = client.post(f"{BASE}/proposals/{first.id}/approve", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-proposal="{second.id}" data-current' in html
    assert 'id="review-counts" class="review-counts" hx-swap-oob="true"' in html
    assert "<strong>2</strong> waiting" in html
    assert "Approved. Press u to undo." in response.headers["HX-Trigger"]
    made = mapping.mapping_of(first.vendor_product_id)
    assert made.master_product_id == queue_world["tv"].id and made.verified

    response = client.post(f"{BASE}/undo", headers=HX)
    assert f'data-proposal="{first.id}" data-current' in response.get_data(as_text=True)
    assert mapping.mapping_of(first.vendor_product_id) is None


def test_a_second_decision_is_told_who_made_the_first(client, admin, queue_world):
    first = queue_world["first"]
    client.post(f"{BASE}/proposals/{first.id}/approve", headers=HX)
    response = client.post(f"{BASE}/proposals/{first.id}/reject", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This proposal was approved by reviewer@example.com; nothing was changed." in html
    assert f'data-proposal="{queue_world["second"].id}" data-current' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchDecision)) == 1


def test_bad_ids_and_input_get_a_message_not_a_500(client, admin, queue_world):
    unknown = "7b0c2c52-1b83-4f5e-9f43-c3a4b3ab2f00"
    for path, data in (
        (f"{BASE}/proposals/{unknown}/approve", {}),
        (f"{BASE}/proposals/not-a-uuid/reject", {}),
        (f"{BASE}/proposals/{queue_world['first'].id}/remap", {"master_id": "junk"}),
        (f"{BASE}/proposals/{queue_world['first'].id}/remap", {}),
        (f"{BASE}/proposals/{queue_world['first'].id}/merge", {"other_id": unknown}),
        (f"{BASE}/proposals/{unknown}/merge", {"other_id": unknown}),
        (f"{BASE}/bulk", {"min_confidence": "lots", "expected": "3"}),
        (f"{BASE}/undo", {}),
    ):
        response = client.post(path, data=data, headers=HX)
        assert response.status_code in (404, 409, 422), path
        assert 'role="alert"' in response.get_data(as_text=True), path
    response = client.get(f"{BASE}/proposals/{unknown}", headers=HX)
    assert response.status_code == 404 and "no longer exists" in response.get_data(as_text=True)
    # Without HTMX a decision redirects back to the page, which says what happened.
    response = client.post(f"{BASE}/proposals/{unknown}/approve")
    assert response.status_code == 303
    assert "no longer exists" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_stale_proposal_gives_way_to_the_next(client, admin, queue_world):
    first = queue_world["first"]
    mapping.map_product(first.product, queue_world["other"], method="gtin")  # the matcher
    db.session.commit()
    response = client.get(f"{BASE}/proposals/{first.id}", headers=HX)
    html = response.get_data(as_text=True)
    assert "decided meanwhile" in html
    assert f'data-proposal="{queue_world["second"].id}" data-current' in html
    response = client.post(f"{BASE}/proposals/{first.id}/approve", headers=HX)
    assert response.status_code == 409 and "settled already" in response.get_data(as_text=True)


def test_remap_through_the_search(client, admin, queue_world):
    first, other = queue_world["first"], queue_world["other"]
    found = client.get(f"{BASE}/masters?q=samsung ln40&exclude={queue_world['tv'].id}")
    html = found.get_data(as_text=True)
    assert f'name="master_id" value="{other.id}"' in html and "Sony" not in html
    assert "Type at least 2" in client.get(f"{BASE}/masters?q=s").get_data(as_text=True)
    assert "No master product" in client.get(f"{BASE}/masters?q=zzzz").get_data(as_text=True)
    response = client.post(
        f"{BASE}/proposals/{first.id}/remap", data={"master_id": str(other.id)}, headers=HX
    )
    assert response.status_code == 200
    made = mapping.mapping_of(first.vendor_product_id)
    assert (made.master_product_id, made.match_method) == (other.id, "manual")


def test_merge_from_the_panel_keeps_the_proposal_on_the_survivor(client, admin, queue_world):
    first, tv, other = queue_world["first"], queue_world["tv"], queue_world["other"]
    response = client.post(
        f"{BASE}/proposals/{first.id}/merge",
        data={"other_id": str(other.id), "keep": "proposed"},
        headers=HX,
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(MatchProposal, queue_world["second"].id).master_product_id == tv.id
    assert f'data-proposal="{first.id}" data-current' in response.get_data(as_text=True)


def test_bulk_approve_previews_then_approves_that_many(client, admin, queue_world):
    preview = client.get(f"{BASE}/bulk?min_confidence=0.70", headers=HX).get_data(as_text=True)
    assert "<strong>2</strong> proposals in this filter at confidence 0.70 or more" in preview
    assert 'name="expected" value="2"' in preview
    bad = client.get(f"{BASE}/bulk?min_confidence=7", headers=HX).get_data(as_text=True)
    assert "between 0 and 1" in bad

    response = client.post(
        f"{BASE}/bulk", data={"min_confidence": "0.70", "expected": "2"}, headers=HX
    )
    assert "2 proposals approved." in response.headers["HX-Trigger"]
    assert f'data-proposal="{queue_world["third"].id}" data-current' in response.get_data(
        as_text=True
    )
    kinds = db.session.scalars(sa.select(MatchDecision.kind)).all()
    assert kinds == ["bulk_approve", "bulk_approve"]


def test_bulk_approve_takes_the_configured_number_at_a_time(app, client, admin, queue_world):
    app.config["CATALOG_REVIEW_BULK_MAX"] = 2
    try:
        preview = client.get(f"{BASE}/bulk?min_confidence=0", headers=HX).get_data(as_text=True)
        assert "<strong>3</strong> proposals in this filter" in preview
        assert "takes 2 at a time" in preview and "Approve 2" in preview
        response = client.post(
            f"{BASE}/bulk", data={"min_confidence": "0", "expected": "3"}, headers=HX
        )
    finally:
        app.config["CATALOG_REVIEW_BULK_MAX"] = 200
    assert "2 proposals approved. 1 more at 0 or above wait" in response.headers["HX-Trigger"]
    assert f'data-proposal="{queue_world["third"].id}" data-current' in response.get_data(
        as_text=True
    )


def test_every_form_needs_the_csrf_token(client, admin, queue_world):
    first = queue_world["first"]
    for path in (f"{BASE}/proposals/{first.id}/approve", f"{BASE}/undo", f"{BASE}/bulk"):
        assert client.post(path, headers=HX, csrf=False).status_code == 400, path
    db.session.expire_all()
    assert db.session.get(MatchProposal, first.id).status == "pending"
    assert Decimal("0.93") == first.confidence
