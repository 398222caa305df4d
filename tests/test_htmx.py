"""HTMX request headers read through htmx-flask; the page-or-fragment rule; merged HX-Trigger."""

from __future__ import annotations

import json

import pytest
from flask import Response, request
from htmx_flask.requests import HtmxHeaders

from portal import htmx


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
        ({"HX-Request": "false"}, False),
    ],
)
def test_an_unknown_page_answers_a_fragment_only_to_a_plain_htmx_request(client, headers, fragment):
    response = client.get("/no-such-page", headers=headers)

    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert ("<html" not in body) is fragment
    assert (response.headers.get("HX-Retarget") == "#alerts") is fragment


def test_request_htmx_is_htmx_flasks(app):
    with app.test_request_context("/", headers={"HX-Request": "true", "HX-Boosted": "true"}):
        assert isinstance(request.htmx, HtmxHeaders)
        assert request.htmx and request.htmx.boosted
        assert not request.htmx.history_restore_request
        assert not htmx.is_partial_request()


def test_trigger_merges_events_instead_of_replacing_them():
    response = Response()
    response.headers["HX-Trigger"] = "saved, closed"

    htmx.trigger(response, "product-updated", {"id": "7"})
    htmx.trigger(response, "toast", "Saved")

    assert json.loads(response.headers["HX-Trigger"]) == {
        "saved": None,
        "closed": None,
        "product-updated": {"id": "7"},
        "toast": "Saved",
    }
