"""Merging two masters: mappings and proposals move, redirects, aggregates, mails; and its undo."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.models import MasterProduct, MasterProductRedirect, MatchDecision
from portal.catalog.review import decisions, merge
from portal.catalog.review.decisions import ReviewError
from portal.extensions import db
from tests.catalog.review.helpers import master_with, product, propose, shop
from tests.factories import make_admin
from tests.mailbox import body


def figures(master):
    db.session.expire(master)
    return (master.lowest_price, master.highest_price, master.total_inventory, master.vendor_count)


def test_merge_moves_everything_to_the_survivor_redirects_and_mails(db_session, mailbox):
    owner_one, one = shop(shop_name="One")
    owner_two, two = shop(shop_name="Two")
    _, three = shop(shop_name="Three")
    survivor = master_with(one, "Sony Bravia KDL-40V4100", price="500.00", inventory=2)
    merged = master_with(two, "Sony KDL40V4100 Bravia TV", price="450.00", inventory=5)
    extra = product(two, title="Sony KDL-40 bundle", price=Decimal("470.00"), inventory=1)
    mapping.map_product(extra, merged, method="model", confidence=0.99)
    waiting = propose(three, merged, title="Bravia 40 KDL")
    older = MasterProductRedirect(slug="sony-old-name", master_product_id=merged.id)
    db.session.add(older)
    db.session.flush()
    merged_slug, merged_id = merged.slug, merged.id
    admin = make_admin()

    decision = merge.merge(merged_id, survivor.id, admin)
    db.session.commit()

    assert db.session.get(MasterProduct, merged_id) is None
    assert figures(survivor) == (Decimal("450.00"), Decimal("500.00"), 8, 2)
    moved = mapping.mapping_of(extra.id)
    assert (moved.master_product_id, moved.match_method, moved.verified) == (
        survivor.id, "model", False)  # fmt: skip
    db.session.expire(waiting)
    assert (waiting.master_product_id, waiting.status) == (survivor.id, "pending")
    redirects = dict(
        db.session.execute(
            sa.select(MasterProductRedirect.slug, MasterProductRedirect.master_product_id)
        ).all()
    )
    assert redirects == {merged_slug: survivor.id, "sony-old-name": survivor.id}
    assert (decision.kind, decision.label, decision.master_product_id) == (
        "merge",
        None,
        survivor.id,
    )
    assert decision.snapshot["merged"]["slug"] == merged_slug

    told = mailbox.last_to(owner_two.email)
    assert told["Subject"] == "Catalog products merged: Sony Bravia KDL-40V4100"
    text = body(told)
    assert "Sony KDL-40 bundle" in text and f"/products/{survivor.slug}" in text
    assert mailbox.to(owner_one.email) == []  # its product did not change master


def test_undo_of_merge_puts_the_master_back(db_session, mailbox):
    _, one = shop(shop_name="One")
    owner_two, two = shop(shop_name="Two")
    survivor = master_with(one, "Sony Bravia KDL-40V4100", price="500.00", inventory=2)
    merged = master_with(two, "Sony KDL40V4100 Bravia TV", price="450.00", inventory=5)
    waiting = propose(one, merged, title="Bravia 40 KDL")
    merged_id, merged_slug, name = merged.id, merged.slug, merged.name
    admin = make_admin()
    merge.merge(merged_id, survivor.id, admin)

    decisions.undo_last(admin)
    db.session.commit()

    restored = db.session.get(MasterProduct, merged_id)
    assert (restored.slug, restored.name) == (merged_slug, name)
    assert figures(restored) == (Decimal("450.00"), Decimal("450.00"), 5, 1)
    assert figures(survivor) == (Decimal("500.00"), Decimal("500.00"), 2, 1)
    assert db.session.get(MasterProductRedirect, merged_slug) is None
    db.session.expire(waiting)
    assert waiting.master_product_id == merged_id
    decision = db.session.scalar(sa.select(MatchDecision).where(MatchDecision.kind == "merge"))
    assert decision.undone_at is not None
    told = mailbox.to(owner_two.email)
    assert [m["Subject"] for m in told] == [
        "Catalog products merged: Sony Bravia KDL-40V4100",
        "Catalog merge undone: Sony KDL40V4100 Bravia TV",
    ]
    assert "Sony KDL40V4100 Bravia TV" in body(told[1])


def test_merge_refuses_itself_and_unknown_masters(db_session):
    _, one = shop(shop_name="One")
    master = master_with(one, "Oat milk")
    admin = make_admin()
    with pytest.raises(ReviewError, match="into itself"):
        merge.merge(master.id, master.id, admin)
    with pytest.raises(ReviewError, match="does not exist"):
        merge.merge("7b0c2c52-1b83-4f5e-9f43-c3a4b3ab2f00", master.id, admin)
