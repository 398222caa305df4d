"""The operations page's backup section and the ``flask ops`` commands."""

from __future__ import annotations

from portal.extensions import db
from portal.operations.backups import full_backup_job
from portal.operations.backups_status import backup_overview
from tests.second_factor import verified_admin


def test_the_operations_page_shows_the_latest_backup_and_archive(app, full_backup):
    client = app.test_client()
    with app.app_context():
        verified_admin(client, "page-admin@example.com")
        db.session.commit()
    page = client.get("/admin/operations").get_data(as_text=True)
    # Other tests of the session record failed backups after the fixture's: the page names
    # whichever is latest.
    with app.app_context():
        latest = backup_overview().latest_backup

    assert 'id="backups"' in page
    assert "Backups are not configured" not in page
    assert latest.id >= full_backup
    assert 'id="latest-backup"' in page and latest.outcome in page
    assert "segments waiting" in page


def test_ops_backups_says_configured_and_names_the_latest_backup(app, full_backup):
    result = app.test_cli_runner().invoke(args=["ops", "backups"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("configured")
    with app.app_context():
        latest = backup_overview().latest_backup
    assert latest.id >= full_backup
    assert f"latest backup: #{latest.id} {latest.kind} {latest.outcome}" in result.output


def test_without_a_configuration_the_commands_and_jobs_say_not_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "BACKUP_PGBACKREST_CONFIG", "/nonexistent/pgbackrest.conf")

    result = app.test_cli_runner().invoke(args=["ops", "backup"])
    with app.app_context():
        assert full_backup_job() is None  # the scheduled job does nothing
        assert backup_overview().configuration.configured is False

    assert result.exit_code == 1
    assert "Backups are not configured" in result.output
    assert "/nonexistent/pgbackrest.conf" in result.output
