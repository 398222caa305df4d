"""The admin's matcher page: model status, counts, the whole-catalog button, run progress."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.catalog.models import CatalogMatchRun
from portal.extensions import db
from tests.catalog.pipeline.helpers import configured, master_shop
from tests.factories import MAKERS

PAGE = "/admin/catalog/matching/"


@pytest.mark.parametrize("role", ["customer", "driver", "vendor"])
def test_only_admins_see_the_page_or_start_a_run(client, auth, role):
    auth.login(MAKERS[role]().email)
    assert client.get(PAGE).status_code == 403
    assert client.post("/admin/catalog/matching/runs").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CatalogMatchRun)) == 0


def test_signed_out_visitors_are_sent_to_sign_in(client, db_session):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_the_model_and_its_thresholds(client, verified_admin):
    page = client.get(PAGE).get_data(as_text=True)
    assert "default.joblib" in page and "hist gradient boosting" in page
    assert "(the model&#39;s own)" in page or "(the model's own)" in page
    with configured(CATALOG_AUTO_MAP_THRESHOLD=0.95):
        page = client.get(PAGE).get_data(as_text=True)
    assert "0.9500" in page and "set in configuration" in page


def test_a_missing_model_is_said_on_the_page(client, verified_admin, tmp_path):
    with configured(CATALOG_MATCHER_MODEL=str(tmp_path / "gone.joblib")):
        page = client.get(PAGE).get_data(as_text=True)
    assert 'id="model-missing"' in page and "gone.joblib" in page


def test_the_button_queues_a_catalog_run_whose_progress_polls_until_done(client, verified_admin):
    master_shop()
    response = client.post("/admin/catalog/matching/runs", headers={"HX-Request": "true"})
    assert response.status_code == 200
    run = db.session.scalar(sa.select(CatalogMatchRun))
    assert run.scope == "catalog" and run.requested_by_id is not None
    body = response.get_data(as_text=True)
    assert f'id="run-{run.id}"' in body and "every 1s" in body
    run.status, run.processed, run.total, run.auto_mapped = "done", 5, 5, 2
    db.session.flush()
    progress = client.get(f"/admin/catalog/matching/runs/{run.id}").get_data(as_text=True)
    assert "every 1s" not in progress and "auto-mapped 2" in progress


def test_the_button_without_its_csrf_token_is_refused(app, client, verified_admin):
    from flask.testing import FlaskClient

    bare = FlaskClient(app, use_cookies=True)
    bare._cookies = client._cookies
    assert bare.post("/admin/catalog/matching/runs").status_code == 400
