"""Review decisions: each one's effect and record, its undo, a double decision, bulk approve."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.models import MasterProduct, MatchDecision
from portal.catalog.review import decisions, queue
from portal.catalog.review.decisions import AlreadyDecided, ReviewError
from portal.extensions import db
from tests.catalog.review.helpers import master_with, propose, shop
from tests.factories import make_admin


@pytest.fixture
def world(db_session):
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    tv = master_with(one, "Sony Bravia KDL-40V4100 40in LCD TV", price="500.00", inventory=2)
    other = master_with(one, "Samsung LN40 40in LCD TV", price="450.00", inventory=1)
    proposal = propose(two, tv, price=Decimal("480.00"), inventory=4)
    return {"admin": make_admin(), "one": one, "two": two, "tv": tv, "other": other,
            "proposal": proposal}  # fmt: skip


def figures(master):
    db.session.expire(master)
    return (master.lowest_price, master.highest_price, master.total_inventory, master.vendor_count)


def test_approve_maps_verified_by_the_proposals_method_and_records_the_pair(world):
    proposal, admin, tv = world["proposal"], world["admin"], world["tv"]
    decision = decisions.approve(proposal.id, admin)

    made = mapping.mapping_of(proposal.vendor_product_id)
    assert (made.master_product_id, made.verified, made.match_method) == (tv.id, True, "model")
    assert made.match_confidence == Decimal("0.75")
    assert proposal.status == "approved" and proposal.decided_by_id == admin.id
    assert figures(tv) == (Decimal("480.00"), Decimal("500.00"), 6, 2)
    assert (decision.kind, decision.label, decision.admin_id) == ("approve", 1, admin.id)
    assert decision.snapshot["product"]["title"] == "Sony Bravia KDL-40V4100"
    assert decision.snapshot["product"]["price"] == "480.00"
    assert decision.snapshot["master"]["title"] == tv.name
    assert decision.snapshot["master"]["price"] == "500.00"  # as seen, before the mapping


def test_undo_of_approve_unmaps_and_reopens(world):
    proposal, admin, tv = world["proposal"], world["admin"], world["tv"]
    decisions.approve(proposal.id, admin)
    undone = decisions.undo_last(admin)

    assert mapping.mapping_of(proposal.vendor_product_id) is None
    assert proposal.status == "pending" and proposal.decided_by_id is None
    assert figures(tv) == (Decimal("500.00"), Decimal("500.00"), 2, 1)
    assert undone.undone_at is not None
    undo_row = db.session.scalar(sa.select(MatchDecision).where(MatchDecision.kind == "undo"))
    assert undo_row.undo_of_id == undone.id and undo_row.admin_id == admin.id
    with pytest.raises(ReviewError, match="no decision left"):
        decisions.undo_last(admin)


def test_reject_makes_a_new_master_from_the_product_and_undo_removes_it(world):
    proposal, admin, tv = world["proposal"], world["admin"], world["tv"]
    decision = decisions.reject(proposal.id, admin)

    made = mapping.mapping_of(proposal.vendor_product_id)
    created = db.session.get(MasterProduct, made.master_product_id)
    assert created.id != tv.id and created.name == "Sony Bravia KDL-40V4100"
    assert (made.match_method, made.verified) == ("new_master", True)
    assert figures(created) == (Decimal("480.00"), Decimal("480.00"), 4, 1)
    assert (decision.kind, decision.label, proposal.status) == ("reject", 0, "rejected")
    assert decision.details["created_master_id"] == str(created.id)

    decisions.undo_last(admin)
    assert mapping.mapping_of(proposal.vendor_product_id) is None
    assert db.session.get(MasterProduct, created.id) is None
    assert proposal.status == "pending"


def test_remap_maps_to_the_chosen_master_manually(world):
    proposal, admin, other, tv = world["proposal"], world["admin"], world["other"], world["tv"]
    decision = decisions.remap(proposal.id, other.id, admin)

    made = mapping.mapping_of(proposal.vendor_product_id)
    assert (made.master_product_id, made.match_method, made.verified) == (other.id, "manual", True)
    assert figures(other) == (Decimal("450.00"), Decimal("480.00"), 5, 2)
    assert figures(tv)[3] == 1
    assert (decision.kind, decision.label) == ("remap", 0)
    assert decision.snapshot["chosen"]["id"] == str(other.id)

    decisions.undo_last(admin)
    assert mapping.mapping_of(proposal.vendor_product_id) is None
    assert figures(other) == (Decimal("450.00"), Decimal("450.00"), 1, 1)
    assert proposal.status == "pending"


def test_remap_refuses_the_proposed_master_and_unknown_ones(world):
    proposal, admin = world["proposal"], world["admin"]
    with pytest.raises(ReviewError, match="approve it instead"):
        decisions.remap(proposal.id, world["tv"].id, admin)
    with pytest.raises(ReviewError, match="does not exist"):
        decisions.remap(proposal.id, "7b0c2c52-1b83-4f5e-9f43-c3a4b3ab2f00", admin)
    with pytest.raises(ReviewError, match="not a proposal or master"):
        decisions.remap(proposal.id, "not-an-id", admin)
    assert proposal.status == "pending"


def test_the_second_decision_on_a_proposal_is_refused_and_changes_nothing(world):
    proposal, admin = world["proposal"], world["admin"]
    second_admin = make_admin()
    decisions.approve(proposal.id, admin)
    for attempt in (
        lambda: decisions.approve(proposal.id, second_admin),
        lambda: decisions.reject(proposal.id, second_admin),
        lambda: decisions.remap(proposal.id, world["other"].id, second_admin),
    ):
        with pytest.raises(AlreadyDecided, match=f"approved by {admin.email}"):
            attempt()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchDecision)) == 1
    assert mapping.mapping_of(proposal.vendor_product_id).master_product_id == world["tv"].id


def test_unknown_and_superseded_proposals_get_a_message(world):
    admin = world["admin"]
    with pytest.raises(ReviewError, match="no longer exists"):
        decisions.approve("7b0c2c52-1b83-4f5e-9f43-c3a4b3ab2f00", admin)
    proposal = world["proposal"]
    mapping.map_product(proposal.product, world["other"], method="gtin")  # the matcher, meanwhile
    with pytest.raises(AlreadyDecided, match="settled already"):
        decisions.approve(proposal.id, admin)


def test_undo_refuses_when_the_product_moved_since(world):
    proposal, admin = world["proposal"], world["admin"]
    decisions.approve(proposal.id, admin)
    mapping.map_product(proposal.product, world["other"], method="manual", verified=True)
    with pytest.raises(ReviewError, match="mapped elsewhere"):
        decisions.undo_last(admin)
    assert mapping.mapping_of(proposal.vendor_product_id).master_product_id == world["other"].id


def test_undo_is_per_admin(world):
    proposal, admin = world["proposal"], world["admin"]
    decisions.approve(proposal.id, admin)
    with pytest.raises(ReviewError, match="no decision left"):
        decisions.undo_last(make_admin())
    assert proposal.status == "approved"


def test_bulk_approve_approves_what_the_preview_counted_in_the_filter(world):
    admin, one, two, tv, other = (world[k] for k in ("admin", "one", "two", "tv", "other"))
    for n, confidence in enumerate(("0.95", "0.91", "0.85", "0.60")):
        propose(two, other, title=f"Samsung LN40 variant {n}", confidence=confidence)
    propose(one, tv, title="Sony Bravia other shop", confidence="0.99")  # another vendor
    filters = queue.Filters(vendor_id=two.id)

    preview = decisions.bulk_preview(filters, Decimal("0.85"))
    assert preview == 3
    with pytest.raises(ReviewError, match="not the 2 previewed"):
        decisions.bulk_approve(filters, Decimal("0.85"), 2, admin, limit=10)
    assert decisions.bulk_approve(filters, Decimal("0.85"), preview, admin, limit=10) == 3

    approved = db.session.scalars(
        sa.select(MatchDecision).where(MatchDecision.kind == "bulk_approve")
    ).all()
    assert len(approved) == 3 and {d.label for d in approved} == {1}
    assert len({d.details["batch"] for d in approved}) == 1
    assert queue.count(filters) == 2  # the 0.75 and the 0.60 wait
    assert figures(other)[3] == 2

    decisions.undo_last(admin)  # the whole batch
    assert queue.count(filters) == 5
    assert figures(other)[3] == 1

    # Capped: the most confident first, the rest wait for the next round.
    assert decisions.bulk_approve(filters, Decimal("0.85"), 3, admin, limit=2) == 2
    assert queue.count(filters, min_confidence=Decimal("0.85")) == 1
    assert queue.first(filters).confidence == Decimal("0.85")


def test_queue_order_steps_and_counts(world):
    two, tv = world["two"], world["tv"]
    high = propose(two, tv, title="A", confidence="0.95")
    low = propose(two, tv, title="B", confidence="0.40")
    middle = world["proposal"]
    filters = queue.Filters()
    assert queue.first(filters).id == high.id
    assert queue.step(filters, high).id == middle.id
    assert queue.step(filters, middle).id == low.id
    assert queue.step(filters, low) is None
    assert queue.step(filters, middle, forward=False).id == high.id
    counts = queue.counts(queue.Filters(band="good"))
    assert (counts.waiting, counts.in_filter) == (3, 1)
    assert counts.by_band == {"high": 1, "good": 1, "fair": 0, "low": 1}
    assert queue.count(queue.Filters(method="gtin")) == 0


def test_master_search_finds_by_part_of_the_name(world):
    found = queue.search_masters("bravia kdl")
    assert [m.id for m in found] == [world["tv"].id]
    assert {m.id for m in queue.search_masters("40in lcd")} == {world["tv"].id, world["other"].id}
    assert [m.id for m in queue.search_masters("brav", exclude=world["tv"].id)] == []
    assert queue.search_masters("x") == []
    assert queue.search_masters("100%_") == []
