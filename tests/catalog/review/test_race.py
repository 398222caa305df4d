"""Two admins deciding one proposal at the same moment, each on its own connection: one
decision is made, the other is told, and nothing is done twice."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import User
from portal.catalog.models import MatchDecision, VendorProductMapping
from portal.catalog.review import decisions
from portal.catalog.review.decisions import AlreadyDecided
from tests.catalog.review.helpers import master_with, propose, shop
from tests.deliveries.test_rating_race import at_once
from tests.factories import make_admin


def decide(kind, proposal_id, admin_id):
    def call():
        from portal.extensions import db

        admin = db.session.get(User, admin_id)
        if kind == "approve":
            return decisions.approve(proposal_id, admin).kind
        return decisions.reject(proposal_id, admin).kind

    return call


def test_two_admins_at_once_make_one_decision(app, committed_world):
    _, one = shop(shop_name="One")
    _, two = shop(shop_name="Two")
    master = master_with(one, "Sony Bravia KDL-40V4100")
    proposal = propose(two, master)
    first, second = make_admin(), make_admin()
    committed_world.commit()
    ids = (proposal.id, first.id, second.id)

    results = at_once(app, [decide("approve", ids[0], ids[1]), decide("reject", ids[0], ids[2])])

    refused = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(refused) == 1 and "nothing was changed" in str(refused[0])
    assert sorted(r for r in results if isinstance(r, str)) in (["approve"], ["reject"])
    committed_world.expire_all()
    assert committed_world.scalar(sa.select(sa.func.count()).select_from(MatchDecision)) == 1
    mapped = committed_world.scalar(
        sa.select(sa.func.count())
        .select_from(VendorProductMapping)
        .where(VendorProductMapping.vendor_product_id == proposal.vendor_product_id)
    )
    assert mapped == 1
