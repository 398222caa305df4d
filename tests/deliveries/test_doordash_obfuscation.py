"""What actually reached the local DoorDash server for an order holding an obfuscated product
carries none of its real name, description, brand or category."""

from __future__ import annotations

import pytest

from portal.deliveries.providers.jobs import cancel_at_provider, send_to_provider
from portal.extensions import db
from tests.deliveries.doordash import SECRET, doordash_delivery

# The real values, and their telling words on their own.
GIVEAWAYS = [
    *SECRET.values(),
    "Aurora",
    "Pleasure",
    "Wand",
    "Blush",
    "Nocturne",
    "intimacy",
    "APW-DELUXE",
]


def test_no_real_detail_of_an_obfuscated_product_reaches_doordash(db_session, app_doordash):
    delivery = doordash_delivery(secret=True)
    db.session.commit()
    send_to_provider(str(delivery.id))
    app_doordash.advance(str(delivery.id), event="DASHER_CONFIRMED")
    cancel_at_provider(str(delivery.id))

    received = app_doordash.received()
    assert {r["path"] for r in received} >= {
        "/drive/v2/quotes",
        f"/drive/v2/quotes/{delivery.id}/accept",
    }
    everything = "\n".join(r["body"] for r in received)
    kept = str(app_doordash.deliveries())
    for word in GIVEAWAYS:
        assert word.lower() not in everything.lower(), word
        assert word.lower() not in kept.lower(), word
    # What it was sent instead: the neutral name beside the plain line.
    [booked] = app_doordash.deliveries()
    assert sorted(item["name"] for item in booked["items"]) == [
        "Greeting card",
        "Personal care item",
    ]
    neutral = next(i for i in booked["items"] if i["name"] == "Personal care item")
    assert neutral["description"] == "Household item, boxed."


@pytest.mark.parametrize("applies", [False])
def test_a_classification_that_does_not_apply_to_deliveries_sends_the_line_title(
    db_session, app_doordash, applies
):
    from portal.obfuscation import services

    delivery = doordash_delivery(secret=True)
    row = services.classification("intimate")
    services.update_classification(
        row,
        description=row.description,
        applies_to_payments=True,
        applies_to_deliveries=applies,
        applies_to_receipts=True,
    )
    db.session.commit()
    send_to_provider(str(delivery.id))
    [booked] = app_doordash.deliveries()
    assert SECRET["title"] in [item["name"] for item in booked["items"]]
