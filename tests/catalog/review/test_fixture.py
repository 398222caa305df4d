"""The development fixture fills the review queue; without two shops it says what to run."""

from portal.catalog.review import queue
from tests.catalog.review.helpers import shop


def test_review_fixture_adds_proposals_between_two_shops(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "review-fixture"])
    assert result.exit_code == 1 and "needs two shops" in result.output

    shop(shop_name="First")
    shop(shop_name="Second")
    result = runner.invoke(args=["catalog", "review-fixture"])
    assert result.exit_code == 0, result.output
    assert "Added 5 proposals for Second against masters of First" in result.output
    counts = queue.counts(queue.Filters())
    assert counts.waiting == 5 and counts.by_band["low"] == 1
    assert {name for _, name in queue.filter_choices()["categories"]} >= {"Cameras", "Kitchen"}
