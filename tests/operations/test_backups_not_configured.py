"""On a PostgreSQL server set-up found running (the shared test server: archive_mode off), the
operations page says backups are not configured, and why."""

from portal.operations.backups import configuration


def test_the_shared_server_counts_as_not_configured(db_session):
    state = configuration()

    assert state.configured is False
    assert state.reason


def test_the_operations_page_says_backups_are_not_configured(client, verified_admin):
    page = client.get("/admin/operations").get_data(as_text=True)

    assert 'id="backups-not-configured"' in page
    assert "Backups are not configured." in page
    assert "docs/operations.md" in page
    assert "No backup yet." in page
