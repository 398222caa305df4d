"""Review decisions exported to the benchmark layout, read back by the matcher, and trained on."""

import random

from portal.catalog.matching.columns import read_pairs, read_table
from portal.catalog.review import decisions
from portal.catalog.review.export import export
from tests.catalog.review.helpers import master_with, propose, shop
from tests.factories import make_admin

BRANDS = ("Sony", "Canon", "Nikon", "Garmin", "Philips", "Bosch", "Makita", "Logitech")
KINDS = ("camera", "drill", "speaker", "router", "monitor", "kettle")


def _decide_many(count: int, seed: int = 3):
    """Pairs an admin decided: twins (approved) and look-alikes of another series (rejected)."""
    rng = random.Random(seed)
    _, catalog = shop(shop_name="Catalog")
    _, seller = shop(shop_name="Seller")
    admin = make_admin()
    made = []
    for n in range(count):
        brand, kind = rng.choice(BRANDS), rng.choice(KINDS)
        code = f"{brand[:2].upper()}{rng.randint(100, 999)}X{n}"
        master = master_with(catalog, f"{brand} {kind} {code} {rng.choice(('black', 'pro'))}")
        if n % 2 == 0:
            title = f"{brand} {code} {kind}"
            proposal = propose(seller, master, title=title, confidence="0.8")
            made.append(decisions.approve(proposal.id, admin))
        else:
            other = f"{rng.choice(BRANDS)}{rng.randint(1000, 9999)}"
            proposal = propose(seller, master, title=f"{brand} {kind} {other}", confidence="0.6")
            made.append(decisions.reject(proposal.id, admin))
    return admin, made


def test_export_writes_the_layout_the_matcher_reads_without_undone_decisions(db_session, tmp_path):
    admin, made = _decide_many(10)
    decisions.undo_last(admin)  # the last one (a reject) is left out
    counts = export(tmp_path)

    products, roles = read_table(tmp_path / "tableA.csv")
    masters, _ = read_table(tmp_path / "tableB.csv")
    pairs = read_pairs(tmp_path / "train.csv") + read_pairs(tmp_path / "valid.csv")
    assert roles["name"] == "title" and roles["brand"] == "brand"
    assert len(pairs) == 9 == counts.train + counts.valid
    assert sum(label for *_, label in pairs) == 5 == counts.matches
    assert {label for *_, label in read_pairs(tmp_path / "valid.csv")} == {0, 1}
    assert all(left in products and right in masters for left, right, _ in pairs)
    undone = made[-1]
    assert (str(undone.vendor_product_id), str(undone.master_product_id), 0) not in pairs
    first = made[0]
    assert products[str(first.vendor_product_id)].name == first.snapshot["product"]["title"]


def test_remap_exports_the_chosen_master_as_a_match(db_session, tmp_path):
    _, vendor = shop(shop_name="One")
    wrong = master_with(vendor, "Garmin nuvi 360 cable")
    right = master_with(vendor, "Garmin USB cable 010-10723-01")
    proposal = propose(vendor, wrong, title="Garmin replacement USB cable 0101072301")
    decisions.remap(proposal.id, right.id, make_admin())
    export(tmp_path)
    pairs = set(read_pairs(tmp_path / "train.csv") + read_pairs(tmp_path / "valid.csv"))
    product_id = str(proposal.vendor_product_id)
    assert pairs == {(product_id, str(wrong.id), 0), (product_id, str(right.id), 1)}


def test_the_export_trains_a_model(app, db_session, tmp_path):
    _decide_many(60)
    directory = tmp_path / "decisions"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "export-decisions", str(directory)])
    assert result.exit_code == 0, result.output
    assert "Exported 60 labelled pairs (30 matches)" in result.output

    model_file = tmp_path / "model.joblib"
    result = runner.invoke(args=["catalog", "train", str(directory), "--out", str(model_file)])
    assert result.exit_code == 0, result.output
    assert "valid precision" in result.output and model_file.stat().st_size > 0
