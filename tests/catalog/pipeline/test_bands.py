"""Scored candidates fall into the three bands by the model's thresholds or configuration's; with
no model the matcher does exact matches and review only."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.catalog import mapping
from portal.catalog.matching import blocking
from portal.catalog.matching.loading import active_matcher
from portal.catalog.matching.pipeline import _product_records, match_batch, score_candidates
from portal.catalog.models import MasterProduct, MatchProposal
from portal.extensions import db
from tests.catalog.helpers import product, shop
from tests.catalog.pipeline.helpers import configured, master_shop, tv_listing

RIGHT = "Sony Bravia KDL-40V4100 40 inch LCD HDTV"


@pytest.fixture
def catalog(db_session):
    _, masters = master_shop()
    _, two = shop(shop_name="Two")
    tv = tv_listing(two)
    return masters, tv


def best_score(tv):
    records, sides = _product_records([tv])
    return score_candidates(active_matcher(), records, blocking.candidates(sides))[tv.id]


def pending(tv):
    return db.session.scalar(
        sa.select(MatchProposal).where(
            MatchProposal.vendor_product_id == tv.id, MatchProposal.status == "pending"
        )
    )


def test_the_model_file_gives_the_thresholds_and_the_band(catalog):
    masters, tv = catalog
    matcher = active_matcher()
    assert matcher.overridden == ()
    assert matcher.thresholds == matcher.model.thresholds
    scored = best_score(tv)
    assert scored.master_id == masters[RIGHT].id and scored.probability > 0.5

    result = match_batch([tv.id], matcher)

    band = matcher.thresholds.band(scored.probability)
    assert (result.auto, result.proposed, result.new_masters) == (
        int(band == "auto"),
        int(band == "review"),
        int(band == "new_master"),
    )


def test_configuration_overrides_put_the_same_pair_in_each_band(catalog):
    masters, tv = catalog
    p = best_score(tv).probability

    with configured(CATALOG_AUTO_MAP_THRESHOLD=p, CATALOG_NEW_MASTER_THRESHOLD=p / 2):
        assert set(active_matcher().overridden) == {"auto_map", "new_master"}
        assert match_batch([tv.id], active_matcher()).auto == 1
    mapped = mapping.mapping_of(tv.id)
    assert (mapped.master_product_id, mapped.match_method) == (masters[RIGHT].id, "model")
    assert mapped.verified is False
    assert mapped.match_confidence == Decimal(str(p)).quantize(Decimal("0.01"))

    mapping.unmap_product(tv)
    with configured(CATALOG_AUTO_MAP_THRESHOLD=1.01, CATALOG_NEW_MASTER_THRESHOLD=p / 2):
        assert match_batch([tv.id], active_matcher()).proposed == 1
    proposal = pending(tv)
    assert proposal.master_product_id == masters[RIGHT].id and proposal.match_method == "model"
    assert proposal.confidence == Decimal(str(p)).quantize(Decimal("0.0001"))
    assert mapping.mapping_of(tv.id) is None  # it waits, unmapped
    reasons = proposal.reasons
    assert 1 <= len(reasons) <= 5
    assert all(set(r) == {"feature", "value", "text"} for r in reasons)
    assert reasons[0]["text"] == "Model numbers match: kdl40v4100"
    assert any(r["text"] == "Same brand: sony" for r in reasons)

    masters_before = db.session.scalar(sa.select(sa.func.count()).select_from(MasterProduct))
    with configured(CATALOG_AUTO_MAP_THRESHOLD=1.5, CATALOG_NEW_MASTER_THRESHOLD=1.2):
        assert match_batch([tv.id], active_matcher()).new_masters == 1
    own = mapping.mapping_of(tv.id)
    assert own.match_method == "new_master" and own.master_product_id not in {
        m.id for m in masters.values()
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MasterProduct)) == (
        masters_before + 1
    )
    assert pending(tv) is None  # the proposal was superseded by the mapping


def test_a_product_with_no_candidate_becomes_a_master(db_session):
    master_shop()
    _, two = shop(shop_name="Two")
    odd = product(two, title="Hand-thrown stoneware teapot, celadon glaze")
    assert match_batch([odd.id], active_matcher()).new_masters == 1
    assert mapping.mapping_of(odd.id).match_method == "new_master"


def test_without_a_model_only_exact_matches_and_review(catalog, tmp_path):
    masters, tv = catalog
    _, three = shop(shop_name="Three")
    odd = product(three, title="Hand-thrown stoneware teapot, celadon glaze")
    exact = product(three, title="Panasonic Lumix DMC-FX500 10MP digital camera")
    with configured(CATALOG_MATCHER_MODEL=str(tmp_path / "missing.joblib")):
        matcher = active_matcher()
        assert matcher.model is None and "missing.joblib" in matcher.notice
        assert "creates no new masters" in matcher.notice
        result = match_batch([tv.id, odd.id, exact.id], matcher)
    assert (result.exact, result.proposed, result.auto, result.new_masters) == (1, 1, 0, 0)
    proposal = pending(tv)
    assert proposal.match_method == "fuzzy" and proposal.master_product_id == masters[RIGHT].id
    assert proposal.reasons[0]["feature"] == "trigram_similarity"
    assert mapping.mapping_of(odd.id) is None and pending(odd) is None


def test_an_unreadable_model_file_is_a_notice_not_a_crash(db_session, tmp_path):
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a model")
    with configured(CATALOG_MATCHER_MODEL=str(broken)):
        matcher = active_matcher()
    assert matcher.model is None and "broken.joblib" in matcher.notice


def test_a_rejected_pair_is_not_proposed_again(catalog):
    masters, tv = catalog
    with configured(CATALOG_AUTO_MAP_THRESHOLD=1.01, CATALOG_NEW_MASTER_THRESHOLD=0.0):
        match_batch([tv.id], active_matcher())
        pending(tv).status = "rejected"
        db.session.flush()
        match_batch([tv.id], active_matcher())
    again = pending(tv)
    assert again is None or again.master_product_id != masters[RIGHT].id
